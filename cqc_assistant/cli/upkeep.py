"""The commands around the store: check (and repair) it, read the audit log, start the web app."""

from __future__ import annotations

import sys

import click

from .common import cli, echo_lines, emit_json, friendly, json_option, open_library, store_option
from .output import audit_lines, check_lines, correction_lines


@cli.command()
@click.option(
    "--repair",
    is_flag=True,
    help="First finish what a killed ingest or remove left (under the writer lock) and drop vectors "
    "no chunk owns; then check that nothing unfinished remains.",
)
@store_option
@json_option
@friendly
def check(repair: bool, store: str | None, as_json: bool) -> None:
    """Check that the catalogue, the lexical index and the vectors agree; exit 1 on any problem.

    Read-only unless --repair. It holds the writer lock while it reads, so it reports a running
    ingest instead of racing it.

    Example:

        cqc-assistant check --repair --json
    """
    from ..config import Settings
    from ..consistency import check as run_check
    from ..consistency import repair as run_repair
    from ..consistency import summary
    from ..errors import StoreError

    settings = Settings.from_env(store=store)
    if not (settings.home / "catalogue.sqlite3").is_file():
        raise StoreError(f"no library at {settings.home} (nothing has been ingested there)")
    lib = open_library(store)
    try:
        repaired = run_repair(lib) if repair else []
        with lib.writer(recover=False):
            problems = run_check(lib, settled=repair)
            counts = summary(lib)
    finally:
        lib.close()
    if as_json:
        emit_json({"ok": not problems, "problems": problems, "repaired": repaired, "counts": counts})
    else:
        echo_lines(check_lines(repaired, problems, counts))
    if problems:
        sys.exit(1)


@cli.command()
@click.option("--since", help="Only answers given on or after this UTC date (YYYY-MM-DD).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV, one row per answer.")
@click.option(
    "--corrections",
    "corrections",
    is_flag=True,
    help="List the corrections users made to documents' detected facts instead of the answers.",
)
@store_option
@json_option
@friendly
def audit(since: str | None, as_csv: bool, corrections: bool, store: str | None, as_json: bool) -> None:
    """List the answers given: when, the question and filters, the answer, what it cited, the library version.

    Entries older than CQC_ASSISTANT_AUDIT_RETENTION_DAYS (default 365) are pruned when the log is opened.

    Example:

        cqc-assistant audit --since 2025-06-01 --csv > answers.csv
    """
    import csv

    from ..audit import CSV_FIELDS, FILE_NAME, AuditLog, parse_since
    from ..config import Settings

    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    if since is not None:
        parse_since(since)
    settings = Settings.from_env(store=store)
    if corrections:
        if as_csv:
            raise click.UsageError("--csv lists answers; use --json with --corrections")
        edits = []
        if (settings.home / FILE_NAME).is_file():
            with AuditLog.for_settings(settings) as log:
                edits = log.corrections(since)
        if as_json:
            emit_json([edit.to_json() for edit in edits])
        else:
            echo_lines(correction_lines(edits, since))
        return
    if (settings.home / FILE_NAME).is_file():
        with AuditLog.for_settings(settings) as log:
            entries = log.entries(since)
    else:
        entries = []
    if as_json:
        emit_json([e.to_json() for e in entries])
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(CSV_FIELDS), lineterminator="\n")
        writer.writeheader()
        for e in entries:
            writer.writerow(e.to_row())
    else:
        echo_lines(audit_lines(entries, since))


@cli.command()
@store_option
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: Streamlit's, 8501).")
@click.option("--address", default=None, help="Address to listen on (default: Streamlit's).")
def ui(store: str | None, port: int | None, address: str | None) -> None:
    """Start the web app (Streamlit). An empty store is filled with the demo documents on first start.

    Example:

        cqc-assistant ui --store ~/cqc-store --port 8501
    """
    import os
    import subprocess
    from pathlib import Path

    app = Path(__file__).resolve().parent.parent / "app" / "main.py"
    # Streamlit's `streamlit run`, in a process that has begun loading the model and the store (app/serve.py)
    cmd = [sys.executable, "-m", "cqc_assistant.app.serve", "run", str(app), "--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]  # no "Deploy" button
    if port is not None:
        cmd += ["--server.port", str(port)]
    if address:
        cmd += ["--server.address", address]
    env = dict(os.environ)
    if store:
        env["CQC_ASSISTANT_HOME"] = str(Path(store).expanduser().resolve())
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
