"""Servers on loopback for the tests and the benchmarks: `chroma run` and the Streamlit app, each started on a
free port, waited for until it answers, and stopped. (Benchmarks import it from here: tests never import bench.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "cqc_assistant" / "app" / "main.py"
CHROMA = Path(sys.executable).with_name("chroma")
Process = subprocess.Popen[bytes]


class ServerError(RuntimeError):
    """A server exited or never answered; the message ends with its log's tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_chroma(path: Path, log: Path, timeout: float = 120) -> tuple[Process, str]:
    """`chroma run --path PATH` on a free loopback port, once its heartbeat answers."""
    port = free_port()
    cmd = [str(CHROMA), "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"]
    return _start("chroma run", cmd, log, f"http://127.0.0.1:{port}", "/api/v2/heartbeat", timeout)


def start_app(home: Path, embedder: str, log: Path, timeout: float = 120, *, seed: bool = False) -> tuple[Process, str]:
    """The Streamlit app on a free loopback port over the store `home` (demo seeding only with `seed`), once
    it is healthy; started as `cqc-assistant ui` starts it (app/serve.py)."""
    port = free_port()
    env = dict(
        os.environ,
        CQC_ASSISTANT_HOME=str(home),
        CQC_ASSISTANT_EMBEDDER=embedder,
        CQC_ASSISTANT_SEED_DEMO=str(int(seed)),
    )
    env.pop("CQC_ASSISTANT_APP_FACTORY", None)
    cmd = [
        sys.executable, "-m", "cqc_assistant.app.serve", "run", str(APP), "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    return _start("streamlit", cmd, log, f"http://127.0.0.1:{port}", "/_stcore/health", timeout, env, home.parent)


def stop(proc: Process, timeout: float = 15) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _start(
    what: str,
    cmd: list[str],
    log: Path,
    url: str,
    probe: str,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[Process, str]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise ServerError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url + probe, timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop(proc)
            raise ServerError(f"{what} did not answer within {timeout:g} s:\n{_tail(log)}")
        time.sleep(0.3)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]
