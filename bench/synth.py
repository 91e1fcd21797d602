"""Synthetic corpus of fictional councils' reports, for scale benchmarks. Reproducible from a seed.

    .venv/bin/python bench/synth.py OUT_DIR --councils 20 --seed 7
    .venv/bin/python bench/synth.py OUT_DIR --chunks 10000          # about that many chunks once ingested

Per council it writes, in the shapes the ingest rules read (see cqc_assistant/demo):

- a CQC-style assessment overview (`*-cqc-overview.md`: rating, demographics, financial facts, summary),
- nine CQC-style quality-statement pages (`*-cqc-qs<N>.md`, each `## <QS name>` with `Score: N`),
- a CQC-style press release (`*-cqc-press-release.html`, with the list of nine scores),
- an LGA-style Preparation for Assurance peer challenge report (`*-lga-peer-challenge.md`).

Every council, town and person is invented: council names join syllables ("Ash", "Brook", "Wyn" ...) to
"shire", "ford", "bury" or "ham", and any name the package recognises as a real council is skipped. The
text is built from many sentence patterns filled with numbers, places and services, so it is not a block
of repeated paragraphs; the nine scores of a council agree across its pages and its rating is computed from
them with the package's own calculator.
"""

# ruff: noqa: E501  (sentence patterns and report prose read better unbroken)
from __future__ import annotations

import argparse
import functools
import html
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from cqc_assistant.councils import council_key, known_councils
from cqc_assistant.domain import QUALITY_STATEMENTS, SCORE_LABELS
from cqc_assistant.rating import rate

PREFIXES = [
    "Ash",
    "Brook",
    "Wyn",
    "Cal",
    "Dun",
    "Elm",
    "Fen",
    "Hol",
    "Kel",
    "Lark",
    "Mar",
    "Oak",
    "Pen",
    "Ros",
    "Thorn",
    "Wil",
    "Bram",
    "Cor",
    "Har",
    "Stan",
    "Alder",
    "Bel",
    "Cran",
    "Dar",
    "Gar",
    "Hazel",
    "Ivy",
    "Lin",
    "Quen",
    "Sel",
    "Tam",
    "Ulver",
    "Ver",
    "Yar",
    "Bex",
    "Cul",
    "Hart",
    "Mel",
    "Rad",
    "Sil",
]
MIDDLES = (
    "",
    "ber",
    "den",
    "ley",
    "mere",
    "wick",
    "ton",
    "stow",
    "holm",
    "cot",
    "dale",
    "brook",
    "field",
    "mar",
)
SUFFIXES = {
    "shire": "County Council",
    "ford": "Borough Council",
    "bury": "Metropolitan Borough Council",
    "ham": "City Council",
}
TOWN_ENDS = ("ton", "mouth", "ley", "bridge", "holt", "minster", "wick", "by", "combe", "hythe", "moor")
FIRST = [
    "Amara",
    "Ben",
    "Carys",
    "Dev",
    "Eleni",
    "Farid",
    "Gwen",
    "Hamish",
    "Imani",
    "Jonah",
    "Keira",
    "Lewin",
    "Maya",
    "Niall",
    "Orla",
    "Priya",
    "Quentin",
    "Rhiannon",
    "Sami",
    "Tegan",
    "Uma",
    "Viktor",
    "Wren",
    "Yusuf",
    "Zara",
    "Alun",
    "Beatrix",
    "Cormac",
    "Delyth",
    "Emrys",
]
SURNAMES = [
    "Ashworth",
    "Bellamy",
    "Carrow",
    "Dunmore",
    "Ellery",
    "Fairlie",
    "Garside",
    "Halloran",
    "Ingleby",
    "Jessop",
    "Kettering",
    "Lockhart",
    "Marlowe",
    "Nettleton",
    "Oakes",
    "Pemberton",
    "Quigley",
    "Redfern",
    "Sowerby",
    "Tallis",
    "Underhill",
    "Vickery",
    "Whitcombe",
    "Yelland",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

QS_TOPICS = {
    1: [
        "Assessment, care planning and review arrangements",
        "Waiting lists and timeliness",
        "Unpaid carers",
        "Direct payments and financial assessments",
        "Reviews of care and support",
        "The front door",
    ],
    2: [
        "Prevention and early intervention",
        "Reablement and intermediate care",
        "Equipment, adaptations and technology",
        "Information and advice",
        "Social prescribing",
    ],
    3: [
        "Understanding local communities",
        "Rural access",
        "Minority ethnic communities",
        "Gypsy, Roma and Traveller communities",
        "Equalities data",
        "Accessible information",
    ],
    4: [
        "Understanding and shaping the market",
        "Sufficiency of home care",
        "Care homes and specialist provision",
        "Respite and shared lives",
        "Integration and continuity",
        "Fee rates and provider sustainability",
    ],
    5: [
        "Strategic partnerships with the NHS",
        "Hospital discharge",
        "Working with the voluntary sector",
        "Co-production",
        "District councils and housing",
        "The Better Care Fund",
    ],
    6: [
        "Safety and risk management",
        "Transitions from children's to adult services",
        "Provider failure and business continuity",
        "Information sharing between agencies",
    ],
    7: [
        "Safeguarding structures and the Safeguarding Adults Board",
        "Responding to concerns and section 42 enquiries",
        "Making safeguarding personal",
        "Deprivation of Liberty Safeguards",
        "Safeguarding adults reviews",
    ],
    8: [
        "Leadership and governance",
        "Financial sustainability",
        "Workforce",
        "Data and information",
        "Political leadership and scrutiny",
    ],
    9: [
        "A culture of learning",
        "Learning from feedback and complaints",
        "Innovation and research",
        "Training and professional development",
        "Digital innovation",
    ],
}
QS_SUBJECTS = {
    1: [
        "Care Act assessments",
        "occupational therapy assessments",
        "carers' assessments",
        "reviews",
        "financial assessments",
        "direct payments",
        "care and support plans",
    ],
    2: [
        "the reablement service",
        "community equipment",
        "home adaptations",
        "the Disabled Facilities Grant",
        "falls prevention",
        "the advice line",
        "wellbeing hubs",
        "technology-enabled care",
    ],
    3: [
        "equalities data",
        "interpreting services",
        "outreach to rural villages",
        "support for Traveller families",
        "accessible information",
        "support for people with a learning disability",
    ],
    4: [
        "home care",
        "nursing care beds",
        "extra care housing",
        "respite care",
        "shared lives placements",
        "specialist dementia care",
        "the provider market",
    ],
    5: [
        "the joint discharge hub",
        "the Integrated Care Board partnership",
        "voluntary sector grants",
        "co-production with people",
        "the Better Care Fund",
        "housing partnerships",
    ],
    6: [
        "transitions planning",
        "provider failure plans",
        "risk management",
        "information sharing",
        "continuity of care after discharge",
    ],
    7: [
        "section 42 enquiries",
        "safeguarding concerns",
        "Deprivation of Liberty Safeguards applications",
        "the Safeguarding Adults Board",
        "making safeguarding personal",
        "safeguarding adults reviews",
    ],
    8: [
        "the adult social care budget",
        "the workforce strategy",
        "performance data",
        "the savings programme",
        "scrutiny arrangements",
        "the senior leadership team",
    ],
    9: [
        "learning from complaints",
        "the practice development programme",
        "research partnerships",
        "digital pilots",
        "training for social workers",
        "feedback from people",
    ],
}
ROLES = (
    "social worker",
    "occupational therapist",
    "trusted assessor",
    "best interests assessor",
    "reablement worker",
    "care coordinator",
    "team manager",
    "approved mental health professional",
)
RELATIONS = (
    "unpaid carer",
    "person who draws on care and support",
    "family member",
    "provider",
    "practitioner",
    "voluntary sector leader",
    "GP",
    "hospital discharge nurse",
)
QUOTES = (
    "They listened to what I wanted and did not rush me.",
    "I waited months and nobody told me what was happening.",
    "The reablement team got me back on my feet in three weeks.",
    "It feels like the council actually wants to work with us now.",
    "Getting through on the phone is the hardest part.",
    "My social worker knew my mum as a person, not a case.",
    "We were passed from one team to another and had to repeat our story.",
    "The short breaks have kept our family together.",
    "Nobody asked me whether I was coping as a carer.",
    "The new equipment meant I could stay in my own home.",
    "Managers are visible and you can talk to them about anything.",
    "The caseloads are heavy, but the support from my team is good.",
    "Information was never available in my language.",
    "Once the assessment happened, everything moved quickly.",
    "I did not know that direct payments were an option until last year.",
    "The discharge hub has made a real difference to how quickly people get home.",
)
VIEWS = (
    "caseloads had become more manageable since new posts were filled",
    "they felt supported by managers and by the Principal Social Worker",
    "waits had grown over the winter and were only now starting to fall",
    "the new recording system saved them several hours a week",
    "joint working with community health teams had improved",
    "it was hard to find providers willing to work in remote areas",
    "the practice model gave them time to focus on what mattered to people",
    "referrals had risen sharply since the hospital discharge changes",
    "they did not always get feedback on the concerns they raised",
    "training on the Mental Capacity Act had been helpful",
    "agency staff turnover made continuity difficult",
    "they had been involved in designing the new pathway",
)
EFFECTS = (
    "reduced the number of people waiting by a third",
    "helped more people to stay at home for longer",
    "not yet had the impact leaders hoped for",
    "shortened the time from referral to support",
    "improved the stability of the local market",
    "freed up capacity in the locality teams",
    "led to fewer admissions to residential care",
    "been welcomed by people and partners",
)
PROBLEMS = (
    "remained too slow in the north of the area",
    "had not kept pace with rising demand",
    "were not always recorded consistently",
    "depended too heavily on a small number of staff",
    "were not yet reaching people from minority ethnic communities",
    "varied between localities",
    "were not monitored closely enough by senior leaders",
    "had been affected by recruitment difficulties",
)
OUTCOMES = (
    "remained at home 91 days after leaving hospital",
    "needed no further support after six weeks",
    "reported an improvement in their wellbeing",
    "had a care plan reviewed within 12 months",
    "received a service within four weeks",
    "were supported by a direct payment",
    "had their outcomes fully or partly met",
)
FINDINGS = (
    "showed clear evidence of the person's views shaping the plan",
    "recorded a carer's assessment being offered",
    "had a completed risk assessment",
    "showed timely management oversight",
    "recorded the person's ethnicity",
    "showed that mental capacity had been properly considered",
)
ADJECTIVES = (
    "a trusted",
    "an open and reliable",
    "a responsive",
    "an ambitious",
    "a pragmatic",
    "a constructive",
)
PARTNER_VIEWS = (
    "that relationships had strengthened over the past two years",
    "that decisions were sometimes slow to be confirmed",
    "that joint funding arrangements were now clearer",
    "that information was shared promptly when risks emerged",
    "that the council listened to their concerns about fee levels",
)
INITIATIVE_KINDS = (
    "Connect",
    "Carers' Hub",
    "Home First",
    "Living Well",
    "Independence Service",
    "Community Navigators",
    "Wellbeing Network",
    "Front Door",
    "Practice Academy",
)
PRESS_LABELS = (
    "How the local authority works with people",
    "Supporting people to lead healthier lives",
    "Equity in experiences and outcomes",
    "Care provision, integration and continuity of care",
    "Partnership and communities",
    "How the local authority ensures safety in the system",
    "Safeguarding",
    "Leadership",
    "Learning, improvement and innovation",
)
LGA_THEMES = (
    (
        "Working with people",
        "assessing needs (including the needs of unpaid carers), care planning and review, "
        "direct payments, supporting people to live healthier lives, prevention, and equity in experience and "
        "outcomes",
        (1, 2, 3),
    ),
    (
        "Providing support",
        "care provision, integration and continuity, market shaping, commissioning, and partnerships and communities",
        (4, 5),
    ),
    ("Ensuring safety within the system", "safeguarding, safe systems, pathways and transitions", (6, 7)),
    (
        "Leadership",
        "governance, management and sustainability, and learning, improvement and innovation",
        (8, 9),
    ),
)


@dataclass
class Council:
    name: str  # "Ashbrookshire County Council"
    short: str  # "Ashbrookshire"
    slug: str
    towns: list[str]
    population: int
    scores: dict[int, int]
    rating: str
    percent: int
    published: date
    onsite: date
    peer_date: date
    dass: str
    cabinet: str
    initiatives: list[str] = field(default_factory=list)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(SURNAMES)}"


@functools.cache
def _real_keys() -> frozenset[str]:
    return frozenset(council_key(f) for c in known_councils() for f in (c.name, c.short, *c.aliases))


def _is_real(name: str) -> bool:
    """A name that is, or contains, a council the package knows (compared by council key)."""
    return council_key(name) in _real_keys() or any(council_key(w) in _real_keys() for w in name.split())


def council_names(n: int | None, rng: random.Random) -> list[tuple[str, str]]:
    """n (or, with None, all) distinct fictional (short, full) names; none is a council the package knows."""
    combos = [(p + m, s) for p in PREFIXES for m in MIDDLES for s in SUFFIXES]
    rng.shuffle(combos)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for stem, suffix in combos:
        short = (stem + suffix).capitalize()
        if short.lower() in seen or "wyvern" in short.lower():
            continue
        full = f"{short} {SUFFIXES[suffix]}"
        if _is_real(full) or _is_real(short):
            continue
        seen.add(short.lower())
        out.append((short, full))
        if len(out) == n:
            return out
    if n is not None:
        raise SystemExit(f"only {len(out)} distinct fictional council names are available; asked for {n}")
    return out


def make_council(short: str, full: str, rng: random.Random) -> Council:
    towns = []
    while len(towns) < rng.randint(3, 5):
        town = rng.choice(PREFIXES) + rng.choice(TOWN_ENDS)
        if town not in towns and town != short:
            towns.append(town.capitalize())
    scores = {qs.number: rng.choices((1, 2, 3, 4), weights=(1, 6, 9, 2))[0] for qs in QUALITY_STATEMENTS}
    result = rate(scores)
    published = date(2024, 3, 1) + timedelta(days=rng.randint(0, 640))
    onsite = published - timedelta(days=rng.randint(70, 150))
    peer = onsite - timedelta(days=rng.randint(120, 400))
    c = Council(
        name=full,
        short=short,
        slug=short.lower(),
        towns=towns,
        population=rng.randint(140, 1450) * 1000,
        scores=scores,
        rating=result.rating,
        percent=result.percent,
        published=published,
        onsite=onsite,
        peer_date=peer,
        dass=_person(rng),
        cabinet=_person(rng),
    )
    c.initiatives = [f"{short} {k}" for k in rng.sample(INITIATIVE_KINDS, 4)]
    return c


def _d(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


class Writer:
    """Sentences about one council, from many patterns filled with numbers, places, services and people."""

    def __init__(self, council: Council, rng: random.Random) -> None:
        self.c = council
        self.rng = rng

    def _fill(self, qs: int) -> dict[str, object]:
        r = self.rng
        y = r.choice((2022, 2023, 2024))
        n = r.randint(12, 2400)
        pct = round(r.uniform(8, 96), 1)
        role = r.choice(ROLES)
        return {
            "c": self.c.short,
            "council": self.c.name,
            "town": r.choice(self.c.towns),
            "subject": r.choice(QS_SUBJECTS[qs]),
            "other": r.choice(QS_SUBJECTS[r.randint(1, 9)]),
            "n": f"{n:,}",
            "n2": f"{n + r.randint(40, 900):,}",
            "k": r.randint(2, 14),
            "w": r.randint(3, 18),
            "w2": r.randint(19, 52),
            "d": r.randint(5, 60),
            "pct": pct,
            "pct2": round(pct + r.uniform(-9, 9), 1),
            "pct3": round(r.uniform(3, 15), 1),
            "m": round(r.uniform(0.2, 24.0), 1),
            "year": y + 1,
            "year0": y,
            "fy": f"{y}/{str(y + 1)[2:]}",
            "month": r.choice(MONTHS),
            "role": role,
            "a_role": ("an " if role[0] in "aeiou" else "a ") + role,
            "files": r.randint(10, 60),
            "relation": r.choice(RELATIONS),
            "quote": r.choice(QUOTES),
            "view": r.choice(VIEWS),
            "effect": r.choice(EFFECTS),
            "problem": r.choice(PROBLEMS),
            "outcome": r.choice(OUTCOMES),
            "finding": r.choice(FINDINGS),
            "adj": r.choice(ADJECTIVES),
            "pview": r.choice(PARTNER_VIEWS),
            "init": r.choice(self.c.initiatives),
            "person": _person(r),
            "icb": f"NHS {self.c.short} ICB",
        }

    PATTERNS = (
        "There were {n} people waiting for {subject}, with an average wait of {w} weeks and a longest wait of {w2} weeks.",
        "At the time of our assessment, {n} people were waiting for {subject}, down from {n2} in {month} {year0}.",
        "Data provided by the council showed that {pct}% of {subject} were completed within {d} days.",
        "In {fy}, {pct}% of people who used {subject} said they were satisfied, compared with an England average of {pct2}%.",
        "The council had invested £{m} million in {subject} since {year0}, and leaders told us this had {effect}.",
        "Staff in the {town} locality told us that {view}.",
        'One {relation} in {town} told us, "{quote}"',
        "{icb} described the council as {adj} partner, and said {pview}.",
        "Leaders acknowledged that {subject} {problem}, and a plan to address this was agreed in {month} {year}.",
        "The council had recruited {k} additional {role}s in {year}, and the vacancy rate had fallen to {pct3}%.",
        "Around {n} people were supported by {init} in {fy}, and {pct}% of them {outcome}.",
        "A review of {files} case files by the council's quality team found that {pct}% {finding}.",
        "Waits for {subject} were longer in {town} than elsewhere, at up to {w2} weeks.",
        "The council's self-assessment identified {subject} as an area for improvement, and we saw the same.",
        "Performance on {subject} was {pct}% in {fy}, against a local target of {pct2}%.",
        "{init} had handled {n} contacts since {month} {year0}, resolving {pct}% at the first point of contact.",
        "People told us that {subject} had improved, although {other} {problem}.",
        "Spending on {subject} was £{m} million in {fy}, about {pct3}% more than planned.",
        "{person}, {a_role} in {town}, told us that {view}.",
        "Feedback gathered by {init} showed that {pct}% of {relation}s felt listened to.",
        "The council commissioned {k} new services for {subject} in {year}, including a pilot in {town}.",
        "There had been {n} referrals for {subject} in {fy}, {pct}% more than the year before.",
        "Partners told us that {subject} {problem}, but that {other} had {effect}.",
        "The median time from referral to {subject} was {d} days, and {pct}% of people were seen within {w} weeks.",
        "The cabinet member for adult social care received monthly reports on {subject}.",
        "In {month} {year} the council launched a {k}-point action plan for {subject}.",
        "About {pct}% of the {n} people who drew on {subject} lived in {town} or the surrounding villages.",
        "We heard that {subject} had {effect} since the introduction of {init}.",
        "Nobody we spoke to in {town} could explain how {subject} worked, which meant some people {problem}.",
        "The council expected to reduce the wait for {subject} to {w} weeks by {month} {year}.",
    )

    def sentence(self, qs: int) -> str:
        return self.rng.choice(self.PATTERNS).format(**self._fill(qs))

    def paragraph(self, qs: int, lo: int = 2, hi: int = 4) -> str:
        return " ".join(self.sentence(qs) for _ in range(self.rng.randint(lo, hi)))

    def paragraphs(self, qs: int, lo: int, hi: int) -> list[str]:
        return [self.paragraph(qs) for _ in range(self.rng.randint(lo, hi))]


def overview(c: Council, w: Writer) -> str:
    r = w.rng
    older = round(r.uniform(16, 28), 1)
    budget = round(r.uniform(400, 1900), 1)
    asc = round(budget * r.uniform(0.27, 0.42), 1)
    lines = [
        f"# {c.name}: local authority assessment", "", f"Assessment published: {_d(c.published)}", "",
        f"## About {c.name}", "", "### Demographics", "",
        f"{c.short} has an estimated population of {c.population:,} people. The largest towns are "
        f"{', '.join(c.towns[:-1])} and {c.towns[-1]}. {older}% of residents are aged 65 and over, compared "
        f"with 18.6% nationally, and the number aged 85 and over is expected to rise by {r.randint(18, 45)}% "
        f"by 2035.", "",
        f"{r.randint(3, 30)} neighbourhoods in {r.choice(c.towns)} are among the 10% most deprived in England. "
        f"The local NHS is organised through NHS {c.short} Integrated Care Board (ICB).", "",
        "### Financial facts", "",
        f"- The local authority estimated that in 2023/24 its total budget would be £{budget:,} million.",
        f"- It estimated that it would spend £{asc:,} million of its total budget on adult social care.",
        f"- In 2023/24, {round(100 * asc / budget, 1)}% of the budget was spent on adult social care.",
        f"- Approximately {r.randint(2000, 16000):,} people were accessing long-term adult social care support.",
        "", "## Overall summary", "", "### Local authority rating", "", f"Overall rating: {c.rating}", "",
        f"We have given {c.name} an overall rating of {c.rating.lower()}. Our on-site assessment took place "
        f"in the week of {_d(c.onsite)}.", "",
        "### Summary of people's experiences", "", *w.paragraphs(r.randint(1, 9), 2, 3), "",
        "### Summary of strengths, areas for development and next steps", "", *w.paragraphs(r.randint(1, 9), 2, 3),
    ]  # fmt: skip
    return "\n\n".join(x for x in lines if x) + "\n"


def qs_page(c: Council, w: Writer, qs_number: int) -> str:
    qs = QUALITY_STATEMENTS[qs_number - 1]
    score = c.scores[qs_number]
    out = [
        f"# {c.name}: local authority assessment - {qs.name}", f"Assessment published: {_d(c.published)}",
        f"## {qs.name}", f"Score: {score}", f"{score} - {SCORE_LABELS[score]}",
        "### What people expect",
        "I have care and support that meets my needs, planned with me and with the people who matter to me.",
        "### The local authority commitment",
        "We work with people to understand their needs and goals, and we provide timely, proportionate support.",
        "### Key findings for this quality statement",
    ]  # fmt: skip
    for topic in w.rng.sample(QS_TOPICS[qs_number], w.rng.randint(3, len(QS_TOPICS[qs_number]))):
        out.append(f"#### {topic}")
        out.extend(w.paragraphs(qs_number, 2, 4))
    return "\n\n".join(out) + "\n"


def press_release(c: Council, w: Writer) -> str:
    e = html.escape
    items = "\n".join(f"<li>{e(label)} – {c.scores[i + 1]}</li>" for i, label in enumerate(PRESS_LABELS))
    body = "\n".join(f"<p>{e(p)}</p>" for p in w.paragraphs(w.rng.randint(1, 9), 2, 4))
    inspector = _person(w.rng)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>CQC rates {e(c.name)}'s adult social care provision as {c.rating.lower()}</title></head>
<body><main>
<h1>CQC rates {e(c.name)}'s adult social care provision as {c.rating.lower()}</h1>
<p>Published: {_d(c.published)}</p>
<p>The Care Quality Commission (CQC) has rated {e(c.name)} as {c.rating.lower()} in how it meets its duties \
under the Care Act 2014.</p>
<p>CQC gave the council a score for each of the nine quality statements it assessed, where 1 means the \
evidence shows significant shortfalls and 4 means it shows an exceptional standard:</p>
<ol>
{items}
</ol>
{body}
<p>{e(inspector)}, CQC's chief inspector of adult social care and integrated care, said:</p>
<p>"{e(w.sentence(w.rng.randint(1, 9)))} {e(w.sentence(w.rng.randint(1, 9)))}"</p>
<h2>Notes to editors</h2>
<p>Each of the nine quality statements is given a score from 1 to 4, and the scores are combined to give an \
overall rating. The full assessment report for {e(c.name)} is published on the CQC website.</p>
</main></body></html>
"""


def peer_challenge(c: Council, w: Writer) -> str:
    r = w.rng
    employers = [
        "a county council",
        "a city council",
        "a unitary council",
        "a borough council",
        "an NHS trust",
    ]
    team = [f"- {_person(r)}, {r.choice(ROLES).title()}, {e}" for e in r.sample(employers, 4)]  # fmt: skip
    out = [
        f"# Preparation for Assurance: Peer Challenge Report, {c.name}",
        f"Final report: {MONTHS[c.peer_date.month - 1]} {c.peer_date.year}",
        "## Background",
        f"{c.name} asked the Local Government Association (LGA) to carry out an adult social care Preparation "
        f"for Assurance peer challenge. It was commissioned by {c.dass}, the council's Director of Adult Social "
        f"Services (DASS). The team read {r.randint(40, 160)} documents, held {r.randint(25, 70)} meetings with "
        f"{r.randint(90, 260)} people and audited {r.randint(6, 20)} case files.",
        "The members of the peer challenge team were:", "\n".join(team),
        "## Key messages",
        "\n\n".join(f"{i + 1}. {w.paragraph(r.randint(1, 9), 2, 3)}" for i in range(r.randint(4, 6))),
    ]  # fmt: skip
    for title, relates, qss in LGA_THEMES:
        out.append(f"## {title}")
        out.append(f"This relates to {relates}.")
        for qs in qss:
            out.extend(w.paragraphs(qs, 2, 3))
        out.append("### For consideration")
        out.append("\n".join(f"- {w.sentence(r.choice(qss))}" for _ in range(r.randint(2, 4))))
    out += [
        "## Case file audit findings", *w.paragraphs(1, 1, 2),
        "## Immediate next steps", w.paragraph(8, 1, 2),
        "## Contact details", f"For more information contact {_person(r)}, Adviser, Local Government Association.",
    ]  # fmt: skip
    return "\n\n".join(out) + "\n"


def write_council(c: Council, rng: random.Random, out: Path) -> list[Path]:
    w = Writer(c, rng)
    files = {
        f"{c.slug}-cqc-overview.md": overview(c, w),
        **{f"{c.slug}-cqc-qs{n}.md": qs_page(c, w, n) for n in range(1, 10)},
        f"{c.slug}-cqc-press-release.html": press_release(c, w),
        f"{c.slug}-lga-peer-challenge.md": peer_challenge(c, w),
    }
    paths = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def count_chunks(paths: list[Path]) -> int:
    """Chunks the ingest rules make of these files (load, detect, chunk: no embedding, no store)."""
    from cqc_assistant.ingest.chunking import chunk_document
    from cqc_assistant.ingest.detect import detect
    from cqc_assistant.ingest.loaders import load_bytes

    total = 0
    for p in paths:
        ex = load_bytes(str(p), p.read_bytes(), p.suffix)
        _, sections = detect(ex, str(p))
        total += len(chunk_document(ex, sections))
    return total


@dataclass
class Corpus:
    folder: Path
    councils: list[Council]
    files: list[Path]
    chunks_estimate: int

    def to_json(self) -> dict[str, object]:
        return {
            "folder": str(self.folder),
            "councils": len(self.councils),
            "files": len(self.files),
            "chunks_estimate": self.chunks_estimate,
        }


CALIBRATION_COUNCILS = 3


def generate(out: Path, *, councils: int | None = None, chunks: int | None = None, seed: int = 1) -> Corpus:
    """Write a corpus into `out` (created; must be empty). Give `councils`, or `chunks` to aim for."""
    if (councils is None) == (chunks is None):
        raise ValueError("give councils or chunks")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise SystemExit(f"{out} is not empty")
    rng = random.Random(seed)
    names = council_names(councils, rng)  # None (aiming at a chunk count): every name there is
    made: list[Council] = []
    files: list[Path] = []
    per_council = 0.0
    target = councils or len(names)
    calibrated = False
    for short, full in names:
        c = make_council(short, full, rng)
        files.extend(write_council(c, rng, out))
        made.append(c)
        if chunks is not None and not calibrated:
            so_far = count_chunks(files)
            per_council = so_far / len(made)
            if so_far >= chunks or len(made) == CALIBRATION_COUNCILS:
                calibrated = True
                target = max(len(made), round(chunks / per_council))
            if target > len(names):
                raise SystemExit(f"{chunks} chunks need about {target} councils; only {len(names)} names")
        if len(made) >= target:
            break
    estimate = round(per_council * len(made)) if per_council else count_chunks(files)
    return Corpus(out, made, files, estimate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="folder to write into (created; must be empty)")
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--councils", type=int, help="number of fictional councils (12 files each)")
    size.add_argument("--chunks", type=int, help="aim for about this many chunks once ingested")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same files)")
    args = parser.parse_args(argv)
    corpus = generate(args.out, councils=args.councils, chunks=args.chunks, seed=args.seed)
    json.dump(corpus.to_json(), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
