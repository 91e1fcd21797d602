"""Offset-preserving text helpers: sentences, words and normalisation."""

from __future__ import annotations

import re
from collections.abc import Iterator

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and an
# upper-case letter, digit, quote or bullet; abbreviations common in council documents do not end one.
_ABBREV = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "st",
    "cllr",
    "no",
    "e.g",
    "i.e",
    "etc",
    "vs",
    "approx",
    "inc",
    "ltd",
}
_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9•£])")


def paragraphs(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Non-blank lines (or blank-line separated blocks) as (start, end), trimmed of surrounding space."""
    end = len(text) if end is None else end
    for m in re.finditer(r"[^\n]+", text[start:end]):
        s, e = start + m.start(), start + m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            yield s, e


# A line broken only to fit the page (PDF text, hard-wrapped Markdown) stops mid-sentence: the next line
# carries on in lower case, or after a comma or a word no sentence ends with.
_OPEN_END = re.compile(
    r"(?:,|\b(?:and|or|but|the|a|an|of|to|in|on|at|by|for|from|with|that|which|who|as|their|its|our|this|these))$",
    re.I,
)
_CLOSED_END = re.compile(r"[.!?:;][\"'”’)\]]*$")
_LIST_OR_HEADING = re.compile(r"(?:[-*•#|>]|\d+[.)]\s)")


def _wrapped(before: str, after: str) -> bool:
    if _LIST_OR_HEADING.match(after):
        return False
    if after[:1].islower():
        return not _CLOSED_END.search(before)
    return bool(_OPEN_END.search(before))


def _blocks(text: str, start: int, end: int | None) -> Iterator[tuple[int, int]]:
    """Lines, with a line broken only to fit the page joined to the line that carries it on."""
    cur: tuple[int, int] | None = None
    for line in paragraphs(text, start, end):
        if cur and "\n\n" not in text[cur[1] : line[0]] and _wrapped(text[cur[0] : cur[1]], text[line[0] : line[1]]):
            cur = (cur[0], line[1])
            continue
        if cur:
            yield cur
        cur = line
    if cur:
        yield cur


def sentences(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Sentences inside text[start:end] as (start, end) offsets; a sentence crosses a line break only where
    the line was broken to fit the page."""
    for ps, pe in _blocks(text, start, end):
        cursor = ps
        for m in _END.finditer(text, ps, pe):
            word = re.search(r"([A-Za-z.]+)$", text[cursor : m.start()])
            if word and word.group(1).lower().rstrip(".") in _ABBREV:
                continue
            s_end = m.end()
            if s_end - cursor >= 2:
                yield from _trim(text, cursor, s_end)
            cursor = s_end
        if cursor < pe:
            yield from _trim(text, cursor, pe)


def _trim(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        yield s, e


_WORD = re.compile(r"[A-Za-z0-9£%]+(?:['’][a-z]+)?")


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def normalise_space(text: str) -> str:
    return " ".join(text.split())


# Passage sentences addressed to a model rather than a reader: they are never evidence.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}?\b(instructions?|prompts?|rules|guidance|above|previous|"
    r"prior|earlier|everything)\b"
    r"|\byou are (now|an? (ai|assistant|chatbot|language model))\b"
    r"|\b(system|developer) (prompt|message|instructions?)\b"
    r"|\bnew instructions?\b"
    r"|\bas an? (ai|assistant|language model)\b"
    r"|\bnote to (the )?(ai|assistant|model|llm|chatbot)\b"
    r"|\b(ai|llm|chatbot|language model|ai assistant)s?\b.{0,30}\b(must|should|shall|reading this)\b"
    r"|\b(assistant|ai|model|llm|chatbot)\s*[:,]\s*(say|answer|respond|reply|tell|state|output|write)\b"
    r"|^\W*(please\s+)?(say|answer|respond|reply|output|tell (the )?(user|reader))\b"
    r"|\bNOT[_ ]IN[_ ]LIBRARY\b"
    r"|<<|>>|\bEND PASSAGE\b",
    re.I,
)


def looks_like_instruction(sentence: str) -> bool:
    """A sentence addressed to a model rather than a reader ("ignore previous instructions..."): never evidence."""
    return bool(_INSTRUCTION.search(sentence))
