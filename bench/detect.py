"""Field-by-field accuracy of detection against bench/detect_truth.json (written by reading the documents).

Fields per document: council, kind, date (with its precision), rating, percent and each of the nine QS
scores (a score the document does not state is expected absent). Prints every miss, then the totals:
fields right, stated scores found, and scores reported that the document does not state.

    .venv/bin/python bench/detect.py                       # the .txt files as they are
    .venv/bin/python bench/detect.py --formats txt,html,docx,pdf   # also rendered as HTML, DOCX and PDF
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
CORPUS = ROOT.parent / "shared" / "corpus"
TRUTH = ROOT / "bench" / "detect_truth.json"
FIELDS = ("council", "kind", "date", "rating", "percent", *(f"qs{n}" for n in range(1, 10)))


def detect_as(path: Path, fmt: str) -> Any:
    from render import RENDERERS

    from cqc_assistant.ingest.detect import detect
    from cqc_assistant.ingest.loaders import load_bytes

    raw = path.read_bytes()
    if fmt == "txt":
        data, suffix = raw, ".txt"
    else:
        data, suffix = RENDERERS[fmt](raw.decode("utf-8")), f".{fmt}"
    ex = load_bytes(f"{path.stem}{suffix}", data, suffix)
    meta, _ = detect(ex, f"{path.stem}{suffix}")
    return meta, ex.text


def compare(truth: dict[str, Any], meta: Any) -> dict[str, tuple[bool, Any, Any]]:
    """field -> (right, expected, got)."""
    out: dict[str, tuple[bool, Any, Any]] = {}
    want_c, got_c = sorted(truth["councils"]), sorted(meta.councils)
    out["council"] = (want_c == got_c, want_c, got_c)
    out["kind"] = (truth["kind"] == meta.kind, truth["kind"], meta.kind)
    want_d = (truth["date"], truth["date_precision"])
    got_d = (meta.date, meta.date_precision)
    out["date"] = (want_d == got_d, want_d, got_d)
    out["rating"] = (truth["rating"] == meta.rating, truth["rating"], meta.rating)
    out["percent"] = (truth["percent"] == meta.percent, truth["percent"], meta.percent)
    for n in range(1, 10):
        want = truth["scores"].get(str(n))
        got = meta.scores.get(n)
        out[f"qs{n}"] = (want == got, want, got)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--formats", default="txt", help="comma-separated: txt, html, docx, pdf")
    ap.add_argument("--truth", type=Path, default=TRUTH)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--quiet", action="store_true", help="totals only")
    args = ap.parse_args()
    truth = {k: v for k, v in json.loads(args.truth.read_text(encoding="utf-8")).items() if not k.startswith("_")}
    exit_code = 0
    for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
        right = total = 0
        per_field: Counter[str] = Counter()
        stated = found = extra = 0
        spans_bad = 0
        for rel, want in truth.items():
            path = args.corpus / rel
            if not path.is_file():
                print(f"[{fmt}] missing file {path}")
                exit_code = 1
                continue
            meta, text = detect_as(path, fmt)
            for field, (ok, exp, got) in compare(want, meta).items():
                total += 1
                right += ok
                per_field[field] += not ok
                if field.startswith("qs"):
                    stated += exp is not None
                    found += ok and exp is not None
                    extra += exp is None and got is not None
                if not ok and not args.quiet:
                    print(f"MISS [{fmt}] {rel} {field}: expected {exp!r}, got {got!r}")
            for st in getattr(meta, "score_statements", ()):  # each stated score's passage must name a digit
                if str(st.score) not in text[st.start : st.end]:
                    spans_bad += 1
                    if not args.quiet:
                        print(f"SPAN [{fmt}] {rel} QS{st.qs}: {text[st.start : st.end]!r} does not state {st.score}")
        misses = ", ".join(f"{f} {n}" for f, n in per_field.items() if n) or "none"
        print(
            f"[{fmt}] fields right {right}/{total} ({100 * right / total:.1f}%); "
            f"stated scores found {found}/{stated} ({100 * found / max(stated, 1):.1f}%); "
            f"scores reported that the documents do not state: {extra}; bad score passages: {spans_bad}; "
            f"misses by field: {misses}"
        )
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
