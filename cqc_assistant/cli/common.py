"""What every command shares: the click group, the program's entry point, the common options, the error
wrapper that turns domain errors into one line, and opening the store's library.

Nothing heavy is imported here: `--help` and the listing commands stay fast.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import __version__
from ..errors import CqcAssistantError
from ..models import KINDS

if TYPE_CHECKING:
    from ..library import Library

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


def echo_lines(lines: Iterable[str]) -> None:
    """Print a result's text lines (see `output`)."""
    for line in lines:
        click.echo(line)


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
) -> Library:
    """The store's library; --chroma-url (remembered by the option's callback) beats the environment.

    Nothing heavy is imported here: the model loads at its first embedding, and with `lazy_vectors` Chroma
    opens at the first use of the vectors, so a command pays only for what it uses. A command that `embeds`
    starts loading the model at once, beside Chroma's opening.
    """
    from ..config import Settings
    from ..embedding import MiniLMEmbedder, make_embedder
    from ..library import Library

    settings = Settings.from_env(store=store)
    ctx = click.get_current_context(silent=True)
    chroma_url = chroma_url or (ctx.meta.get("cqc_assistant.chroma_url") if ctx else None)
    if chroma_url:
        settings = settings.with_(chroma_url=chroma_url)
    embedder = make_embedder(settings.embedder, cache_dir=settings.model_cache)
    if embeds and isinstance(embedder, MiniLMEmbedder):
        embedder.load_in_background()
    return Library.open(settings, embedder, lazy_vectors=lazy_vectors)


def filter_options(fn: F) -> F:
    """The options that narrow a search, an answer or an export to some documents."""
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
