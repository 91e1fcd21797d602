"""The commands that fill and look after the library: ingest, docs, show, remove and edit."""

from __future__ import annotations

import sys

import click

from ..models import KINDS
from .common import chroma_url_option, cli, echo_lines, emit_json, friendly, json_option, open_library, store_option
from .output import document_lines, edit_lines, show_lines


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

    from ..ingest.pipeline import IngestResult
    from ..ingest.pipeline import ingest as run_ingest

    lib = open_library(store, embeds=True)
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
    echo_lines(document_lines(records))


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
        sys.stdout.write(lib.text(doc.doc_id))
        return
    sections = lib.sections(doc.doc_id)
    if as_json:
        data = doc.to_json() | {"sections": [s.to_json() for s in sections]}
        if with_text:
            data["text"] = lib.text(doc.doc_id)
        emit_json(data)
        return
    echo_lines(show_lines(doc, sections))


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

    from ..corrections import parse_edit

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
    echo_lines(edit_lines(after, change))
