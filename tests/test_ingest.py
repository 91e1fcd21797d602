"""Ingest into a real SQLite catalogue and embedded Chroma: incremental, idempotent, atomic, removable."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from cqc_assistant.embedding import HashEmbedder, Vector
from cqc_assistant.errors import NotFoundError, StoreError
from cqc_assistant.ingest.chunking import chunk_document
from cqc_assistant.ingest.detect import detect
from cqc_assistant.ingest.loaders import load_bytes
from cqc_assistant.ingest.pipeline import IngestReport, doc_id_for, ingest, ingest_bytes
from cqc_assistant.library import Library


class CountingEmbedder(HashEmbedder):
    """The hash embedder, recording every text it is asked to embed; raises on texts containing `fail_on`."""

    def __init__(self, fail_on: str | None = None) -> None:
        super().__init__()
        self.calls: list[list[str]] = []
        self.fail_on = fail_on

    @property
    def texts(self) -> list[str]:
        return [t for call in self.calls for t in call]

    def embed(self, texts: list[str]) -> Vector:
        self.calls.append(list(texts))
        if self.fail_on is not None and any(self.fail_on in t for t in texts):
            raise RuntimeError("model exploded")
        return super().embed(texts)


@pytest.fixture
def counting(library: Library) -> CountingEmbedder:
    embedder = CountingEmbedder()
    library.embedder = embedder
    return embedder


@pytest.fixture
def docs(tmp_path: Path, demo_dir: Path) -> Path:
    """A private copy of the demo folder that tests may edit."""
    target = tmp_path / "docs"
    shutil.copytree(demo_dir, target)
    return target


def statuses(report: IngestReport) -> dict[str, str]:
    return {Path(r.source).name: r.status for r in report.results}


def row_counts(library: Library) -> dict[str, int]:
    db = library.catalogue.db
    return {
        t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("documents", "sections", "chunks", "chunks_fts")
    }


def assert_gone(library: Library, doc_id: str, rowids: list[int]) -> None:
    db = library.catalogue.db
    for table in ("documents", "sections", "chunks"):
        assert db.execute(f"SELECT count(*) FROM {table} WHERE doc_id = ?", (doc_id,)).fetchone()[0] == 0, table
    marks = ",".join("?" * len(rowids))
    assert db.execute(f"SELECT count(*) FROM chunks_fts WHERE rowid IN ({marks})", rowids).fetchone()[0] == 0
    assert library.vectors.collection.get(where={"doc_id": doc_id})["ids"] == []


def chunk_rowids(library: Library, doc_id: str) -> list[int]:
    rows = library.catalogue.db.execute("SELECT rowid FROM chunks WHERE doc_id = ?", (doc_id,)).fetchall()
    return [int(r[0]) for r in rows]


def assert_consistent(library: Library) -> None:
    """Every active chunk has exactly one FTS row and one vector; nothing else is stored."""
    db = library.catalogue.db
    assert db.execute("SELECT count(*) FROM documents WHERE status != 'active'").fetchone()[0] == 0
    counts = row_counts(library)
    assert counts["chunks"] == counts["chunks_fts"] == library.vectors.count() == library.catalogue.count_chunks()
    chunk_ids = {r[0] for r in db.execute("SELECT chunk_id FROM chunks")}
    assert set(library.vectors.collection.get()["ids"]) == chunk_ids
    sources = [r[0] for r in db.execute("SELECT source FROM documents")]
    assert len(sources) == len(set(sources)), "a source is stored twice"


# --- incremental and idempotent ------------------------------------------------------------------------


def test_second_ingest_is_unchanged_and_embeds_nothing(
    library: Library, counting: CountingEmbedder, docs: Path
) -> None:
    first = ingest(library, [str(docs)])
    assert statuses(first) == {
        "wyvernshire-cqc-assessment.md": "added",
        "wyvernshire-cqc-press-release.html": "added",
        "wyvernshire-lga-peer-challenge.md": "added",
        "wyvernshire-news.txt": "added",
    }
    assert first.failed == 0
    assert len(counting.calls) == 1, "the four documents' chunks are embedded together"
    assert len(counting.texts) == library.catalogue.count_chunks()
    assert len(library.documents()) == 4
    assert_consistent(library)
    counts, version = row_counts(library), library.version()

    counting.calls.clear()
    second = ingest(library, [str(docs)])
    assert set(statuses(second).values()) == {"unchanged"}
    assert [r.doc_id for r in second.results] == [r.doc_id for r in first.results]
    assert counting.calls == []
    assert row_counts(library) == counts
    assert library.version() == version


def test_stored_text_is_the_file_with_normalised_newlines(library: Library, tmp_path: Path) -> None:
    raw = "Westshire news\r\n\r\nWestshire County Council\u2019s adult social care was rated good.\r\nEnd\r"
    path = tmp_path / "crlf.txt"
    path.write_bytes(raw.encode("utf-8"))
    (result,) = ingest(library, [str(path)]).results
    assert result.status == "added"
    expected = raw.replace("\r\n", "\n").replace("\r", "\n")
    assert result.doc_id == doc_id_for(expected)
    assert library.text(result.doc_id) == expected
    assert library.document(result.doc_id).source == str(path.resolve())


def test_demo_texts_are_stored_unchanged(library: Library, docs: Path) -> None:
    report = ingest(library, [str(docs)])
    for r in report.results:
        path = Path(r.source)
        if path.suffix in (".md", ".txt"):
            assert r.doc_id is not None
            assert library.text(r.doc_id) == path.read_bytes().decode("utf-8").replace("\r\n", "\n")


def test_edited_file_replaces_its_old_version(library: Library, counting: CountingEmbedder, docs: Path) -> None:
    first = {Path(r.source).name: r for r in ingest(library, [str(docs)]).results}
    old = first["wyvernshire-news.txt"]
    assert old.doc_id is not None
    old_rowids = chunk_rowids(library, old.doc_id)
    assert old_rowids

    news = docs / "wyvernshire-news.txt"
    news.write_text(news.read_text(encoding="utf-8") + "\nA late paragraph about respite beds in Harrowmere.\n")
    counting.calls.clear()
    second = ingest(library, [str(docs)])

    assert statuses(second) == {
        "wyvernshire-cqc-assessment.md": "unchanged",
        "wyvernshire-cqc-press-release.html": "unchanged",
        "wyvernshire-lga-peer-challenge.md": "unchanged",
        "wyvernshire-news.txt": "updated",
    }
    (new,) = [r for r in second.results if r.status == "updated"]
    assert new.doc_id is not None and new.doc_id != old.doc_id
    assert len(counting.calls) == 1, "only the edited document is embedded"
    assert any("respite beds in Harrowmere" in t for t in counting.texts)

    assert_gone(library, old.doc_id, old_rowids)
    with pytest.raises(NotFoundError):
        library.document(old.doc_id)
    assert library.document(new.doc_id).source == str(news.resolve())
    assert len(library.vectors.collection.get(where={"doc_id": new.doc_id})["ids"]) == new.chunks
    assert len(library.documents()) == 4
    assert_consistent(library)


def test_changed_upload_replaces_by_source_name(library: Library) -> None:
    a = ingest_bytes(
        library, "upload:report.txt", b"Eastshire County Council news\nFirst version of the text.\n", ".txt"
    )
    b = ingest_bytes(
        library, "upload:report.txt", b"Eastshire County Council news\nSecond version of the text.\n", ".txt"
    )
    assert (a.status, b.status) == ("added", "updated")
    assert [d.doc_id for d in library.documents()] == [b.doc_id]
    assert_consistent(library)


def test_remove_deletes_everywhere(library: Library, docs: Path) -> None:
    report = ingest(library, [str(docs)])
    target = next(r for r in report.results if r.source.endswith("press-release.html"))
    assert target.doc_id is not None
    rowids = chunk_rowids(library, target.doc_id)
    version = library.version()

    removed = library.remove(target.doc_id[:8])  # a unique prefix is enough
    assert removed.doc_id == target.doc_id
    assert_gone(library, target.doc_id, rowids)
    assert len(library.documents()) == 3
    assert library.version() > version
    assert_consistent(library)
    with pytest.raises(NotFoundError):
        library.remove(target.doc_id)

    # Removing and ingesting again adds it back as new.
    again = ingest(library, [str(docs)])
    assert statuses(again)["wyvernshire-cqc-press-release.html"] == "added"
    assert_consistent(library)


# --- offsets and metadata --------------------------------------------------------------------------------


def test_chunk_offsets_lie_inside_their_section(library: Library, docs: Path) -> None:
    ingest(library, [str(docs)])
    db = library.catalogue.db
    for doc in library.documents():
        text = library.text(doc.doc_id)
        sections = library.sections(doc.doc_id)
        rows = db.execute(
            'SELECT chunk_id, idx, section_idx, start, "end", theme, qs, page FROM chunks '
            "WHERE doc_id = ? ORDER BY idx",
            (doc.doc_id,),
        ).fetchall()
        assert len(rows) == doc.n_chunks > 0
        metas = library.vectors.collection.get(ids=[r[0] for r in rows], include=["metadatas"])
        meta_by_id = dict(zip(metas["ids"], metas["metadatas"], strict=True))
        for chunk_id, idx, section_idx, start, end, theme, qs, page in rows:
            assert chunk_id == f"{doc.doc_id}:{idx}"
            sec = sections[section_idx]
            assert sec.start <= start < end <= sec.end, (doc.title, sec.title)
            assert text[start:end].strip() == text[start:end] != ""
            assert (theme, qs) == (sec.theme, sec.qs)
            assert page is None  # no PDFs among the demo documents
            meta = meta_by_id[chunk_id]
            assert meta["doc_id"] == doc.doc_id
            assert meta["kind"] == doc.kind
            assert meta.get("theme") == sec.theme
            assert meta.get("qs") == sec.qs
            fts = db.execute(
                "SELECT heading, body FROM chunks_fts WHERE rowid = (SELECT rowid FROM chunks WHERE chunk_id = ?)",
                (chunk_id,),
            ).fetchone()
            assert fts == (sec.title, text[start:end])


def test_assessment_metadata_reaches_the_catalogue(library: Library, docs: Path) -> None:
    report = ingest(library, [str(docs / "wyvernshire-cqc-assessment.md")])
    (r,) = report.results
    assert r.doc_id is not None
    doc = library.document(r.doc_id)
    assert (doc.kind, doc.council, doc.date, doc.date_precision, doc.rating) == (
        "cqc_assessment",
        "Wyvernshire County Council",
        "2025-03-14",
        "day",
        "Good",
    )
    assert doc.scores == {1: 3, 2: 3, 3: 2, 4: 3, 5: 4, 6: 3, 7: 3, 8: 3, 9: 3}
    equity = [s for s in library.sections(r.doc_id) if s.title == "Equity in experience and outcomes"]
    assert [(s.theme, s.qs, s.score) for s in equity] == [(1, 3, 2)]


def test_pdf_chunks_carry_page_numbers(library: Library, tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for n in range(1, 4):
        pdf.add_page()
        pdf.multi_cell(0, 10, f"Page {n} text. Eastshire County Council adult social care notes for page {n}.")
    path = tmp_path / "report.pdf"
    path.write_bytes(bytes(pdf.output()))
    (r,) = ingest(library, [str(path)]).results
    assert r.status == "added" and r.doc_id is not None
    text = library.text(r.doc_id)
    rows = library.catalogue.db.execute(
        'SELECT start, "end", page FROM chunks WHERE doc_id = ? ORDER BY idx', (r.doc_id,)
    ).fetchall()
    pages = {page for _, _, page in rows}
    assert pages == {1, 2, 3}
    for start, end, page in rows:
        assert f"Page {page} text" in text[start:end]


# --- atomicity: failures keep the old version and leave nothing pending ----------------------------------


def _prepare_edit(library: Library, docs: Path) -> tuple[Path, str, dict[str, int]]:
    ingest(library, [str(docs)])
    news = docs / "wyvernshire-news.txt"
    old = library.catalogue.active_for_source(str(news.resolve()))
    assert old is not None
    news.write_text(news.read_text(encoding="utf-8") + "\nTRIGGER-FAILURE paragraph about carers.\n")
    return news, old.doc_id, row_counts(library)


def _assert_old_version_intact(library: Library, news: Path, old_id: str, counts: dict[str, int]) -> None:
    current = library.catalogue.active_for_source(str(news.resolve()))
    assert current is not None and current.doc_id == old_id
    assert row_counts(library) == counts
    assert library.catalogue.unfinished() == []
    new_id = doc_id_for(news.read_text(encoding="utf-8"))
    assert library.catalogue.has(new_id) is None
    assert library.vectors.collection.get(where={"doc_id": new_id})["ids"] == []
    assert_consistent(library)


def test_embedder_failure_keeps_old_version_and_batch_goes_on(library: Library, docs: Path, tmp_path: Path) -> None:
    news, old_id, counts = _prepare_edit(library, docs)
    library.embedder = CountingEmbedder(fail_on="TRIGGER-FAILURE")
    fine = tmp_path / "fine.txt"
    fine.write_text("Eastshire County Council news\nA document that embeds without trouble.\n")

    report = ingest(library, [str(news), str(fine)])
    failed, ok = report.results
    assert failed.status == "failed"
    assert failed.error == f"{news.resolve()}: embedding failed (RuntimeError: model exploded)"
    assert ok.status == "added"
    assert ok.doc_id is not None
    library.remove(ok.doc_id)
    _assert_old_version_intact(library, news, old_id, counts)


def test_vector_store_failure_keeps_old_version(library: Library, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    news, old_id, counts = _prepare_edit(library, docs)

    def broken_upsert(**kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(library.vectors.collection, "upsert", broken_upsert)
    (result,) = ingest(library, [str(news)]).results
    assert result.status == "failed"
    assert result.error == f"{news.resolve()}: cannot write to the vector store (OSError: disk full)"
    monkeypatch.undo()
    _assert_old_version_intact(library, news, old_id, counts)


def test_partial_vector_write_is_rolled_back(library: Library, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first batch reaches Chroma, the second fails: the first batch's vectors must not be orphaned."""
    news, old_id, counts = _prepare_edit(library, docs)
    real_upsert = library.vectors.collection.upsert
    calls = {"n": 0}

    def upsert_then_fail(**kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("connection reset")
        real_upsert(**kwargs)

    monkeypatch.setattr("cqc_assistant.index.vectors.MAX_BATCH", 1)
    monkeypatch.setattr(library.vectors.collection, "upsert", upsert_then_fail)
    (result,) = ingest(library, [str(news)]).results
    assert result.status == "failed"
    assert calls["n"] == 2
    monkeypatch.undo()
    _assert_old_version_intact(library, news, old_id, counts)


def test_activation_failure_keeps_old_version(library: Library, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    news, old_id, counts = _prepare_edit(library, docs)

    def broken_activate(doc_id: str, replaces: str | None) -> None:
        raise StoreError("catalogue is read-only")

    monkeypatch.setattr(library.catalogue, "activate", broken_activate)
    (result,) = ingest(library, [str(news)]).results
    assert result.status == "failed"
    assert result.error == f"{news.resolve()}: catalogue is read-only"
    monkeypatch.undo()
    _assert_old_version_intact(library, news, old_id, counts)


def test_failed_reload_keeps_old_version(library: Library, docs: Path) -> None:
    ingest(library, [str(docs)])
    news = docs / "wyvernshire-news.txt"
    before = library.catalogue.active_for_source(str(news.resolve()))
    counts = row_counts(library)
    news.write_bytes(b"\x00\x01\x02 now a binary file" * 50)
    (result,) = ingest(library, [str(news)]).results
    assert result.status == "failed"
    assert result.error == f"{news.resolve()}: looks like a binary file, not text"
    assert library.catalogue.active_for_source(str(news.resolve())) == before
    assert row_counts(library) == counts


# --- recovery after a killed writer -----------------------------------------------------------------------


def _write_pending(library: Library, source: str, text: str) -> str:
    """What a writer killed between `add_pending`/`vectors.add` and `activate` leaves behind."""
    ex = load_bytes(source, text.encode(), ".txt")
    meta, sections = detect(ex, source)
    chunks = chunk_document(ex, sections)
    doc_id = doc_id_for(ex.text)
    library.catalogue.add_pending(doc_id, source, ex, meta, sections, chunks, [[] for _ in chunks])
    vectors = library.embedder.embed([ex.text[c.start : c.end] for c in chunks])
    library.vectors.add([f"{doc_id}:{c.index}" for c in chunks], vectors, [{"doc_id": doc_id} for _ in chunks])
    return doc_id


def test_recover_drops_pending_versions(library: Library, docs: Path) -> None:
    ingest(library, [str(docs)])
    active = {d.doc_id for d in library.documents()}
    counts = row_counts(library)
    pending = _write_pending(library, "/gone/half-written.txt", "Eastshire County Council\nHalf-written text here.\n")
    assert pending in library.catalogue.unfinished()
    assert pending not in {d.doc_id for d in library.documents()}
    assert library.vectors.collection.get(where={"doc_id": pending})["ids"]

    library.recover()
    assert library.catalogue.unfinished() == []
    assert library.catalogue.has(pending) is None
    assert library.vectors.collection.get(where={"doc_id": pending})["ids"] == []
    assert {d.doc_id for d in library.documents()} == active
    assert row_counts(library) == counts
    assert_consistent(library)


def test_recover_finishes_a_replacement_and_runs_on_the_next_write(library: Library, tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("Eastshire County Council news\nThe first version of the story.\n")
    (first,) = ingest(library, [str(path)]).results
    assert first.doc_id is not None
    old_rowids = chunk_rowids(library, first.doc_id)
    # Killed after activation, before the old version was purged: the old one is left 'deleting'.
    new_id = _write_pending(library, str(path.resolve()), "Eastshire County Council news\nThe second version.\n")
    library.catalogue.activate(new_id, replaces=first.doc_id)
    assert library.catalogue.unfinished() == [first.doc_id]

    with library.writer():  # every writer recovers first
        pass
    assert library.catalogue.unfinished() == []
    assert_gone(library, first.doc_id, old_rowids)
    assert [d.doc_id for d in library.documents()] == [new_id]
    assert_consistent(library)


def test_a_second_writer_is_refused(library: Library) -> None:
    from cqc_assistant.errors import StoreLockedError

    with library.writer(), pytest.raises(StoreLockedError, match="another ingest or remove"):
        ingest(library, ["nothing"])


def test_hash_vectors_are_normalised(library: Library, docs: Path) -> None:
    ingest(library, [str(docs)])
    got = library.vectors.collection.get(include=["embeddings"])
    vectors = np.asarray(got["embeddings"])
    assert vectors.shape[1] == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
