"""A class on one server without browsers: simulated sessions that speak Streamlit's protocol.

    python -m benchmarks.ws_load [--sessions 1,16,30] [--commits 30] [--replicas N] [--out FILE]
    quick (~1 min): --sessions 1,4 --commits 5

benchmarks/class_load.py drives real Chromium pages, and on the 2-core machine Chromium takes
the cores the server needs: its 16-session latencies measure the browsers. Here each student
is one WebSocket on /_stcore/stream that says what the real frontend says, as protobuf
BackMsgs, and reads the ForwardMsgs it gets back (benchmarks/protocol.py: how it connects,
commits and times a commit), so N sessions cost the client almost nothing and the latencies
are the server's. Every 0.5-1 s (jittered, like a student settling on a point) each session
commits a random z as the view's `setTriggerValue("commit", [z1, z2])` does.

Reported per session count: p50/p95 of commit-to-confirmed (the target: 16 sessions, p95 <=
1 s), server CPU per commit (utime + stime from /proc, net of the server's idle polling, read
with the server settled before and after, as class_load does), each session's commit rate,
and this client's own CPU. Correctness: every confirmed z must be the z sent (a rerun that
shows another z, or finishes without the element, is counted and fails the run), and no
delta may carry an exception element or an error alert; the server's log must be clean.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time

import websockets

from benchmarks import harness
from benchmarks.harness import fmt, progress
from benchmarks.protocol import COMMIT_WINDOW, SimSession

TARGET_P95_MS = {16: 1000.0}


async def open_sessions(url: str, pid: int, count: int, first: int, seed: int) -> tuple:
    """`count` sessions connecting at once; the server's CPU per first run."""
    async with harness.usage(pid, harness.own_cpu_seconds) as used:
        start = time.perf_counter()
        sessions = [
            SimSession(url, first + i, random.Random(seed * 1000 + first + i)) for i in range(count)
        ]
        await asyncio.gather(*(s.open() for s in sessions))
        elapsed = time.perf_counter() - start
    return sessions, {
        "opened_s": elapsed,
        "ready_s_median": statistics.median(s.ready_s for s in sessions),
        "server_cpu_per_first_run_ms": 1000 * used.server_s / count,
    }


async def commit_phase(
    pid: int, sessions: list[SimSession], commits: int, gap: tuple[float, float]
) -> dict:
    """Every session commits `commits` times, one every gap[0]-gap[1] s (uniform), with a
    random start; the next commit waits for the previous one's answer if that is later.
    Server CPU over the phase is net of its idle rate, read with these sessions open before
    and after the phase (their mean)."""
    first = [len(s.commits) for s in sessions]

    async def student(s: SimSession) -> None:
        await asyncio.sleep(s.rng.uniform(0, gap[1]))
        for i in range(commits):
            due = time.perf_counter() + s.rng.uniform(*gap)
            await s.commit(s.next_z())
            if i < commits - 1:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))

    idle_before = await harness.idle_now(pid)
    async with harness.usage(pid, harness.own_cpu_seconds) as used:
        rss0 = harness.rss_mib(pid)
        await asyncio.gather(*(student(s) for s in sessions))
    idle_after = await harness.idle_now(pid)
    done = [c for s, n in zip(sessions, first, strict=True) for c in s.commits[n:]]
    # Each session's commits per second, first send to last send: the rate it kept up,
    # slower than 1 / mean gap only where answers came later than the next commit was due.
    mine = [s.commits[n:] for s, n in zip(sessions, first, strict=True)]
    rates = [(len(c) - 1) / (c[-1].sent - c[0].sent) for c in mine if len(c) > 1]
    wrong = [c for c in done if c.wrong_z or (c.confirmed_ms is None and c.finished_ms)]
    return {
        "sessions": len(sessions),
        "commits": len(done),
        **harness.spread([c.confirmed_ms for c in done if c.confirmed_ms is not None], "latency"),
        **harness.spread([c.finished_ms for c in done if c.finished_ms is not None], "finished"),
        "unanswered": sum(c.finished_ms is None and c.confirmed_ms is None for c in done),
        "wrong_z": len(wrong),
        "wrong_z_examples": [[list(c.z), c.wrong_z, c.status] for c in wrong[:5]],
        "statuses": sorted({c.status for c in done if c.status}),
        "idle_cpu_ms_per_s": [1000 * idle_before, 1000 * idle_after],
        **used.figures((idle_before + idle_after) / 2, commit=len(done)),
        "client_cpu_per_commit_ms": 1000 * used.client_s / len(done) if done else None,
        "commit_rate_per_s": {
            "median": statistics.median(rates) if rates else None,
            "min": min(rates, default=None),
            "max": max(rates, default=None),
        },
        "rss_before_mib": rss0,
        "rss_after_mib": harness.rss_mib(pid),
    }


async def measure(server, args, results: dict) -> list[SimSession]:
    """One session warms the server up, outside every measure (first run's imports, caches,
    the payload built once); then a commit phase at each count of sessions, the class growing
    between phases; last, every session reruns its whole page once: the other sections must
    still draw without an error on the state the commits left."""
    pid, sessions = server.pid, []

    async def open_more(count: int) -> tuple[list[SimSession], dict]:
        more, opening = await open_sessions(server.url, pid, count, len(sessions), args.seed)
        for s in more:  # each session's first commit: outside the measure
            await s.commit(s.next_z())
        return more, opening

    try:
        more, _ = await open_sessions(server.url, pid, 1, 0, args.seed)
        sessions += more
        for _ in range(3):
            await sessions[0].commit(sessions[0].next_z())
        async for group, opening in harness.grow(pid, args.sessions, sessions, open_more):
            if opening:
                results["openings"].append(opening)
                progress(
                    f"{opening['sessions']} sessions open: {opening['pages']} first runs in "
                    f"{opening['opened_s']:.2f} s, "
                    f"{opening['server_cpu_per_first_run_ms']:.0f} ms server CPU each"
                )
            phase = await commit_phase(pid, group, args.commits, (args.gap_min, args.gap_max))
            results["phases"].append(phase)
            progress(
                f"{len(group)} session(s): p50/p95 {harness.p50_p95(phase, 'latency')}, "
                f"{fmt(phase['cpu_per_commit_ms'])} ms server CPU per commit, "
                f"{phase['wrong_z']} wrong, {phase['unanswered']} unanswered"
            )
        kept = await asyncio.gather(*(s.full_rerun() for s in sessions))
        results["full_rerun_kept_z"] = f"{sum(kept)}/{len(kept)}"
        results["full_rerun_ok"] = all(kept)
    finally:
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    return sessions


async def run(args) -> dict:
    results: dict = {
        "machine": harness.machine(websockets=websockets.__version__),
        "options": {k: str(v) for k, v in vars(args).items()},
        "phases": [],
        "openings": [],
        "commit_window": list(COMMIT_WINDOW),
    }
    with tempfile.TemporaryDirectory() as cache:
        env = {"VAE_EXPLORER_CACHE": cache}
        if args.replicas:
            serving = harness.serving_school(env, args.replicas)
        else:
            serving = harness.serving(env)
        with serving as server:
            results["server_start_to_healthy_s"] = server.healthy_seconds
            sessions = await measure(server, args, results)
            log = server.log_text()
    results["session_errors"] = sorted({e for s in sessions for e in s.errors})
    results |= harness.log_errors(log)
    results["bytes_received_mib"] = sum(s.bytes_in for s in sessions) / 2**20
    results["fragment_id"] = sessions[0].fragment_id if sessions else None
    results["scatter_id"] = sessions[0].scatter_id if sessions else None
    return results


def correct(results: dict) -> bool:
    return (
        results.get("full_rerun_ok", False)
        and not results["session_errors"]
        and not results["server_log_errors"]
        and all(p["wrong_z"] == 0 and p["unanswered"] == 0 for p in results["phases"])
    )


HEADER = (
    "sessions",
    "commits",
    "confirmed p50 / p95",
    "target",
    "run finished p50 / p95",
    "server CPU per commit",
    "server busy",
    "commits/s per session (median, min-max)",
    "client CPU per commit",
    "wrong z / unanswered",
)


def row(p: dict) -> tuple:
    """A phase's figures, in HEADER's order."""
    target = TARGET_P95_MS.get(p["sessions"])
    ok = harness.verdict(p["latency_p95_ms"], target)
    rate = p["commit_rate_per_s"]
    rates = "n/a"
    if rate["median"] is not None:
        rates = f"{rate['median']:.2f} ({rate['min']:.2f}-{rate['max']:.2f})"
    return (
        p["sessions"],
        p["commits"],
        harness.p50_p95(p, "latency"),
        f"p95 ≤ {target:g} ms{' ' + ok if ok else ''}" if target else "",
        harness.p50_p95(p, "finished"),
        f"{fmt(p['cpu_per_commit_ms'])} ms (raw {fmt(p['cpu_per_commit_raw_ms'])})",
        f"{100 * p['server_cpu_share']:.0f}% of a core",
        rates,
        f"{fmt(p['client_cpu_per_commit_ms'], '.2f')} ms",
        f"{p['wrong_z']} / {p['unanswered']}",
    )


def notes(results: dict) -> list[str]:
    """The lines under the table: the school, the openings, the idle rates, correctness."""
    out = []
    if replicas := int(results["options"].get("replicas", "0")):
        out.append(
            f"server: a school of {replicas} replicas behind HAProxy (deploy/school.py); its "
            "CPU is every replica's and the proxy's"
        )
    for o in results["openings"]:
        out.append(
            f"opening {o['pages']} more sessions at once (to {o['sessions']}): "
            f"{o['opened_s']:.2f} s, first run finished median {o['ready_s_median']:.2f} s, "
            f"{o['server_cpu_per_first_run_ms']:.0f} ms server CPU per first run; server RSS "
            f"{o['rss_mib']:.0f} MiB ({o['rss_per_extra_session_mib']:.1f} MiB per extra session)"
        )
    idle = ", ".join(
        f"{p['sessions']}: {p['idle_cpu_ms_per_s'][0]:.1f}/{p['idle_cpu_ms_per_s'][1]:.1f}"
        for p in results["phases"]
    )
    errors = results["session_errors"]
    return [
        *out,
        f"server idle, ms CPU/s before/after each phase (sessions: before/after): {idle}; "
        "their mean is subtracted over the phase (Streamlit polls its config files); raw is "
        f"utime + stime as read, in {1000 / harness.TICK:.0f} ms ticks. Latencies: commit "
        "BackMsg sent -> first ForwardMsg carrying the latent_scatter element with that z (the "
        "view's own 120 ms commit delay is not included).",
        "correctness: "
        + ("every commit confirmed with the z sent; " if correct(results) else "FAILED; ")
        + f"{len(errors)} distinct exception/error elements or odd finishes"
        + (": " + "; ".join(errors[:5]) if errors else "")
        + f"; a full rerun of every page at the end kept its z in {results['full_rerun_kept_z']}"
        + "; server log "
        + ("HAS ERRORS (see JSON)" if results["server_log_errors"] else "clean"),
    ]


OPTIONS = {
    "--sessions": (harness.session_counts, [1, 16, 30], "counts of sessions committing at once"),
    "--commits": (int, 30, "commits per session per phase"),
    "--gap-min": (float, 0.5, "least seconds between commits"),
    "--gap-max": (float, 1.0, "most seconds between commits"),
    "--seed": (int, 0, "seed of the students' random points"),
    "--replicas": (int, 0, "0: one server; N: a school of N replicas behind HAProxy "
                   "(python -m deploy.school), its CPU summed over the replicas and the proxy"),
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = harness.parser("python -m benchmarks.ws_load", __doc__, OPTIONS)
    args = p.parse_args(argv)
    if args.commits < 1:
        p.error("--commits must be at least 1")
    if not 0 <= args.gap_min <= args.gap_max:
        p.error("need 0 <= --gap-min <= --gap-max")
    results = asyncio.run(run(args))
    rows = [row(p) for p in results["phases"]]
    harness.report(results, HEADER, rows, notes(results), out=args.out)
    return 0 if correct(results) else 1


if __name__ == "__main__":
    sys.exit(main())
