"""What every benchmark shares: a server to measure, its processes' CPU and memory read from
/proc, and its report.

A benchmark script starts `streamlit run` with `serving()` (deploy/launch.py starts it), drives
it (Chromium through Playwright, or protocol-level sessions), reads the server's CPU over each
phase with `usage()` (the server settled before and after, net of its idle rate) and its
memory with `rss_mib()`, sums up latencies with `spread()`, and ends with `report()`: its
title, a table of its figures (`judged()` rows against a target), the notes under it, and the
JSON asked for with `--out`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deploy import launch

TICK = os.sysconf("SC_CLK_TCK")
ERROR_LOG = re.compile(r"Traceback|\bERROR\b")
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


async def idle_now(pid: int) -> float:
    """The server's idle CPU seconds per second with the sessions it has now: the median of
    three short readings, since one reading can catch a stray collection or timer."""
    return statistics.median([await idle_rate(pid, 2.0) for _ in range(3)])


def own_cpu_seconds() -> float:
    """This process's CPU: a protocol-level client's whole cost."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@dataclass
class Usage:
    """The server's CPU over one phase, read with the server settled before and after."""

    seconds: float = 0.0  # the phase's wall time
    server_s: float = 0.0  # the server's utime + stime, settled to settled
    settled_s: float = 0.0  # time between the two settled readings
    client_s: float = 0.0  # the client side's CPU (client_cpu_seconds, or own_cpu_seconds)

    def figures(self, idle: float, **per: int) -> dict:
        """The phase's CPU figures, the server's net of `idle` (CPU seconds per second) over
        the settled time; and for each unit=count in `per`, the server's CPU per unit (net and
        raw; None for none)."""
        raw_ms = 1000 * self.server_s
        net_ms = raw_ms - 1000 * idle * self.settled_s
        figures = {
            "seconds": self.seconds,
            "server_cpu_raw_ms": raw_ms,
            "server_cpu_ms": net_ms,
            "server_cpu_share": self.server_s / self.seconds,
            "client_cpu_share": self.client_s / self.seconds,
        }
        for unit, count in per.items():
            figures[f"cpu_per_{unit}_ms"] = net_ms / count if count else None
            figures[f"cpu_per_{unit}_raw_ms"] = raw_ms / count if count else None
        return figures


@asynccontextmanager
async def usage(pid: int, client: Callable[[], float] | None = None) -> AsyncIterator[Usage]:
    """Measure the server's CPU (pid and its descendants) over the block, settled before and
    after; and the client's, by default everything this script runs but the server."""
    client = client or (lambda: client_cpu_seconds(pid))
    cpu0, t0 = await settled(pid)
    client0, start = client(), time.perf_counter()
    measured = Usage()
    yield measured
    measured.seconds = time.perf_counter() - start
    measured.client_s = client() - client0
    cpu1, t1 = await settled(pid)
    measured.server_s, measured.settled_s = cpu1 - cpu0, t1 - t0


async def grow(
    pid: int, counts: Sequence[int], sessions: list, open_more
) -> AsyncIterator[tuple[list, dict | None]]:
    """A class growing through `counts`, ascending, from the one session in `sessions`: for
    each count the sessions missing, opened at once by `open_more(k)` (-> the new sessions and
    figures of their opening), join `sessions`, and the server's RSS is read against its RSS
    with one session, read just before the class first grew. Yields (the first n sessions,
    that opening's figures with the RSS, or None where none opened)."""
    rss_one = None
    for n in sorted(counts):
        opening = None
        if n > len(sessions):
            rss_one = rss_one or rss_mib(pid)
            more, opening = await open_more(n - len(sessions))
            sessions += more
            rss = rss_mib(pid)
            opening |= {"sessions": n, "pages": len(more), "rss_one_mib": rss_one, "rss_mib": rss}
            opening["rss_per_extra_session_mib"] = (rss - rss_one) / (n - 1)
        yield sessions[:n], opening


def spread(values: list[float], name: str) -> dict:
    """Latencies in ms under `<name>_ms`, with their p50, p95 and max."""
    return {
        f"{name}_ms": values,
        f"{name}_p50_ms": percentile(values, 50),
        f"{name}_p95_ms": percentile(values, 95),
        f"{name}_max_ms": max(values) if values else None,
    }


# ---------------------------------------------------------------- the server


@contextmanager
def serving(env: dict, script: str = "app.py") -> Iterator[launch.Server]:
    """A Streamlit server whose log is shown if anything fails or it logged a traceback."""
    with launch.streamlit_process(env, script=script) as server:
        try:
            yield server
        except BaseException:
            print(f"\n{script} server log (tail):\n{server.log_text()[-3000:]}", file=sys.stderr)
            raise
        check_log(server, script)


@contextmanager
def serving_school(env: dict, replicas: int) -> Iterator[launch.Server]:
    """`python -m deploy.school`: `replicas` servers behind HAProxy, as one Server whose pid is
    the school's launcher, so that its descendants (every replica and the proxy) are what
    the server's CPU is read from, and whose url is the proxy's."""
    port = launch.free_port()
    first = next(p for p in range(20_000, 40_000, 11) if all(_free(p + i) for i in range(replicas)))
    log = tempfile.TemporaryFile()
    command = [sys.executable, "-m", "deploy.school", "--replicas", str(replicas)]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--first-port", str(first),
         "--scheduler-port", str(launch.free_port())],
        cwd=launch.REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    try:
        while b"The school is at" not in _read(log):
            if proc.poll() is not None or time.perf_counter() - start > 300:
                raise RuntimeError(f"the school did not come up:\n{_read(log)[-3000:].decode()}")
            time.sleep(0.2)
        healthy_at = time.perf_counter()
        server = launch.Server(url, proc.pid, healthy_at - start, healthy_at, log)
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


def check_log(server: launch.Server, name: str) -> None:
    """A traceback in the server's log invalidates the figures: say so, loudly."""
    text = server.log_text()
    if ERROR_LOG.search(text):
        tail = text[text.find("Traceback") :][-2000:] if "Traceback" in text else text[-2000:]
        print(f"\nWARNING: the {name} server logged errors:\n{tail}\n", file=sys.stderr)


def log_errors(text: str) -> dict:
    """Whether a server's log shows an error, and if so its tail from the first traceback."""
    if not ERROR_LOG.search(text):
        return {"server_log_errors": False}
    at = text.find("Traceback")
    return {
        "server_log_errors": True,
        "server_log_tail": text[at:][-3000:] if at >= 0 else text[-3000:],
    }


def machine(**versions: str) -> dict:
    """What the figures were measured on: cores, Python and Streamlit, and `versions`."""
    import streamlit

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "streamlit": streamlit.__version__,
        **versions,
    }


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


def judged(
    measure: str, shown: str, value, target, unit: str = "", bound: str = "≤"
) -> tuple[str, str, str, str]:
    """A row of a table of targets: the measure, its value as shown, the target (`≤ 20 ms`),
    and whether the value meets it."""
    if target is None:
        return measure, shown, "", ""
    return measure, shown, f"{bound} {target:g}{unit}", verdict(value, target)


def p50_p95(figures: dict, name: str, with_max: bool = False) -> str:
    """`12 / 34 ms`: the p50 and p95 (and max) of the latencies `spread()` named `name`."""
    keys = ["p50", "p95", "max"] if with_max else ["p50", "p95"]
    return " / ".join(fmt(figures[f"{name}_{k}_ms"], ".0f") for k in keys) + " ms"


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


def parser(prog: str, doc: str, options: dict[str, tuple]) -> argparse.ArgumentParser:
    """A benchmark's command line: `options` maps each option to (type, default, help[, more
    of add_argument's keywords]); `--out` (the figures as JSON) comes with every one."""
    p = argparse.ArgumentParser(
        prog=prog,
        description=doc.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for name, (kind, default, text, *more) in options.items():
        p.add_argument(name, type=kind, default=default, help=text, **(more[0] if more else {}))
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    return p


def finish(results, text: str, out: Path | None) -> int:
    """Print a benchmark's report and, with --out, write its figures as JSON; the exit status."""
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def report(
    results,
    header: Sequence[str],
    rows: Sequence[Sequence],
    notes: Sequence[str] = (),
    *,
    title: str | None = None,
    right: Sequence[int] = (),
    out: Path | None = None,
) -> int:
    """A benchmark's report: its title (a Markdown heading), the table of its figures, the
    notes under it, one a line; printed, and with `out` (--out) `results` written there as
    JSON. The exit status, 0."""
    parts = [f"## {title}", ""] if title else []
    parts.append(table(header, rows, right))
    if notes:
        parts += ["", *notes]
    return finish(results, "\n".join(parts), out)
