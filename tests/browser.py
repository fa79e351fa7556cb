"""A real Streamlit server and headless Chromium, for end-to-end tests and the app benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running `streamlit run`: where it answers, its process, and its log so far."""

    url: str
    pid: int  # the server's Python process (a session leader: its own process group)
    healthy_seconds: float  # process start to the health check's first answer
    healthy_at: float  # time.perf_counter() at that answer
    _log: IO[bytes]

    def log_text(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")


@contextmanager
def streamlit_process(
    env: dict | None = None, timeout: float = 120, script: str | Path = "app.py"
) -> Iterator[Server]:
    """Start `streamlit run <script>` (relative to the repository) on a free loopback port."""
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / script),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.perf_counter() - start > timeout:
                log.seek(0)
                raise RuntimeError(f"streamlit did not come up:\n{log.read().decode()[-3000:]}")
            time.sleep(0.1)
        healthy_at = time.perf_counter()
        yield Server(url, proc.pid, healthy_at - start, healthy_at, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@contextmanager
def streamlit_server(env: dict | None = None, timeout: float = 120):
    """Start `streamlit run app.py` on a free loopback port; yield (url, seconds to healthy)."""
    with streamlit_process(env, timeout) as server:
        yield server.url, server.healthy_seconds


def launch(playwright):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"no Chromium at {CHROMIUM}: run `apt-get install -y chromium` (or set CHROMIUM)"
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def isolated_points(mu, count: int = 1) -> list[int]:
    """Rows whose codes lie farthest from any other, within |z| < 2 (well inside the plot), most
    isolated first: a click on one of them lands on that point alone."""
    import numpy as np

    inner = np.where(np.abs(mu).max(axis=1) < 2.0)[0][:3000]
    d = np.linalg.norm(mu[inner, None, :] - mu[None, :, :], axis=-1)
    d[np.arange(len(inner)), inner] = np.inf
    return [int(r) for r in inner[np.argsort(-d.min(axis=1))[:count]]]
