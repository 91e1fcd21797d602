"""Every spelling of a theme or quality statement listed in DOMAIN.md §2 must resolve, and prose must not.

The expected tables are written out here, not read from `domain`, so a dropped variant fails a test.
"""

from __future__ import annotations

import pytest

from cqc_assistant.domain import (
    QUALITY_STATEMENTS,
    RATINGS,
    SCORE_LABELS,
    THEMES,
    match_quality_statement,
    match_theme,
    normalise_label,
    normalise_rating,
    quality_statement,
    quality_statements_named,
    ratings_named,
)
from cqc_assistant.errors import RatingError

CANONICAL = {
    1: ("Assessing needs", 1, "needs"),
    2: ("Supporting people to live healthier lives", 1, "support"),
    3: ("Equity in experience and outcomes", 1, "equity"),
    4: ("Care provision, integration and continuity", 2, "care"),
    5: ("Partnerships and communities", 2, "partnerships"),
    6: ("Safe systems, pathways and transitions", 3, "pathways"),
    7: ("Safeguarding", 3, "safeguarding"),
    8: ("Governance, management and sustainability", 4, "governance"),
    9: ("Learning, improvement and innovation", 4, "learning"),
}

QS_VARIANTS = [
    # canonical names
    *[(name, number) for number, (name, _theme, _slug) in CANONICAL.items()],
    # the "Variants seen" column of DOMAIN.md §2
    ("Assessing people's needs", 1),
    ("Assessing people\u2019s needs", 1),
    ("how the local authority works with people", 1),
    ("Supporting people to lead healthier lives", 2),
    ("Supporting healthier lives", 2),
    ("Equity in experiences and outcomes", 3),
    ("Care provision, integration and continuity of care", 4),
    ("providing support (care provision, integration and continuity)", 4),
    ("Partnership and communities", 5),
    ("Safe pathways, systems and transitions", 6),
    ("how the local authority ensures safety in the system", 6),
    ("leadership", 8),
    ("leadership (management and sustainability)", 8),
    # numbering, Oxford commas, case, quotes and trailing scores
    ("1. Assessing needs", 1),
    ("Quality statement one: Assessing needs", 1),
    ("Quality statement 7 - Safeguarding", 7),
    ("QS7 Safeguarding", 7),
    ("(9) Learning, improvement, and innovation", 9),
    ("Care provision, integration, and continuity of care", 4),
    ("SAFE SYSTEMS, PATHWAYS, AND TRANSITIONS", 6),
    ("Governance, management, and sustainability", 8),
    ("Partnerships & communities", 5),
    ("\u201cSafeguarding\u201d", 7),
    ("Assessing needs \u2013 3", 1),
    ("7. Safeguarding - 2", 7),
    ("Equity in experiences and outcomes: 2", 3),
    # small typos are caught by the fuzzy fallback
    ("Safegaurding", 7),
    ("Assessing need", 1),
    ("Partnerships and community", 5),
]

THEME_VARIANTS = [
    ("How local authorities work with people", 1),
    ("How local authorities provide support", 2),
    ("How local authorities ensure safety within the system", 3),
    ("Leadership", 4),
    ("Working with people", 1),
    ("Providing support", 2),
    ("Ensuring safety within the system", 3),
    ("Theme one: Working with people", 1),
    ("Theme two: Providing support", 2),
    ("Theme three: Ensuring safety within the system", 3),
    ("Theme four: Leadership", 4),
    ("Theme 2 - Providing support", 2),
    ("How the local authority works with people", 1),
    ("How the local authority ensures safety in the system", 3),
    ("Ensuring safety", 3),
    ("Leadership and workforce", 4),
    ("Handle leadership and workforce", 4),
    ("theme 4: leadership", 4),
]

NOT_LABELS = [
    "",
    "   ",
    "What people expect",
    "The local authority commitment",
    "Key findings for this quality statement",
    "Financial facts",
    "Demographics",
    "Downloads",
    "Score: 3",
    "3 - Evidence shows a good standard",
    "Leadership team",
    "Partnerships",
    "Care provision was good",
    "The council has a good safeguarding team.",
    "Safeguarding adults board",
    "People said that assessing needs took too long and they waited months for a decision.",
    "The local authority worked with people and partners to make sure safeguarding was good across the area",
    "Assessing needs, supporting people to live healthier lives, equity in experience and outcomes, and more",
    "For consideration",
    "Case file audit findings",
]


@pytest.mark.parametrize(("label", "number"), QS_VARIANTS)
def test_every_qs_variant_maps(label: str, number: int) -> None:
    found = match_quality_statement(label)
    assert found is not None, label
    assert found.number == number


# The exact "Variants seen" spellings: these must be stored, not merely reached by the fuzzy fallback.
DOMAIN_QS_VARIANTS = [
    ("Assessing people's needs", 1),
    ("how the local authority works with people", 1),
    ("Supporting people to lead healthier lives", 2),
    ("Supporting healthier lives", 2),
    ("Equity in experiences and outcomes", 3),
    ("Care provision, integration and continuity of care", 4),
    ("providing support (care provision, integration and continuity)", 4),
    ("Partnership and communities", 5),
    ("Safe pathways, systems and transitions", 6),
    ("how the local authority ensures safety in the system", 6),
    ("leadership", 8),
    ("leadership (management and sustainability)", 8),
]
DOMAIN_THEME_VARIANTS = [(label, n) for label, n in THEME_VARIANTS if not label.lower().startswith("theme")]


@pytest.mark.parametrize(("label", "number"), DOMAIN_QS_VARIANTS)
def test_qs_variant_is_stored(label: str, number: int) -> None:
    qs = QUALITY_STATEMENTS[number - 1]
    assert normalise_label(label) in {normalise_label(t) for t in (qs.name, *qs.variants)}


@pytest.mark.parametrize(("label", "number"), DOMAIN_THEME_VARIANTS)
def test_theme_variant_is_stored(label: str, number: int) -> None:
    theme = THEMES[number - 1]
    assert normalise_label(label) in {normalise_label(t) for t in (theme.name, *theme.variants)}


@pytest.mark.parametrize(("label", "number"), THEME_VARIANTS)
def test_every_theme_variant_maps(label: str, number: int) -> None:
    assert match_theme(label) == number


@pytest.mark.parametrize("label", NOT_LABELS)
def test_generic_text_matches_nothing(label: str) -> None:
    assert match_quality_statement(label) is None
    assert match_theme(label) is None


def test_qs_names_are_not_themes() -> None:
    for name, _theme, _slug in CANONICAL.values():
        assert match_theme(name) is None, name


def test_quality_statement_table() -> None:
    assert len(QUALITY_STATEMENTS) == 9
    for qs in QUALITY_STATEMENTS:
        name, theme, slug = CANONICAL[qs.number]
        assert (qs.name, qs.theme, qs.slug) == (name, theme, slug)
        assert qs.url_segment == f"theme{theme}/{slug}"
    assert [qs.number for qs in QUALITY_STATEMENTS] == list(range(1, 10))


def test_themes_table() -> None:
    assert [t.number for t in THEMES] == [1, 2, 3, 4]
    assert THEMES[0].name == "How local authorities work with people"
    assert THEMES[3].name == "Leadership"
    assert "Leadership and workforce" in THEMES[3].variants


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Assessing People\u2019s Needs", "assessing peoples needs"),
        ("1. Assessing needs", "assessing needs"),
        ("Quality statement one: Assessing needs", "assessing needs"),
        ("Theme 2 - Providing support", "providing support"),
        ("Care provision, integration, and continuity of care", "care provision integration and continuity"),
        ("Supporting people to lead healthier lives", "supporting people to live healthier lives"),
        ("Equity in experiences and outcomes", "equity in experience and outcomes"),
        (
            "How the local authority ensures safety in the system",
            "how local authority ensures safety in system",
        ),
        ("  Safe   systems,\u00a0pathways  ", "safe systems pathways"),
    ],
)
def test_normalise_label(raw: str, expected: str) -> None:
    assert normalise_label(raw) == expected


@pytest.mark.parametrize(
    ("key", "number"),
    [
        (7, 7),
        ("7", 7),
        ("QS7", 7),
        ("qs 3", 3),
        ("safeguarding", 7),
        ("needs", 1),
        ("support", 2),
        ("equity", 3),
        ("care", 4),
        ("partnerships", 5),
        ("pathways", 6),
        ("governance", 8),
        ("learning", 9),
        ("theme3/safeguarding", 7),
        ("Assessing needs", 1),
        ("Supporting people to lead healthier lives", 2),
        ("Safe pathways, systems and transitions", 6),
    ],
)
def test_quality_statement_lookup(key: int | str, number: int) -> None:
    assert quality_statement(key).number == number


@pytest.mark.parametrize("key", [0, 10, -1, "0", "12", "parking", "", "the council", True])
def test_quality_statement_unknown_names_the_value(key: int | str) -> None:
    with pytest.raises(RatingError) as info:
        quality_statement(key)
    assert repr(key) in str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("requires Improvement", "Requires improvement"),
        ("Requires improvement", "Requires improvement"),
        ("'Good'", "Good"),
        ("\u2018Good\u2019", "Good"),
        ("outstanding", "Outstanding"),
        (" INADEQUATE. ", "Inadequate"),
        ("requires-improvement", "Requires improvement"),
        ("good standard", None),
        ("excellent", None),
        ("", None),
    ],
)
def test_normalise_rating(raw: str, expected: str | None) -> None:
    assert normalise_rating(raw) == expected


def test_ratings_and_score_labels() -> None:
    assert RATINGS == ("Inadequate", "Requires improvement", "Good", "Outstanding")
    assert SCORE_LABELS == {
        1: "Evidence shows significant shortfalls",
        2: "Evidence shows some shortfalls",
        3: "Evidence shows a good standard",
        4: "Evidence shows an exceptional standard",
    }


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("What score did the council get for safeguarding?", {7}),
        ("How did Wyvernshire score on Assessing people's needs?", {1}),
        ("It scored 4 for its work with partners and communities.", {5}),
        ("Equity in experiences and outcomes – 2; Learning, improvement and innovation – 3", {3, 9}),
        ("How many people were waiting for an occupational therapy assessment?", set()),
    ],
)
def test_quality_statements_named_in_free_text(text: str, numbers: set[int]) -> None:
    assert quality_statements_named(text) == numbers


@pytest.mark.parametrize(("text", "named"), [
    ("Adult social care was rated as 'requiring improvement' by the regulator.", {"Requires improvement"}),
    ("Services required improvement; two areas were Good.", {"Requires improvement", "Good"}),
    ("Provision 'requires improvements' in four areas", {"Requires improvement"}),
    ("Outstanding, good, requires improvement or inadequate", {"Outstanding", "Good", "Requires improvement",
                                                               "Inadequate"}),
    ("There is room for improvement and goodwill.", set()),
])  # fmt: skip
def test_ratings_named_reads_every_written_form_as_the_canonical_rating(text: str, named: set[str]) -> None:
    assert ratings_named(text) == named
