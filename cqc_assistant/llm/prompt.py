"""The answer prompt: the question and the retrieved passages, each fenced as data between
`<<<PASSAGE n>>>` and `<<<END PASSAGE n>>>` with any fence-like text inside neutralised, and headed by where
it comes from. The texts are package data in `cqc_assistant/prompts/`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from ..models import Passage
from ..prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import ChatPromptTemplate

    from ..filters import Filters

__all__ = ["REFUSAL_TOKEN", "answer_prompt", "build_messages", "fence", "kind_labels", "neutralise"]

REFUSAL_TOKEN = "NOT_IN_LIBRARY"


@cache
def kind_labels() -> dict[str, str]:
    """How the prompt names each kind of document (`prompts/source_types.txt`, one `kind: label` a line)."""
    pairs = (line.partition(":") for line in load_prompt("source_types").splitlines() if line.strip())
    return {kind.strip(): label.strip() for kind, _, label in pairs}


_FENCE_RUN = re.compile(r"<{2,}|>{2,}|‹{2,}|›{2,}")


def neutralise(text: str) -> str:
    """Make fence markers impossible inside data: runs of 2+ angle brackets become single guillemets."""
    return _FENCE_RUN.sub(lambda m: ("‹ " if m.group()[0] in "<‹" else "› ") * len(m.group()), text)


def fence(n: int, passage: Passage) -> str:
    """One passage as data between `<<<PASSAGE n>>>` and `<<<END PASSAGE n>>>`, headed by where it is from."""
    labels = kind_labels()
    head = [
        f"Document: {passage.title}",
        f"Source type: {labels.get(passage.kind or 'other', labels['other'])}",
    ]
    if passage.council:
        head.append(f"Council: {passage.council}")
    if passage.section:
        head.append(f"Section: {passage.section}")
    if passage.date:
        head.append(f"Date: {passage.date}")
    body = "\n".join(head) + "\nText:\n" + passage.text.strip()
    return f"<<<PASSAGE {n}>>>\n{neutralise(body)}\n<<<END PASSAGE {n}>>>"


@cache
def answer_prompt() -> ChatPromptTemplate:
    """The system and user templates, built once (LangChain is imported only when a model answers)."""
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages(
        [("system", load_prompt("answer_system")), ("human", load_prompt("answer_user"))]
    )


def build_messages(question: str, passages: Sequence[Passage], filters: Filters) -> list[BaseMessage]:
    """The messages for one question: its passages numbered from 1, as the model must cite them."""
    return answer_prompt().format_messages(
        question=neutralise(question),
        filters=filters.describe(),
        count=len(passages),
        passages="\n\n".join(fence(i + 1, p) for i, p in enumerate(passages)),
        refusal=REFUSAL_TOKEN,
    )
