"""Settings, read once from the environment at the edges and passed down as arguments."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .embedding import EMBEDDERS
from .errors import ConfigError

DEFAULT_HOME = Path("~/.local/share/cqc-assistant")
DEFAULT_MODEL_CACHE = Path("~/.cache/cqc-assistant")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


def _model_cache(env: Mapping[str, str]) -> Path:
    if env.get("CQC_ASSISTANT_MODEL_CACHE"):
        return Path(env["CQC_ASSISTANT_MODEL_CACHE"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "cqc-assistant"
    return DEFAULT_MODEL_CACHE.expanduser()


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything configurable. `home` holds the catalogue, lexical index and (embedded) Chroma."""

    home: Path
    chroma_url: str | None = None
    max_file_bytes: int = 50 * 1024 * 1024
    max_url_bytes: int = 20 * 1024 * 1024
    url_timeout_s: float = 20.0
    max_redirects: int = 5
    block_private_urls: bool = False
    llm_provider: str | None = None  # "openai" (any OpenAI-compatible endpoint) or "ollama"
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    embedder: str = "minilm"  # the bundled model; "minilm-int8" quantised; "hash" deterministic, for tests
    audit_retention_days: int = 365
    model_cache: Path = DEFAULT_MODEL_CACHE  # the embedding model's ONNX export (made once, reused by every store)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, store: str | Path | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(store or env.get("CQC_ASSISTANT_HOME") or DEFAULT_HOME).expanduser()
        provider = (env.get("CQC_ASSISTANT_LLM_PROVIDER") or "").strip().lower() or None
        if provider not in (None, "openai", "ollama"):
            raise ConfigError(f"CQC_ASSISTANT_LLM_PROVIDER must be 'openai' or 'ollama', got {provider!r}")
        embedder = (env.get("CQC_ASSISTANT_EMBEDDER") or "minilm").strip().lower()
        if embedder not in EMBEDDERS:
            names = ", ".join(repr(k) for k in EMBEDDERS)
            raise ConfigError(f"CQC_ASSISTANT_EMBEDDER must be one of {names}, got {embedder!r}")
        return cls(
            home=home,
            chroma_url=env.get("CQC_ASSISTANT_CHROMA_URL") or None,
            max_file_bytes=_int(env, "CQC_ASSISTANT_MAX_FILE_MB", 50) * 1024 * 1024,
            max_url_bytes=_int(env, "CQC_ASSISTANT_MAX_URL_MB", 20) * 1024 * 1024,
            block_private_urls=env.get("CQC_ASSISTANT_BLOCK_PRIVATE_URLS", "").lower() in ("1", "true", "yes"),
            llm_provider=provider,
            llm_model=env.get("CQC_ASSISTANT_LLM_MODEL") or None,
            llm_base_url=env.get("CQC_ASSISTANT_LLM_BASE_URL") or None,
            llm_api_key=env.get("CQC_ASSISTANT_LLM_API_KEY") or env.get("OPENAI_API_KEY") or None,
            embedder=embedder,
            audit_retention_days=_int(env, "CQC_ASSISTANT_AUDIT_RETENTION_DAYS", 365),
            model_cache=_model_cache(env),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
