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

from . import __version__
from .errors import CqcAssistantError

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
