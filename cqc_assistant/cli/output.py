"""How the commands' results read as text for a person: one function per result, returning its lines.

The --json forms are the results' own `to_json()`; these are the plain-text forms. Pure functions over the
results (no printing, no store), so the commands stay thin and the wording lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..audit import AuditEntry, CorrectionEntry
    from ..corrections import Edit
    from ..index.catalogue import DocRecord, SectionRecord
    from ..models import Answer, Passage
    from ..scorecard import CouncilScorecard


def document_lines(records: Sequence[DocRecord]) -> list[str]:
    """`docs`: each document's id, title and detected facts; a fact a user corrected is starred."""
    if not records:
        return ["The library is empty: add documents with `cqc-assistant ingest PATH`."]
    out = []
    for d in records:
        marked = [(x, name in d.corrected) for name, x in (("council", d.council), ("kind", d.kind),
                  ("date", d.date), ("rating", d.rating)) if x]  # fmt: skip
        facts = " · ".join(x + ("*" if fixed else "") for x, fixed in marked)
        note = "  * corrected by a user" if d.corrected else ""
        out.append(f"{d.doc_id}  {d.title[:70]}\n    {facts}  ({d.n_chunks} chunks){note}")
    return out


def show_lines(doc: DocRecord, sections: Sequence[SectionRecord]) -> list[str]:
    """`show`: a document's facts (with what was detected where a user corrected one), then its sections."""
    out = []
    for key, value in doc.to_json().items():
        if key in ("corrected", "detected"):
            continue
        fixed = [f for f in doc.corrected if f == key or (key == "scores" and f.startswith("score:"))]
        found = "; ".join(f"{f} was {doc.detected[f]!r}" for f in fixed)
        out.append(f"{key:14} {value}" + (f"  (corrected by a user; detected: {found})" if fixed else ""))
    out.append("sections:")
    for s in sections:
        tags = " ".join(f"{k}={v}" for k, v in (("theme", s.theme), ("qs", s.qs), ("score", s.score)) if v)
        out.append(f"  [{s.start}:{s.end}] {s.title[:70]} {tags}")
    return out


def edit_lines(after: DocRecord, change: Edit) -> list[str]:
    """`edit`: what was set and which corrections were dropped."""
    out = [f"corrected {after.doc_id}  {after.title}"]
    out += [f"  {name}: set to {value!r}" for name, value in change.values.items()]
    out += [f"  {name}: correction dropped, back to what was detected" for name in change.clear]
    return out


def passage_lines(passages: Sequence[Passage]) -> list[str]:
    """`search`: each passage with where it is and its score, then its text on one line."""
    if not passages:
        return ["No passages matched."]
    out = []
    for i, p in enumerate(passages, 1):
        # A reranked passage is ordered by its best sentence's probability of answering: show that one.
        score = f"answers {p.answer_score:.2f}" if p.answer_score is not None else f"score {p.score:.4f}"
        out.append(f"[{i}] {p.title[:60]} › {p.section[:50]}  ({p.doc_id} {p.start}-{p.end}, {score})")
        out.append("    " + " ".join(p.text.split())[:400])
    return out


def batch_passage_lines(query: str, passages: Sequence[Passage]) -> list[str]:
    """`search --batch`: the query, then one short line per passage."""
    out = [f"Q: {query}"]
    for i, p in enumerate(passages, 1):
        out.append(f"  [{i}] {p.title[:60]} › {p.section[:50]} ({p.doc_id} {p.start}-{p.end})")
    return out


def answer_lines(result: Answer) -> list[str]:
    """`ask`: the answer, then each citation's document, section and offsets."""
    out = [result.answer]
    for c in result.citations:
        where = f"{c.title[:60]} › {c.section[:50]}"
        out.append(f"  [{c.n}] {where} ({c.doc_id} {c.start}-{c.end})")
    return out


def scorecard_lines(c: CouncilScorecard) -> list[str]:
    """`scorecard`: one council's scores with the passages stating them, the computed rating, the stated
    figures beside it, and the verdict."""
    out = [f"{c.council}: {c.summary}"]
    for e in c.entries:
        shown = e.status if e.score is None else str(e.score)
        out.append(f"  QS{e.qs} {e.name[:44]:44} {shown}" + ("  ! documents disagree:" if e.conflict else ""))
        for s in e.statements:
            if s.corrected:
                out.append(f"      {s.score}  corrected by a user for {s.kind} {s.doc_id} (no passage states it)")
                continue
            if s.citation is None:
                out.append(f"      {s.score}  {s.kind} {s.doc_id} (passage not located)")
                continue
            cite = s.citation
            where = cite.title[:60] + (f" › {cite.section[:40]}" if cite.section != cite.title else "")
            span = f"{cite.doc_id} {cite.start}-{cite.end}"
            out.append(f'      {s.score}  [{cite.n}] {where} ({span}) "{cite.quote[:70]}"')
        out += [f"      not assessed, says {doc_id}" for doc_id in e.not_assessed_in]
        if e.conflict:
            out.append(f"      ! {e.conflict}")
    if c.result is not None:
        r = c.result
        out.append(f"  Computed: {r.total}/{r.maximum} = {r.percent_exact_display:.2f}% → {r.percent}% → {r.rating}")
        if r.boundary_warning:
            out.append(f"  Boundary: {r.boundary_warning}")
    else:
        out.append(f"  Computed: none; {c.not_computed}")
    for f in c.stated:
        figures = ", ".join(x for x in (f.rating, None if f.percent is None else f"{f.percent}%") if x)
        if f.agrees is None:
            verdict = "not checked: nothing computed to compare with"
        else:
            verdict = "agrees with the calculator" if f.agrees else "DISAGREES: " + "; ".join(f.mismatches)
        fixed = f" (corrected by a user: {', '.join(f.corrected)})" if f.corrected else ""
        out.append(f"  Stated: {figures}{fixed} in {f.kind} {f.doc_id} ({f.title[:50]}) — {verdict}")
        for fc in (f.rating_citation, f.percent_citation):
            if fc is not None:
                out.append(f'      [{fc.n}] ({fc.doc_id} {fc.start}-{fc.end}) "{fc.quote[:90]}"')
    out += [f"  ! {warning}" for warning in c.warnings]
    if c.agrees is None:
        out.append(f"  Verdict: no documents disagree; {c.summary}, so nothing was computed to check against")
    else:
        out.append(f"  Verdict: {'consistent' if c.agrees else 'INCONSISTENT: see the lines marked above'}")
    return out


def check_lines(repaired: Iterable[str], problems: Iterable[str], counts: dict[str, Any]) -> list[str]:
    """`check`: what was repaired, each problem, then the verdict with the store's counts."""
    problems = list(problems)
    out = [f"repaired: {line}" for line in repaired] + [f"problem: {problem}" for problem in problems]
    facts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    out.append(f"{'consistent' if not problems else 'INCONSISTENT'}: {facts}")
    return out


def correction_lines(edits: Sequence[CorrectionEntry], since: str | None) -> list[str]:
    """`audit --corrections`: each correction a user made, before and after."""
    if not edits:
        return ["No corrections recorded" + (f" since {since}." if since else " yet.")]
    out = []
    for edit in edits:
        who = f" by {edit.user}" if edit.user else ""
        change = f"{edit.before!r} → {edit.after!r} (detected {edit.detected!r})"
        out.append(f"{edit.at}  #{edit.id} {edit.doc_id} {edit.field} {edit.action}{who}: {change}")
    return out


def audit_lines(entries: Sequence[AuditEntry], since: str | None) -> list[str]:
    """`audit`: each answer given, with its question, filters, answer and what it cited."""
    if not entries:
        return ["No answers recorded" + (f" since {since}." if since else " yet.")]
    out = []
    for e in entries:
        verdict = "refused" if e.refused else "answered"
        who = f" by {e.user}" if e.user else ""
        out.append(f"{e.at}  #{e.id} {verdict}{who} ({e.mode}, library version {e.library_version})")
        out.append(f"  Q: {e.question}")
        if e.filters:
            out.append("  filters: " + ", ".join(f"{k}={v}" for k, v in e.filters.items()))
        out.append(f"  A: {' '.join(e.answer.split())[:300]}")
        if e.citations:
            out.append("  cited: " + "; ".join(f"{c['doc_id']} {c['start']}-{c['end']}" for c in e.citations))
    return out
