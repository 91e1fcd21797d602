"""The sentences an answer can quote, and the quotes made of them: each an exact span of the stored text.

Answers score the candidates (answer.py); briefings sort them into strengths and areas for development.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .models import Citation, Passage
from .text import first_line_end, looks_like_instruction, quoted_span, sentences

CLOSEST = 3  # passages a refusal lists as the closest, labelled as not answering
NEIGHBOUR_GAP = 4  # characters between two sentences that follow each other (a break, a bullet's "-")


@dataclass
class Candidate:
    passage: Passage
    rank: int
    start: int
    end: int
    text: str
    lexical: float = 0.0
    literal: float = 0.0  # lexical coverage without glossary synonyms
    dense: float = 0.0
    score: float = 0.0  # the fitted ranker's probability that the sentence answers the question
    opening: bool = False  # on the document's first line (its title or a summary line), which rarely answers
    heading: bool = False  # the passage's own heading line ("Assessment published: 30 January 2025")
    typed: bool = True  # has the kind of answer asked for, of the year asked about, on the statement asked
    about: bool = True  # about the quality statement the question names (True when it names none)
    x: dict[str, float] = field(default_factory=dict)  # the ranker's features

    @property
    def support(self) -> float:
        return self.score

    @property
    def quotable(self) -> bool:
        """A heading line says what its passage is about, never what was found, unless it states the very kind
        of thing asked for: a name ("Cllr ..."), a date ("Assessment published: 30 January 2025")."""
        return not self.heading or bool(self.x.get("kind_match"))


def candidate_sentences(texts: dict[str, str], passages: Sequence[Passage]) -> list[Candidate]:
    """The sentences of the retrieved passages that can be quoted, each once and in passage order: never an
    instruction to the reader; a passage's heading line marked as such (`heading`); one that leans on its
    neighbour quoted with it. Answers score them; briefings sort them into strengths and areas for development."""
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for rank, p in enumerate(passages):
        doc_text = texts[p.doc_id]
        first_line = first_line_end(doc_text)
        spans = list(sentences(doc_text, p.start, p.end))
        for i, (s, e) in enumerate(spans):
            if (p.doc_id, s) in seen or len(doc_text[s:e].split()) < 3:
                continue
            seen.add((p.doc_id, s))
            if looks_like_instruction(doc_text[s:e]):
                continue
            s, e = quoted_span(doc_text, spans, i)
            heading = is_heading(doc_text[s:e], p)
            out.append(Candidate(p, rank, s, e, doc_text[s:e], opening=s < first_line, heading=heading))
    return out


def is_heading(text: str, p: Passage) -> bool:
    """The passage's section heading line itself."""
    return " ".join(text.split()).rstrip(":.") == " ".join(p.section.split()).rstrip(":.")


def overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage.doc_id == b.passage.doc_id and a.start < b.end and b.start < a.end


def closest_citations(passages: Sequence[Passage]) -> tuple[Citation, ...]:
    """The passages nearest the question, quoted whole (their text is stored_text[start:end])."""
    return tuple(
        Citation(
            n=i + 1,
            doc_id=p.doc_id,
            title=p.title,
            source=p.source,
            section=p.section,
            start=p.start,
            end=p.end,
            quote=p.text,
            page=p.page,
            council=p.council,
            kind=p.kind,
        )  # fmt: skip
        for i, p in enumerate(passages[:CLOSEST])
    )


def adjacent(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    """Two (doc_id, start, end) spans that follow each other with only a gap a sentence break leaves."""
    return a[0] == b[0] and (0 <= b[1] - a[2] <= NEIGHBOUR_GAP or 0 <= a[1] - b[2] <= NEIGHBOUR_GAP)


def with_neighbours(
    c: Candidate, quotable: Sequence[Candidate], joined: list[Candidate], ratio: float
) -> tuple[int, int]:
    """The citation's span: the sentence, with each neighbour that scores within `ratio` of it and is not
    quoted already (`joined`, which it adds to)."""
    span = (c.passage.doc_id, c.start, c.end)
    start, end = c.start, c.end
    for n in quotable:
        if any(n is o for o in joined) or n.score < ratio * c.score:
            continue
        if adjacent(span, (n.passage.doc_id, n.start, n.end)):
            start, end = min(start, n.start), max(end, n.end)
            joined.append(n)
    return start, end


def quote_citation(n: int, c: Candidate, start: int, end: int, quote: str) -> Citation:
    p = c.passage
    return Citation(
        n=n, doc_id=p.doc_id, title=p.title, source=p.source, section=p.section, start=start, end=end,
        quote=quote, page=p.page, council=p.council, kind=p.kind,
    )  # fmt: skip
