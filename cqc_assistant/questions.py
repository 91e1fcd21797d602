"""What a question asks for: the kind of answer (a date, a figure, a name...), the years it names, its parts.

Regular expressions only, no model: they decide which sentences may answer, so they must be predictable.
"""

from __future__ import annotations

import re
from typing import Protocol

from .domain import NUMBER_WORDS, RATINGS
from .index.terms import STOPWORDS, stem, tokens
from .text import MONTH_FORMS, MONTH_NAMES

_NUMBER_WORDS = "|".join(
    [*sorted(NUMBER_WORDS, key=len, reverse=True), "hundred", "thousand", "million", "half", "dozen"]
)
_ORG_WORDS = {
    "council", "county", "city", "borough", "care", "quality", "commission", "adult", "adults", "social", "services",
    "service", "board", "team", "trust", "nhs", "government", "association", "report", "local", "authority", "the",
    "peer", "challenge", "safeguarding", "health", "department", "directors", "and", "of", "for", "our", "this",
    # the names of laws, schemes, places and bodies are capitalised too
    "act", "safeguards", "liberty", "deprivation", "mental", "capacity", "survey", "england", "fund", "grant",
    "hub", "connect", "programme", "strategy", "plan", "framework", "partnership", "partners", "network",
    "forum", "panel", "group", "centre", "unit", "office", "system", "integrated", "better", "national",
    "institute", "carers", "voices", "healthwatch", "north", "south", "east", "west", "new", "upon",
}  # fmt: skip
# A capitalised word may have capitals inside (McAllister, DooleyRobinson) or an apostrophe (O'Neill).
_NAME_WORD = r"[A-Z](?:'[A-Z])?[a-z]+(?:[A-Z][a-z]+)*"
_CAPS = re.compile(rf"\b{_NAME_WORD}(?:[ -]{_NAME_WORD})+\b")
_TITLES = re.compile(r"\b(Councillor|Cllr|Dr|Mr|Mrs|Ms|Professor|Sir|Dame)\b")


# Words of a job title, capitalised beside a name ("Executive Director Jane Doe") or alone ("Cabinet Member for
# Adults"): a title is not a name, so they are set aside before the words left are read as one.
_ROLE_WORDS = {
    "cabinet", "member", "director", "executive", "chief", "assistant", "deputy", "head", "lead", "leader",
    "manager", "officer", "chair", "chairman", "chairwoman", "chairperson", "inspector", "commissioner",
    "principal", "worker", "secretary", "minister", "portfolio", "holder", "corporate", "strategic", "interim",
    "senior", "president", "vice",
}  # fmt: skip


class _PersonPattern:
    """A person's name: two or more capitalised words, besides a job title's, that are not an organisation's
    name; or an honorific."""

    def search(self, text: str) -> bool:
        if _TITLES.search(text):
            return True
        for m in _CAPS.finditer(text):
            words = [w.lower() for w in re.split(r"[ -]", m.group(0))]
            rest = [w for w in words if w not in _ROLE_WORDS]
            if len(rest) >= 2 and not set(rest) & _ORG_WORDS:
                return True
        return False


# The four ratings as named (domain.RATINGS), as the fitted ranker learned them; `domain.ratings_named` also
# reads "requiring improvement" and the like.
_RATING = re.compile(rf"\b({'|'.join(RATINGS)})\b", re.I)


class _RatingPattern:
    """A rating given: one or two of the four ratings, not the scale listed ("outstanding, good, requires
    improvement or inadequate" explains how ratings work)."""

    def search(self, text: str) -> bool:
        return 1 <= len({m.group(0).lower() for m in _RATING.finditer(text)}) <= 2


class Finder(Protocol):
    def search(self, text: str) -> object: ...


_YEAR = r"(?:19|20)\d\d"
_NUMBER = rf"(?<![\d,.])(?!{_YEAR}\b)(?!\d+(?:st|nd|rd|th)\b)\d[\d,.]*(?!\d)|\b(?:{_NUMBER_WORDS})\b"
_COUNT = re.compile(rf"(?:{_NUMBER})(?!\s*(?:-\s*\d+\s*)?(?:days?|weeks?|months?|years?)\b)", re.I)
_TYPES: list[tuple[str, re.Pattern[str], Finder]] = [
    (
        "percent",
        re.compile(
            r"\b(what|which)\s+(overall\s+)?(percentage|per ?cent|proportion|share)"
            r"|\bpercentage score\b|\bwhat share\b",
            re.I,
        ),
        re.compile(r"\d\s*%|per ?cent|\b(half|third|quarter|majority)\b", re.I),
    ),
    (
        "rating",
        re.compile(
            r"\bwhat (overall |indicative )?(rating|grade)\b|\b(rated|rating|graded) (did|was|has)\b"
            r"|\bwhich (rating|grade)\b",
            re.I,
        ),
        _RatingPattern(),
    ),
    (
        "score",
        re.compile(r"\bwhat score\b|\bscore out of\b|\bscored\b|\bhow did .* score\b", re.I),
        re.compile(r"(?<![\d.,£])\b[1-4]s?\b(?![\d.,%])", re.I),
    ),
    (
        "date",
        re.compile(
            r"^\s*when\b|\b(which|what) (years?|months?|dates?|days?)\b",
            re.I,
        ),
        re.compile(
            rf"\b{_YEAR}\b|\b({MONTH_NAMES})\b|\b(today|yesterday|last (week|month|year))\b",
            re.I,
        ),
    ),
    (
        "duration",
        re.compile(
            r"\bhow long\b|\bwhat is the (longest|shortest)\b|\bhow much time\b|\b(average|typical|median) wait\b"
            r"|\bhow many (working |calendar |more )?(minutes|hours|days|weeks|months|years)\b",
            re.I,
        ),
        re.compile(rf"(\d|\b({_NUMBER_WORDS})\b).{{0,25}}\b(minutes?|hours?|days?|weeks?|months?|years?)\b", re.I),
    ),
    (
        "money",
        re.compile(
            r"^\W*(?:how much\b.{0,40}|how big\b.{0,40}|what\s+(?:\w+\s+){0,2})"
            r"\b(money|savings?|save|saved|budget|cost|costs|spend|spent|overspend|funding|pay|paid|£)\b",
            re.I,
        ),
        re.compile(rf"£\s?\d|\d\s?(m|bn|k)\b|\b({_NUMBER_WORDS})\b.{{0,10}}\b(pounds|million)\b", re.I),
    ),
    (
        "count",
        re.compile(r"\bhow many\b|(?:^|[,;:]\s*)\W*(?:how much|what (?:is|was) the number of)\b", re.I),
        _COUNT,
    ),
    (
        "progress",
        re.compile(r"\bhow far (along|through|on|has|have|had)\b|\bhow much progress\b|\bwhat stage\b", re.I),
        re.compile(
            r"\b(half ?way|midway|part ?way|\d+\s*%|per ?cent|stages?|phases?|year (one|two|three|\d)|"
            r"complete[ds]?|completion|early days|nearly|almost|finished|on track|"
            r"(?:behind|ahead of) (?:schedule|plan|target)|progress\w*)\b",
            re.I,
        ),
    ),
    ("person", re.compile(r"^\s*who\b(?! (is|was|were) (responsible|eligible))", re.I), _PersonPattern()),
]


# The words that only say which kind of answer is wanted ("how long", "how far along"): the answer's own
# words are what its type looks for.
FORM_WORDS = {"duration": frozenset({"long"}), "progress": frozenset({"far", "along"})}


def answer_type(question: str) -> tuple[str, Finder] | None:
    for name, asks, has in _TYPES:
        if asks.search(question):
            return name, has
    return None


_HOW_MANY = re.compile(r"\bhow many\b|\bnumber of\b", re.I)
# How many words of what is counted, and how far after a number a sentence may name it.
COUNTED_WORDS = 4
COUNTED_WITHIN = 3


def counted_phrase(question: str) -> str:
    """What a "how many" question counts: the words after "how many" up to the next function word ("How many
    British Sign Language interpreters were..." -> "british sign language interpreters"); "" for none."""
    m = _HOW_MANY.search(question)
    if m is None:
        return ""
    out: list[str] = []
    for tok in tokens(question[m.end() :]):
        if tok in STOPWORDS:
            if out:
                break
            continue  # "how many of the ..."
        out.append(tok)
        if len(out) >= COUNTED_WORDS:
            break
    return " ".join(out)


_MONTHS = rf"(?:{MONTH_FORMS})\.?"
# A number that names rather than counts: a day beside its month ("October 15", "3 March"), or a label's
# number right after a capitalised word ("Theme 3", "Section 42").
_DAY_BEFORE = re.compile(rf"\b{_MONTHS}\s*$", re.I)
_DAY_AFTER = re.compile(rf"^(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\b", re.I)
_WORD_BEFORE = re.compile(r"(\S*)\s+([A-Z][A-Za-z]+) $")
_YEAR_ONLY = re.compile(r"(?:19|20)\d\d")


def _is_label(before: str) -> bool:
    """The number follows a capitalised word that does not open a sentence ("Theme 3", not "Of 300")."""
    m = _WORD_BEFORE.search(before)
    return m is not None and m.group(2).lower() not in STOPWORDS and not m.group(1).endswith((".", "!", "?", ":"))


def count_windows(text: str) -> list[str]:
    """The words just after each number of `text` that counts something: what it counts ("1,075 older people"
    -> "older people"), not a date's day nor a label's number."""
    out = []
    for m in _COUNT.finditer(text):
        before, after = text[max(0, m.start() - 40) : m.start()], text[m.end() : m.end() + 80]
        if _YEAR_ONLY.fullmatch(m.group(0)) or _DAY_BEFORE.search(before) or _DAY_AFTER.match(after):
            continue
        if _is_label(before):
            continue
        words = tokens(after)[:COUNTED_WITHIN]
        if words:
            out.append(" ".join(words))
    return out


def states_count_of(text: str, counted: str) -> bool:
    """A number in `text` followed closely by a word of what is counted ("four of the nine areas"), not of
    something else ("four quality themes")."""
    wanted = {stem(t) for t in tokens(counted)}
    return any(wanted & {stem(t) for t in w.split()} for w in count_windows(text))


# A year ("2023") or a financial year ("2023/24", "2023-24", "2023 to 2024") as (first year, last year).
_YEARS = re.compile(r"(?<![\d/£.,])((?:19|20)\d\d)(?:\s*(?:/|-|–|to)\s*((?:19|20)?\d\d))?(?![\d%])")


def years_named(text: str) -> set[tuple[int, int]]:
    out = set()
    for m in _YEARS.finditer(text):
        first = int(m.group(1))
        last = first if not m.group(2) else int(m.group(2)) + (first // 100 * 100 if len(m.group(2)) == 2 else 0)
        out |= {(first, last)} if first <= last <= first + 1 else {(first, first), (last, last)}
    return out


def same_year(asked: set[tuple[int, int]], written: set[tuple[int, int]]) -> bool:
    """A financial year asked is met by the same one; a year asked, by that year or a financial year ending in it."""
    return any(a == w or (a[0] == a[1] and a[0] in (w[0], w[1])) for a in asked for w in written)


_TWO_PARTS = re.compile(r"\band (?:what|how|who|when|where|which|why)\b|\?\s*\S", re.I)


def has_two_parts(question: str) -> bool:
    """ "How long did people wait, and what did carers say?": one sentence may answer either part."""
    return bool(_TWO_PARTS.search(question))
