"""The `cqc-assistant` command: a thin shell over the Python API, one module per family of commands.

`common` holds the click group, the entry point and the shared options; `documents`, `answers`, `ratings` and
`upkeep` the commands; `output` how their results read as text. Every domain error becomes one line on stderr
and a non-zero exit; a user never sees a traceback. Heavy modules are imported inside the commands that use
them, so `--help` and the listing commands start fast.
"""

from __future__ import annotations

from . import answers, documents, ratings, upkeep  # noqa: F401 - importing a module registers its commands
from .common import cli, main

__all__ = ["cli", "main"]
