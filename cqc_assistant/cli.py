"""The `cqc-assistant` command: a thin shell over the Python API.

Every domain error becomes one line on stderr and a non-zero exit; a user never sees a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import CqcAssistantError
from .models import KINDS

if TYPE_CHECKING:
    from .library import Library
    from .models import Answer

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Turn domain errors (and a few expected OS errors) into one line and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CqcAssistantError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"{exc.filename or ''} {exc.strerror or exc}".strip()) from None

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=None, default=str))


store_option = click.option(
    "--store",
    "store",
    type=click.Path(file_okay=False),
    default=None,
    help="Store directory (default: $CQC_ASSISTANT_HOME, else ~/.local/share/cqc-assistant).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _remember_chroma_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta["cqc_assistant.chroma_url"] = value


chroma_url_option = click.option(
    "--chroma-url",
    metavar="URL",
    default=None,
    expose_value=False,
    callback=_remember_chroma_url,
    help="Vectors on a `chroma run` server at URL, e.g. http://127.0.0.1:8000 (default: "
    "$CQC_ASSISTANT_CHROMA_URL, else embedded in the store). The catalogue stays in the store directory.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cqc-assistant")
def cli() -> None:
    """Find what CQC and the LGA said about a council, with the exact passage to point at."""


def main() -> None:  # pragma: no cover - exercised through the entry point
    """The program (`cqc-assistant`, `python -m cqc_assistant`): one command, one short process."""
    import atexit
    import gc

    # At exit the interpreter's last garbage collection walks every object the loaded libraries made
    # (Chroma's and pydantic's classes, the model): ~1 s of CPU for a search, for memory the process is
    # about to return. Freezing them skips that walk; atexit runs this last, after every other handler.
    atexit.register(gc.freeze)
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


def open_library(
    store: str | None,
    chroma_url: str | None = None,
    *,
    lazy_vectors: bool = False,
    embeds: bool = False,
    backend: str = "auto",
) -> Library:
    """The store's library; --chroma-url (remembered by the option's callback) beats the environment.

    Nothing heavy is imported here: the model loads at its first embedding, and with `lazy_vectors` Chroma
    opens at the first use of the vectors, so a command pays only for what it uses. A command that `embeds`
    starts loading the model at once, beside Chroma's opening.
    """
    from .config import Settings
    from .embedding import MiniLMEmbedder, make_embedder
    from .library import Library

    settings = Settings.from_env(store=store)
    ctx = click.get_current_context(silent=True)
    chroma_url = chroma_url or (ctx.meta.get("cqc_assistant.chroma_url") if ctx else None)
    if chroma_url:
        settings = settings.with_(chroma_url=chroma_url)
    embedder = make_embedder(settings.embedder, cache_dir=settings.model_cache, backend=backend)
    if embeds and isinstance(embedder, MiniLMEmbedder):
        embedder.load_in_background()
    return Library.open(settings, embedder, lazy_vectors=lazy_vectors)


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="PATH_OR_URL...")
@store_option
@chroma_url_option
@json_option
@friendly
def ingest(inputs: tuple[str, ...], store: str | None, as_json: bool) -> None:
    """Add files, folders (recursive) or http(s) URLs to the library.

    Unchanged documents are skipped without embedding; a changed source replaces its old version.

    Example:

        cqc-assistant ingest reports/ https://www.cqc.org.uk/...
    """
    from tqdm import tqdm

    from .ingest.pipeline import IngestResult
    from .ingest.pipeline import ingest as run_ingest

    # Bulk embedding: PyTorch on cross-document batches is the fastest exact path here (bench/ingest.py).
    lib = open_library(store, backend="torch")
    show_bar = not as_json and sys.stderr.isatty()
    with tqdm(total=None, disable=not show_bar, unit="doc", file=sys.stderr) as bar:

        def progress(r: IngestResult) -> None:
            bar.update(1)
            if r.status == "failed" and not as_json:
                click.echo(f"error: {r.error}", err=True)

        report = run_ingest(lib, list(inputs), progress=progress)
    if as_json:
        emit_json(report.to_json())
    else:
        for r in report.results:
            if r.status != "failed":
                click.echo(f"{r.status:9} {r.doc_id}  {r.title or r.source}")
        click.echo(report.summary(), err=True)
    if report.failed:
        sys.exit(1)


@cli.command()
@store_option
@chroma_url_option
@json_option
@friendly
def docs(store: str | None, as_json: bool) -> None:
    """List the library with detected metadata."""
    lib = open_library(store, lazy_vectors=True)
    records = lib.documents()
    if as_json:
        emit_json([d.to_json() for d in records])
        return
    if not records:
        click.echo("The library is empty: add documents with `cqc-assistant ingest PATH`.")
    for d in records:
        marked = [(x, name in d.corrected) for name, x in (("council", d.council), ("kind", d.kind),
                  ("date", d.date), ("rating", d.rating)) if x]  # fmt: skip
        facts = " · ".join(x + ("*" if fixed else "") for x, fixed in marked)
        note = "  * corrected by a user" if d.corrected else ""
        click.echo(f"{d.doc_id}  {d.title[:70]}\n    {facts}  ({d.n_chunks} chunks){note}")


@cli.command()
@click.argument("doc_id")
@click.option("--text", "with_text", is_flag=True, help="Print the stored text that offsets index into.")
@store_option
@chroma_url_option
@json_option
@friendly
def show(doc_id: str, with_text: bool, store: str | None, as_json: bool) -> None:
    """Show a document's metadata and sections (and with --text its stored text)."""
    lib = open_library(store, lazy_vectors=True)
    doc = lib.document(doc_id)
    if with_text and not as_json:
        sys.stdout.write(lib.catalogue.text(doc.doc_id))
        return
    sections = lib.sections(doc.doc_id)
    if as_json:
        data = doc.to_json() | {"sections": [s.to_json() for s in sections]}
        if with_text:
            data["text"] = lib.catalogue.text(doc.doc_id)
        emit_json(data)
        return
    for key, value in doc.to_json().items():
        if key in ("corrected", "detected"):
            continue
        fixed = [f for f in doc.corrected if f == key or (key == "scores" and f.startswith("score:"))]
        found = "; ".join(f"{f} was {doc.detected[f]!r}" for f in fixed)
        click.echo(f"{key:14} {value}" + (f"  (corrected by a user; detected: {found})" if fixed else ""))
    click.echo("sections:")
    for s in sections:
        tags = " ".join(f"{k}={v}" for k, v in (("theme", s.theme), ("qs", s.qs), ("score", s.score)) if v)
        click.echo(f"  [{s.start}:{s.end}] {s.title[:70]} {tags}")


@cli.command()
@click.argument("doc_id", required=False)
@click.option("--demo", "demo", is_flag=True, help="Remove every demo document (fictional Wyvernshire).")
@store_option
@chroma_url_option
@friendly
def remove(doc_id: str | None, demo: bool, store: str | None) -> None:
    """Delete a document everywhere: catalogue, lexical index and vectors (or, with --demo, the demo ones).

    Examples:

    \b
        cqc-assistant remove 3f2a9c1e
        cqc-assistant remove --demo
    """
    if bool(doc_id) == demo:
        raise click.UsageError("give either a DOC_ID or --demo")
    lib = open_library(store)
    gone = lib.remove_demo() if demo else [lib.remove(str(doc_id))]
    for doc in gone:
        click.echo(f"removed {doc.doc_id}  {doc.title}")
    if demo and not gone:
        click.echo("The library holds no demo documents.")


@cli.command()
@click.argument("doc_id")
@click.option("--council", help="The council (several: separated by ';').")
@click.option("--kind", help="Document kind: " + ", ".join(KINDS) + ".")
@click.option("--date", help="Publication date YYYY-MM-DD, YYYY-MM or YYYY ('none': undated).")
@click.option("--rating", help="Overall CQC rating the document states ('none': it states none).")
@click.option("--percent", help="Overall percentage the document states, 25-100 ('none': it states none).")
@click.option(
    "--score",
    "scores",
    multiple=True,
    metavar="QS=N",
    help="A quality statement score the document states: QS by number or name (as `rate --qs`), N 1-4, "
    "'na' (the document says it was not assessed) or 'none' (it states no score). Repeatable.",
)
@click.option(
    "--clear",
    "clear",
    multiple=True,
    metavar="FIELD",
    help="Drop a correction, back to what was detected: council, kind, date, rating, percent, score:QS, "
    "scores or all. Repeatable.",
)
@store_option
@chroma_url_option
@json_option
@friendly
def edit(
    doc_id: str,
    council: str | None,
    kind: str | None,
    date: str | None,
    rating: str | None,
    percent: str | None,
    scores: tuple[str, ...],
    clear: tuple[str, ...],
    store: str | None,
    as_json: bool,
) -> None:
    """Correct what was detected about a document (DOC_ID or a unique prefix of it).

    A correction is kept apart from detection, wins over it everywhere (listing, search filters,
    scorecards, the app), survives a re-ingest of the same content and goes into the audit log.

    Examples:

    \b
        cqc-assistant edit 3f2a --council "Wyvernshire County Council" --kind cqc_press_release
        cqc-assistant edit 3f2a --date 2025-05-02 --rating good --score safeguarding=3 --score 9=2
        cqc-assistant edit 3f2a --clear rating
    """
    import os

    from .corrections import parse_edit

    lib = open_library(store)
    doc = lib.document(doc_id)
    change = parse_edit(
        doc.corrected, council=council, kind=kind, date=date, rating=rating, percent=percent, scores=scores,
        clear=clear,
    )  # fmt: skip
    after = lib.correct(doc.doc_id, change.values, change.clear, user=os.environ.get("USER") or None)
    if as_json:
        emit_json(after.to_json())
        return
    click.echo(f"corrected {after.doc_id}  {after.title}")
    for name, value in change.values.items():
        click.echo(f"  {name}: set to {value!r}")
    for name in change.clear:
        click.echo(f"  {name}: correction dropped, back to what was detected")


def filter_options(fn: F) -> F:
    for opt in reversed(
        [
            click.option(
                "--council",
                help="Only this council (case-insensitive; 'Liverpool' = 'Liverpool City Council').",
            ),
            click.option("--kind", help="Document kind: " + ", ".join(KINDS) + "."),
            click.option("--theme", help="Theme 1-4 or its name."),
            click.option("--qs", help="Quality statement 1-9 or its name."),
            click.option("--since", help="Documents dated on or after YYYY[-MM[-DD]]."),
            click.option("--until", help="Documents dated on or before YYYY[-MM[-DD]]."),
            click.option(
                "--include-demo",
                "include_demo",
                is_flag=True,
                help="Search the demo documents too (left out once real documents are in the library).",
            ),
        ]
    ):
        fn = opt(fn)
    return fn


@cli.command()
@click.argument("query", required=False)
@click.option("-k", "k", default=10, show_default=True, help="How many passages.")
@click.option(
    "--batch",
    type=click.Path(exists=True, dir_okay=False),
    help="JSONL: one {'q': ..., optional filters and k} a line; one JSON list of passages a line out.",
)
@filter_options
@store_option
@chroma_url_option
@json_option
@friendly
def search(
    query: str | None, k: int, batch: str | None, store: str | None, as_json: bool, **filter_values: Any
) -> None:
    """Hybrid (lexical + dense) search; passages best first.

    Example:

        cqc-assistant search "occupational therapy waiting" --council Liverpool --json
    """
    from .index.retriever import HybridRetriever, make_filters
    from .models import Passage

    if bool(query) == bool(batch):
        raise click.UsageError("give either a QUERY or --batch FILE")
    lib = open_library(store, embeds=True)
    retriever = HybridRetriever(lib)
    if batch is not None:
        for line in _batch_lines(batch):
            found: list[Passage] = []
            try:
                line_filters = {**filter_values, **{f: line[f] for f in _FILTER_NAMES if line.get(f) is not None}}
                found = retriever.search(str(line["q"]), make_filters(lib, **line_filters), int(line.get("k", k)))
                data: object = [p.to_json() for p in found]
            except CqcAssistantError as exc:
                data = {"q": line["q"], "error": str(exc)}
            if as_json:
                emit_json(data)
            else:
                click.echo(f"Q: {line['q']}")
                for i, p in enumerate(found, 1):
                    click.echo(f"  [{i}] {p.title[:60]} › {p.section[:50]} ({p.doc_id} {p.start}-{p.end})")
        return
    assert query is not None
    filters = make_filters(lib, **filter_values)
    passages = retriever.search(query, filters, k)
    if as_json:
        emit_json([p.to_json() for p in passages])
        return
    if not passages:
        click.echo("No passages matched.")
    for i, p in enumerate(passages, 1):
        click.echo(f"[{i}] {p.title[:60]} › {p.section[:50]}  ({p.doc_id} {p.start}-{p.end}, score {p.score:.4f})")
        click.echo("    " + " ".join(p.text.split())[:400])


_FILTER_NAMES = ("council", "kind", "theme", "qs", "since", "until")


def _batch_lines(path: str) -> list[dict[str, Any]]:
    """A search batch: JSON objects with a 'q' (a plain line is a query with no filters)."""
    out: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            raw = raw.strip()
            if not raw:
                continue
            if not raw.startswith("{"):
                out.append({"q": raw})
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError:
                obj = None
            if not isinstance(obj, dict) or not str(obj.get("q") or "").strip():
                raise click.ClickException(f"{path}:{n}: not a JSON object with a 'q' field")
            k = obj.get("k")
            if k is not None and (isinstance(k, bool) or not isinstance(k, int)):
                raise click.ClickException(f"{path}:{n}: 'k' must be a whole number")
            out.append(obj)
    return out


@cli.command()
@click.argument("question", required=False)
@click.option("--batch", type=click.Path(exists=True, dir_okay=False), help="One question a line, or JSONL with 'q'.")
@filter_options
@store_option
@chroma_url_option
@json_option
@friendly
def ask(question: str | None, batch: str | None, store: str | None, as_json: bool, **filter_values: Any) -> None:
    """Answer a question with cited passages, or refuse when the library does not hold the answer.

    Example:

        cqc-assistant ask "What did CQC say about waiting lists?" --council Wyvernshire
    """
    from .answer import Assistant
    from .audit import AuditLog
    from .index.retriever import make_filters
    from .llm import chat_model_from_settings

    if bool(question) == bool(batch):
        raise click.UsageError("give either a QUESTION or --batch FILE")
    lib = open_library(store, embeds=True)
    chat, notice = chat_model_from_settings(lib.settings)
    if notice:
        click.echo(f"notice: {notice}", err=True)
    assistant = Assistant(lib, chat=chat, audit=AuditLog.for_settings(lib.settings))
    filters = make_filters(lib, **filter_values)
    if question:
        result = assistant.ask(question, filters)
        if as_json:
            emit_json(result.to_json())
        else:
            _print_answer(result)
        return
    assert batch is not None
    for q in _batch_questions(batch):
        try:
            data = assistant.ask(q, filters).to_json()
        except CqcAssistantError as exc:
            data = {"question": q, "answer": "", "refused": True, "citations": [], "error": str(exc)}
        if as_json:
            emit_json(data)
        else:
            click.echo(f"Q: {q}\nA: {data['answer']}\n")


def _batch_questions(path: str) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    out.append(str(json.loads(line)["q"]))
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise click.ClickException(f"{path}:{n}: not a JSON object with a 'q' field") from None
            else:
                out.append(line)
    return out


def _print_answer(result: Answer) -> None:
    click.echo(result.answer)
    for c in result.citations:
        where = f"{c.title[:60]} › {c.section[:50]}"
        click.echo(f"  [{c.n}] {where} ({c.doc_id} {c.start}-{c.end})")


# --- rating calculator and council scorecards ------------------------------------------------------


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("scores", nargs=-1, metavar="[S1 ... S9]")
@click.option(
    "--qs",
    "named",
    multiple=True,
    metavar="NAME=SCORE",
    help="A score by quality statement (number, name or URL segment), e.g. --qs safeguarding=2; "
    "repeatable. With --method evidence-category: --qs safeguarding=3,3,2,4.",
)
@click.option(
    "--what-if",
    "show_what_if",
    is_flag=True,
    help="List the smallest score changes that reach the band above and the band below.",
)
@click.option(
    "--method",
    type=click.Choice(["current", "evidence-category"]),
    default="current",
    show_default=True,
    help="current: one score per QS. evidence-category: the older method, a comma-separated list of "
    "evidence category scores per QS.",
)
@click.option("--indicative", is_flag=True, help="Mark the result as indicative (pilot), not a formal rating.")
@store_option
@json_option
@friendly
def rate(
    scores: tuple[str, ...],
    named: tuple[str, ...],
    show_what_if: bool,
    method: str,
    indicative: bool,
    store: str | None,
    as_json: bool,
) -> None:
    """Compute the overall % and rating from quality statement scores (CQC's method).

    Give up to nine scores from 1 to 4 in CQC's order (QS1 Assessing needs ... QS9 Learning,
    improvement and innovation); '-' or 'na' marks a QS not assessed, and --qs NAME=SCORE sets one
    by name. The published % is the ceiling of 100 x sum / (4 x QS assessed). --store is accepted
    for uniformity and ignored.

    With --method evidence-category (the older method) each value is a comma-separated list of
    evidence category scores for that QS, e.g. `3,3,2,4`; each QS score is derived from them.

    Examples:

    \b
        cqc-assistant rate 3 3 3 3 3 3 3 3 3 --json
        cqc-assistant rate 3 3 2 3 4 3 3 3 - --what-if
        cqc-assistant rate --qs safeguarding=2 --qs needs=3
        cqc-assistant rate --method evidence-category 3,3,2,4 3,3,3 - 2,3,3,3
    """
    from .rating import parse_evidence_categories, parse_scores, rate_legacy
    from .rating import rate as rate_scores
    from .rating_report import rate_lines
    from .what_if import ways, ways_count, what_if, what_if_count

    if method == "evidence-category":
        result = rate_legacy(parse_evidence_categories(scores, named), indicative=indicative)
    else:
        result = rate_scores(parse_scores(scores, named), indicative=indicative)
    if not as_json:
        click.echo("\n".join(rate_lines(result, indicative=indicative, show_what_if=show_what_if)))
        return
    data = result.to_json()
    if show_what_if:
        data["what_if"] = [o.to_json() for o in what_if(result, limit=20)]
        data["what_if_total"] = what_if_count(result)
        data["what_if_ways"] = [w.to_json() for w in ways(result, "up")]
        data["what_if_ways_total"] = ways_count(result, "up")
        data["what_if_down"] = [w.to_json() for w in ways(result, "down")]
        data["what_if_down_total"] = ways_count(result, "down")
    emit_json(data)


@cli.command()
@click.argument("council", required=False)
@click.option("--include-demo", "include_demo", is_flag=True, help="The demo documents too.")
@store_option
@chroma_url_option
@json_option
@friendly
def scorecard(council: str | None, include_demo: bool, store: str | None, as_json: bool) -> None:
    """Show each council's stated QS scores with citations, beside the calculator's rating.

    Scores come from CQC quality-statement pages (the `Score: N` line) and press releases (the list
    of nine); every score cites the passage that states it, and the card says how many of the nine it
    found. A % and rating are computed only when all nine are found (or a document says the others
    were not assessed), then set beside every rating or % the council's documents state; any
    disagreement is flagged. COUNCIL is
    optional ('wyvernshire' matches 'Wyvernshire County Council'); without it, every council with
    stated scores is shown.

    Example:

        cqc-assistant scorecard Wyvernshire --json
    """
    from .scorecard import build_scorecard

    lib = open_library(store)
    card = build_scorecard(lib, council, include_demo=include_demo)
    if as_json:
        emit_json(card.to_json())
        return
    if not card.councils:
        click.echo("No document in the library states quality statement scores.")
        return
    for i, c in enumerate(card.councils):
        if i:
            click.echo("")
        _print_council_scorecard(c)


def _print_council_scorecard(c: Any) -> None:
    from .scorecard import CouncilScorecard

    assert isinstance(c, CouncilScorecard)
    click.echo(f"{c.council}: {c.summary}")
    for e in c.entries:
        shown = e.status if e.score is None else str(e.score)
        click.echo(f"  QS{e.qs} {e.name[:44]:44} {shown}" + ("  ! documents disagree:" if e.conflict else ""))
        for s in e.statements:
            if s.corrected:
                click.echo(f"      {s.score}  corrected by a user for {s.kind} {s.doc_id} (no passage states it)")
                continue
            if s.citation is None:
                click.echo(f"      {s.score}  {s.kind} {s.doc_id} (passage not located)")
                continue
            cite = s.citation
            where = cite.title[:60] + (f" › {cite.section[:40]}" if cite.section != cite.title else "")
            span = f"{cite.doc_id} {cite.start}-{cite.end}"
            click.echo(f'      {s.score}  [{cite.n}] {where} ({span}) "{cite.quote[:70]}"')
        for doc_id in e.not_assessed_in:
            click.echo(f"      not assessed, says {doc_id}")
        if e.conflict:
            click.echo(f"      ! {e.conflict}")
    if c.result is not None:
        r = c.result
        click.echo(f"  Computed: {r.total}/{r.maximum} = {r.percent_exact_display:.2f}% → {r.percent}% → {r.rating}")
        if r.boundary_warning:
            click.echo(f"  Boundary: {r.boundary_warning}")
    else:
        click.echo(f"  Computed: none; {c.not_computed}")
    for f in c.stated:
        figures = ", ".join(x for x in (f.rating, None if f.percent is None else f"{f.percent}%") if x)
        if f.agrees is None:
            verdict = "not checked: nothing computed to compare with"
        else:
            verdict = "agrees with the calculator" if f.agrees else "DISAGREES: " + "; ".join(f.mismatches)
        fixed = f" (corrected by a user: {', '.join(f.corrected)})" if f.corrected else ""
        click.echo(f"  Stated: {figures}{fixed} in {f.kind} {f.doc_id} ({f.title[:50]}) — {verdict}")
        for figure_cite in (f.rating_citation, f.percent_citation):
            if figure_cite is not None:
                fc = figure_cite
                click.echo(f'      [{fc.n}] ({fc.doc_id} {fc.start}-{fc.end}) "{fc.quote[:90]}"')
    for warning in c.warnings:
        click.echo(f"  ! {warning}")
    if c.agrees is None:
        click.echo(f"  Verdict: no documents disagree; {c.summary}, so nothing was computed to check against")
    else:
        click.echo(f"  Verdict: {'consistent' if c.agrees else 'INCONSISTENT: see the lines marked above'}")


# --- store checks and the audit log ------------------------------------------------------------------


@cli.command()
@click.option(
    "--repair",
    is_flag=True,
    help="First finish what a killed ingest or remove left (under the writer lock) and drop vectors "
    "no chunk owns; then check that nothing unfinished remains.",
)
@store_option
@json_option
@friendly
def check(repair: bool, store: str | None, as_json: bool) -> None:
    """Check that the catalogue, the lexical index and the vectors agree; exit 1 on any problem.

    Read-only unless --repair. It holds the writer lock while it reads, so it reports a running
    ingest instead of racing it.

    Example:

        cqc-assistant check --repair --json
    """
    from .config import Settings
    from .consistency import check as run_check
    from .consistency import repair as run_repair
    from .consistency import summary
    from .errors import StoreError

    settings = Settings.from_env(store=store)
    if not (settings.home / "catalogue.sqlite3").is_file():
        raise StoreError(f"no library at {settings.home} (nothing has been ingested there)")
    lib = open_library(store)
    try:
        repaired = run_repair(lib) if repair else []
        with lib.writer(recover=False):
            problems = run_check(lib, settled=repair)
            counts = summary(lib)
    finally:
        lib.close()
    if as_json:
        emit_json({"ok": not problems, "problems": problems, "repaired": repaired, "counts": counts})
    else:
        for line in repaired:
            click.echo(f"repaired: {line}")
        for problem in problems:
            click.echo(f"problem: {problem}")
        facts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
        click.echo(f"{'consistent' if not problems else 'INCONSISTENT'}: {facts}")
    if problems:
        sys.exit(1)


@cli.command()
@click.option("--since", help="Only answers given on or after this UTC date (YYYY-MM-DD).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV, one row per answer.")
@click.option(
    "--corrections",
    "corrections",
    is_flag=True,
    help="List the corrections users made to documents' detected facts instead of the answers.",
)
@store_option
@json_option
@friendly
def audit(since: str | None, as_csv: bool, corrections: bool, store: str | None, as_json: bool) -> None:
    """List the answers given: when, the question and filters, the answer, what it cited, the library version.

    Entries older than CQC_ASSISTANT_AUDIT_RETENTION_DAYS (default 365) are pruned when the log is opened.

    Example:

        cqc-assistant audit --since 2025-06-01 --csv > answers.csv
    """
    import csv

    from .audit import CSV_FIELDS, FILE_NAME, AuditLog, parse_since
    from .config import Settings

    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    if since is not None:
        parse_since(since)
    settings = Settings.from_env(store=store)
    if corrections:
        if as_csv:
            raise click.UsageError("--csv lists answers; use --json with --corrections")
        edits = []
        if (settings.home / FILE_NAME).is_file():
            with AuditLog.for_settings(settings) as log:
                edits = log.corrections(since)
        if as_json:
            emit_json([edit.to_json() for edit in edits])
        for edit in [] if as_json else edits:
            who = f" by {edit.user}" if edit.user else ""
            change = f"{edit.before!r} → {edit.after!r} (detected {edit.detected!r})"
            click.echo(f"{edit.at}  #{edit.id} {edit.doc_id} {edit.field} {edit.action}{who}: {change}")
        if not edits and not as_json:
            click.echo("No corrections recorded" + (f" since {since}." if since else " yet."))
        return
    if (settings.home / FILE_NAME).is_file():
        with AuditLog.for_settings(settings) as log:
            entries = log.entries(since)
    else:
        entries = []
    if as_json:
        emit_json([e.to_json() for e in entries])
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(CSV_FIELDS), lineterminator="\n")
        writer.writeheader()
        for e in entries:
            writer.writerow(e.to_row())
    elif not entries:
        click.echo("No answers recorded" + (f" since {since}." if since else " yet."))
    else:
        for e in entries:
            verdict = "refused" if e.refused else "answered"
            who = f" by {e.user}" if e.user else ""
            click.echo(f"{e.at}  #{e.id} {verdict}{who} ({e.mode}, library version {e.library_version})")
            click.echo(f"  Q: {e.question}")
            if e.filters:
                click.echo("  filters: " + ", ".join(f"{k}={v}" for k, v in e.filters.items()))
            click.echo(f"  A: {' '.join(e.answer.split())[:300]}")
            if e.citations:
                click.echo("  cited: " + "; ".join(f"{c['doc_id']} {c['start']}-{c['end']}" for c in e.citations))


# --- exports and the web app -----------------------------------------------------------------------


@cli.command(name="export")
@click.argument("question", required=False)
@click.option("--briefing", "briefing_council", metavar="COUNCIL", help="Export an interview-prep briefing.")
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "docx", "pdf"]),
    default="md",
    show_default=True,
    help="File format.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file ('-' for stdout).")
@store_option
@friendly
def export_cmd(
    question: str | None,
    briefing_council: str | None,
    fmt: str,
    output: str | None,
    store: str | None,
    **filter_values: Any,
) -> None:
    """Ask a question (or build a briefing) and write it with its citations as Markdown, DOCX or PDF.

    Every quote is written with its document title, section, page, offsets and source, with a timestamp
    and the library version. With --briefing COUNCIL, --qs picks one quality statement (default: all nine).

    Examples:

    \b
        cqc-assistant export "How long are OT waits?" --council Wyvernshire --format pdf -o ot.pdf
        cqc-assistant export --briefing Wyvernshire --qs safeguarding --format docx
    """
    from pathlib import Path

    from .export import export_answer, export_briefing, export_filename, library_facts

    if bool(question) == bool(briefing_council):
        raise click.UsageError("give either a QUESTION or --briefing COUNCIL")
    lib = open_library(store)
    if briefing_council:
        from .briefing import build_briefing

        unused = [k for k, v in filter_values.items() if v and k not in ("qs", "include_demo")]
        if unused:
            raise click.UsageError(f"--briefing takes only --qs, not --{unused[0]}")
        brief = build_briefing(
            lib, briefing_council, filter_values.get("qs"), include_demo=bool(filter_values.get("include_demo"))
        )
        data = export_briefing(brief, fmt, library=library_facts(lib, brief.citations()))
        stem = brief.title
    else:
        from .answer import Assistant
        from .index.retriever import make_filters
        from .llm import chat_model_from_settings

        assert question is not None
        chat, notice = chat_model_from_settings(lib.settings)
        if notice:
            click.echo(f"notice: {notice}", err=True)
        answer = Assistant(lib, chat=chat).ask(question, make_filters(lib, **filter_values))
        data = export_answer(answer, fmt, library=library_facts(lib, answer.citations))
        stem = f"cqc-answer-{question}"
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    path = Path(output) if output else Path(export_filename(stem, fmt))
    path.write_bytes(data)
    click.echo(f"wrote {path} ({len(data):,} bytes)", err=True)


@cli.command()
@store_option
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: Streamlit's, 8501).")
@click.option("--address", default=None, help="Address to listen on (default: Streamlit's).")
def ui(store: str | None, port: int | None, address: str | None) -> None:
    """Start the web app (Streamlit). An empty store is filled with the demo documents on first start.

    Example:

        cqc-assistant ui --store ~/cqc-store --port 8501
    """
    import os
    import subprocess
    from pathlib import Path

    app = Path(__file__).resolve().parent / "app" / "main.py"
    # Streamlit's `streamlit run`, in a process that has begun loading the model and the store (app/serve.py)
    cmd = [sys.executable, "-m", "cqc_assistant.app.serve", "run", str(app), "--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]  # no "Deploy" button
    if port is not None:
        cmd += ["--server.port", str(port)]
    if address:
        cmd += ["--server.address", address]
    env = dict(os.environ)
    if store:
        env["CQC_ASSISTANT_HOME"] = str(Path(store).expanduser().resolve())
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
