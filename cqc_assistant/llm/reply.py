"""A model's reply read back: its sentences with the [n] markers that cite passages, reasoning blocks left out,
and the text of a LangChain message or stream chunk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..text import sentences

__all__ = ["MIN_WORDS", "Claim", "parse_reply", "strip_thinking", "text_of", "visible_draft"]

MIN_WORDS = 3  # shorter fragments ("Sources:", "Yes.") are not claims and are left out silently

_MARKER = re.compile(r"\s*\[\s*(?:passages?\s*)?\d+(?:\s*(?:,|;|and)\s*(?:passages?\s*)?\d+)*\s*\]", re.I)
_LINE_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*•]\s+|\d+[.)]\s+)")
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)


@dataclass(frozen=True)
class Claim:
    """One sentence of the reply and the passages it cites."""

    text: str
    cites: tuple[int, ...]  # passage numbers as written, 1-based


def parse_reply(text: str) -> list[Claim]:
    """Sentences of the reply with the [n] markers that belong to them.

    Markers are taken out of the text first, remembering where they stood; a marker belongs to the sentence
    it stands in or ends. A sentence without a marker takes the next cited sentence's markers on the same
    line (models often cite once after two sentences from one passage); each is still verified on its own.
    """
    claims: list[Claim] = []
    for line in text.splitlines():
        line = _LINE_PREFIX.sub("", line).replace("**", "").replace("__", "").replace("`", "")
        plain, marks, cursor = "", [], 0
        for m in _MARKER.finditer(line):
            plain += line[cursor : m.start()]
            marks.append((len(plain), tuple(int(x) for x in re.findall(r"\d+", m.group()))))
            cursor = m.end()
        plain += line[cursor:]
        spans = list(sentences(plain))
        cites: list[list[int]] = [[] for _ in spans]
        for pos, ns in marks:
            k = next((k for k, (s, e) in enumerate(spans) if s <= pos <= e), len(spans) - 1)
            for n in ns if k >= 0 else ():
                if n not in cites[k]:
                    cites[k].append(n)
        inherited: list[int] = []
        for k in range(len(spans) - 1, -1, -1):
            if cites[k]:
                inherited = cites[k]
            else:
                cites[k] = inherited
        for (s, e), cited in zip(spans, cites, strict=True):
            sentence = plain[s:e].strip()
            if len(re.findall(r"\w+", sentence)) < MIN_WORDS:
                continue
            if not re.search(r"[.!?…]['\")\]]*$", sentence):
                sentence += "."
            claims.append(Claim(sentence, tuple(cited)))
    return claims


def text_of(message: Any) -> str:
    """The text of a message or chunk, whichever LangChain version made it."""
    if isinstance(message, str):
        return message
    text = getattr(message, "text", None)
    if isinstance(text, str):  # langchain-core 1.x: a property (a callable str subclass)
        return str(text)
    if callable(text):
        text = text()
        if isinstance(text, str):
            return text
    content = getattr(message, "content", "")
    return content if isinstance(content, str) else ""


def strip_thinking(text: str) -> str:
    """The reply without `<think>` blocks (reasoning models write them before the answer)."""
    return _THINK.sub("", text)


def visible_draft(raw: str) -> str:
    """The draft without reasoning blocks, holding back a trailing partial `<think>` tag."""
    text = strip_thinking(raw)
    for k in range(min(len(text), 6), 0, -1):
        if "<think>".startswith(text[-k:].lower()):
            return text[:-k]
    return text
