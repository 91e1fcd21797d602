"""Prompt texts shipped as package data (`prompts/*.txt`), read with importlib.resources."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_NAME = re.compile(r"[a-z][a-z0-9_]*")


@cache
def load_prompt(name: str) -> str:
    """The text of `prompts/<name>.txt` (name without the suffix), e.g. `load_prompt("answer_system")`."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a prompt name: {name!r}")
    path = resources.files(__package__ or "cqc_assistant.prompts").joinpath(f"{name}.txt")
    if not path.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} in cqc_assistant/prompts")
    return path.read_text(encoding="utf-8")
