"""The `cqc-assistant` command: a thin shell over the Python API.

Every domain error becomes one line on stderr and a non-zero exit; a user never sees a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from tqdm import tqdm

from . import __version__
from .config import Settings
from .embedding import make_embedder
from .errors import CqcAssistantError
from .library import Library

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cqc-assistant")
def cli() -> None:
    """Find what CQC and the LGA said about a council, with the exact passage to point at."""


def main() -> None:  # pragma: no cover - exercised through the entry point
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


def open_library(store: str | None) -> Library:
    settings = Settings.from_env(store=store)
    return Library.open(settings, make_embedder(settings.embedder))


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="PATH_OR_URL...")
@store_option
@json_option
@friendly
def ingest(inputs: tuple[str, ...], store: str | None, as_json: bool) -> None:
    """Add files, folders (recursive) or http(s) URLs to the library.

    Unchanged documents are skipped without embedding; a changed source replaces its old version.

    Example:

        cqc-assistant ingest reports/ https://www.cqc.org.uk/...
    """
    from .ingest.pipeline import IngestResult, ingest as run_ingest

    lib = open_library(store)
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
@json_option
@friendly
def docs(store: str | None, as_json: bool) -> None:
    """List the library with detected metadata."""
    lib = open_library(store)
    records = lib.documents()
    if as_json:
        emit_json([d.to_json() for d in records])
        return
    if not records:
        click.echo("The library is empty: add documents with `cqc-assistant ingest PATH`.")
    for d in records:
        facts = " · ".join(x for x in (d.council, d.kind, d.date, d.rating) if x)
        click.echo(f"{d.doc_id}  {d.title[:70]}\n    {facts}  ({d.n_chunks} chunks)")


@cli.command()
@click.argument("doc_id")
@click.option("--text", "with_text", is_flag=True, help="Print the stored text that offsets index into.")
@store_option
@json_option
@friendly
def show(doc_id: str, with_text: bool, store: str | None, as_json: bool) -> None:
    """Show a document's metadata and sections (and with --text its stored text)."""
    lib = open_library(store)
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
        click.echo(f"{key:14} {value}")
    click.echo("sections:")
    for s in sections:
        tags = " ".join(f"{k}={v}" for k, v in (("theme", s.theme), ("qs", s.qs), ("score", s.score)) if v)
        click.echo(f"  [{s.start}:{s.end}] {s.title[:70]} {tags}")


@cli.command()
@click.argument("doc_id")
@store_option
@friendly
def remove(doc_id: str, store: str | None) -> None:
    """Delete a document everywhere: catalogue, lexical index and vectors."""
    lib = open_library(store)
    doc = lib.remove(doc_id)
    click.echo(f"removed {doc.doc_id}  {doc.title}")
