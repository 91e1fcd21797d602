"""Grouped cross-validation over the seeds and dev2 sets: folds by document, one store holding every council.

Everything fitted or chosen (the ranker's weights, the refusal threshold) is fitted on the other folds and scored
on the held-out fold; the figures quoted are the held-out ones, pooled and per fold. Used by `bench/eval.py --cv`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
STORE = ROOT / "bench" / "out" / "cv-store"
SETS = {
    "seeds": (SHARED / "corpus" / "seeds", "qa_dev.jsonl", "unanswerable_dev.jsonl"),
    "dev2": (SHARED / "corpus" / "dev2", "qa_dev2.jsonl", "unanswerable_dev2.jsonl"),
}
FOLDS = 5


def norm(s: str) -> str:
    return " ".join(str(s).split())


@dataclass
class Question:
    id: str
    q: str
    expect: list[str]
    doc: str | None  # the question's document file name (None: unanswerable)
    group: str = ""
    fold: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def answerable(self) -> bool:
        return self.doc is not None


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def questions(salt: int = 0) -> list[Question]:
    """Both sets' questions, each in a group: its document (answerable) or the document of the council it names
    (unanswerable; a council no document is about gets a group of its own). `salt` > 0 deals the groups into
    the folds in another order (`--repeats`)."""
    from cqc_assistant.councils import council_key, find_councils

    out: list[Question] = []
    doc_council: dict[str, str] = {}
    set_councils: dict[str, set[str]] = {}
    for name, (corpus, qa, un) in SETS.items():
        files = sorted(p.name for p in corpus.iterdir() if p.is_file())
        for r in _load(SHARED / "eval" / qa):
            doc = next(f for f in files if f.startswith(r["doc"]))
            out.append(Question(r["id"], r["q"], r["expect"], doc, group=f"{name}:{doc}"))
            for c, _, _ in find_councils(r["q"]):
                doc_council.setdefault(council_key(c), f"{name}:{doc}")
                set_councils.setdefault(name, set()).add(council_key(c))
        for r in _load(SHARED / "eval" / un):
            out.append(Question(r["id"], r["q"], [], None, group=name))
    kept = []
    for qn in out:
        if qn.doc is None:
            named = [council_key(c) for c, _, _ in find_councils(qn.q)]
            if _premise_lost(qn.group, set(named), set_councils):
                continue
            qn.group = next((doc_council[k] for k in named if k in doc_council), f"{qn.group}:{named[:1] or qn.id}")
        kept.append(qn)
    out = kept
    prefix = f"{salt}:" if salt else ""
    groups = sorted({qn.group for qn in out}, key=lambda g: hashlib.sha1((prefix + g).encode()).hexdigest())
    fold_of = {g: i % FOLDS for i, g in enumerate(groups)}
    for qn in out:
        qn.fold = fold_of[qn.group]
    return out


def _premise_lost(own: str, named: set[str], set_councils: dict[str, set[str]]) -> bool:
    """An unanswerable question of set `own` naming councils (`named`) only the other set is about was written
    as "a council not in the set": the one store holds that council, so its label no longer holds there
    (check.py asks it of its own set's store). Left out."""
    others = set().union(*(v for k, v in set_councils.items() if k != own))
    return bool(named) and not named & set_councils.get(own, set()) and bool(named & others)


def open_store(embedder_name: str = "minilm") -> Any:
    """The one evaluation store (seeds + dev2), built once and reused."""
    from cqc_assistant.config import Settings
    from cqc_assistant.embedding import make_embedder
    from cqc_assistant.ingest.pipeline import ingest
    from cqc_assistant.library import Library

    fresh = not (STORE / "catalogue.sqlite3").exists()
    lib = Library.open(Settings.from_env(store=str(STORE)), make_embedder(embedder_name))
    if fresh or not lib.count_chunks():
        t = time.perf_counter()
        ingest(lib, [str(c) for c, _, _ in SETS.values()])
        print(f"# ingested the CV store in {time.perf_counter() - t:.0f} s", flush=True)
    return lib


def doc_ids(lib: Any) -> dict[str, str]:
    """file name -> doc_id."""
    return {Path(d.source).name: d.doc_id for d in lib.documents()}


def first_hit(passages: list[tuple[str, str]], qn: Question, ids: dict[str, str]) -> int | None:
    """Rank (1-based) of the first (doc_id, text) from the question's document holding an expected string."""
    want = ids.get(qn.doc or "")
    for i, (doc_id, text) in enumerate(passages):
        if doc_id == want and any(norm(e) in norm(text) for e in qn.expect):
            return i + 1
    return None


def retrieval(ranks: list[int | None]) -> dict[str, float]:
    n = max(len(ranks), 1)
    return {
        "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 3),
        "mrr@5": round(sum(1 / r for r in ranks if r and r <= 5) / n, 3),
    }


def answers(rows: list[tuple[Question, bool, bool]]) -> dict[str, float]:
    """rows: (question, refused, hit) -> cited-hit, refusal, false refusal."""
    qa = [r for r in rows if r[0].answerable]
    un = [r for r in rows if not r[0].answerable]
    return {
        "cited_hit": round(sum(h for _, _, h in qa) / max(len(qa), 1), 3),
        "refusal": round(sum(ref for _, ref, _ in un) / max(len(un), 1), 3),
        "false_refusal": round(sum(ref for _, ref, _ in qa) / max(len(qa), 1), 3),
        "n_qa": len(qa),
        "n_un": len(un),
    }


def baseline_ranks(qs: list[Question], embedder: Any) -> list[int | None]:
    """The textbook pipeline: RecursiveCharacterTextSplitter 1000/200, MiniLM, Chroma similarity, every file."""
    import chromadb
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks: list[tuple[str, str]] = []
    for corpus, _, _ in SETS.values():
        for f in sorted(p for p in corpus.iterdir() if p.is_file()):
            chunks += [(f.name, c) for c in splitter.split_text(f.read_text(encoding="utf-8"))]
    col = chromadb.EphemeralClient().get_or_create_collection("baseline", embedding_function=None)
    vecs = embedder.embed([c for _, c in chunks])
    for i in range(0, len(chunks), 2000):
        col.add(
            ids=[str(j) for j in range(i, min(i + 2000, len(chunks)))],
            embeddings=vecs[i : i + 2000].tolist(),
            documents=[c for _, c in chunks[i : i + 2000]],
            metadatas=[{"file": f} for f, _ in chunks[i : i + 2000]],
        )
    ids = {f: f for f, _ in chunks}
    out: list[int | None] = []
    asked = [qn for qn in qs if qn.answerable]
    qv = embedder.embed([qn.q for qn in asked])
    for qn, v in zip(asked, qv, strict=True):
        res = col.query(query_embeddings=[v.tolist()], n_results=5)
        metas = res["metadatas"][0] if res["metadatas"] else []
        out.append(first_hit([(str(m["file"]), d) for m, d in zip(metas, res["documents"][0], strict=True)], qn, ids))
    return out


def table(title: str, per_fold: list[dict[str, float]], pooled: dict[str, float]) -> str:
    keys = [k for k in pooled if not k.startswith("n_")]
    lines = [f"{title}", "fold  " + "  ".join(f"{k:>13}" for k in keys)]
    for i, row in enumerate(per_fold):
        lines.append(f"{i:>4}  " + "  ".join(f"{row.get(k, float('nan')):>13.3f}" for k in keys))
    lines.append("pool  " + "  ".join(f"{pooled[k]:>13.3f}" for k in keys))
    return "\n".join(lines)


def by_fold(qs: list[Question], values: list[Any]) -> list[list[Any]]:
    return [[v for qn, v in zip(qs, values, strict=True) if qn.fold == f] for f in range(FOLDS)]


def answer_rows(lib: Any, qs: list[Question], answers_: list[Any]) -> list[tuple[Question, bool, bool]]:
    """(question, refused, hit): a hit is an exact citation from the question's document holding an expect string."""
    ids = doc_ids(lib)
    texts = lib.texts(d.doc_id for d in lib.documents())
    rows = []
    for qn, a in zip(qs, answers_, strict=True):
        hit = False
        for c in a.citations:
            exact = texts[c.doc_id][c.start : c.end] == c.quote
            assert exact, f"inexact citation for {qn.id}"
            hit |= c.doc_id == ids.get(qn.doc or "") and any(norm(e) in norm(c.quote) for e in qn.expect)
        rows.append((qn, a.refused, hit))
    return rows


def report(
    qs: list[Question],
    rows: list[tuple[Question, bool, bool]],
    ranks: list[int | None],
    base: list[int | None] | None,
) -> None:
    """Per-fold and pooled figures for answers, our retrieval and the textbook baseline's (`base`: None when
    it was not run)."""
    asked = [qn for qn in qs if qn.answerable]  # ranks and base are over these
    per = [answers(r) | retrieval(k) for r, k in zip(by_fold(qs, rows), by_fold(asked, ranks), strict=True)]
    pooled = answers(rows) | retrieval(ranks)
    print(table("held-out answers and retrieval (recall/MRR over answerable questions)", per, pooled))
    if base is None:
        print(json.dumps({"pooled": pooled}))
        return
    bper = [retrieval(k) for k in by_fold(asked, base)]
    print(table("textbook baseline retrieval (1000/200 + MiniLM + Chroma)", bper, retrieval(base)))
    print(json.dumps({"pooled": pooled, "baseline": retrieval(base)}))
