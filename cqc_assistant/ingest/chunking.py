"""Chunk along structure: sections → paragraphs → sentence windows. No chunk crosses a section."""

from __future__ import annotations

from dataclasses import replace

from ..models import Chunk, Extracted, Section
from ..text import paragraphs, sentences

MAX_CHARS = 1200


def chunk_document(ex: Extracted, sections: list[Section], max_chars: int = MAX_CHARS) -> list[Chunk]:
    chunks: list[Chunk] = []
    for si, sec in enumerate(sections):
        # No chunk crosses a page either, so its page number holds for every word of it.
        cuts = [sec.start, *(p for p in ex.pages if sec.start < p < sec.end), sec.end]
        for lo, hi in zip(cuts, cuts[1:], strict=False):
            for start, end in _section_spans(ex.text, replace(sec, start=lo, end=hi), max_chars):
                page = ex.page_at(start)
                chunks.append(Chunk(index=len(chunks), start=start, end=end, section=si, page=page))
    return chunks


def _section_spans(text: str, sec: Section, max_chars: int) -> list[tuple[int, int]]:
    """Merge short paragraphs up to max_chars; split long ones into sentence windows with one sentence overlap."""
    spans: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for ps, pe in paragraphs(text, sec.start, sec.end):
        if pe - ps > max_chars:
            if cur:
                spans.append(cur)
                cur = None
            spans.extend(_windows(text, ps, pe, max_chars))
            continue
        if cur and pe - cur[0] <= max_chars:
            cur = (cur[0], pe)
        else:
            if cur:
                spans.append(cur)
            cur = (ps, pe)
    if cur:
        spans.append(cur)
    return spans


def _windows(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    sents = list(sentences(text, start, end))
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(sents):
        j = i
        while j + 1 < len(sents) and sents[j + 1][1] - sents[i][0] <= max_chars:
            j += 1
        out.append((sents[i][0], sents[j][1]))
        if j + 1 >= len(sents):
            break
        i = j if j > i else j + 1  # one sentence of overlap unless a single sentence fills the window
    return out
