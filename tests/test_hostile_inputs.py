"""Hostile and broken inputs: every one is a clean result or one clear line naming it, quickly; nothing changes.

Over a hundred files are generated here (truncated, mutated and encrypted PDFs, zip bombs posing as .docx,
random bytes under every suffix, empty and binary files, broken and unusual encodings, deeply nested and
enormous HTML, HTML full of scripts, oversized text) and each is fed to `load_bytes` under a time bound; the
ones that fail go through the real CLI in one batch against a store that must not change. Hypothesis then
fuzzes each loader with random bytes and with mutations of valid files: only InputError may escape.
"""

from __future__ import annotations

import faulthandler
import io
import json
import random
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from helpers import run_cli, store_snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cqc_assistant.config import Settings
from cqc_assistant.errors import InputError
from cqc_assistant.ingest.loaders import MAX_DOCX_BLOCKS, MAX_HTML_DEPTH, MAX_HTML_NODES, load_bytes
from cqc_assistant.models import Extracted

MB = 1024 * 1024
PER_FILE_SECONDS = 10.0  # generous on a slow machine; each takes well under a second here
HANG_SECONDS = 120  # past this the whole run is dumped and stopped rather than left hanging
SEED = 8
WORDS = [
    "council",
    "adult",
    "social",
    "care",
    "waiting",
    "lists",
    "carers",
    "safeguarding",
    "partnership",
    "leadership",
    "outcomes",
]


@contextmanager
def hang_guard(seconds: float = HANG_SECONDS) -> Iterator[None]:
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def prose(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


# --- valid files to break -------------------------------------------------------------------------


def make_pdf(pages: int = 3, *, user_password: str | None = None, owner_only: bool = False) -> bytes:
    rng = random.Random(pages)
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.set_title("Eastshire County Council assessment")
    if user_password or owner_only:
        pdf.set_encryption(owner_password="owner-secret", user_password=user_password or "")
    for p in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 8, f"Page {p + 1}. " + prose(rng, 120))
    return bytes(pdf.output())


def make_docx(paragraphs: int = 12) -> bytes:
    rng = random.Random(paragraphs)
    document = docx.Document()
    document.add_heading("Eastshire peer challenge", level=0)
    for i in range(paragraphs):
        if i % 4 == 0:
            document.add_heading(f"Section {i // 4}", level=1)
        document.add_paragraph(prose(rng, 40))
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """A copy of a zip (a .docx) with some members replaced or added."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, (replace or {}).get(item.filename, src.read(item.filename)))
        for name, member in (add or {}).items():
            dst.writestr(name, member)
    return buf.getvalue()


def zip_bomb(member: str, size: int, extra: dict[str, bytes] | None = None) -> bytes:
    """A small zip holding `size` bytes of zeros (about 1000:1) under the name `member`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(member, "w", force_zip64=True) as fh:
            block = bytes(MB)
            for _ in range(size // MB):
                fh.write(block)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def mutate(data: bytes, rng: random.Random, flips: int) -> bytes:
    out = bytearray(data)
    for _ in range(flips):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


# --- the cases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str  # also the file name: its suffix picks the loader
    data: bytes
    expect: str  # "error", "ok" or "either"
    reason: str = ""  # part of the error message, for "error"
    absent: tuple[str, ...] = ()  # strings the stored text must not contain, for "ok"

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix


def build_cases() -> list[Case]:
    rng = random.Random(SEED)
    cases: list[Case] = []
    add = cases.append

    pdf = make_pdf()
    for cut in sorted({*range(8, len(pdf), max(1, len(pdf) // 40)), len(pdf) - 6, len(pdf) - 30}):
        add(Case(f"truncated-{cut:06d}.pdf", pdf[:cut], "either"))
    for i in range(8):
        add(Case(f"mutated-{i}.pdf", mutate(pdf, rng, 1 + i * 3), "either"))
    add(Case("encrypted.pdf", make_pdf(1, user_password="secret"), "error", "the PDF is encrypted"))
    add(Case("owner-password-only.pdf", make_pdf(1, owner_only=True), "ok"))
    add(Case("header-only.pdf", b"%PDF-1.7\n%%EOF\n", "error", "PDF"))
    add(Case("not-a.pdf", b"<html><body>hello</body></html>", "error", "no %PDF header"))

    docx_ok = make_docx()
    for cut in (10, 100, len(docx_ok) // 3, len(docx_ok) // 2, len(docx_ok) - 22, len(docx_ok) - 1):
        add(Case(f"truncated-{cut:06d}.docx", docx_ok[:cut], "error", ".docx"))
    for i in range(6):
        add(Case(f"mutated-{i}.docx", mutate(docx_ok, rng, 1 + i * 4), "either"))
    add(Case("bomb-document.docx", zip_bomb("word/document.xml", 210 * MB), "error", "(a zip bomb?)"))
    add(Case("bomb-text-part.docx", zip_bomb("word/document.xml", 80 * MB), "error", "text part unpacks"))
    add(Case("bomb-elsewhere.docx", zip_bomb("payload.bin", 100 * MB), "error", "no word/document.xml"))
    add(
        Case(
            "bomb-beside-a-document.docx",
            rezip(docx_ok, add={"word/media/blob.bin": bytes(100 * MB)}),
            "ok",
        )
    )
    body = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * (MAX_DOCX_BLOCKS + 1)
    with zipfile.ZipFile(io.BytesIO(docx_ok)) as zf:
        xml = zf.read("word/document.xml")
    add(
        Case(
            "too-many-paragraphs.docx",
            rezip(docx_ok, {"word/document.xml": xml.replace(b"<w:body>", b"<w:body>" + body)}),
            "error",
            "too many paragraphs",
        )
    )
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
        )
        + b"]>"
    )
    add(
        Case(
            "billion-laughs.docx",
            rezip(docx_ok, {"word/document.xml": xml.replace(b"<?xml", laughs + b"<!--", 1) + b"-->"}),
            "either",
        )
    )
    xxe = xml.replace(b"Section 0", b"&xxe;").replace(
        b"?>", b'?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', 1
    )
    add(Case("external-entity.docx", rezip(docx_ok, {"word/document.xml": xxe}), "either", absent=("root:",)))
    add(Case("broken-xml.docx", rezip(docx_ok, {"word/document.xml": xml[: len(xml) // 2]}), "error", ".docx"))
    add(Case("zip-of-junk.docx", rezip(docx_ok, {"word/document.xml": rng.randbytes(3000)}), "error", ".docx"))

    for suffix in (".docx", ".pdf", ".txt", ".md", ".html"):
        for i in range(5):
            add(Case(f"random-{i}{suffix}", rng.randbytes(rng.randint(1, 20_000)), "either"))
        add(Case(f"zero-bytes{suffix}", b"", "error", "the file is empty"))
    add(Case("whitespace.md", b" \n\t\r\n  ", "error", "the file is empty"))
    add(Case("nul-bytes.txt", bytes(4096), "error", "binary"))
    add(Case("png.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(2000), "error", "binary"))
    add(Case("elf.md", b"\x7fELF\x02\x01\x01" + bytes(9) + rng.randbytes(3000), "error", "binary"))
    add(Case("gzip.txt", zlib.compress(b"hello " * 1000), "error", "binary"))
    add(Case("control-chars.txt", ("ok \x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f text " * 20).encode(), "error"))

    text = "Eastshire County Council – “carers” café report\nSecond line about adult social care.\n"
    for suffix in (".txt", ".md"):
        add(Case(f"utf16le-bom{suffix}", text.encode("utf-16"), "ok"))
        add(Case(f"utf16be-bom{suffix}", b"\xfe\xff" + text.encode("utf-16-be"), "ok"))
        add(Case(f"utf16le-no-bom{suffix}", text.encode("utf-16-le"), "ok"))
        add(Case(f"utf16be-no-bom{suffix}", text.encode("utf-16-be"), "ok"))
        add(Case(f"utf8-bom{suffix}", b"\xef\xbb\xbf" + text.encode(), "ok", absent=("\ufeff",)))
        add(Case(f"cp1252{suffix}", text.encode("cp1252"), "ok"))
        add(Case(f"lone-surrogate{suffix}", b"\xff\xfe" + "ab".encode("utf-16-le") + b"\x00\xd8", "error"))
        add(Case(f"odd-length-utf16{suffix}", text.encode("utf-16") + b"x", "error", "invalid UTF-16"))
    add(Case("mixed-utf8-cp1252.txt", text.encode() + text.encode("cp1252"), "error", "cannot decode"))
    add(Case("latin1.md", "Naïve façade – über".encode("latin-1", errors="replace"), "ok"))
    html_text = f"<html><head><title>Report</title></head><body><h1>Eastshire</h1><p>{text}</p></body></html>"
    add(Case("utf16le-bom.html", html_text.encode("utf-16"), "ok", absent=("\x00",)))
    add(Case("utf16be-bom.html", b"\xfe\xff" + html_text.encode("utf-16-be"), "ok", absent=("\x00", "\ufffd")))
    add(Case("utf16le-no-bom.html", html_text.encode("utf-16-le"), "ok", absent=("\x00", "\ufffd")))
    add(Case("utf8-bom.html", b"\xef\xbb\xbf" + html_text.encode(), "ok", absent=("\ufeff",)))
    add(Case("cp1252.html", html_text.encode("cp1252"), "ok", absent=("\ufffd",)))
    add(
        Case(
            "declared-charset.html",
            ('<meta charset="iso-8859-15">' + html_text.replace("–", "-").replace("“", '"').replace("”", '"')).encode(
                "iso-8859-15"
            ),
            "ok",
            absent=("\ufffd",),
        )
    )
    add(Case("bogus-charset.html", b'<meta charset="x-no-such">\xe9t\xe9 <p>caf\xe9 report text</p>', "ok"))
    add(Case("stray-bad-bytes.html", "<p>café – ok</p>".encode() + b"\xff\xfe\xfa<p>more</p>", "ok"))
    add(Case("lone-surrogate.html", b"\xff\xfe" + "<p>a</p>".encode("utf-16-le") + b"\x00\xd8", "error"))

    deep = MAX_HTML_DEPTH * 10
    add(Case("nested-divs.html", b"<div>" * deep + b"deep text" + b"</div>" * deep, "error", "nested too deeply"))
    add(Case("nested-lists.html", b"<ul><li>" * deep + b"deep text", "error", "nested too deeply"))
    add(Case("nested-font-divs.html", b"<font><div>" * deep + b"deep", "error", "nested too deeply"))
    add(Case("nested-spans.html", b"<span><b>" * deep + b"deep text", "ok"))
    add(Case("nested-ok.html", b"<div>" * 5000 + b"deep text" + b"</div>" * 5000, "ok"))
    add(Case("too-many-elements.html", b"<p>para</p>" * (MAX_HTML_NODES // 2 + 1), "error", "too many elements"))
    add(Case("enormous-ok.html", b"<p>para</p>" * (MAX_HTML_NODES // 3), "ok"))
    add(Case("one-huge-text-node.html", b"<p>" + b"word " * 400_000 + b"</p>", "ok"))
    add(Case("unclosed-tags.html", b"<p><b><i><table><tr><td>cell" * 2000, "ok"))
    add(Case("comment-only.html", b"<!-- " + b"x" * 10_000 + b" -->", "error", "no text could be extracted"))
    script_html = (
        b"<html><head><title>T</title><script>alert('in-head')</script><style>p{color:red}</style></head>"
        b'<body onload="onload_handler()"><p onclick="onclick_handler()">Visible report text</p>'
        b"<script>document.write('script-body')</script><script type='module'>import('module-script')</script>"
        b'<img src=x onerror="onerror_handler()"><a href="javascript:js_url()">a link</a>'
        b"<noscript><script>noscript_script()</script></noscript><svg><script>svg_script()</script></svg>"
        b'<iframe srcdoc="<script>iframe_script()</script>"></iframe><template><script>tpl()</script></template>'
        b"<p>More text</p><script>unclosed_script(); " + b"x" * 500
    )
    add(
        Case(
            "scripts.html",
            script_html,
            "ok",
            absent=(
                "alert",
                "in-head",
                "script-body",
                "module-script",
                "handler",
                "js_url",
                "noscript_script",
                "svg_script",
                "iframe_script",
                "tpl()",
                "unclosed_script",
                "color:red",
            ),
        )  # fmt: skip
    )
    add(Case("only-scripts.html", b"<script>" + b"var a = 1;" * 1000 + b"</script>", "error", "no text"))

    add(Case("long-heading-line.md", b"# x" + b"# " * 500_000 + b"y\n\nbody text\n", "ok"))
    add(Case("many-headings.md", b"".join(b"# h%d\n" % i for i in range(50_000)), "ok"))
    add(Case("no-newlines.txt", b"word " * 1_000_000, "ok"))
    return cases


CASES = build_cases()


def check_extracted(ex: Extracted) -> None:
    assert isinstance(ex.text, str) and ex.text.strip()
    assert isinstance(ex.title, str)
    n = len(ex.text)
    for h in ex.headings:
        assert 0 <= h.start <= h.end <= n
    assert list(ex.pages) == sorted(ex.pages) and all(0 <= p <= n for p in ex.pages)


def check_error(exc: InputError, source: str) -> None:
    message = str(exc)
    assert exc.source == source
    assert message.startswith(f"{source}: ") and exc.reason.strip()
    assert "\n" not in message and len(message) < 400, message
    assert "Traceback" not in message


def test_there_are_over_a_hundred_cases() -> None:
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_hostile_input_is_a_clean_result_or_one_clear_error(case: Case) -> None:
    source = f"/inputs/{case.name}"
    start = time.perf_counter()
    with hang_guard():
        try:
            ex = load_bytes(source, case.data, case.suffix)
        except InputError as exc:
            check_error(exc, source)
            assert case.expect != "ok", f"refused: {exc}"
            assert case.reason in exc.reason
        else:
            check_extracted(ex)
            assert case.expect != "error", f"accepted, expected an error containing {case.reason!r}"
            for bad in case.absent:
                assert bad not in ex.text, f"{bad!r} is in the stored text"
    assert time.perf_counter() - start < PER_FILE_SECONDS


def test_decoded_text_is_right() -> None:
    """Not only clean: UTF-16 with or without a BOM, Windows-1252 and a declared charset decode correctly."""
    by_name = {c.name: c for c in CASES}
    expected = "Eastshire County Council – “carers” café report\nSecond line about adult social care.\n"
    for name in ("utf16le-bom.txt", "utf16be-bom.md", "utf16le-no-bom.txt", "utf16be-no-bom.md", "cp1252.txt"):
        assert load_bytes(name, by_name[name].data, by_name[name].suffix).text == expected, name
    for name in ("utf16be-bom.html", "utf16le-no-bom.html", "cp1252.html"):
        assert "“carers” café" in load_bytes(name, by_name[name].data, ".html").text, name
    assert "café" in load_bytes("x.html", by_name["stray-bad-bytes.html"].data, ".html").text
    scripts = load_bytes("s.html", by_name["scripts.html"].data, ".html").text
    assert scripts.splitlines()[0] == "Visible report text" and "More text" in scripts


# --- through the CLI, against a store that must not change -------------------------------------------


@pytest.fixture
def store(tmp_path: Path, demo_dir: Path) -> Path:
    path = tmp_path / "store"
    assert run_cli("ingest", str(demo_dir / "wyvernshire-news.txt"), "--store", str(path)).exit_code == 0
    return path


def failing_cases() -> list[Case]:
    out = []
    for case in CASES:
        try:
            load_bytes(case.name, case.data, case.suffix)
        except InputError:
            out.append(case)
    return out


def test_every_failing_input_through_the_cli_is_one_line_and_changes_nothing(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    failing = failing_cases()
    assert len(failing) >= 60
    for case in failing:
        (bad / case.name).write_bytes(case.data)
    before = store_snapshot(store)
    with hang_guard(300):
        result = run_cli("ingest", str(bad), "--json", "--store", str(store))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)
    assert report["failed"] == len(failing) and report["added"] == report["updated"] == 0
    for r in report["results"]:
        assert r["status"] == "failed" and r["error"].startswith(f"{r['source']}: ")
        assert "\n" not in r["error"]
    assert store_snapshot(store) == before

    plain = run_cli("ingest", str(bad / "encrypted.pdf"), str(bad / "nested-divs.html"), "--store", str(store))
    assert plain.exit_code == 1
    assert [ln.split(": ", 2)[-1] for ln in plain.stderr.splitlines() if ln.startswith("error:")] == [
        "the PDF is encrypted (password protected)",
        f"HTML is nested too deeply (over {MAX_HTML_DEPTH:,} levels of blocks)",
    ]
    assert store_snapshot(store) == before


def test_clean_hostile_inputs_are_stored_without_their_scripts(store: Path, tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    names = ["scripts.html", "utf16le-no-bom.html", "cp1252.txt", "latin1.md", "nested-ok.html"]
    by_name = {c.name: c for c in CASES}
    for name in names:
        (good / name).write_bytes(by_name[name].data)
    result = run_cli("ingest", str(good), "--json", "--store", str(store))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == len(names)
    scripts_id = next(r["doc_id"] for r in report["results"] if r["source"].endswith("scripts.html"))
    shown = run_cli("show", scripts_id, "--text", "--store", str(store))
    assert "Visible report text" in shown.stdout
    for bad in by_name["scripts.html"].absent:
        assert bad not in shown.stdout


# --- size limits ---------------------------------------------------------------------------------


def big_text(size: int) -> bytes:
    rng = random.Random(size)
    paragraph_count = size // 400 + 1
    paragraphs = [(f"Part {i // 40}\n\n" if i % 40 == 0 else "") + prose(rng, 60) for i in range(paragraph_count)]
    return "\n\n".join(paragraphs).encode()[:size]


def test_a_file_over_the_default_limit_is_refused_at_once(store: Path, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    limit = Settings.from_env().max_file_bytes
    assert limit == 50 * MB
    with huge.open("wb") as fh:
        for _ in range(50):
            fh.write(big_text(MB))
        fh.write(b"x")
    before = store_snapshot(store)
    start = time.perf_counter()
    result = run_cli("ingest", str(huge), "--store", str(store))
    assert time.perf_counter() - start < 10
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[0] == (
        f"error: {huge.resolve()}: the file is {50 * MB + 1:,} bytes, over the {50 * MB:,}-byte limit"
    )
    assert store_snapshot(store) == before


def test_a_five_megabyte_text_is_ingested_in_bounded_time(store: Path, tmp_path: Path) -> None:
    path = tmp_path / "five.txt"
    path.write_bytes(big_text(5 * MB))
    start = time.perf_counter()
    with hang_guard(300):
        result = run_cli("ingest", str(path), "--json", "--store", str(store), env={"CQC_ASSISTANT_MAX_FILE_MB": "6"})
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"][0]["chunks"] > 1000
    assert elapsed < 120, f"{elapsed:.0f}s"
    over = run_cli("ingest", str(path), "--store", str(store), env={"CQC_ASSISTANT_MAX_FILE_MB": "4"})
    assert over.exit_code == 1 and "over the 4,194,304-byte limit" in over.stderr


# --- property-based fuzzing of each loader ------------------------------------------------------------

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEEDS = {
    ".txt": "Eastshire County Council\nAdult social care news. Carers’ café – 2024.\n".encode(),
    ".md": b"# Eastshire\n\n## Carers\n\nSupport for carers improved.\n\n### Score: 3 ###\n",
    ".html": b"<html><head><title>T</title><script>x()</script></head><body><h1>Eastshire</h1>"
    b"<div><p>Carers <b>support</b></p><ul><li>one</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
    b"</div></body></html>",
    ".pdf": make_pdf(2),
    ".docx": make_docx(6),
}


def load_or_error(data: bytes, suffix: str) -> None:
    """Only InputError may escape a loader; a result has text that offsets can index."""
    try:
        ex = load_bytes(f"fuzz{suffix}", data, suffix)
    except InputError as exc:
        check_error(exc, f"fuzz{suffix}")
    else:
        check_extracted(ex)


@st.composite
def mutations(draw: st.DrawFn, seed: bytes) -> bytes:
    """A valid file with bytes flipped, inserted, deleted, or cut off."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 256))]
        elif op == "truncate":
            del data[pos:]
        elif op == "duplicate":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 512))]
    return bytes(data)


@pytest.mark.parametrize("suffix", list(SEEDS))
@FUZZ
@given(data=st.binary(max_size=4096))
def test_fuzz_random_bytes(suffix: str, data: bytes) -> None:
    load_or_error(data, suffix)


@pytest.mark.parametrize("suffix", list(SEEDS))
@FUZZ
@given(data=st.data())
def test_fuzz_mutated_valid_files(suffix: str, data: st.DataObject) -> None:
    load_or_error(data.draw(mutations(SEEDS[suffix])), suffix)


@FUZZ
@given(text=st.text(max_size=2000), encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be"]))
def test_fuzz_text_in_any_encoding(text: str, encoding: str) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # lone surrogates
        return
    for suffix in (".txt", ".md", ".html"):
        load_or_error(data, suffix)
