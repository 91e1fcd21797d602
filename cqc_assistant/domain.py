"""CQC local authority assessment vocabulary: themes, quality statements, ratings and score labels.

Pure data and string functions (no I/O) so ingest, retrieval and the rating calculator agree on one
spelling of every name. Sources write the same statement several ways (DOMAIN.md §2), so labels are
normalised and then matched exactly, falling back to a conservative fuzzy match.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass

from .errors import RatingError
from .text import straighten

__all__ = [
    "CQC_CREDIT",
    "CQC_NAMES",
    "CQC_PEOPLE",
    "NUMBER_WORDS",
    "OVERALL_WORD",
    "QS_WORD",
    "PERCENT_WORD",
    "PUBLISHED_WORD",
    "PEER_CREDIT",
    "WHO_FOUND_IT",
    "BANDS",
    "PRESS_RELEASE_TITLE",
    "RATINGS",
    "RATING_TERMS",
    "RATING_VERB",
    "RATING_WORDS",
    "rating_mentions",
    "REPORT_PAGE_LINES",
    "SCORE_LABELS",
    "SCORE_WORD",
    "QUALITY_STATEMENTS",
    "QS_DESCRIPTIONS",
    "THEMES",
    "band_index",
    "QualityStatement",
    "Theme",
    "match_quality_statement",
    "match_theme",
    "normalise_label",
    "normalise_rating",
    "quality_statement",
    "quality_statements_named",
    "ratings_named",
]


@dataclass(frozen=True)
class Theme:
    """One of the four CQC themes; `variants` are other spellings seen in CQC, LGA and press text."""

    number: int
    name: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualityStatement:
    """One of the nine quality statements; `slug` is the report URL segment after `theme<N>/`."""

    number: int
    theme: int
    name: str
    slug: str
    variants: tuple[str, ...] = ()

    @property
    def url_segment(self) -> str:
        """The path part of a report page, e.g. `theme3/safeguarding` (QS9's is an INFERENCE)."""
        return f"theme{self.theme}/{self.slug}"


THEMES: tuple[Theme, ...] = (
    Theme(
        1,
        "How local authorities work with people",
        ("Working with people", "How the local authority works with people", "How the council works with people"),
    ),
    Theme(
        2,
        "How local authorities provide support",
        ("Providing support", "How the local authority provides support"),
    ),
    Theme(
        3,
        "How local authorities ensure safety within the system",
        (
            "Ensuring safety within the system",
            "How the local authority ensures safety in the system",
            "How the local authority ensures safety within the system",
            "Ensuring safety",
            "Ensuring safety in the system",
        ),
    ),
    Theme(4, "Leadership", ("Leadership and workforce", "Handle leadership and workforce")),
)

# Press-release lists put theme names where QS1, QS6 and QS8 belong (DOMAIN.md §2), so those theme
# phrasings are also variants of the quality statement.
QUALITY_STATEMENTS: tuple[QualityStatement, ...] = (
    QualityStatement(
        1,
        1,
        "Assessing needs",
        "needs",
        ("Assessing people's needs", "How the local authority works with people"),
    ),
    QualityStatement(
        2,
        1,
        "Supporting people to live healthier lives",
        "support",
        (
            "Supporting people to lead healthier lives",
            "Supporting healthier lives",
            "Supporting people to be healthier",
        ),
    ),
    QualityStatement(
        3,
        1,
        "Equity in experience and outcomes",
        "equity",
        ("Equity in experiences and outcomes", "Equity of experience and outcomes"),
    ),
    QualityStatement(
        4,
        2,
        "Care provision, integration and continuity",
        "care",
        (
            "Care provision, integration and continuity of care",
            "Providing support (care provision, integration and continuity)",
        ),
    ),
    QualityStatement(
        5,
        2,
        "Partnerships and communities",
        "partnerships",
        ("Partnership and communities", "Partners and communities"),
    ),
    QualityStatement(
        6,
        3,
        "Safe systems, pathways and transitions",
        "pathways",
        ("Safe pathways, systems and transitions", "How the local authority ensures safety in the system"),
    ),
    QualityStatement(7, 3, "Safeguarding", "safeguarding"),
    QualityStatement(
        8,
        4,
        "Governance, management and sustainability",
        "governance",
        ("Leadership", "Leadership (management and sustainability)"),
    ),
    QualityStatement(9, 4, "Learning, improvement and innovation", "learning"),
)

# What each quality statement is about, in plain words (our summary of CQC's "we statements", DOMAIN.md §2):
# a question is matched to a statement by meaning through these, when it does not name one.
QS_DESCRIPTIONS: dict[int, str] = {
    1: "Assessing and reviewing people's care and support needs and carers' needs: Care Act assessments, "
    "waiting lists for assessment, reviews, occupational therapy, eligibility, financial assessments, "
    "the front door and first contact.",
    2: "Helping people stay well and independent and preventing, reducing or delaying the need for care: "
    "prevention, early help, information and advice, reablement, equipment, adaptations, unpaid carers' support.",
    3: "Fair access and equal outcomes for everyone: understanding and reducing inequality, diversity, "
    "seldom-heard groups, ethnic minorities, interpreters, accessible information and communication.",
    4: "Enough good-quality care available locally: commissioning, market shaping, care homes, home care, "
    "providers, choice, direct payments, continuity of care and joined-up services with health.",
    5: "Working in partnership with the NHS, other agencies, the voluntary and community sector and local "
    "communities: integration, shared funding, co-production and joint work.",
    6: "Keeping people safe when they move between services: hospital discharge, moving from children's to "
    "adults' services (transitions), safe systems of care, risk management and continuity in emergencies.",
    7: "Safeguarding adults from abuse and neglect: safeguarding enquiries and concerns, the safeguarding "
    "adults board, making safeguarding personal, deprivation of liberty safeguards and protecting people.",
    8: "Leadership, governance, management and sustainability: strategy, accountability, oversight, budgets "
    "and finances, workforce, staff, risk, performance and political and senior leadership.",
    9: "Learning, improvement and innovation: learning from feedback and complaints, continuous improvement, "
    "innovation, research, co-production of change and new ways of working.",
}

# Words that tie a theme-level passage (an LGA peer challenge section) to one quality statement.
QS_KEYWORDS: dict[int, tuple[str, ...]] = {
    1: ("assess", "need", "review", "waiting", "carer", "care plan", "eligib", "direct payment",
        "financial assess"),
    2: ("prevent", "reablement", "healthier", "early intervention", "equipment", "adaptation", "information",
        "advice", "technology", "wellbeing", "independen"),
    3: ("equity", "equalit", "inequalit", "divers", "ethnic", "rural", "access", "protected characteristic",
        "gypsy", "deaf", "seldom heard", "communities"),
    4: ("market", "provider", "home care", "care home", "commission", "integrat", "continuity", "respite",
        "shared lives", "sufficien", "fee"),
    5: ("partner", "nhs", "icb", "voluntary", "co-produc", "coproduc", "district", "housing", "joint",
        "community sector"),
    6: ("transition", "pathway", "discharge", "hospital", "risk", "provider failure", "business continuity",
        "safe system"),
    7: ("safeguard", "section 42", "deprivation of liberty", "dols", "abuse", "neglect",
        "making safeguarding"),
    8: ("governance", "leader", "financ", "budget", "workforce", "data", "performance", "assurance",
        "scrutiny", "oversight", "councillor", "strategy"),
    9: ("learning", "improvement", "innovat", "feedback", "complaint", "research", "lessons", "review",
        "co-produc"),
}  # fmt: skip

RATINGS: tuple[str, ...] = ("Inadequate", "Requires improvement", "Good", "Outstanding")

# (lowest %, highest %, rating), from CQC's table: "25 to 38%", "39 to 62%", "63 to 87%", "88% and above".
BANDS: tuple[tuple[int, int, str], ...] = (
    (25, 38, RATINGS[0]),
    (39, 62, RATINGS[1]),
    (63, 87, RATINGS[2]),
    (88, 100, RATINGS[3]),
)


def band_index(percent: int) -> int:
    """The index in BANDS of a whole percentage from 0 to 100 (anything up to 38 is the lowest band)."""
    return next(i for i, (_low, high, _rating) in enumerate(BANDS) if percent <= high)


# Words that speak of a rating without naming one, in a question ("rated", "the lowest grade", "which band").
RATING_TERMS = r"ratings?|rated|grades?|bands?"
# A report line that gives the council's rating says so with the verb ("CQC rates", "rated", "rating"); the
# plural "ratings" is more often other services' (care homes' "good ratings").
RATING_VERB = r"rat(?:e|ed|es|ing)"

# How documents write the ratings: "requiring improvement", "require improvements", "required improvement".
RATING_WORDS = r"(?:outstanding|good|requir(?:es|ed|e|ing)\s+improvements?|inadequate)"
_RATING_NAMED = re.compile(rf"\b{RATING_WORDS}\b", re.I)

# Numbers written as words ("twenty carers"), with their values.
_WORDS_TO_TWENTY = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
)  # fmt: skip
NUMBER_WORDS: dict[str, int] = {w: n for n, w in enumerate(_WORDS_TO_TWENTY)} | {
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip

# Who found it (DOMAIN.md §1): how a text names CQC, the words that credit CQC's assessment (its inspectors,
# the regulator) and those that credit the LGA's peer team, each with the document kinds that are theirs.
CQC_NAMES = r"\bCQC\b|Care Quality Commission"
CQC_PEOPLE = rf"{CQC_NAMES}|\binspectors?\b"  # who at CQC finds things: an answer crediting them credits CQC
# A question's words for CQC as the source; the press's "watchdog" too.
CQC_CREDIT = rf"{CQC_PEOPLE}|inspection|regulator|watchdog|assessors?"
PEER_CREDIT = r"LGA|peer (?:team|challenge|review)|peers|reviewers"
WHO_FOUND_IT: tuple[tuple[str, frozenset[str]], ...] = (
    (CQC_CREDIT, frozenset({"cqc_assessment", "cqc_press_release"})),
    (PEER_CREDIT, frozenset({"lga_peer_challenge"})),
)

# Lines that only CQC's own report pages print (DOMAIN.md §5.1-5.2): a document holding one is a report.
REPORT_PAGE_LINES: tuple[str, ...] = (
    "Key findings for this quality statement",
    "Quality statement scores",
    "Local authority rating and score",
    "How we assess local authorities",
)
# A CQC press release's title (DOMAIN.md §5.3), wherever it was republished.
PRESS_RELEASE_TITLE = (
    rf"\b(?:{CQC_NAMES})\s+(?:rates\b.{{3,160}}?\badult social care(?: provision)?\s+as\b"
    r"|publishes report on\b.{3,160}?\bcare act responsibilities\b)"
)

# The word for a quality statement's mark of 1-4 in any of its forms ("score", "scored", "scoring").
SCORE_WORD = r"\bscor(?:e|es|ed|ing)\b"
# The council's overall result (DOMAIN.md §3): its rating (RATING_TERMS), and its percentage, which CQC and
# the press also call its overall score. A question is about the overall result when it says "overall".
OVERALL_WORD = r"\boverall\b"
# What CQC calls the nine things it scores.
QS_WORD = r"\bquality statements?\b"
PERCENT_WORD = rf"\bper ?cent(?:age)?\b|%|{SCORE_WORD}"
# A report's publication (DOMAIN.md §5): the date a question asks for is its publication date.
PUBLISHED_WORD = r"\bpublish(?:ed|es|ing)?\b|\bpublication\b"
# The NHS bodies a place names (DOMAIN.md glossary, ICS / ICB): "Derby and Derbyshire Integrated Care Board" is
# not Derbyshire County Council, nor "Liverpool University Hospitals NHS Foundation Trust" Liverpool's council.
NHS_BODY_AFTER_PLACE = (
    r"Integrated\s+Care\s+(?:Board|System|Partnership)|ICB|ICS|NHS|Clinical\s+Commissioning\s+Group|CCG"
    r"|(?:[A-Z][a-z]+\s+){0,2}Hospitals?\b|(?:[A-Z][a-z]+\s+)*Foundation\s+Trust"
)

# CQC's wording for QS scores. Scores are not ratings (DOMAIN.md §3): never print "rated good" for one.
SCORE_LABELS: dict[int, str] = {
    1: "Evidence shows significant shortfalls",
    2: "Evidence shows some shortfalls",
    3: "Evidence shows a good standard",
    4: "Evidence shows an exceptional standard",
}

MAX_LABEL_WORDS = 12
FUZZY_THRESHOLD = 0.86
FUZZY_MARGIN = 0.05

_ONE_TO_TEN = "|".join(w for w, n in NUMBER_WORDS.items() if 1 <= n <= 10)
_PREFIX = r"(?:quality\s+statements?|qs|theme)"
_NUM = rf"(?:\d{{1,2}}|{_ONE_TO_TEN})"
# "Quality statement one: ...", "Theme 2 - ...", "QS1 ...", "1. ...", "(3) ...", "a) ...".
_LEADING_NUMBERING = re.compile(
    rf"^\s*(?:{_PREFIX}\s*{_NUM}?\s*[:.)\-|]+\s*"
    rf"|{_PREFIX}\s*{_NUM}\s+"
    r"|\(?\d{1,2}\s*[.):\-|]?\s+"
    r"|\(?[a-i][.)]\s+)"
)
# A trailing score on a press-release line: "Assessing needs – 3", "Safeguarding (2)", "Leadership: score 3".
_TRAILING_SCORE = re.compile(r"(?:\s*[-:|]\s*|\s+)(?:\(\s*)?(?:score\s*:?\s*)?[1-4](?:\s*\))?\s*$")
_WORD_MAP = {"lead": "live", "experiences": "experience"}


def normalise_label(s: str) -> str:
    """Reduce a heading or list label to a comparable key (DOMAIN.md §2 "Matching").

    Lower-cases, straightens quotes, drops leading numbering, "the", "of care" and punctuation (so
    Oxford commas vanish), and treats lead/live and experience/experiences as the same word.
    """
    text = straighten(s).lower()
    for _ in range(3):
        stripped = _LEADING_NUMBERING.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    text = text.replace("&", " and ")
    text = re.sub(r"['\"]", "", text)
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "of" and i + 1 < len(words) and words[i + 1] == "care":
            i += 2
            continue
        if word != "the":
            out.append(_WORD_MAP.get(word, word))
        i += 1
    return " ".join(out)


def _label_key(label: str) -> str | None:
    """Normalise a label for matching, or None when it is empty or too long to be a heading."""
    without_score = _TRAILING_SCORE.sub("", straighten(label).lower())
    key = normalise_label(without_score) if without_score.strip() else normalise_label(label)
    if not key or len(key.split()) > MAX_LABEL_WORDS:
        return None
    return key


def _build_index(entries: list[tuple[int, str]]) -> dict[str, int]:
    index: dict[str, int] = {}
    for number, text in entries:
        key = normalise_label(text)
        if index.setdefault(key, number) != number:
            raise AssertionError(f"label {text!r} normalises to a key used by two targets")
    return index


_QS_INDEX = _build_index([(qs.number, t) for qs in QUALITY_STATEMENTS for t in (qs.name, *qs.variants)])
_THEME_INDEX = _build_index([(th.number, t) for th in THEMES for t in (th.name, *th.variants)])
_QS_BY_NUMBER = {qs.number: qs for qs in QUALITY_STATEMENTS}
_QS_BY_SLUG = {qs.slug: qs for qs in QUALITY_STATEMENTS}


_MATCHERS = threading.local()  # per thread: a matcher holds the label being compared


def _matchers(index: dict[str, int]) -> list[tuple[str, int, difflib.SequenceMatcher[str]]]:
    """One SequenceMatcher per index key, built once per thread: difflib's per-call set-up dominated long
    documents (keys are short, so autojunk never applied to them)."""
    cache: dict[int, list[tuple[str, int, difflib.SequenceMatcher[str]]]] = _MATCHERS.__dict__.setdefault("by", {})
    found = cache.get(id(index))
    if found is None:
        found = [(c, n, difflib.SequenceMatcher(None, "", c, autojunk=False)) for c, n in index.items()]
        cache[id(index)] = found
    return found


def _match(label: str, index: dict[str, int]) -> int | None:
    """Exact key first, then difflib; a near tie between two targets is refused rather than guessed."""
    key = _label_key(label)
    if key is None:
        return None
    if key in index:
        return index[key]
    best: dict[int, float] = {}
    floor = FUZZY_THRESHOLD - FUZZY_MARGIN  # a candidate below this can neither win nor tie the winner
    for candidate, number, matcher in _matchers(index):
        shorter, longer = sorted((len(key), len(candidate)))
        if 2 * shorter < floor * (shorter + longer):
            continue  # ratio() cannot reach the floor with lengths this far apart
        matcher.set_seq1(key)
        if matcher.quick_ratio() < floor:
            continue  # an upper bound of ratio(): skip the slow exact comparison
        ratio = matcher.ratio()
        if ratio > best.get(number, 0.0):
            best[number] = ratio
    ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
    if not ranked or ranked[0][1] < FUZZY_THRESHOLD:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < FUZZY_MARGIN:
        return None
    return ranked[0][0]


def match_quality_statement(label: str) -> QualityStatement | None:
    """The quality statement a heading or short line names, or None; long sentences never match.

    A bare theme name such as "Leadership" maps to the QS that press releases put in its place;
    when a list of nine is available, map it by position instead.
    """
    number = _match(label, _QS_INDEX)
    return None if number is None else _QS_BY_NUMBER[number]


def quality_statements_named(text: str) -> set[int]:
    """The quality statements a question or a sentence names anywhere in it, by name or variant."""
    padded = f" {normalise_label(text)} "
    return {number for key, number in _QS_INDEX.items() if f" {key} " in padded}


def match_theme(label: str) -> int | None:
    """The theme number (1-4) a heading names in CQC, LGA or press wording, or None."""
    return _match(label, _THEME_INDEX)


def quality_statement(key: int | str) -> QualityStatement:
    """Look up a QS by number, canonical name, URL segment ("needs", "theme3/safeguarding") or variant.

    Raises RatingError naming the value, because this is how user-typed score names are resolved.
    """
    if isinstance(key, bool):
        raise RatingError(f"unknown quality statement {key!r}: use 1-9, a name or a URL segment")
    if isinstance(key, int):
        if key in _QS_BY_NUMBER:
            return _QS_BY_NUMBER[key]
        raise RatingError(f"unknown quality statement {key!r}: numbers run from 1 to 9")
    text = straighten(str(key)).strip()
    lowered = text.lower()
    number_match = re.fullmatch(r"(?:qs|quality\s+statement)?\s*(\d{1,2})", lowered)
    if number_match:
        number = int(number_match.group(1))
        if number in _QS_BY_NUMBER:
            return _QS_BY_NUMBER[number]
        raise RatingError(f"unknown quality statement {key!r}: numbers run from 1 to 9")
    slug = lowered.rstrip("/").rsplit("/", 1)[-1]
    if slug in _QS_BY_SLUG:
        return _QS_BY_SLUG[slug]
    found = match_quality_statement(text) if text else None
    if found is None:
        raise RatingError(
            f"unknown quality statement {key!r}: use 1-9, a name such as 'Safeguarding' "
            "or a URL segment such as 'needs'"
        )
    return found


_RATING_KEYS = {
    "inadequate": "Inadequate",
    "requires improvement": "Requires improvement",
    "require improvement": "Requires improvement",
    "requires improvements": "Requires improvement",
    "requiring improvement": "Requires improvement",
    "require improvements": "Requires improvement",
    "requiring improvements": "Requires improvement",
    "required improvement": "Requires improvement",
    "required improvements": "Requires improvement",
    "good": "Good",
    "outstanding": "Outstanding",
}


def normalise_rating(s: str) -> str | None:
    """The canonical rating for loosely written text ("requires Improvement", "'Good'"), else None."""
    key = " ".join(re.sub(r"[^a-z]+", " ", straighten(s).lower()).split())
    return _RATING_KEYS.get(key)


def ratings_named(text: str) -> set[str]:
    """The ratings a text names anywhere, canonical ("requiring improvement" is "Requires improvement")."""
    return {rating for rating, _, _ in rating_mentions(text)}


def rating_mentions(text: str) -> list[tuple[str, int, int]]:
    """Each rating a text names, in any written form, as (canonical rating, start, end)."""
    return [
        (_RATING_KEYS[" ".join(m.group(0).lower().split())], m.start(), m.end()) for m in _RATING_NAMED.finditer(text)
    ]
