"""The two seams to models from outside: an Embedder turns texts into vectors, a ChatModel answers a list of
messages (LangChain's BaseChatModel, e.g. ChatOpenAI or ChatOllama, satisfies it as it is)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

Vector = NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> Vector:
        """Return one L2-normalised row per text."""
        ...


@runtime_checkable
class ChatModel(Protocol):
    """What the LLM path calls: one reply to the messages, or the reply as it streams in."""

    def invoke(self, messages: list[BaseMessage], /) -> BaseMessage: ...

    def stream(self, messages: list[BaseMessage], /) -> Iterator[BaseMessage]: ...
