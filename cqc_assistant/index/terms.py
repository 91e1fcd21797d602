"""Query terms: stop words, stemming (the same Porter stemmer FTS5 uses) and domain synonyms."""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any

import snowballstemmer

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "according",
        "said",
        "say",
        "says",
        "tell",
        "told",
        "give",
        "gave",
        "given",
        "get",
        "got",
        "one",
        "ones",
        "whose",
        "within",
        "much",
        "many",
        "kind",
        "sort",
        "way",
        "ways",
        "per",
        "cent",
        "percentage",
    ]
)
# Words that frame a question about this domain without saying what it is about.
FRAMING = frozenset(
    [
        "council",
        "councils",
        "authority",
        "authorities",
        "local",
        "cqc",
        "lga",
        "adult",
        "adults",
        "social",
        "care",
        "report",
        "reports",
        "describe",
        "described",
        "find",
        "found",
        "did",
        "does",
    ]
)

# Domain vocabulary from the glossary: the same thing under its common names (DOMAIN.md §7).
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("ot", "occupational therapy", "occupational therapist"),
    ("dols", "deprivation of liberty safeguards", "deprivation of liberty"),
    ("dass", "director of adult social services", "director of adult social care"),
    ("sab", "lsab", "safeguarding adults board", "safeguarding board"),
    ("sar", "safeguarding adults review"),
    ("msp", "making safeguarding personal"),
    ("bia", "best interests assessor", "best interest assessor"),
    ("dfg", "disabled facilities grant", "home adaptations"),
    ("bcf", "better care fund", "pooled budget"),
    ("icb", "integrated care board"),
    ("ics", "integrated care system"),
    ("chc", "continuing healthcare"),
    ("vcse", "voluntary and community sector", "voluntary sector"),
    ("psw", "principal social worker"),
    ("asc", "adult social care"),
    ("section 42", "s42", "safeguarding enquiry", "safeguarding enquiries"),
    ("reablement", "intermediate care"),
    ("co-production", "coproduction", "co-produce"),
    ("respite", "short breaks", "a break"),
    ("carers", "unpaid carers", "family carers"),
    ("front door", "first point of contact", "single point of contact", "contact centre", "call centre"),
    ("self-assessment", "self-evaluation", "self assessment"),
    ("transitions", "preparing for adulthood", "moving into adult services"),
    ("home care", "domiciliary care"),
    # Not "assessment" alone: in social care it is as often a person's needs assessment as CQC's.
    ("inspection", "inspected", "cqc assessment", "local authority assessment"),
    ("inspectors", "inspector", "assessors", "cqc assessor"),
    ("savings", "cost reduction", "budget reduction"),
    ("peer team", "reviewers", "peers"),
    ("direct payments", "direct payment"),
    ("personal budget", "personal budgets"),
    ("advocacy", "advocate", "advocates", "imca", "independent mental capacity advocate"),
    ("strengths-based", "strengths based", "strength-based", "strength based"),
    ("home first", "discharge to assess"),
    ("mca", "mental capacity act"),
    ("ascof", "adult social care outcomes framework"),
    ("ascs", "adult social care survey", "survey of adult social care users"),
    ("sace", "survey of adult carers"),
    ("amhp", "approved mental health professional", "mental health act"),
    ("shared lives",),
    ("extra care housing", "extra care"),
)

# Words of one root that the stemmer leaves apart (its stems): "strengths" asked, "strong" written.
RELATED_STEMS = {
    "strength": "strong", "stronger": "strong", "strongest": "strong", "safeti": "safe", "length": "long",
    "lengthi": "long", "longer": "long", "longest": "long", "depth": "deep", "width": "wide", "breadth": "broad",
    "height": "high", "higher": "high", "highest": "high", "lower": "low", "lowest": "low",
}  # fmt: skip

# Groups that say who found something or frame the question, not what it is about.
_NOT_TOPICS = frozenset({"asc", "inspection", "inspectors", "peer team"})

_STEMMERS = threading.local()  # a snowball stemmer keeps state in the object: one per thread
_WORD = re.compile(r"[a-z0-9£]+(?:[-/][a-z0-9]+)*")


def _stemmer() -> Any:
    stemmer = getattr(_STEMMERS, "porter", None)
    if stemmer is None:
        stemmer = _STEMMERS.porter = snowballstemmer.stemmer("porter")
    return stemmer


@cache
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'").replace("'s ", " "))


def content_terms(text: str, *, drop_framing: bool = True) -> list[str]:
    """Stemmed content words, in order, without duplicates."""
    out: list[str] = []
    for tok in tokens(text):
        for part in re.split(r"[-/]", tok) if not re.fullmatch(r"\d+/\d+", tok) else [tok]:
            if not part or part in STOPWORDS or (drop_framing and part in FRAMING):
                continue
            st = stem(part)
            if st not in out:
                out.append(st)
    return out


def stem_phrase(phrase: str) -> tuple[str, ...]:
    return tuple(stem(p) for p in tokens(phrase))


@cache
def _synonym_index() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    index: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for group in SYNONYMS:
        stems = tuple(stem_phrase(p) for p in group)
        for s in stems:
            index[s] = stems
    return index


def synonym_pairs(text: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(a glossary phrase found in text, one of its synonyms), stemmed, for every synonym of every phrase."""
    stems = [stem(t) for t in tokens(text)]
    out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for phrase, group in _synonym_index().items():
        if _contains(stems, phrase):
            out.extend((phrase, g) for g in group if g != phrase and (phrase, g) not in out)
    return out


def _contains(stems: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(stems[i : i + n]) == phrase for i in range(len(stems) - n + 1))


def expansions(text: str) -> list[tuple[str, ...]]:
    """Synonym phrases (stemmed) for every glossary phrase found in text, excluding the phrase itself."""
    return list(dict.fromkeys(syn for _, syn in synonym_pairs(text)))


def glossary_topics(text: str) -> list[tuple[tuple[str, ...], ...]]:
    """The glossary things text names ("occupational therapy", "DoLS"), each as its group of stemmed names."""
    stems = [stem(t) for t in tokens(text)]
    not_topics = {stem_phrase(name) for name in _NOT_TOPICS}
    out: list[tuple[tuple[str, ...], ...]] = []
    for phrase, group in _synonym_index().items():
        if group[0] not in not_topics and group not in out and _contains(stems, phrase):
            out.append(group)
    return out
