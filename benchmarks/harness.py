"""What every benchmark of the page shares: a server to measure, its processes' CPU and
memory read from /proc, and the figures' formatting.

A benchmark script starts `streamlit run` with `serving()`, drives it (Chromium through
Playwright, or protocol-level sessions), reads `cpu_seconds()` / `rss_mib()` of the server
with the server idle before and after (`settle()`), and prints its figures with `table()` and
`fmt()`; `finish()` prints the report and writes the JSON asked for with `--out`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tests import browser

TICK = os.sysconf("SC_CLK_TCK")
VIEWPORT = {"width": 1400, "height": 1000}  # a laptop's window: the plane at its full size


# ---------------------------------------------------------------- the server's processes


def descendants(pid: int) -> list[int]:
    """pid and every process below it: torch or a training job may fork workers."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def cpu_of(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14, 15 of proc(5)
    return total / TICK


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads, live and ended) and its descendants."""
    return cpu_of(descendants(pid))


def client_cpu_seconds(server_pid: int) -> float:
    """This benchmark, Playwright's driver and Chromium: everything we run but the server."""
    server = set(descendants(server_pid))
    return cpu_of([p for p in descendants(os.getpid()) if p not in server])


def rss_mib(pid: int) -> float:
    """Resident memory of pid and its descendants (a school's replicas under its launcher)."""
    total = 0
    for p in descendants(pid):
        try:
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    if not total:
        raise RuntimeError(f"no VmRSS for pid {pid}")
    return total / 1024


def thread_runtime(pid: int) -> float:
    """Seconds on CPU of the live threads of pid and its descendants, to the nanosecond."""
    total = 0
    for p in descendants(pid):
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                total += int(Path(f"/proc/{p}/task/{t}/schedstat").read_text().split()[0])
            except OSError:
                continue
    return total / 1e9


async def idle_rate(pid: int, seconds: float = 5.0) -> float:
    """The server's CPU seconds per second with nothing to do: Streamlit polls its config and
    secrets files every 0.2 s. Read from schedstat, since clock ticks are too coarse for it;
    the threads that poll live as long as the server, so none is missed."""
    await settle(pid)
    before = thread_runtime(pid)
    await asyncio.sleep(seconds)
    return (thread_runtime(pid) - before) / seconds


async def settle(pid: int, quiet: float = 0.5, limit: float = 60.0) -> float:
    """Wait until the server spends at most one clock tick in `quiet` seconds; its CPU then."""
    return (await settled(pid, quiet, limit))[0]


async def settled(pid: int, quiet: float = 0.5, limit: float = 60.0) -> tuple[float, float]:
    """settle(), and the time.monotonic() of the reading."""
    deadline = time.monotonic() + limit
    last = cpu_seconds(pid)
    while True:
        await asyncio.sleep(quiet)
        now, at = cpu_seconds(pid), time.monotonic()
        if now - last <= 1.0 / TICK or at > deadline:
            return now, at
        last = now


# ---------------------------------------------------------------- the server


@contextmanager
def serving(env: dict, script: str = "app.py") -> Iterator[browser.Server]:
    """A Streamlit server whose log is shown if anything fails or it logged a traceback."""
    with browser.streamlit_process(env, script=script) as server:
        try:
            yield server
        except BaseException:
            print(f"\n{script} server log (tail):\n{server.log_text()[-3000:]}", file=sys.stderr)
            raise
        check_log(server, script)


@contextmanager
def serving_school(env: dict, replicas: int) -> Iterator[browser.Server]:
    """`python -m deploy.school`: `replicas` servers behind HAProxy, as one Server whose pid is
    the school's launcher, so that its descendants (every replica and the proxy) are what
    the server's CPU is read from, and whose url is the proxy's."""
    port = browser.free_port()
    first = next(p for p in range(20_000, 40_000, 11) if all(_free(p + i) for i in range(replicas)))
    log = tempfile.TemporaryFile()
    command = [sys.executable, "-m", "deploy.school", "--replicas", str(replicas)]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--first-port", str(first)],
        cwd=browser.REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    try:
        while b"The school is at" not in _read(log):
            if proc.poll() is not None or time.perf_counter() - start > 300:
                raise RuntimeError(f"the school did not come up:\n{_read(log)[-3000:].decode()}")
            time.sleep(0.2)
        healthy_at = time.perf_counter()
        server = browser.Server(url, proc.pid, healthy_at - start, healthy_at, log)
        yield server
        check_log(server, "deploy.school")
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # the launcher stops its replicas and the proxy
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _read(log) -> bytes:
    log.flush()
    log.seek(0)
    return log.read()


def check_log(server: browser.Server, name: str) -> None:
    """A traceback in the server's log invalidates the figures: say so, loudly."""
    text = server.log_text()
    if "Traceback" in text or re.search(r"\bERROR\b", text):
        tail = text[text.find("Traceback") :][-2000:] if "Traceback" in text else text[-2000:]
        print(f"\nWARNING: the {name} server logged errors:\n{tail}\n", file=sys.stderr)


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def fmt(value, spec: str = ".1f", unit: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def verdict(value, target, smaller_is_better: bool = True) -> str:
    if value is None or target is None:
        return ""
    return "ok" if (value <= target if smaller_is_better else value >= target) else "MISSED"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A Markdown table, its columns padded so the text reads as a table too; the columns in
    `right` (numbers) aligned right."""
    cells = [list(header), *([str(c) for c in row] for row in rows)]
    widths = [max(3, *(len(row[i]) for row in cells)) for i in range(len(header))]
    rule = [("-" * (w - 1) + ":") if i in right else "-" * w for i, w in enumerate(widths)]

    def line(row) -> str:
        padded = (
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    return "\n".join([line(cells[0]), line(rule), *(line(r) for r in cells[1:])])


def session_counts(text: str) -> list[int]:
    counts = sorted({int(v) for v in text.split(",") if v.strip()})
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError("session counts are positive integers, e.g. 1,8,16")
    return counts


def finish(results: dict, text: str, out: Path | None) -> int:
    """Print a benchmark's report and, with --out, write its figures as JSON; the exit status."""
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
    return 0
