"""Offset-preserving text helpers: sentences (and what is quoted with one), words, a document's first line, and
normalisation (typographic quotes and dashes folded)."""

from __future__ import annotations

import re
from collections.abc import Iterator

# The months as written in dates ("March", "Mar", "Sept"): one list for every reader of dates.
MONTH_NAMES = "january|february|march|april|may|june|july|august|september|october|november|december"
MONTH_FORMS = rf"{MONTH_NAMES}|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"

# Typographic quotes, primes, dashes and the no-break space, with the plain character each stands for: the one
# table for matching names (domain) and for text a PDF core font must show (export).
STRAIGHT = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00a0": " ",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
}  # fmt: skip
_STRAIGHTEN = str.maketrans(STRAIGHT)


def straighten(text: str) -> str:
    """Curly quotes, primes and dashes as their plain ASCII forms, one character for one (offsets hold)."""
    return text.translate(_STRAIGHTEN)


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
        yield from _trim(text, start + m.start(), start + m.end())


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


# --- PDF text: lines broken only to fit the page ------------------------------------------------------------

_LIST_START = re.compile(r"^(?:[-*•▪◦·●○■□➢➤✓]|\(?\d{1,2}[.)](?:\s|$)|\(?[a-z][.)]\s|\(?[ivx]{1,4}[.)]\s)")
_BARE_BULLET = re.compile(r"^[-*•▪◦·●○■□➢➤✓]$")
_SPLIT_WORD = re.compile(r"([A-Za-z]+)-$")
# Words before a hyphen that is part of the word ("co-production", "self-assessment"), kept when a line ends there.
_KEEP_HYPHEN = frozenset(
    {
        "co",
        "non",
        "self",
        "well",
        "cross",
        "multi",
        "anti",
        "pre",
        "post",
        "re",
        "ex",
        "part",
        "full",
        "semi",
        "sub",
        "step",
        "long",
        "short",
        "high",
        "low",
        "half",
        "all",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "day",
        "face",
        "person",
        "strengths",
        "joined",
        "follow",
        "hard",
        "top",
        "up",
        "in",
        "out",
        "end",
        "wide",
        "mid",
    }
)
WRAP_SHARE = 0.75  # a line at least this share of the page's longest is full: the page broke it
MIN_PAGE_WIDTH = 50  # characters: a page whose longest line is shorter holds no wrapped prose


def _joins(before: str, after: str, longest: int) -> str | None:
    """How two physical lines of a PDF page join: " ", "" or "-" (a word split at a line-end hyphen), or None
    (a real break: a heading, a list item, a paragraph's end)."""
    if not before or not after or _LIST_START.match(after):
        return None
    if _BARE_BULLET.match(before):
        return " "
    split = _SPLIT_WORD.search(before)
    if split and after[:1].islower():
        return "-" if split.group(1).lower() in _KEEP_HYPHEN else ""
    if re.search(r"[.!?][\"'”’)\]]*$", before):
        return None
    full = longest >= MIN_PAGE_WIDTH and len(before) >= WRAP_SHARE * longest
    if after[:1].islower() and (full or not before.endswith(":")):
        return " "
    if _OPEN_END.search(before):
        return " "
    # A short capitalised line without a full stop after a full one is more likely a heading than the end
    # of the sentence.
    heading_like = len(after) < 0.6 * longest and not re.search(r"[.!?,;:][\"'”’)\]]*$", after)
    if full and not before.endswith((":", ";")) and not heading_like:
        return " "
    return None


def unwrap_lines(page: str) -> str:
    """One PDF page's text with its wrapped lines joined and words split at a line-end hyphen rejoined.

    Headings, list items and paragraph ends keep their line breaks; runs of spaces (justified text) become
    one space. The result is what is stored, so every offset indexes into it.
    """
    lines = [" ".join(ln.split()) for ln in page.split("\n")]
    longest = max((len(ln) for ln in lines), default=0)
    out: list[str] = []
    previous = ""  # the previous physical line: how full it is tells whether the page broke it
    for line in lines:
        if out and (glue := _joins(previous, line, longest)) is not None:
            if glue in ("", "-"):
                out[-1] = out[-1][:-1] + glue + line
            else:
                out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
        previous = line
    return "\n".join(out)


_ANAPHOR = re.compile(
    r"^(?:it|its|this|these|those|they|their|he|she|his|her|such|however|but|also|similarly|"
    r"in addition|additionally|as a result|the team|the peer team saw it|both|neither|"
    r"(?:each|one|some|many|most|all|none) of (?:these|them|those)|of these|"
    # an elliptical "The most urgent is...", "The first was...": the noun is in the sentence before
    r"the (?:most|least) \w+ (?:is|are|was|were)|"
    r"the (?:main|biggest|largest|greatest|first|second|third|last|latter|former|other)(?: ones?)? "
    r"(?:is|are|was|were))\b",
    re.I,
)


def quoted_span(text: str, spans: list[tuple[int, int]], i: int) -> tuple[int, int]:
    """A sentence that leans on its neighbour is quoted with it: one opening with 'It', 'This', 'However'...
    takes the sentence before; one ending in ':' takes the list lines after it (same passage, bounded)."""
    s, e = spans[i]
    if i > 0 and _ANAPHOR.match(text[s:e]) and e - spans[i - 1][0] <= 600:
        s = spans[i - 1][0]
    if text[s:e].rstrip().endswith(":"):
        j = i + 1
        while j < len(spans) and j <= i + 4 and spans[j][1] - s <= 700:
            e = spans[j][1]
            j += 1
    return s, e


def first_line_end(text: str, most: int = 400) -> int:
    """Where the document's first non-blank line ends (at most `most` characters in: PDF text joined into one
    long first line is not a title)."""
    start = len(text) - len(text.lstrip())
    end = text.find("\n", start)
    return min(len(text) if end < 0 else end, start + most)
