"""HTML for the app, built only from escaped text.

Every piece of document-derived text goes through `esc`, which HTML-escapes it and also turns the characters
Markdown or LaTeX would act on into entities, so the result can be handed to `st.markdown(...,
unsafe_allow_html=True)` without any document text becoming markup. Pure functions, no Streamlit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..models import Answer, Citation

CONTEXT_CHARS = 360  # at most this much text each side of a quote in the side panel

# HTML's special characters, and those Markdown (or Streamlit's LaTeX and emoji shortcodes) would act on,
# as entities, in one pass so that no entity is escaped twice.
_ENTITIES = str.maketrans(
    {
        "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "\\": "&#92;", "`": "&#96;",
        "*": "&#42;", "_": "&#95;", "~": "&#126;", "$": "&#36;", "[": "&#91;", "]": "&#93;", "#": "&#35;",
        "|": "&#124;", ":": "&#58;", "\n": " ", "\r": " ", "\t": " ",
    }
)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

FILTER_LABELS = {
    "council": "Council",
    "kind": "Kind",
    "theme": "Theme",
    "qs": "QS",
    "since": "Since",
    "until": "Until",
    "include_demo": "Demo documents included",
}
KIND_LABELS = {
    "cqc_assessment": "CQC assessment",
    "cqc_press_release": "CQC press release",
    "lga_peer_challenge": "LGA peer challenge",
    "news": "News",
    "other": "Other",
}

CSS = """
<style>
[data-testid="stColumn"]:has(.st-key-side-panel) {position: sticky; top: 3.75rem; align-self: flex-start;
  max-height: calc(100vh - 10.5rem); overflow-y: auto;}
.cqc-card {border: 1px solid rgba(49,51,63,0.14); border-radius: 0.6rem; padding: 0.75rem 0.9rem;
  margin: 0 0 0.8rem 0; background: rgba(250,250,252,0.9);}
.cqc-card-head {font-weight: 600; line-height: 1.35; margin-bottom: 0.15rem;}
.cqc-n {display: inline-block; min-width: 1.6em; padding: 0 0.35em; margin-right: 0.35em;
  border-radius: 0.5em; background: #1f4e9a; color: #fff; font-size: 0.78em; font-weight: 600;
  text-align: center;}
.cqc-meta {color: #5b5f6b; font-size: 0.82rem; margin-bottom: 0.45rem;}
.cqc-passage {font-size: 0.92rem; line-height: 1.5; color: #30333c;}
.cqc-passage mark {background: #ffe98a; padding: 0.05em 0.15em; border-radius: 0.2em; color: #111;}
.cqc-source {font-size: 0.78rem; color: #5b5f6b; margin-top: 0.45rem; word-break: break-all;}
.cqc-answer {font-size: 1rem; line-height: 1.55;}
.cqc-ref {display: inline-block; padding: 0 0.35em; margin: 0 0.1em; border-radius: 0.45em;
  background: #e4ecfa; color: #1f4e9a; font-size: 0.78em; font-weight: 600; vertical-align: 0.1em;}
.cqc-chips {margin-top: 0.35rem;}
.cqc-chip {display: inline-block; padding: 0.05rem 0.5rem; margin: 0 0.3rem 0.25rem 0; border-radius: 1rem;
  background: #eef0f4; color: #3b3f4a; font-size: 0.76rem;}
.cqc-refused {border-left: 3px solid #d08a00; padding-left: 0.6rem;}
.cqc-cites {margin: 0.35rem 0 0 0; padding-left: 0; list-style: none; font-size: 0.82rem; color: #4a4e59;}
.cqc-cites li {margin: 0.1rem 0;}
.cqc-lines {margin: 0.2rem 0 0.6rem 0; padding-left: 1.2rem;}
.cqc-lines li {margin: 0.25rem 0; line-height: 1.45;}
.cqc-based {display: block; color: #5b5f6b; font-size: 0.8rem; font-style: italic;}
.cqc-question {white-space: pre-wrap; overflow-wrap: anywhere;}
.cqc-closest {border-left: 3px solid #c8ccd6; padding: 0.2rem 0 0.2rem 0.6rem; margin: 0.4rem 0;}
.cqc-doc {max-height: 65vh; overflow-y: auto; white-space: pre-wrap; font-size: 0.9rem; line-height: 1.5;
  border: 1px solid rgba(49,51,63,0.14); border-radius: 0.5rem; padding: 0.8rem 1rem;}
.cqc-doc mark {background: #ffe98a; padding: 0.05em 0.15em; border-radius: 0.2em; color: #111;}
.cqc-score {display: inline-block; padding: 0.1rem 0.6rem; border-radius: 1rem; background: #e6f3ea;
  color: #1d5c34; font-weight: 600; font-size: 0.85rem;}
</style>
"""


def esc(text: object) -> str:
    """Document text as inert HTML that Markdown will not reinterpret."""
    raw = _CONTROL.sub("", str(text))
    return raw.translate(_ENTITIES)


def safe_href(url: str) -> str | None:
    """An http(s) URL, escaped for an attribute; None for anything else (paths, javascript:, data:)."""
    u = (url or "").strip()
    if not re.match(r"https?://[^\s<>\"']+$", u, re.I):
        return None
    return esc(u)


def context_span(text: str, start: int, end: int, max_chars: int = CONTEXT_CHARS) -> tuple[int, int]:
    """The paragraph (line) around text[start:end], cut to at most max_chars each side of it."""
    ps = text.rfind("\n", 0, start) + 1
    pe = text.find("\n", end)
    pe = len(text) if pe == -1 else pe
    ps = max(ps, start - max_chars)
    pe = min(pe, end + max_chars)
    return ps, pe


def passage_html(text: str, start: int, end: int, max_chars: int = CONTEXT_CHARS) -> str:
    """The quote text[start:end] marked inside its surrounding paragraph, all escaped."""
    ps, pe = context_span(text, start, end, max_chars)
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    lead = text[ps:start]
    if ps == line_start and re.fullmatch(r"\s*#{1,6}\s*", lead):
        lead = ""  # a Markdown heading marker in the stored text: not worth showing
    before = ("… " if ps > line_start else "") + esc(lead)
    after = esc(text[end:pe]) + (" …" if pe < line_end else "")
    return f'<div class="cqc-passage">{before}<mark>{esc(text[start:end])}</mark>{after}</div>'


def where_text(c: Citation) -> str:
    parts = []
    if c.council:
        parts.append(c.council)
    if c.kind:
        parts.append(KIND_LABELS.get(c.kind, c.kind))
    if c.section and c.section != c.title:
        parts.append(c.section)
    if c.page is not None:
        parts.append(f"page {c.page}")
    parts.append(f"characters {c.start}–{c.end}")
    return " · ".join(parts)


def citation_card_html(c: Citation, text: str | None) -> str:
    """One cited passage for the side panel: title, council, section, page, offsets, quote in context."""
    body = (
        passage_html(text, c.start, c.end)
        if text is not None and text[c.start : c.end] == c.quote
        else f'<div class="cqc-passage"><mark>{esc(c.quote)}</mark></div>'
    )
    href = safe_href(c.source)
    source = (
        f'<a href="{href}" target="_blank" rel="noopener noreferrer">{esc(c.source)}</a>' if href else esc(c.source)
    )
    return (
        f'<div class="cqc-card" data-n="{int(c.n)}">'
        f'<div class="cqc-card-head"><span class="cqc-n">{int(c.n)}</span>{esc(c.title)}</div>'
        f'<div class="cqc-meta">{esc(where_text(c))}</div>'
        f"{body}"
        f'<div class="cqc-source">Source: {source} · document {esc(c.doc_id)}</div>'
        "</div>"
    )


def chips_html(filters: Mapping[str, Any]) -> str:
    if not filters:
        return '<div class="cqc-chips"><span class="cqc-chip">No filters</span></div>'
    chips = "".join(
        f'<span class="cqc-chip">{esc(FILTER_LABELS.get(k, k))}'
        + (f": {esc(KIND_LABELS.get(str(v), v))}" if v is not True else "")
        + "</span>"
        for k, v in filters.items()
    )
    return f'<div class="cqc-chips">{chips}</div>'


_REF = re.compile(r"\[(\d{1,3})\]")


def answer_html(answer: Answer) -> str:
    """The answer text with its [n] markers as badges, the active filters, and the list of citations."""
    text = esc(answer.answer)
    text = re.sub(r"&#91;(\d{1,3})&#93;", r'<span class="cqc-ref">\1</span>', text)
    klass = "cqc-answer cqc-refused" if answer.refused else "cqc-answer"
    cites = "".join(
        f'<li><span class="cqc-ref">{int(c.n)}</span> {esc(c.title)}'
        + (f" › {esc(c.section)}" if c.section and c.section != c.title else "")
        + (f" · page {int(c.page)}" if c.page is not None else "")
        + "</li>"
        for c in answer.citations
    )
    cites_html = f'<ul class="cqc-cites">{cites}</ul>' if cites else ""
    notice = f'<div class="cqc-meta">{esc(answer.notice)}</div>' if answer.notice else ""
    return f'<div class="{klass}">{text}</div>{notice}{chips_html(answer.filters)}{cites_html}'


def line_html(text: str, c: Citation, *, extractive: bool) -> str:
    """A briefing line with its citation number and where it comes from."""
    based = "" if extractive else f'<span class="cqc-based">Based on: “{esc(c.quote)}”</span>'
    src = esc(c.title) + (f" › {esc(c.section)}" if c.section and c.section != c.title else "")
    return (
        f'<li>{esc(text)} <span class="cqc-ref" title="{src}">{int(c.n)}</span>'
        f'<span class="cqc-meta"> {src}</span>{based}</li>'
    )


def question_html(question: str) -> str:
    return f'<div class="cqc-question">{esc_lines(question)}</div>'


def esc_lines(text: str) -> str:
    """Like `esc`, keeping line breaks (shown by `white-space: pre-wrap`)."""
    return "&#10;".join(esc(line) for line in text.split("\n"))


def plain_text(answer: Answer) -> str:
    """The answer as plain text with its citations under it: what the Copy button copies."""
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
    for c in answer.citations:
        where = " › ".join(x for x in (c.title, c.section if c.section != c.title else "") if x)
        page = f", page {c.page}" if c.page is not None else ""
        lines.append(f"[{c.n}] {where}{page}, characters {c.start}–{c.end}. {c.source}")
        lines.append(f"    “{' '.join(c.quote.split())}”")
    return "\n".join(lines)


def closest_html(c: Mapping[str, Any]) -> str:
    """One of a refusal's closest passages: where it is and its words (it does not answer the question)."""
    where = esc(c.get("title", "")) + (
        f" › {esc(c['section'])}" if c.get("section") and c.get("section") != c.get("title") else ""
    )
    return (
        f'<div class="cqc-closest"><div class="cqc-meta">{where}</div>'
        f'<div class="cqc-passage">{esc(c.get("quote", ""))}</div></div>'
    )


def document_html(text: str, start: int, end: int) -> str:
    """A whole stored text, escaped, line breaks kept, with text[start:end] marked (id `cqc-target`)."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    return (
        f'<div class="cqc-doc" id="cqc-doc">{esc_lines(text[:start])}'
        f'<mark id="cqc-target">{esc_lines(text[start:end])}</mark>{esc_lines(text[end:])}</div>'
    )


# Our own script, no document text in it: scroll the marked passage into the middle of its box.
SCROLL_TO_TARGET = """<script>
(function () {
  let tries = 0;
  const timer = setInterval(function () {
    const mark = window.parent.document.getElementById("cqc-target") || document.getElementById("cqc-target");
    if (mark || ++tries > 50) {
      clearInterval(timer);
      if (mark) mark.scrollIntoView({block: "center"});
    }
  }, 100);
})();
</script>"""
