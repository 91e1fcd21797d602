"""A model's answer, checked: ask the chat model (at once or streamed), verify every sentence's citation, and
fall back to the extractive answer with a notice when nothing survives or the model fails."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..models import Answer, Citation, Passage
from ..protocols import ChatModel
from .chat_model import brief, describe_model
from .prompt import build_messages
from .reply import parse_reply, strip_thinking, text_of, visible_draft
from .verify import Evidence, verify_sentence

if TYPE_CHECKING:
    from ..filters import Filters

__all__ = ["finish", "llm_answer", "stream_llm_answer"]

log = logging.getLogger(__name__)


def llm_answer(
    chat: ChatModel, question: str, passages: Sequence[Passage], filters: Filters, *, fallback: Answer
) -> Answer:
    """The model's answer with every sentence's citation verified, or `fallback` with a notice."""
    if fallback.refused or not passages:
        return fallback
    try:
        reply = chat.invoke(build_messages(question, passages, filters))
    except Exception as exc:  # connection refused, timeout, auth, rate limit, a bad model name ...
        return _failed(chat, exc, fallback)
    return finish(text_of(reply), question, passages, fallback=fallback)


def stream_llm_answer(
    chat: ChatModel, question: str, passages: Sequence[Passage], filters: Filters, *, fallback: Answer
) -> Iterator[str | Answer]:
    """Text chunks as the model writes them, then the verified `Answer` (always last, always yielded).

    The chunks are the model's unchecked draft, for showing progress; the final Answer replaces them.
    """
    if fallback.refused or not passages:
        yield fallback
        return
    raw, shown = "", ""
    try:
        for chunk in chat.stream(build_messages(question, passages, filters)):
            raw += text_of(chunk)
            visible = visible_draft(raw)
            if len(visible) > len(shown) and visible.startswith(shown):
                yield visible[len(shown) :]
                shown = visible
    except Exception as exc:
        yield _failed(chat, exc, fallback)
        return
    yield finish(raw, question, passages, fallback=fallback)


def finish(raw: str, question: str, passages: Sequence[Passage], *, fallback: Answer) -> Answer:
    """Verify a model reply against the passages it was given (see the module docstring)."""
    text = strip_thinking(raw).strip()
    if re.search(r"\bNOT[_ ]IN[_ ]LIBRARY\b", text, re.I):
        return _with_notice(fallback, "the model declined; showing the extractive answer")
    claims = parse_reply(text)
    if not claims:
        return _with_notice(fallback, "the model returned no answer; showing the extractive answer")
    evidence = [Evidence.of(p) for p in passages]
    kept: list[tuple[str, list[tuple[int, int, int]]]] = []  # (sentence, [(passage index, i, j)])
    dropped: dict[str, int] = {}
    for claim in claims:
        verdict = verify_sentence(claim.text, claim.cites, evidence)
        if verdict.spans:
            kept.append((claim.text, verdict.spans))
        else:
            dropped[verdict.reason] = dropped.get(verdict.reason, 0) + 1
            log.info("dropped model sentence (%s): %s %s", verdict.reason, claim.text, claim.cites)
    if not kept:
        return _with_notice(
            fallback,
            f"the model's answer did not survive citation checks ({_dropped_notice(dropped)}); "
            "showing the extractive answer",
        )
    citations: dict[tuple[str, int, int], Citation] = {}
    parts = []
    for sentence, spans in kept:
        marks = []
        for idx, i, j in spans:
            p = passages[idx]
            key = (p.doc_id, p.start + i, p.start + j)
            if key not in citations:
                citations[key] = Citation(
                    n=len(citations) + 1, doc_id=p.doc_id, title=p.title, source=p.source, section=p.section,
                    start=p.start + i, end=p.start + j, quote=p.text[i:j], page=p.page, council=p.council,
                    kind=p.kind,
                )  # fmt: skip
            mark = f"[{citations[key].n}]"
            if mark not in marks:
                marks.append(mark)
        parts.append(f"{sentence} {''.join(marks)}")
    return Answer(
        question=question, answer=" ".join(parts), refused=False, citations=tuple(citations.values()),
        filters=fallback.filters, searched=fallback.searched, notice=_dropped_notice(dropped), mode="llm",
    )  # fmt: skip


def _failed(chat: ChatModel, exc: BaseException, fallback: Answer) -> Answer:
    name = type(exc).__name__.lower()
    unreachable = isinstance(exc, (ConnectionError, TimeoutError)) or "connect" in name or "timeout" in name
    what = "was unreachable" if unreachable else "failed"
    log.warning("chat model %s: %s", what, brief(exc))
    return _with_notice(
        fallback,
        f"the configured model {describe_model(chat)} {what} ({brief(exc)}); showing the extractive answer",
    )


def _with_notice(answer: Answer, notice: str) -> Answer:
    return replace(answer, notice=f"{answer.notice}; {notice}" if answer.notice else notice)


_REASONS = {  # reason: (one sentence, several sentences)
    "uncited": ("it had no citation", "they had no citation"),
    "out_of_range": ("it cited a passage that was not given", "they cited passages that were not given"),
    "unsupported": ("its citation did not support it", "their citations did not support them"),
    "misattributed": (
        "it credited CQC with an LGA peer challenge finding",
        "they credited CQC with LGA peer challenge findings",
    ),
}


def _dropped_notice(dropped: dict[str, int]) -> str | None:
    """`1 sentence dropped: its citation did not support it`, or one clause per reason."""
    total = sum(dropped.values())
    if not total:
        return None
    head = f"{total} sentence{'s' if total != 1 else ''} dropped"
    if len(dropped) == 1:
        return f"{head}: {_REASONS[next(iter(dropped))][0 if total == 1 else 1]}"
    detail = "; ".join(f"{n} because {_REASONS[r][0 if n == 1 else 1]}" for r, n in dropped.items())
    return f"{head}: {detail}"
