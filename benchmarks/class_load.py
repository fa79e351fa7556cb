"""Server cost and latency of the latent view when many sessions step z at once.

    python -m benchmarks.class_load [--sessions 1,8,16] [--bursts 20] [--keys 5]
        [--steps-for-memory 1000] [--starts 3] [--bare-sessions 1,8] [--out FILE]
    quick (~2 min): --sessions 1,8 --bursts 5 --steps-for-memory 200 --starts 1

A class of students on one server: each session holds a z slider's arrow key for a moment (a
burst of key presses ~40 ms apart), then waits until the server has confirmed the new z. The
figures, each against the issue's target:

1. server CPU per slider step and per commit (utime + stime of the server process from
   /proc, read with the server idle before and after, divided by the steps or commits);
2. one commit's rerun CPU against a bare Streamlit fragment (benchmarks/bare_fragment_app.py:
   two sliders, a 112 px picture and a caption; one key press is one rerun there), measured in
   the same run: means over many commits (the memory walk's, when it has more), since one of
   Python's own full collections (~0.1 s with torch loaded) lands in every few dozen;
3. latency from a burst's last key press to the server-confirmed z, p50 and p95, with 1, 8 and
   16 sessions stepping concurrently (one browser context each, in one Chromium), and the part
   of it after the commit left the page; the bare fragment's key-to-caption latency beside it;
4. the in-browser decode and draw of one frame while hovering the plane;
5. the first visit: health check answering to the page ready, over fresh server starts;
6. server memory: RSS per extra open session, and RSS before and after many steps.

The browser runs on the same cores as the server, so latencies include its share of the CPU;
each phase reports both sides' CPU. `--server-env NAME=VALUE` runs both servers with a changed
setting, for comparisons such as STREAMLIT_RUNNER_POST_SCRIPT_GC=false.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time

from playwright.async_api import async_playwright

from benchmarks import harness
from benchmarks.harness import fmt, judged, progress
from benchmarks.stepping import Session
from deploy import launch

BARE_SCRIPT = "benchmarks/bare_fragment_app.py"
TARGETS = {
    "cpu_per_step_ms": 20.0,
    "commit_vs_bare": 1.5,
    "p95_ms": {8: 500.0, 16: 1000.0},
    "decode_ms": 1.0,
    "first_visit_s": 3.0,
    "rss_per_session_mib": 15.0,
    "rss_growth_mib": 5.0,  # our reading of "flat" over --steps-for-memory steps
}


# ---------------------------------------------------------------- measurements


async def step_phase(pid: int, sessions: list[Session], args, idle: float, kind: str) -> dict:
    """Every session does its bursts at once (the app: --bursts of --keys; the bare fragment:
    single presses, --bare-steps of them alone, --bursts in company); server CPU over the whole
    phase, as read and net of the server's `idle` CPU per second over the same time."""
    keys, gap = (args.keys, args.gap_ms / 1000) if kind == "app" else (1, 0.0)
    bursts = args.bare_steps if kind == "bare" and len(sessions) == 1 else args.bursts
    commits_before = [await s.commits() for s in sessions]
    first = [len(s.bursts) for s in sessions]
    per_burst_cpu: list[float] = []

    async def drive(s: Session, rng: random.Random) -> None:
        # A random start and jittered pauses, so the sessions are not in lockstep.
        await asyncio.sleep(rng.uniform(0, args.pause))
        for _ in range(bursts):
            before, t = harness.cpu_seconds(pid), time.monotonic()
            await s.burst(keys, gap)
            await asyncio.sleep(args.pause * rng.uniform(0.5, 1.5))
            if len(sessions) == 1:
                # Alone on the server: each burst's CPU, its rerun's tail included, since the
                # pause lets the rerun finish.
                spent = harness.cpu_seconds(pid) - before
                per_burst_cpu.append(spent - idle * (time.monotonic() - t))

    async with harness.usage(pid) as used:
        await asyncio.gather(*(drive(s, random.Random(i)) for i, s in enumerate(sessions)))
    commits = sum([await s.commits() for s in sessions]) - sum(commits_before)
    done = [b for s, n in zip(sessions, first, strict=True) for b in s.bursts[n:]]
    gaps = [g for b in done for g in b.gaps_ms]

    def known(name: str) -> list[float]:
        return [getattr(b, name) for b in done if getattr(b, name) is not None]

    # A pause between two keys longer than the view's commit delay splits a burst in two.
    delay = harness.percentile(known("commit_after_ms"), 50)
    p = {
        "sessions": len(sessions),
        "bursts": len(done),
        "steps": len(done) * keys,
        "commits": commits,
        **used.figures(idle, step=len(done) * keys, commit=commits),
        **harness.spread(known("latency_ms"), "latency"),
        **harness.spread(known("round_trip_ms"), "round_trip"),
        "unconfirmed": sum(b.unconfirmed for b in done),
        "slider_missed": sum(not b.moved for b in done),
        "key_gap_p50_ms": harness.percentile(gaps, 50),
        "commit_delay_p50_ms": delay,
        "key_gaps_over_commit_delay": sum(g > (delay or 150) for g in gaps),
    }
    if per_burst_cpu:
        # Alone on the server, the median burst too: the mean carries the rare burst that
        # also paid for one of Python's own full collections.
        median_ms = 1000 * statistics.median(per_burst_cpu)
        p["cpu_per_burst_ms"] = [1000 * c for c in per_burst_cpu]
        p["cpu_per_step_median_ms"] = median_ms / keys
        if commits:
            p["cpu_per_commit_median_ms"] = median_ms * len(done) / commits
    what = (
        f"{p['sessions']} session(s)"
        if kind == "app"
        else f"bare fragment, {p['sessions']} session(s)"
    )
    unit = "step" if kind == "app" else "rerun"
    p95 = fmt(p["latency_p95_ms"], ".0f")
    progress(f"{what}: {p['cpu_per_step_ms']:.1f} ms CPU/{unit}, p95 {p95} ms")
    return p


async def memory_walk(pid: int, session: Session, args, idle: float) -> dict:
    """RSS before and after --steps-for-memory steps in one session; and the server CPU per
    commit over them, a mean over enough commits to carry its share of Python's own full
    collections."""
    bursts = max(1, args.steps_for_memory // args.keys)
    async with harness.usage(pid) as used:
        before, commits = harness.rss_mib(pid), await session.commits()
        for _ in range(bursts):
            await session.burst(args.keys, args.gap_ms / 1000)
            await asyncio.sleep(0.05)
    after, commits = harness.rss_mib(pid), await session.commits() - commits
    progress(f"memory walk: {after - before:+.1f} MiB")
    return {
        "steps": bursts * args.keys,
        "commits": commits,
        "rss_before_mib": before,
        "rss_after_mib": after,
        "growth_mib": after - before,
        **used.figures(idle, commit=commits),
    }


def opener(chromium, server: launch.Server, kind: str, args):
    """open(count): `count` more pages loading at once, each then committing once (outside
    any phase, inside the opening's server CPU)."""

    async def open_more(count: int) -> tuple[list[Session], dict]:
        async with harness.usage(server.pid) as used:
            start = time.perf_counter()
            opened = await asyncio.gather(
                *(Session.open(chromium, server.url, kind) for _ in range(count))
            )
            elapsed = time.perf_counter() - start
            for s, _ in opened:
                await s.burst(args.keys if kind == "app" else 1, args.gap_ms / 1000)
        return [s for s, _ in opened], {
            "opened_s": elapsed,
            "page_ready_s_median": statistics.median(r for _, r in opened),
            "server_cpu_per_page_ms": 1000 * used.server_s / count,  # with its first commit
        }

    return open_more


async def bare_runs(chromium, env: dict, args) -> dict:
    """The bare fragment: one key press, one rerun, at each of --bare-sessions."""
    results: dict = {"phases": []}
    with harness.serving(env, BARE_SCRIPT) as server:
        open_more = opener(chromium, server, "bare", args)
        sessions, _ = await open_more(1)
        for _ in range(2):  # imports and caches of the first reruns
            await sessions[0].burst(1, 0.0)
        idle = await harness.idle_rate(server.pid)
        results["idle_cpu_ms_per_s"] = 1000 * idle
        async for group, _ in harness.grow(server.pid, args.bare_sessions, sessions, open_more):
            results["phases"].append(await step_phase(server.pid, group, args, idle, "bare"))
        for s in sessions:
            await s.close()
    return results


async def app_runs(chromium, env: dict, args, results: dict) -> None:
    """Fresh servers' first visits; on the last one: hover, then the class stepping, growing
    between phases, with the memory walk after the phase of one session."""
    visits, healthy = [], []
    for start in range(args.starts):
        with harness.serving(env) as server:
            healthy.append(server.healthy_seconds)
            session, _ = await Session.open(chromium, server.url, "app")
            visits.append(time.perf_counter() - server.healthy_at)
            progress(f"first visit {start + 1}: {visits[-1]:.2f} s")
            if start == args.starts - 1:
                await class_phases(chromium, server, session, args, results)
            await session.close()
    results["first_visit"] = {
        "healthy_to_ready_s": visits,
        "median_s": statistics.median(visits),
        "process_start_to_healthy_s": healthy,
    }


async def class_phases(chromium, server: launch.Server, session: Session, args, results) -> None:
    """Hover the plane, then the class stepping: figures 1-4 and 6."""
    pid, sessions, phases = server.pid, [session], results.setdefault("phases", [])
    for _ in range(2):  # the first commits pay for lazy imports and caches
        await session.burst(args.keys, args.gap_ms / 1000)
    idle = await harness.idle_rate(pid)
    results["idle_cpu_ms_per_s"] = 1000 * idle
    cpu0 = harness.cpu_seconds(pid)
    decode = results["decode"] = await session.hover(args.hover_moves)
    decode["server_cpu_ms"] = 1000 * (await harness.settle(pid) - cpu0)
    progress(f"decode + draw: median {decode['median_ms']:.2f} ms")
    memory = results["memory_sessions"] = []
    open_more = opener(chromium, server, "app", args)
    async for group, opening in harness.grow(pid, {1, *args.sessions}, sessions, open_more):
        memory += [opening] if opening else []
        if len(group) in args.sessions:
            phases.append(await step_phase(pid, group, args, idle, "app"))
        if len(group) == 1 and args.steps_for_memory:
            results["memory_walk"] = await memory_walk(pid, session, args, idle)
    for s in sessions[1:]:
        await s.close()


# ---------------------------------------------------------------- report


def cpu_rows(results: dict, phases: dict, bare: dict) -> list[tuple]:
    """Figures 1 and 2: server CPU per step and per commit, and a commit against the bare
    fragment's rerun (whose ratios are kept in `results`)."""
    rows = []
    for n, p in phases.items():
        median = p.get("cpu_per_step_median_ms")
        step = p["cpu_per_step_ms"] if median is None else median
        mean = "" if median is None else f"mean {p['cpu_per_step_ms']:.1f}, "
        how = "mean" if median is None else "median burst"
        shown = f"{step:.1f} ms ({mean}raw {p['cpu_per_step_raw_ms']:.1f})"
        measure = f"1. server CPU per step, {n} session(s), {how}"
        rows.append(judged(measure, shown, step, TARGETS["cpu_per_step_ms"], " ms"))
        median = p.get("cpu_per_commit_median_ms")
        tail = ")" if median is None else f", median {median:.1f})"
        shown = f"{fmt(p['cpu_per_commit_ms'])} ms (raw {fmt(p['cpu_per_commit_raw_ms'])}{tail}"
        rows.append((f"   per commit, mean ({p['commits']} commits / {p['steps']} steps)", shown))
    one, base, walk = phases.get(1), bare.get(1), results.get("memory_walk")
    alone = one
    if walk and walk["cpu_per_commit_ms"] and walk["commits"] > (one["commits"] if one else 0):
        alone = walk  # more commits alone: a steadier mean
    if not (alone and base and alone["cpu_per_commit_ms"]):
        return [*rows, ("2. commit / bare rerun", "n/a (needs 1 in --sessions)")]
    a, b = alone["cpu_per_commit_ms"], base["cpu_per_step_ms"]
    ratio = results["commit_vs_bare"] = a / b
    raw = alone["cpu_per_commit_raw_ms"] / base["cpu_per_step_raw_ms"]
    where = "memory walk" if alone is walk else "1 session"
    measure = f"2. commit CPU / bare rerun, means ({alone['commits']} commits, {where}; "
    shown = f"{ratio:.2f}x ({a:.1f} / {b:.1f} ms; raw {raw:.2f}x)"
    target = TARGETS["commit_vs_bare"]
    rows.append(judged(f"{measure}{base['commits']} reruns)", shown, ratio, target, "x"))
    if one and one.get("cpu_per_commit_median_ms") and base.get("cpu_per_commit_median_ms"):
        a, b = one["cpu_per_commit_median_ms"], base["cpu_per_commit_median_ms"]
        results["commit_vs_bare_median"] = a / b
        shown = f"{a / b:.2f}x ({a:.1f} / {b:.1f} ms)"
        rows.append(("   the same, median bursts, 1 session", shown))
    return rows


def rows_of(results: dict) -> list[tuple]:
    """The figures against their targets, numbered as in the docstring."""
    phases = {p["sessions"]: p for p in results["phases"]}
    bare = {p["sessions"]: p for p in results["bare"]["phases"]}
    rows = cpu_rows(results, phases, bare)
    for n, p in phases.items():
        measure = f"3. last key to confirmed z, {n} session(s), p50 / p95"
        shown, target = harness.p50_p95(p, "latency"), TARGETS["p95_ms"].get(n)
        rows.append(judged(measure, shown, p["latency_p95_ms"], target, " ms", "p95 ≤"))
        trip = harness.p50_p95(p, "round_trip")
        rows.append(("   of which commit sent to confirmed, p50 / p95", trip))
    for n, p in bare.items():
        measure = f"   bare fragment, {n} session(s), key to caption, p50 / p95"
        rows.append((measure, harness.p50_p95(p, "latency")))
    d, f = results["decode"], results["first_visit"]
    measure = f"4. in-browser decode + draw per frame, median of {d['frames']}"
    shown = f"{d['median_ms']:.2f} ms (p95 {d['p95_ms']:.2f})"
    rows.append(judged(measure, shown, d["median_ms"], TARGETS["decode_ms"], " ms"))
    visits = f["healthy_to_ready_s"]
    measure = f"5. first visit, healthy to ready, median of {len(visits)}"
    shown = f"{f['median_s']:.2f} s ({', '.join(f'{v:.2f}' for v in visits)})"
    rows.append(judged(measure, shown, f["median_s"], TARGETS["first_visit_s"], " s"))
    for m in results["memory_sessions"]:
        measure = f"6. server RSS per extra session, 1 -> {m['sessions']} sessions"
        per, target = m["rss_per_extra_session_mib"], TARGETS["rss_per_session_mib"]
        shown = f"{per:.1f} MiB ({m['rss_one_mib']:.0f} -> {m['rss_mib']:.0f})"
        rows.append(judged(measure, shown, per, target, " MiB"))
    if w := results.get("memory_walk"):
        measure = f"6. server RSS over {w['steps']} steps in one session"
        growth = w["growth_mib"]
        shown = f"{growth:+.1f} MiB ({w['rss_before_mib']:.0f} -> {w['rss_after_mib']:.0f})"
        rows.append(judged(measure, shown, growth, TARGETS["rss_growth_mib"], " MiB", "flat: ≤"))
    return [(*row, "", "")[:4] for row in rows]


def details(results: dict, args) -> list[str]:
    """The lines under the table: each phase's load on both sides, and how it was measured."""
    out = ["Details"]
    for name, group in (("app", results["phases"]), ("bare fragment", results["bare"]["phases"])):
        for p in group:
            gaps = ""
            if p["key_gap_p50_ms"] is not None:
                over = p["key_gaps_over_commit_delay"]
                gaps = f"key gap p50 {p['key_gap_p50_ms']:.0f} ms, {over} gaps > the commit delay; "
            out.append(
                f"  {name}, {p['sessions']} session(s): {p['bursts']} bursts of "
                f"{p['steps'] // p['bursts']} key(s) in {p['seconds']:.1f} s, "
                f"{p['commits'] / p['bursts']:.2f} commits per burst; server busy "
                f"{100 * p['server_cpu_share']:.0f}% of one core, client side (Chromium, "
                f"Playwright, this script) {100 * p['client_cpu_share']:.0f}%; {gaps}max latency "
                f"{fmt(p['latency_max_ms'], '.0f')} ms; {p['unconfirmed']} unconfirmed; "
                f"{p['slider_missed']} bursts where the slider did not move as pressed"
            )
    for m in results["memory_sessions"]:
        out.append(
            f"  opening {m['pages']} more app pages at once: {m['opened_s']:.1f} s (median page "
            f"ready {m['page_ready_s_median']:.1f} s); server CPU {m['server_cpu_per_page_ms']:.0f}"
            " ms per page load and first commit"
        )
    d, idle = results["decode"], results["idle_cpu_ms_per_s"]
    out += [
        f"  hover: {d['commits_sent']} commits sent, {d['server_cpu_ms']:.0f} ms server CPU "
        f"over {d['frames']} moves (the plane decodes in the browser)",
        f"  server CPU when idle: app {fmt(idle)} ms/s, bare fragment "
        f"{fmt(results['bare']['idle_cpu_ms_per_s'])} ms/s (Streamlit polls its config files): "
        "the CPU figures above are net of it over each phase; raw is utime + stime as read",
        "  server process start to healthy: "
        + ", ".join(f"{v:.2f}" for v in results["first_visit"]["process_start_to_healthy_s"])
        + " s",
    ]
    if args.server_env:
        out.append(f"  server environment: {' '.join(args.server_env)}")
    one = next((p for p in results["phases"] if p["sessions"] == 1), {})
    return [
        *out,
        "",
        f"Chromium (every session) and the servers share this machine's "
        f"{results['machine']['cpus']} CPU cores: latencies include the browser's CPU. Server CPU "
        f"is utime + stime from /proc in {1000 / harness.TICK:.0f} ms ticks, read with the "
        "server idle before and after. A commit leaves the page "
        f"{fmt(one.get('commit_delay_p50_ms'), '.0f')} ms (median, 1 session) after a burst's "
        "last key: the view's commit delay, by design part of each app latency.",
    ]


# ---------------------------------------------------------------- main

OPTIONS = {
    "--sessions": (harness.session_counts, [1, 8, 16], "counts of sessions stepping at once"),
    "--bursts": (int, 20, "bursts per session per phase"),
    "--keys": (int, 5, "key presses per burst"),
    "--gap-ms": (float, 40, "between a burst's key presses"),
    "--pause": (float, 0.2, "seconds between a session's bursts, jittered by ±50%%"),
    "--steps-for-memory": (int, 1000, "steps in one session between two RSS readings (0: skip)"),
    "--bare-steps": (int, 60, "key presses on the bare app, 1 session"),
    "--bare-sessions": (harness.session_counts, [1, 8], "bare app's counts (then --bursts each)"),
    "--hover-moves": (int, 100, "pointer moves over the plane"),
    "--starts": (int, 3, "server starts for the first visit"),
    "--server-env": (
        str, [], "extra environment for both servers, e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false",
        {"action": "append", "metavar": "NAME=VALUE"},
    ),
}  # fmt: skip


async def run(args) -> dict:
    results: dict = {
        "machine": harness.machine(chromium=launch.CHROMIUM),
        "options": {k: v for k, v in vars(args).items() if k != "out"},
        "targets": {k: v for k, v in TARGETS.items() if k != "p95_ms"}
        | {f"p95_ms_{n}": v for n, v in TARGETS["p95_ms"].items()},
    }
    with tempfile.TemporaryDirectory() as cache:
        env = dict(e.split("=", 1) for e in args.server_env) | {"VAE_EXPLORER_CACHE": cache}
        async with async_playwright() as pw:
            chromium = await launch.chromium(pw)
            results["bare"] = await bare_runs(chromium, env, args)
            await app_runs(chromium, env, args, results)
            await chromium.close()
    return results


def main(argv: list[str] | None = None) -> int:
    p = harness.parser("python -m benchmarks.class_load", __doc__, OPTIONS)
    args = p.parse_args(argv)
    if args.starts < 1 or args.bursts < 1 or args.keys < 1:
        p.error("--starts, --bursts and --keys must be at least 1")
    if any("=" not in e for e in args.server_env):
        p.error("--server-env takes NAME=VALUE")
    results = asyncio.run(run(args))
    table = rows_of(results), details(results, args)
    return harness.report(results, ("measure", "value", "target", ""), *table, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
