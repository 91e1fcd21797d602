"""Every kind of bad input gets one clear line naming it and the reason; the batch goes on; nothing changes.

Files go through the real CLI (`cqc-assistant ingest ... --store`); the URL checks that need a server use
httpx.MockTransport through `fetch_url(..., transport=...)`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fpdf import FPDF
from helpers import run_cli, store_snapshot

from cqc_assistant.config import Settings
from cqc_assistant.errors import InputError
from cqc_assistant.ingest import pipeline
from cqc_assistant.ingest.sources import fetch_url

MB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path, demo_dir: Path) -> Path:
    """A store that already holds one document, so 'nothing already stored changes' means something."""
    path = tmp_path / "store"
    result = run_cli("ingest", str(demo_dir / "wyvernshire-news.txt"), "--store", str(path))
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "good" / "eastshire-news.txt"
    path.parent.mkdir()
    path.write_text("Eastshire County Council news\nEastshire's adult social care was rated good by the CQC.\n")
    return path


def _encrypted_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.multi_cell(0, 10, "Confidential text.")
    return bytes(pdf.output())


# name, file name, content, extra env, reason as printed
FILE_CASES: list[tuple[str, str, bytes, dict[str, str], str]] = [
    ("unsupported type", "scores.xlsx", b"PK\x03\x04 not really", {}, "unsupported file type '.xlsx'"),
    ("empty file", "empty.txt", b"", {}, "the file is empty"),
    ("whitespace only", "blank.md", b"\n  \r\n\t\n", {}, "the file is empty"),
    (
        "binary file",
        "photo.txt",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 40,
        {},
        "looks like a binary file, not text",
    ),
    ("binary with odd suffix", "blob.bin", b"\x00\x01\x02\x03" * 10, {}, "unsupported file type '.bin'"),
    ("corrupt PDF", "broken.pdf", b"%PDF-1.4\n1 0 obj garbage\n%%EOF", {}, "corrupt or unreadable PDF"),
    ("not a PDF", "fake.pdf", b"<html>not a pdf</html>", {}, "not a PDF file (no %PDF header)"),
    ("encrypted PDF", "locked.pdf", _encrypted_pdf(), {}, "the PDF is encrypted (password protected)"),
    (
        "undecodable text",
        "latin.txt",
        b"caf\xe9 \x81\x8d\x8f\x90 au lait",
        {},
        "cannot decode the text: not UTF-8",
    ),
    ("corrupt docx", "report.docx", b"PK\x03\x04 truncated zip", {}, "not a valid .docx (not a zip archive)"),
    (
        "over the size limit",
        "huge.txt",
        b"Eastshire County Council adult social care.\n" * (MB // 40),
        {"CQC_ASSISTANT_MAX_FILE_MB": "1"},
        "over the 1,048,576-byte limit",
    ),
]


@pytest.mark.parametrize(
    ("file_name", "content", "env", "reason"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_bad_file(
    store: Path,
    tmp_path: Path,
    good_file: Path,
    file_name: str,
    content: bytes,
    env: dict[str, str],
    reason: str,
) -> None:
    bad = tmp_path / "bad" / file_name
    bad.parent.mkdir()
    bad.write_bytes(content)
    before = store_snapshot(store)

    alone = run_cli("ingest", str(bad), "--store", str(store), env=env)
    assert alone.exit_code != 0
    errors = [ln for ln in alone.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, alone.stderr
    assert errors[0].startswith(f"error: {bad.resolve()}: ")
    assert reason in errors[0]
    assert "Traceback" not in alone.output
    assert store_snapshot(store) == before

    batch = run_cli("ingest", str(bad), str(good_file), "--json", "--store", str(store), env=env)
    assert batch.exit_code != 0
    report = json.loads(batch.stdout)
    assert (report["added"], report["failed"]) == (1, 1)
    failed, added = report["results"]
    assert failed["status"] == "failed" and reason in failed["error"] and str(bad.resolve()) in failed["error"]
    assert added["status"] == "added" and added["source"] == str(good_file.resolve())
    after = store_snapshot(store)
    assert [d for d in after["docs"] if d["doc_id"] != added["doc_id"]] == before["docs"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/x", "only http(s) URLs can be ingested"),
        ("file:///etc/passwd", "only http(s) URLs can be ingested"),
        ("http://127.0.0.1:9/x", "cannot fetch the URL (ConnectError"),
    ],
    ids=["ftp", "file", "unreachable"],
)
def test_bad_url_via_cli(store: Path, good_file: Path, url: str, reason: str) -> None:
    before = store_snapshot(store)
    result = run_cli("ingest", url, str(good_file), "--store", str(store))
    assert result.exit_code != 0
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: {url}: {reason}")
    assert "added" in result.stdout and "Eastshire County Council news" in result.stdout
    assert "added 1, updated 0, unchanged 0, failed 1" in result.stderr
    after = store_snapshot(store)
    assert [d for d in after["docs"] if d["source"] != str(good_file.resolve())] == before["docs"]
    assert len(after["docs"]) == len(before["docs"]) + 1


def test_missing_path_and_empty_folder(store: Path, tmp_path: Path, good_file: Path) -> None:
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    (empty / "notes.xlsx").write_bytes(b"x")
    missing = tmp_path / "no-such-file.txt"
    before = store_snapshot(store)
    result = run_cli("ingest", str(missing), str(empty), str(good_file), "--store", str(store))
    assert result.exit_code != 0
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [
        f"error: {missing}: no such file or folder",
        f"error: {empty}: the folder holds no supported files (.txt .md .html .pdf .docx)",
    ]
    assert len(store_snapshot(store)["docs"]) == len(before["docs"]) + 1


def test_bad_file_inside_a_folder_does_not_stop_the_folder(store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a-bad.pdf").write_bytes(b"%PDF-1.4 nonsense")
    (folder / "b-good.md").write_text("# Eastshire County Council\n\nAdult social care news for the county.\n")
    (folder / "c-empty.txt").write_bytes(b"")
    result = run_cli("ingest", str(folder), "--json", "--store", str(store))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [r["status"] for r in report["results"]] == ["failed", "added", "failed"]


def test_all_good_exits_zero(store: Path, good_file: Path) -> None:
    result = run_cli("ingest", str(good_file), "--store", str(store))
    assert result.exit_code == 0
    again = run_cli("ingest", str(good_file), "--store", str(store))
    assert again.exit_code == 0
    assert again.stdout.startswith("unchanged")


# --- URLs through MockTransport ---------------------------------------------------------------------------


def fetch(url: str, handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> Any:
    options: dict[str, Any] = {
        "max_bytes": 1000,
        "timeout_s": 5.0,
        "max_redirects": 5,
        "block_private": False,
    }
    options.update(kw)
    return fetch_url(url, transport=httpx.MockTransport(handler), **options)


def test_redirect_loop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        other = "/b" if request.url.path == "/a" else "/a"
        return httpx.Response(302, headers={"location": other})

    with pytest.raises(InputError) as info:
        fetch("https://example.org/a", handler)
    assert str(info.value) == "https://example.org/a: too many redirects (more than 5)"


def test_self_redirect() -> None:
    with pytest.raises(InputError, match=r"^https://example\.org/x: too many redirects \(more than 2\)$"):
        fetch(
            "https://example.org/x",
            lambda r: httpx.Response(301, headers={"location": str(r.url)}),
            max_redirects=2,
        )


def test_redirect_to_another_scheme() -> None:
    with pytest.raises(InputError, match=r"redirected to a non-http\(s\) URL 'ftp://example\.org/file'"):
        fetch(
            "https://example.org/x",
            lambda r: httpx.Response(302, headers={"location": "ftp://example.org/file"}),
        )


def test_redirect_without_location() -> None:
    with pytest.raises(InputError, match=r"^https://example\.org/x: HTTP 302 redirect without a Location$"):
        fetch("https://example.org/x", lambda r: httpx.Response(302))


def test_oversized_response_declared() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=b"x" * 5000)

    with pytest.raises(InputError) as info:
        fetch("https://example.org/big.txt", handler)
    assert str(info.value) == "https://example.org/big.txt: the response is 5,000 bytes, over the 1,000-byte limit"


def test_oversized_response_streamed_without_length() -> None:
    sent: list[int] = []

    def body() -> Iterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b"y" * 300

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=body())

    with pytest.raises(InputError, match=r"^https://example\.org/s: the response is over the 1,000-byte limit$"):
        fetch("https://example.org/s", handler)
    assert len(sent) < 100, "the download must stop at the limit"


@pytest.mark.parametrize(
    ("content_type", "reason"),
    [("image/png", "unsupported content type 'image/png'"), ("", "unsupported content type '(none)'")],
)
def test_bad_content_type(content_type: str, reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=b"\x89PNG")

    with pytest.raises(InputError) as info:
        fetch("https://example.org/picture", handler)
    assert str(info.value) == f"https://example.org/picture: {reason}"


@pytest.mark.parametrize("status", [404, 500])
def test_http_error_status(status: int) -> None:
    with pytest.raises(InputError) as info:
        fetch("https://example.org/missing", lambda r: httpx.Response(status))
    assert str(info.value) == f"https://example.org/missing: the server answered HTTP {status}"


def test_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(InputError, match=r"^https://example\.org/x: timed out after 5s$"):
        fetch("https://example.org/x", handler)


def test_private_address_blocked_when_asked() -> None:
    with pytest.raises(InputError, match="refusing a private or loopback address"):
        fetch("http://127.0.0.1/x", lambda r: httpx.Response(200), block_private=True)


def test_good_url_after_redirect_is_keyed_by_the_normalised_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"location": "/new"})
        return httpx.Response(200, headers={"content-type": "text/html; charset=utf-8"}, content=b"<p>Hello</p>")

    raw = fetch("HTTPS://Example.ORG/old#frag", handler)
    assert (raw.source, raw.data, raw.suffix) == ("https://example.org/old", b"<p>Hello</p>", ".html")


def test_url_failures_in_a_batch_change_nothing(store: Path, good_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline with a mock network: bad URLs fail one line each, a good URL and file are added."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/loop":
            return httpx.Response(302, headers={"location": "/loop"})
        if request.url.path == "/big":
            return httpx.Response(200, headers={"content-type": "text/plain"}, content=b"z" * (2 * MB))
        if request.url.path == "/png":
            return httpx.Response(200, headers={"content-type": "image/png"}, content=b"\x89PNG")
        if request.url.path == "/report.html":
            html = b"<h1>Eastshire County Council news</h1><p>Adult social care was rated good by the CQC.</p>"
            return httpx.Response(200, headers={"content-type": "text/html"}, content=html)
        return httpx.Response(404)

    monkeypatch.setattr(pipeline, "fetch_url", functools.partial(fetch_url, transport=httpx.MockTransport(handler)))
    before = store_snapshot(store)
    bad = [
        "https://example.org/loop",
        "https://example.org/big",
        "https://example.org/png",
        "https://example.org/gone",
    ]
    result = run_cli("ingest", *bad, "--store", str(store), env={"CQC_ASSISTANT_MAX_URL_MB": "1"})
    assert result.exit_code != 0
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [
        "error: https://example.org/loop: too many redirects (more than 5)",
        "error: https://example.org/big: the response is 2,097,152 bytes, over the 1,048,576-byte limit",
        "error: https://example.org/png: unsupported content type 'image/png'",
        "error: https://example.org/gone: the server answered HTTP 404",
    ]
    assert store_snapshot(store) == before

    good = run_cli("ingest", "https://example.org/report.html", str(good_file), "--json", "--store", str(store))
    assert good.exit_code == 0, good.output
    report = json.loads(good.stdout)
    assert [r["status"] for r in report["results"]] == ["added", "added"]
    assert report["results"][0]["source"] == "https://example.org/report.html"


# --- private and loopback addresses, when blocking is on -------------------------------------------------

PUBLIC = "http://93.184.215.14"  # an IP literal: resolves without DNS, and is globally routable
PRIVATE_TARGETS = [
    "http://127.0.0.1/admin",
    "http://localhost:8080/admin",
    "http://[::1]/x",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://10.0.0.5/",
    "http://192.168.1.1/router",
    "http://100.64.0.1/",  # carrier-grade NAT: not private, not global either
    "http://0.0.0.0/",
    "http://2130706433/",  # 127.0.0.1 written as one number
    "http://0x7f.1/",  # and in hex
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://user:pw@127.0.0.1/",
    "http://93.184.215.14@127.0.0.1/",  # the host is after the @
]


@pytest.mark.parametrize("target", PRIVATE_TARGETS)
def test_private_address_refused_directly_and_after_a_redirect(target: str) -> None:
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        if request.url.host == "93.184.215.14" and request.url.path == "/start":
            return httpx.Response(302, headers={"location": target})
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=b"secret")

    with pytest.raises(InputError, match=r"refusing a private or loopback address \(.+\) because private URLs"):
        fetch(target, handler, block_private=True)
    assert requested == []
    with pytest.raises(InputError, match="refusing a private or loopback address") as info:
        fetch(f"{PUBLIC}/start", handler, block_private=True)
    assert str(info.value).startswith(f"{PUBLIC}/start: ")  # names what the user gave
    assert requested == [f"{PUBLIC}/start"], "the private hop must never be requested"


def test_scheme_relative_redirect_to_loopback_is_refused() -> None:
    with pytest.raises(InputError, match="refusing a private or loopback address"):
        fetch(
            f"{PUBLIC}/start",
            lambda r: httpx.Response(302, headers={"location": "//127.0.0.1/x"}),
            block_private=True,
        )


def test_public_redirects_still_work_when_blocking() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "93.184.215.14":
            return httpx.Response(301, headers={"location": "http://8.8.4.4/report.txt"})
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=b"Eastshire news")

    raw = fetch(f"{PUBLIC}/start", handler, block_private=True)
    assert (raw.source, raw.data, raw.suffix) == (f"{PUBLIC}/start", b"Eastshire news", ".txt")


def test_private_urls_allowed_unless_the_setting_blocks_them(tmp_path: Path) -> None:
    assert Settings.from_env({}, store=tmp_path).block_private_urls is False
    for on in ("1", "true", "YES"):
        assert Settings.from_env({"CQC_ASSISTANT_BLOCK_PRIVATE_URLS": on}, store=tmp_path).block_private_urls
    assert not Settings.from_env({"CQC_ASSISTANT_BLOCK_PRIVATE_URLS": "0"}, store=tmp_path).block_private_urls
    raw = fetch("http://127.0.0.1/x", lambda r: httpx.Response(200, headers={"content-type": "text/plain"},
                                                              content=b"local"))  # fmt: skip
    assert raw.data == b"local"


def test_blocking_from_the_environment_reaches_ingest(
    store: Path, good_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "93.184.215.14":
            return httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data/"})
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=b"instance secrets")

    monkeypatch.setattr(pipeline, "fetch_url", functools.partial(fetch_url, transport=httpx.MockTransport(handler)))
    before = store_snapshot(store)
    blocked = run_cli("ingest", f"{PUBLIC}/start", "--store", str(store), env={"CQC_ASSISTANT_BLOCK_PRIVATE_URLS": "1"})
    assert blocked.exit_code == 1
    assert blocked.stderr.splitlines()[0] == (
        f"error: {PUBLIC}/start: refusing a private or loopback address (169.254.169.254) "
        "because private URLs are blocked"
    )
    assert store_snapshot(store) == before
    allowed = run_cli("ingest", f"{PUBLIC}/start", "--store", str(store), env={"CQC_ASSISTANT_BLOCK_PRIVATE_URLS": ""})
    assert allowed.exit_code == 0, allowed.output


def test_ipv6_urls_keep_their_brackets() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "2001:db8::1"
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=b"v6")

    raw = fetch("http://[2001:DB8::1]:8080/x", handler)
    assert (raw.source, raw.data) == ("http://[2001:db8::1]:8080/x", b"v6")
