"""The configured chat model: built from Settings (OpenAI or any OpenAI-compatible server, or Ollama) through
LangChain, or None with a notice when it is not set up; nothing is sent until a question is asked."""

from __future__ import annotations

import re
from typing import Any

from ..config import Settings
from ..protocols import ChatModel

__all__ = ["LLM_TIMEOUT_S", "brief", "chat_model_from_settings", "describe_model"]

LLM_TIMEOUT_S = 60.0


def chat_model_from_settings(settings: Settings) -> tuple[ChatModel | None, str | None]:
    """(chat model or None, notice for the user). No provider configured → extractive, no notice.

    Builds the client only; nothing is sent until a question is asked.
    """
    provider, model = settings.llm_provider, settings.llm_model
    if provider is None:
        if model:
            return None, (
                "CQC_ASSISTANT_LLM_MODEL is set but CQC_ASSISTANT_LLM_PROVIDER is not "
                "('openai' or 'ollama'); answers are extractive"
            )
        return None, None
    if not model:
        return None, (
            f"CQC_ASSISTANT_LLM_PROVIDER is {provider} but CQC_ASSISTANT_LLM_MODEL is not set; answers are extractive"
        )
    try:
        if provider == "openai":
            return _openai(settings, model)
        if provider == "ollama":
            from langchain_ollama import ChatOllama

            chat = ChatOllama(
                model=model, base_url=settings.llm_base_url, temperature=0,
                client_kwargs={"timeout": LLM_TIMEOUT_S},
            )  # fmt: skip
            return chat, None
    except ImportError as exc:
        return None, f"the {provider} chat model is not installed ({exc.name or exc}); answers are extractive"
    except Exception as exc:  # a bad URL or option: tell the user and carry on extractively
        return None, f"could not set up the {provider} chat model ({brief(exc)}); answers are extractive"
    return None, f"unknown LLM provider {provider!r} ('openai' or 'ollama'); answers are extractive"


def _openai(settings: Settings, model: str) -> tuple[ChatModel | None, str | None]:
    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key
    if not key:
        if not settings.llm_base_url:
            return None, (
                "the openai provider needs CQC_ASSISTANT_LLM_API_KEY (or OPENAI_API_KEY), or "
                "CQC_ASSISTANT_LLM_BASE_URL for a local OpenAI-compatible server; answers are extractive"
            )
        key = "not-needed"  # local OpenAI-compatible servers ignore the key, but the client wants one
    kwargs: dict[str, Any] = {
        "model": model, "base_url": settings.llm_base_url, "api_key": key, "timeout": LLM_TIMEOUT_S,
        "max_retries": 1,
    }  # fmt: skip
    if not re.match(r"o\d", model):  # o-series reasoning models accept only their default temperature
        kwargs["temperature"] = 0
    return ChatOpenAI(**kwargs), None


def describe_model(chat: ChatModel) -> str:
    """`llama3.1 at http://localhost:11434`, for notices."""
    model = getattr(chat, "model_name", None) or getattr(chat, "model", None)
    url = getattr(chat, "openai_api_base", None) or getattr(chat, "base_url", None)
    name = type(chat).__name__
    if not url and name == "ChatOpenAI":
        url = "https://api.openai.com/v1"
    elif not url and name == "ChatOllama":
        url = "http://localhost:11434"
    model = model if isinstance(model, str) else name
    return f"{model} at {url}" if isinstance(url, str) and url else model


def brief(exc: BaseException) -> str:
    """The error's type and first line, with anything like an API key masked."""
    msg = re.sub(r"sk-[A-Za-z0-9_\-]{6,}", "sk-…", str(exc)).strip().splitlines()
    first = msg[0][:160] if msg else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
