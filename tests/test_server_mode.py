"""Server mode: the same library against a real `chroma run` server, and clear refusals of bad servers.

A session fixture starts `chroma run --path TMP --port FREE --host 127.0.0.1` (bounded wait for the
heartbeat, always terminated). The `library` fixture runs each test against the embedded client and the
server; both use the hash embedder on the demo documents and must give the same passages and answers.
"""

from __future__ import annotations

import http.server
import json
import operator
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import assert_exact_citations, run_cli
from servers import CHROMA, free_port, start_chroma, stop

from cqc_assistant.answer import Assistant
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder, Vector
from cqc_assistant.errors import ConfigError, StoreError
from cqc_assistant.filters import Filters
from cqc_assistant.index import vectors as vectors_mod
from cqc_assistant.index.chunk_vectors import vector_meta
from cqc_assistant.index.retriever import HybridRetriever
from cqc_assistant.index.store_open import server_collection
from cqc_assistant.ingest.pipeline import ingest
from cqc_assistant.library import Library
from cqc_assistant.scope import make_filters

SLOW = pytest.mark.slow  # every test that needs the `chroma run` server (it takes a few seconds to start)

START_TIMEOUT_S = 60.0
QUERIES = [
    ("occupational therapy waiting list", {}),
    ("Deprivation of Liberty Safeguards backlog", {}),
    ("joint discharge hub", {"kind": "cqc_assessment"}),
    ("what did the peer team say about carers", {"kind": "lga_peer_challenge"}),
    ("safeguarding enquiries", {"qs": "7"}),
    ("leadership and workforce", {"theme": "4", "since": "2025"}),
]
QUESTIONS = [
    "How many people were waiting for an occupational therapy assessment?",
    "What overall rating did CQC give Wyvernshire?",
    "How long was the longest wait for an OT assessment?",
    "What did inspectors say about the lunar base?",
]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real `chroma run` server on loopback, for the whole session."""
    if not CHROMA.exists():
        pytest.skip(f"no chroma CLI at {CHROMA}")
    root = tmp_path_factory.mktemp("chroma-server")
    proc, url = start_chroma(root / "data", root / "server.log", timeout=START_TIMEOUT_S)
    try:
        yield url
    finally:
        stop(proc)


def open_library(store: Path, url: str | None, embedder: Any = None) -> Library:
    settings = Settings.from_env({}, store=store).with_(chroma_url=url)
    return Library.open(settings, embedder or HashEmbedder())


@pytest.fixture(params=["embedded", pytest.param("server", marks=SLOW)])
def library(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Library]:
    url = request.getfixturevalue("chroma_server") if request.param == "server" else None
    lib = open_library(tmp_path / f"store-{request.param}", url)
    yield lib
    lib.close()


class EvidenceOnly(HybridRetriever):
    """The hybrid retriever without dense hits of similarity <= 0.

    The hash embedder gives many chunks exactly 0 similarity to a query; Chroma returns such ties in an
    arbitrary order (it differs between two embedded builds too), and rank fusion turns that order into
    scores. Dropping them leaves what the two modes must agree on exactly.
    """

    def _dense(self, query: str, f: Any, n: int, hidden: frozenset[str] = frozenset()) -> list[tuple[str, float]]:
        return [(cid, sim) for cid, sim in super()._dense(query, f, n, hidden) if sim > 1e-6]


def search_ids(lib: Library, query: str, filters: dict[str, str]) -> list[tuple[str, float]]:
    passages = EvidenceOnly(lib).search(query, make_filters(lib, **filters), 10)
    return [(p.chunk_id, p.score) for p in passages]


def assert_same_dense_hits(a: Library, b: Library, query: str, filters: dict[str, str]) -> None:
    """The same dense hits with positive similarity, in the same order, and as many hits in all."""
    hits = [EvidenceOnly(lib)._dense(query, make_filters(lib, **filters), 40) for lib in (a, b)]
    assert [cid for cid, _ in hits[0]] == [cid for cid, _ in hits[1]], query
    assert np.allclose([s for _, s in hits[0]], [s for _, s in hits[1]], atol=1e-5), query
    n = [len(HybridRetriever(lib)._dense(query, make_filters(lib, **filters), 40)) for lib in (a, b)]
    assert n[0] == n[1], query


def ask_json(lib: Library, question: str) -> dict[str, Any]:
    return Assistant(lib, retriever=EvidenceOnly(lib)).ask(question).to_json()


def catalogue_state(store: Path) -> Any:
    """Everything a later session could see in the catalogue, read without the library."""
    import sqlite3

    db = sqlite3.connect(str(store / "catalogue.sqlite3"))
    try:
        return {
            t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("meta", "documents", "sections", "chunks")
        } | {"fts": db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]}
    finally:
        db.close()


# --- the same code path in both modes --------------------------------------------------------------


def test_ingest_search_ask_remove(library: Library, demo_dir: Path) -> None:
    report = ingest(library, [str(demo_dir)])
    assert report.failed == 0 and report.count("added") == 4
    n_chunks = library.catalogue.count_chunks()
    assert library.vectors.count() == n_chunks

    hits = HybridRetriever(library).search("occupational therapy waiting list", None, 5)
    assert hits and "occupational therapy" in hits[0].text.lower()

    answer = Assistant(library).ask("How many people were waiting for an occupational therapy assessment?")
    assert not answer.refused and answer.citations
    assert_exact_citations(library, answer.citations)

    assert ingest(library, [str(demo_dir)]).count("unchanged") == 4
    gone = library.remove(hits[0].doc_id)
    assert library.vectors.count() == library.catalogue.count_chunks() == n_chunks - gone.n_chunks
    assert all(p.doc_id != gone.doc_id for p in HybridRetriever(library).search("occupational", None, 20))


@SLOW
def test_server_mode_gives_the_same_results(tmp_path: Path, demo_dir: Path, chroma_server: str) -> None:
    embedded = open_library(tmp_path / "embedded", None)
    server = open_library(tmp_path / "server", chroma_server)
    try:
        for lib in (embedded, server):
            assert ingest(lib, [str(demo_dir)]).failed == 0
        assert not (tmp_path / "server" / "chroma").exists()  # the vectors really are on the server
        assert server.vectors.url == chroma_server
        for query, filters in QUERIES:
            assert_same_dense_hits(server, embedded, query, filters)
            got = search_ids(server, query, filters)
            assert got, query
            assert got == search_ids(embedded, query, filters), query
        for question in QUESTIONS:
            assert ask_json(server, question) == ask_json(embedded, question), question
    finally:
        embedded.close()
        server.close()


@SLOW
def test_cli_chroma_url_option_and_env(tmp_path: Path, demo_dir: Path, chroma_server: str) -> None:
    server_store, local_store = str(tmp_path / "server"), str(tmp_path / "local")
    ingested = run_cli("ingest", str(demo_dir), "--store", server_store, "--chroma-url", chroma_server)
    assert ingested.exit_code == 0, ingested.output
    assert run_cli("ingest", str(demo_dir), "--store", local_store).exit_code == 0
    assert not (tmp_path / "server" / "chroma").exists()
    # Only the best passage: further down, zero-similarity ties can come back in any order (see EvidenceOnly).
    query = ["search", "waiting list for occupational therapy", "-k", "1", "--json"]
    via_option = run_cli(*query, "--store", server_store, "--chroma-url", chroma_server)
    via_env = run_cli(*query, "--store", server_store, env={"CQC_ASSISTANT_CHROMA_URL": chroma_server})
    embedded = run_cli(*query, "--store", local_store)
    assert via_option.exit_code == via_env.exit_code == embedded.exit_code == 0
    best = json.loads(via_option.stdout)
    assert best == json.loads(via_env.stdout) == json.loads(embedded.stdout)
    assert "occupational therapy" in best[0]["text"].lower()
    asked = run_cli("ask", "What overall rating did CQC give?", "--json", "--store", server_store,
                "--chroma-url", chroma_server)  # fmt: skip
    assert asked.exit_code == 0 and not json.loads(asked.stdout)["refused"]


@SLOW
def test_two_stores_on_one_server_keep_their_own_vectors(tmp_path: Path, demo_dir: Path, chroma_server: str) -> None:
    """The same document in two stores has the same id; removing it from one must not touch the other."""
    a = open_library(tmp_path / "a", chroma_server)
    b = open_library(tmp_path / "b", chroma_server)
    try:
        for lib in (a, b):
            ingest(lib, [str(demo_dir)])
        assert a.vectors.name != b.vectors.name
        assert a.vectors.name == server_collection(str(a.catalogue.get_meta("store_id")))
        before = a.vectors.count()
        for doc in b.documents():
            b.remove(doc.doc_id)
        assert b.vectors.count() == 0
        assert a.vectors.count() == before
        assert a.vectors.query(HashEmbedder().embed(["occupational therapy"])[0], 5, None)
    finally:
        a.close()
        b.close()
    again = open_library(tmp_path / "a", chroma_server)  # the store keeps its collection across sessions
    try:
        assert again.vectors.count() == before
    finally:
        again.close()


# --- bad servers: one clear sentence at start-up, nothing written -------------------------------------


def test_closed_port_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with pytest.raises(StoreError, match=r"cannot connect to a Chroma server at http://127\.0\.0\.1:\d+"):
        open_library(store, f"http://127.0.0.1:{free_port()}")
    assert not store.exists()


def test_closed_port_through_the_cli_is_one_line(tmp_path: Path, demo_dir: Path) -> None:
    store = tmp_path / "store"
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["ingest", str(demo_dir)], ["search", "waiting"], ["ask", "What rating?"], ["docs"]):
        result = run_cli(*args, "--store", str(store), "--chroma-url", url)
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: cannot connect to a Chroma server"), result.stderr
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    assert not store.exists()


class _NotChroma(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain_http_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotChroma)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_server_that_is_not_chroma_is_refused(tmp_path: Path, plain_http_server: str) -> None:
    store = tmp_path / "store"
    with pytest.raises(StoreError, match="answers, but it is not a Chroma server") as err:
        open_library(store, plain_http_server)
    assert "<html" not in str(err.value)
    assert not store.exists()
    result = run_cli("search", "waiting", "--store", str(store), "--chroma-url", plain_http_server)
    assert result.exit_code == 1 and "is not a Chroma server" in result.stderr
    assert "<html" not in result.stderr and not store.exists()


def test_a_server_that_never_answers_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors_mod, "CONNECT_TIMEOUT_S", 0.5)
    with socket.socket() as silent:  # accepts connections (backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"no answer from the Chroma server .* within 0\.5 s"):
            open_library(tmp_path / "store", url)
    assert time.monotonic() - started < 5
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:8000", "127.0.0.1:8000", "http://", "http://h:99999"])
def test_a_malformed_url_is_a_config_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="Chroma URL"):
        open_library(tmp_path / "store", url)
    assert not (tmp_path / "store").exists()


class OtherEmbedder:
    name = "other-model"
    dimension = 8

    def embed(self, texts: list[str]) -> Vector:
        return np.ones((len(texts), self.dimension), dtype=np.float32) / np.sqrt(self.dimension)


@SLOW
@pytest.mark.parametrize(
    ("embedder", "message"),
    [
        (OtherEmbedder(), r"built with embedder 'hash-384' \(384 dimensions\), not 'other-model' \(8\)"),
        (HashEmbedder(dimension=256), r"built with embedder 'hash-384' \(384 dimensions\), not .* \(256\)"),
    ],
)
def test_a_collection_from_another_embedder_is_refused(
    tmp_path: Path, demo_dir: Path, chroma_server: str, embedder: Any, message: str
) -> None:
    store = tmp_path / "store"
    lib = open_library(store, chroma_server)
    ingest(lib, [str(demo_dir / "wyvernshire-news.txt")])
    lib.close()
    before = catalogue_state(store)
    with pytest.raises(StoreError, match=message):
        open_library(store, chroma_server, embedder)
    assert catalogue_state(store) == before


@SLOW
def test_a_collection_made_outside_the_app_is_refused(tmp_path: Path, chroma_server: str) -> None:
    """Someone made the store's collection with Chroma's own defaults (no embedder recorded)."""
    store = tmp_path / "store"
    lib = open_library(store, chroma_server)
    name = lib.vectors.name
    lib.vectors.client.delete_collection(name)
    lib.vectors.client.create_collection(name, metadata={"hnsw:space": "l2"})
    lib.close()
    before = catalogue_state(store)
    with pytest.raises(StoreError, match=r"was built with embedder None"):
        open_library(store, chroma_server)
    assert catalogue_state(store) == before


@SLOW
def test_a_store_whose_vectors_are_elsewhere_is_refused(tmp_path: Path, demo_dir: Path, chroma_server: str) -> None:
    """Documents ingested embedded, then the store pointed at a server (or the other way round)."""
    store = tmp_path / "store"
    lib = open_library(store, None)
    ingest(lib, [str(demo_dir / "wyvernshire-news.txt")])
    lib.close()
    before = catalogue_state(store)
    names_before = {c.name for c in lib.vectors.client.list_collections()}
    server_names = {c.name for c in open_library(tmp_path / "probe", chroma_server).vectors.client.list_collections()}
    with pytest.raises(StoreError, match="lists documents, but the Chroma collection .* is empty"):
        open_library(store, chroma_server)
    assert catalogue_state(store) == before
    probe = open_library(tmp_path / "probe", chroma_server)
    try:  # the empty collection made for the refused store was taken away again
        assert {c.name for c in probe.vectors.client.list_collections()} == server_names
    finally:
        probe.close()
    assert {c.name for c in lib.vectors.client.list_collections()} == names_before


# --- filtered dense queries: a probe of nearest vectors, filtered from the catalogue -----------------------


# --- an oracle: Chroma's `where` evaluated on one metadata dict -------------------------------------------

_RANGE = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}


def matches_where(meta: dict[str, Any], where: dict[str, Any]) -> bool | None:
    """Chroma's `where` on one metadata dict; None for an operator the catalogue does not translate ($ne ...)."""
    results: list[bool | None] = []
    for key, cond in where.items():
        if key in ("$and", "$or"):
            parts = [matches_where(meta, c) for c in cond]
            if None in parts:
                return None
            results.append(all(parts) if key == "$and" else any(parts))
            continue
        if key.startswith("$"):
            return None
        value = meta.get(key)
        if not isinstance(cond, dict):
            cond = {"$eq": cond}
        for op, target in cond.items():
            if op == "$eq":
                results.append(value is not None and _same(value, target))
            elif op == "$in":
                results.append(value is not None and any(_same(value, t) for t in target))
            elif op in _RANGE:
                compare: Callable[[Any, Any], bool] = _RANGE[op]
                results.append(_number(value) and _number(target) and compare(value, target))
            else:
                return None
    return all(results)


def _same(a: object, b: object) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool) and isinstance(a, str) == isinstance(b, str)


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def catalogue_metadata(library: Library, chunk_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each chunk's Chroma metadata rebuilt from its catalogue row, as ingest built it (`vector_meta`)."""
    marks = ",".join("?" * len(chunk_ids))
    rows = library.catalogue.db.execute(
        "SELECT chunk_id, doc_id, kind, theme, qs, boilerplate, date_num, council_keys FROM chunks "
        f"WHERE chunk_id IN ({marks})",
        chunk_ids,
    ).fetchall()
    return {r[0]: vector_meta(r[1], r[2], r[3], r[4], bool(r[5]), r[6], str(r[7]).split()) for r in rows}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"kind": "cqc_assessment"}, True),
        ({"kind": "news"}, False),
        ({"qs": 3}, True),
        ({"qs": {"$in": [1, 3]}}, True),
        ({"theme": 2}, False),  # no theme key: no match, as in Chroma
        ({"date_num": {"$gte": 20250101}}, True),
        ({"date_num": {"$lte": 20250101}}, False),
        ({"$and": [{"kind": "cqc_assessment"}, {"c_wyvernshire": True}]}, True),
        ({"$or": [{"kind": "news"}, {"c_elsewhere": True}]}, False),
        ({"boilerplate": False}, True),
        ({"boilerplate": 0}, False),  # a bool is not an int
        ({"qs": True}, False),
        ({"kind": {"$ne": "news"}}, None),  # not evaluated here: Chroma answers
        ({"$not": {"qs": 3}}, None),
    ],
)
def test_matches_where(where: dict[str, Any], expected: bool | None) -> None:
    meta = {"doc_id": "d", "kind": "cqc_assessment", "boilerplate": False, "qs": 3, "date_num": 20250314,
            "c_wyvernshire": True}  # fmt: skip
    assert matches_where(meta, where) is expected


FILTERS = [
    Filters(kind="cqc_assessment"),
    Filters(kind="lga_peer_challenge"),
    Filters(qs=1),
    Filters(theme=3),
    Filters(since="2025-01-01"),
    Filters(since="2024-10-15", until="2025-06-30"),
    Filters(council="Wyvernshire"),
    Filters(kind="cqc_assessment", qs=7),
]


def positive(hits: list[tuple[str, float]]) -> list[str]:
    return [cid for cid, sim in hits if sim > 1e-6]  # zero-similarity ties come back in any order


@pytest.mark.parametrize("filters", FILTERS, ids=Filters.describe)
def test_filtered_probe_agrees_with_chromas_filter(
    library: Library, demo_dir: Path, filters: Filters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalogue-filtered probe and Chroma's own filter give the same hits (demo: exact search)."""
    ingest(library, [str(demo_dir)])
    where = filters.to_chroma()
    assert where is not None
    calls: list[dict[str, Any] | None] = []
    chroma_query = library.vectors._query

    def spy(vector: Any, k: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        calls.append(where)
        return chroma_query(vector, k, where)

    monkeypatch.setattr(library.vectors, "_query", spy)
    for text in ("occupational therapy waiting", "safeguarding enquiries", "direct payments", "leadership"):
        vec = HashEmbedder().embed([text])[0]
        probed = library.search_vectors(vec, 10, filters)
        assert positive(probed) == positive(chroma_query(vec, 10, where)), (text, where)
        assert all(matches_where(m, where) is True for m in _metas(library, probed))
    assert where not in calls  # the catalogue's check answered, never Chroma's (slow) filter


def _metas(library: Library, hits: list[tuple[str, float]]) -> list[dict[str, Any]]:
    got = library.vectors.collection.get(ids=[cid for cid, _ in hits], include=["metadatas"])
    return list(got["metadatas"] or [])


@pytest.mark.parametrize(("exact_max", "path"), [(1000, "exact"), (3, "chroma")])
def test_a_probe_with_too_few_matches_falls_back(
    library: Library, demo_dir: Path, monkeypatch: pytest.MonkeyPatch, exact_max: int, path: str
) -> None:
    """A filter few chunks pass is answered exactly over them; one too many pass for that, and too few of
    them among the nearest even in a larger probe, by Chroma's filter."""
    ingest(library, [str(demo_dir)])
    monkeypatch.setattr(vectors_mod, "PROBE", 3)  # so the probe is 4k = 40 of ~146 vectors
    monkeypatch.setattr(vectors_mod, "EXACT_MAX", exact_max)
    used: list[str] = []
    real_exact, real_query = library.vectors._exact, library.vectors._query
    monkeypatch.setattr(library.vectors, "_exact", lambda *a, **kw: used.append("exact") or real_exact(*a, **kw))

    def query(vector: Any, k: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        used.append("chroma" if where else f"probe {k}")
        return real_query(vector, k, where)

    monkeypatch.setattr(library.vectors, "_query", query)
    vec = HashEmbedder().embed(["waiting lists"])[0]
    filters = Filters(kind="cqc_press_release")  # 4 chunks: fewer than k=10 among the nearest 40
    where = filters.to_chroma()
    hits = library.search_vectors(vec, 10, filters)
    assert used[-1] == path
    if path == "exact":
        assert used == ["exact"]
    else:  # the first probe, a larger one (which sees every vector here), then Chroma's filter
        assert used[0] == "probe 40" and used[1].startswith("probe ") and len(used) == 3
    assert len(hits) == len(library.vectors.collection.get(where=where, include=[])["ids"]) == 4
    expected = library.vectors.collection.query(
        query_embeddings=[vec.tolist()], n_results=10, where=where, include=["distances"]
    )
    want = [(i, 1 - d) for i, d in zip(expected["ids"][0], expected["distances"][0], strict=True) if 1 - d > 1e-6]
    assert positive(hits) == [i for i, _ in want]
    assert np.allclose([s for _, s in hits[: len(want)]], [s for _, s in want], atol=1e-5)


def test_catalogue_metadata_matches_what_chroma_stores(library: Library, demo_dir: Path) -> None:
    ingest(library, [str(demo_dir)])
    stored = library.vectors.collection.get(include=["metadatas"])
    rebuilt = catalogue_metadata(library, list(stored["ids"]))
    assert rebuilt == dict(zip(stored["ids"], stored["metadatas"] or [], strict=True))
    first = library.documents()[0].doc_id
    cases = [(f, frozenset[str]()) for f in FILTERS] + [
        (Filters(), frozenset({first})),
        (FILTERS[2], frozenset({first})),
    ]
    for filters, hidden in cases:  # a filter's SQL selects exactly what its Chroma `where` does
        check = library.catalogue.filtered_chunks(filters, hidden)
        assert check is not None
        ids = check.ids(10_000)
        assert ids is not None
        chroma = library.vectors.collection.get(where=filters.to_chroma(hidden), include=[])["ids"]
        assert sorted(ids) == sorted(chroma) and ids, (filters, hidden)
        assert check.passing(list(stored["ids"])) == set(chroma)
        docs = library.doc_ids_passing(filters, hidden)
        assert docs == {cid.split(":")[0] for cid in chroma}
    assert library.catalogue.filtered_chunks(Filters()) is None and library.doc_ids_passing(Filters()) is None
