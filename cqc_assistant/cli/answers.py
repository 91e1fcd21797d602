"""The commands that find passages and answer questions: search, ask and export (an answer or a briefing
written to a file with its citations)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..errors import CqcAssistantError
from .common import (
    chroma_url_option,
    cli,
    echo_lines,
    emit_json,
    filter_options,
    friendly,
    json_option,
    open_library,
    store_option,
)
from .output import answer_lines, batch_passage_lines, passage_lines


@cli.command()
@click.argument("query", required=False)
@click.option("-k", "k", default=10, show_default=True, help="How many passages.")
@click.option(
    "--batch",
    type=click.Path(exists=True, dir_okay=False),
    help="JSONL: one {'q': ..., optional filters and k} a line; one JSON list of passages a line out.",
)
@click.option(
    "--rerank/--no-rerank",
    default=True,
    show_default=True,
    help="Reorder the top 12 by their best sentence (the answer ranker); --no-rerank keeps the fused order.",
)
@filter_options
@store_option
@chroma_url_option
@json_option
@friendly
def search(
    query: str | None,
    k: int,
    batch: str | None,
    rerank: bool,
    store: str | None,
    as_json: bool,
    **filter_values: Any,
) -> None:
    """Hybrid (lexical + dense) search; passages best first, the top 12 by their best sentence.

    Example:

        cqc-assistant search "occupational therapy waiting" --council Liverpool --json
    """
    from ..answer import Assistant
    from ..models import Passage
    from ..rerank import search as reranked_search
    from ..scope import make_filters

    if bool(query) == bool(batch):
        raise click.UsageError("give either a QUERY or --batch FILE")
    lib = open_library(store, embeds=True)
    assistant = Assistant(lib)

    def find(q: str, filters: Any, n: int) -> list[Passage]:
        return reranked_search(assistant, q, filters, n, rerank=rerank)

    if batch is not None:
        for line in _batch_lines(batch):
            found: list[Passage] = []
            try:
                line_filters = {**filter_values, **{f: line[f] for f in _FILTER_NAMES if line.get(f) is not None}}
                found = find(str(line["q"]), make_filters(lib, **line_filters), int(line.get("k", k)))
                data: object = [p.to_json() for p in found]
            except CqcAssistantError as exc:
                data = {"q": line["q"], "error": str(exc)}
            if as_json:
                emit_json(data)
            else:
                echo_lines(batch_passage_lines(str(line["q"]), found))
        return
    assert query is not None
    filters = make_filters(lib, **filter_values)
    passages = find(query, filters, k)
    if as_json:
        emit_json([p.to_json() for p in passages])
        return
    echo_lines(passage_lines(passages))


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
    from ..answer import Assistant
    from ..audit import AuditLog
    from ..llm import chat_model_from_settings
    from ..scope import make_filters

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
            echo_lines(answer_lines(result))
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

    from ..export import export_answer, export_briefing, export_filename, library_facts

    if bool(question) == bool(briefing_council):
        raise click.UsageError("give either a QUESTION or --briefing COUNCIL")
    lib = open_library(store)
    if briefing_council:
        from ..briefing import build_briefing

        unused = [k for k, v in filter_values.items() if v and k not in ("qs", "include_demo")]
        if unused:
            raise click.UsageError(f"--briefing takes only --qs, not --{unused[0]}")
        brief = build_briefing(
            lib, briefing_council, filter_values.get("qs"), include_demo=bool(filter_values.get("include_demo"))
        )
        data = export_briefing(brief, fmt, library=library_facts(lib, brief.citations()))
        stem = brief.title
    else:
        from ..answer import Assistant
        from ..llm import chat_model_from_settings
        from ..scope import make_filters

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
