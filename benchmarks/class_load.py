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

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit
from playwright.async_api import async_playwright

from benchmarks.harness import (
    TICK,
    VIEWPORT,
    client_cpu_seconds,
    cpu_seconds,
    finish,
    fmt,
    idle_rate,
    percentile,
    progress,
    rss_mib,
    serving,
    session_counts,
    settle,
    settled,
    table,
    verdict,
)
from tests import browser

BARE_SCRIPT = "benchmarks/bare_fragment_app.py"
READY_TIMEOUT_MS = 180_000  # 16 pages loading at once on 2 cores take a while
CONFIRM_TIMEOUT_MS = 30_000
MATCH = 0.005  # a slider step is 0.01: a confirmed z1 within half a step is that step

TARGETS = {
    "cpu_per_step_ms": 20.0,
    "commit_vs_bare": 1.5,
    "p95_ms": {8: 500.0, 16: 1000.0},
    "decode_ms": 1.0,
    "first_visit_s": 3.0,
    "rss_per_session_mib": 15.0,
    "rss_growth_mib": 5.0,  # our reading of "flat" over --steps-for-memory steps
}


# ---------------------------------------------------------------- pages

# Both watchers log (z1 the server confirmed, page time) on every change of the confirmed
# state, and the page time of every keydown, so a latency is two timestamps of the page's own
# clock however late Playwright gets to look. A pending waiter is woken by each new entry.
COMMON_WATCH_JS = """
window.__watch = { log: [], keys: [], sent: [], waiter: null };
const w = window.__watch;
window.addEventListener("keydown", () => {
  w.keys.push(performance.now());
  if (w.keys.length > 256) w.keys.shift();
}, true);
const note = (z1) => {
  w.log.push({ z1, at: performance.now() });
  if (w.log.length > 256) w.log.shift();
  if (w.waiter) w.waiter();
};
"""

# The latent view sits in a shadow root: watch data-committed on the .lv inside it.
APP_WATCH_JS = (
    "(lv) => {"
    + COMMON_WATCH_JS
    + """
  const root = lv.getRootNode();
  const read = () => {
    const el = root.querySelector(".lv");
    const c = el && el.dataset.committed;
    return c ? Number(c.split(",")[0]) : NaN;
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.attributeName === "data-commits") {
        w.sent.push(performance.now());
        if (w.sent.length > 256) w.sent.shift();
      } else {
        note(read());
      }
    }
  }).observe(root, {
    subtree: true, attributes: true, attributeFilter: ["data-committed", "data-commits"],
  });
}"""
)

# The bare app's caption "z = (a, b)" shows what the server holds.
BARE_WATCH_JS = (
    "() => {"
    + COMMON_WATCH_JS
    + """
  let last = null;
  const read = () => {
    const el = document.querySelector('[data-testid="stCaptionContainer"]');
    const m = el && /z = \\((-?[0-9.]+),/.exec(el.textContent);
    return m ? Number(m[1]) : NaN;
  };
  new MutationObserver(() => {
    const z1 = read();
    if (z1 !== last) { last = z1; note(z1); }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""
)

# Resolves with the first confirmation of z1 = want at or after page time `since`, with the
# time the last commit before it was sent (the app's data-commits; none on the bare app), or
# with null.
WAIT_CONFIRMED_JS = """
([want, since, timeoutMs, match]) => new Promise((resolve) => {
  const w = window.__watch;
  const find = () => {
    const hit = w.log.find((e) => e.at >= since && Math.abs(e.z1 - want) < match);
    if (!hit) return null;
    const sent = w.sent.filter((t) => t >= since && t <= hit.at);
    return { at: hit.at, sent: sent.length ? sent[sent.length - 1] : null };
  };
  const hit = find();
  if (hit) return resolve(hit);
  const timer = setTimeout(() => { w.waiter = null; resolve(null); }, timeoutMs);
  w.waiter = () => {
    const h = find();
    if (h) { clearTimeout(timer); w.waiter = null; resolve(h); }
  };
})
"""

AFTER_BURST_JS = """
([slider, k]) => {
  const keys = window.__watch.keys.slice(-k);
  return [Number(slider.value), keys.length ? keys : [performance.now()]];
}
"""


@dataclass
class Burst:
    latency_ms: float | None  # None: unconfirmed, or the slider did not move at all
    round_trip_ms: float | None  # from the commit that was confirmed (app only)
    commit_after_ms: float | None  # from the last key to that commit leaving (app only)
    gaps_ms: list[float]  # between the burst's keydowns, on the page's clock
    moved: bool  # the slider moved by exactly the keys pressed
    unconfirmed: bool = False  # it moved, and no confirmation came in CONFIRM_TIMEOUT_MS


@dataclass
class Session:
    """One browser context on one page, stepping z1 with the keyboard."""

    kind: str  # "app" or "bare"
    context: object
    page: object
    slider: object  # element handle of the z1 range input
    state: object | None  # the app's .lv element handle
    lo: float
    hi: float
    value: float
    direction: int = 1
    presses: int = 0
    bursts: list[Burst] = field(default_factory=list)

    @classmethod
    async def open(cls, chromium, url: str, kind: str) -> tuple[Session, float]:
        """A fresh context on the page, ready and watched; and seconds from goto to ready."""
        context = await chromium.new_context(viewport=VIEWPORT)
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(url)
        if kind == "app":
            lv = page.locator(".st-key-latent_scatter .lv[data-model-id]")
            await lv.wait_for(timeout=READY_TIMEOUT_MS)
            state = await lv.element_handle()
            await page.wait_for_function(
                "(el) => Number(el.dataset.draws) > 0", arg=state, timeout=READY_TIMEOUT_MS
            )
            ready = time.perf_counter() - start
            slider = await page.locator(
                ".st-key-latent_scatter .st-key-z1 input[type=range]"
            ).element_handle()
            await page.evaluate(APP_WATCH_JS, state)
        else:
            await page.locator('[data-testid="stCaptionContainer"]').wait_for(
                timeout=READY_TIMEOUT_MS
            )
            ready = time.perf_counter() - start
            state = None
            slider = await page.locator(".st-key-a input[type=range]").element_handle()
            await page.evaluate(BARE_WATCH_JS)
        lo, hi, value = await slider.evaluate("(s) => [s.min, s.max, s.value].map(Number)")
        await slider.focus()
        return cls(kind, context, page, slider, state, lo, hi, value), ready

    async def commits(self) -> int:
        """Commits this page sent; on the bare app every key press is one."""
        if self.kind == "bare":
            return self.presses
        return int(await self.state.get_attribute("data-commits"))

    async def burst(self, keys: int, gap: float) -> Burst:
        """`keys` presses `gap` seconds apart, then wait for the server's confirmation."""
        # Walk to one end of the slider and back, so consecutive values never repeat.
        if not self.lo + 0.05 < self.value + 0.01 * keys * self.direction < self.hi - 0.05:
            self.direction = -self.direction
        key = "ArrowRight" if self.direction > 0 else "ArrowLeft"
        loop = asyncio.get_running_loop()
        for i in range(keys):
            t = loop.time()
            await self.page.keyboard.press(key)
            self.presses += 1
            if i < keys - 1:
                await asyncio.sleep(max(0.0, t + gap - loop.time()))
        want, times = await self.page.evaluate(AFTER_BURST_JS, [self.slider, keys])
        moved = abs(want - (self.value + 0.01 * keys * self.direction)) < MATCH
        still = abs(want - self.value) < MATCH
        self.value = want
        if not moved:
            # Focus went elsewhere, or a press was lost: take it back for the next burst.
            await self.slider.focus()
        hit = None
        if not still:  # a slider that did not move sends nothing to confirm
            hit = await self.page.evaluate(
                WAIT_CONFIRMED_JS, [want, times[-1], CONFIRM_TIMEOUT_MS, MATCH]
            )
        burst = Burst(
            latency_ms=None if hit is None else hit["at"] - times[-1],
            round_trip_ms=None if hit is None or hit["sent"] is None else hit["at"] - hit["sent"],
            commit_after_ms=None if hit is None or hit["sent"] is None else hit["sent"] - times[-1],
            gaps_ms=[b - a for a, b in zip(times, times[1:], strict=False)],
            moved=moved,
            unconfirmed=hit is None and not still,
        )
        self.bursts.append(burst)
        return burst

    async def close(self) -> None:
        await self.context.close()


# ---------------------------------------------------------------- measurements


async def step_phase(
    pid: int,
    sessions: list[Session],
    bursts: int,
    keys: int,
    gap: float,
    pause: float,
    idle: float,
) -> dict:
    """Every session does `bursts` bursts at once; server CPU over the whole phase, as read and
    net of the server's `idle` CPU per second over the same time."""
    commits_before = [await s.commits() for s in sessions]
    first = [len(s.bursts) for s in sessions]
    per_burst_cpu: list[float] = []

    async def drive(s: Session, rng: random.Random) -> None:
        # A random start and jittered pauses, so the sessions are not in lockstep.
        await asyncio.sleep(rng.uniform(0, pause))
        for _ in range(bursts):
            before, t = cpu_seconds(pid), time.monotonic()
            await s.burst(keys, gap)
            await asyncio.sleep(pause * rng.uniform(0.5, 1.5))
            if len(sessions) == 1:
                # Alone on the server: each burst's CPU, its rerun's tail included, since the
                # pause lets the rerun finish.
                per_burst_cpu.append(cpu_seconds(pid) - before - idle * (time.monotonic() - t))

    cpu0, t0 = await settled(pid)
    client0 = client_cpu_seconds(pid)
    start = time.perf_counter()
    await asyncio.gather(*(drive(s, random.Random(i)) for i, s in enumerate(sessions)))
    elapsed = time.perf_counter() - start
    client1 = client_cpu_seconds(pid)
    cpu1, t1 = await settled(pid)
    commits = sum([await s.commits() for s in sessions]) - sum(commits_before)
    done = [b for s, n in zip(sessions, first, strict=True) for b in s.bursts[n:]]
    steps = len(done) * keys
    latencies = [b.latency_ms for b in done if b.latency_ms is not None]
    gaps = [g for b in done for g in b.gaps_ms]
    trips = [b.round_trip_ms for b in done if b.round_trip_ms is not None]
    delays = [b.commit_after_ms for b in done if b.commit_after_ms is not None]
    # A pause between two keys longer than the view's commit delay splits a burst in two.
    delay = percentile(delays, 50)
    raw_ms = 1000 * (cpu1 - cpu0)
    cpu_ms = raw_ms - 1000 * idle * (t1 - t0)
    result = {
        "sessions": len(sessions),
        "bursts": len(done),
        "steps": steps,
        "commits": commits,
        "seconds": elapsed,
        "server_cpu_raw_ms": raw_ms,
        "server_cpu_ms": cpu_ms,
        "server_cpu_share": (cpu1 - cpu0) / elapsed,
        "client_cpu_share": (client1 - client0) / elapsed,
        "cpu_per_step_ms": cpu_ms / steps,
        "cpu_per_step_raw_ms": raw_ms / steps,
        "cpu_per_commit_ms": cpu_ms / commits if commits else None,
        "cpu_per_commit_raw_ms": raw_ms / commits if commits else None,
        "latency_ms": latencies,
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "latency_max_ms": max(latencies) if latencies else None,
        "round_trip_p50_ms": percentile(trips, 50),
        "round_trip_p95_ms": percentile(trips, 95),
        "unconfirmed": sum(b.unconfirmed for b in done),
        "slider_missed": sum(not b.moved for b in done),
        "key_gap_p50_ms": percentile(gaps, 50),
        "commit_delay_p50_ms": delay,
        "key_gaps_over_commit_delay": sum(g > (delay or 150) for g in gaps),
    }
    if per_burst_cpu:
        # Alone on the server, the median burst too: the mean carries the rare burst that
        # also paid for one of Python's own full collections.
        median_ms = 1000 * statistics.median(per_burst_cpu)
        result["cpu_per_burst_ms"] = [1000 * c for c in per_burst_cpu]
        result["cpu_per_step_median_ms"] = median_ms / keys
        if commits:
            result["cpu_per_commit_median_ms"] = median_ms * len(done) / commits
    return result


async def decode_frames(session: Session, moves: int) -> dict:
    """Hover `moves` random points of the plane; the page's own decode + draw time of each."""
    page, lv = session.page, session.state
    box = await page.locator(".st-key-latent_scatter canvas.marks").bounding_box()
    commits = await session.commits()
    rng = np.random.default_rng(0)
    times = []
    # Inside the plot's margins: the axes' ticks take the outer 50 px.
    for fx, fy in rng.uniform(0.15, 0.9, size=(moves, 2)):
        draws = int(await lv.get_attribute("data-draws"))
        await page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        await page.wait_for_function(
            "([el, n]) => Number(el.dataset.draws) > n", arg=[lv, draws], timeout=10_000
        )
        times.append(float(await lv.get_attribute("data-decode-ms")))
    await page.mouse.move(2, 2)  # leave the plane: the view shows the committed z again
    await session.slider.focus()
    return {
        "frames": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 95),
        "max_ms": max(times),
        "commits_sent": await session.commits() - commits,
    }


async def memory_walk(
    pid: int, session: Session, steps: int, keys: int, gap: float, idle: float
) -> dict:
    """RSS before and after `steps` steps in one session; and the server CPU per commit over
    them, a mean over enough commits to carry its share of Python's own full collections."""
    cpu0, t0 = await settled(pid)
    before = rss_mib(pid)
    commits = await session.commits()
    bursts = max(1, steps // keys)
    start = time.perf_counter()
    for _ in range(bursts):
        await session.burst(keys, gap)
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    cpu1, t1 = await settled(pid)
    after = rss_mib(pid)
    commits = await session.commits() - commits
    cpu_ms = 1000 * (cpu1 - cpu0 - idle * (t1 - t0))
    return {
        "steps": bursts * keys,
        "commits": commits,
        "seconds": elapsed,
        "rss_before_mib": before,
        "rss_after_mib": after,
        "growth_mib": after - before,
        "cpu_per_commit_ms": cpu_ms / commits if commits else None,
        "cpu_per_commit_raw_ms": 1000 * (cpu1 - cpu0) / commits if commits else None,
    }


async def open_sessions(
    chromium, pid: int, url: str, kind: str, count: int, args
) -> tuple[list[Session], dict]:
    """`count` more pages loading at once, each then committing once (outside any measure)."""
    await settle(pid)
    cpu0 = cpu_seconds(pid)
    start = time.perf_counter()
    opened = await asyncio.gather(*(Session.open(chromium, url, kind) for _ in range(count)))
    elapsed = time.perf_counter() - start
    sessions = [s for s, _ in opened]
    for s in sessions:
        await s.burst(args.keys if kind == "app" else 1, args.gap_ms / 1000)
    cpu1 = await settle(pid)
    return sessions, {
        "pages": count,
        "opened_s": elapsed,
        "page_ready_s_median": statistics.median(r for _, r in opened),
        "server_cpu_per_page_ms": 1000 * (cpu1 - cpu0) / count,  # with its first commit
    }


async def bare_runs(chromium, env: dict, args) -> dict:
    """The bare fragment: one key press, one rerun, at each of --bare-sessions."""
    results: dict = {"phases": []}
    with serving(env, BARE_SCRIPT) as server:
        pid = server.pid
        sessions, _ = await open_sessions(chromium, pid, server.url, "bare", 1, args)
        for _ in range(2):  # imports and caches of the first reruns
            await sessions[0].burst(1, 0.0)
        idle = await idle_rate(pid)
        results["idle_cpu_ms_per_s"] = 1000 * idle
        for n in sorted(args.bare_sessions):
            if n > len(sessions):
                more, _ = await open_sessions(
                    chromium, pid, server.url, "bare", n - len(sessions), args
                )
                sessions += more
            bursts = args.bare_steps if n == 1 else args.bursts
            phase = await step_phase(pid, sessions[:n], bursts, 1, 0.0, args.pause, idle)
            results["phases"].append(phase)
            progress(
                f"bare fragment, {n} session(s): {phase['cpu_per_step_ms']:.1f} ms CPU/rerun, "
                f"p95 {fmt(phase['latency_p95_ms'], '.0f')} ms"
            )
        for s in sessions:
            await s.close()
    return results


async def app_runs(chromium, env: dict, args, results: dict) -> None:
    first_visits, healthy = [], []
    for start in range(args.starts):
        with serving(env) as server:
            healthy.append(server.healthy_seconds)
            session, _ = await Session.open(chromium, server.url, "app")
            first_visits.append(time.perf_counter() - server.healthy_at)
            progress(f"first visit {start + 1}: {first_visits[-1]:.2f} s")
            if start == args.starts - 1:
                results["first_visit"] = {
                    "healthy_to_ready_s": first_visits,
                    "median_s": statistics.median(first_visits),
                    "process_start_to_healthy_s": healthy,
                }
                await app_load(chromium, server, session, args, results)
            else:
                await session.close()


async def app_load(chromium, server: browser.Server, session: Session, args, results) -> None:
    """On one server: hover, then N sessions stepping, growing the class between phases."""
    pid = server.pid
    for _ in range(2):  # the first commits pay for lazy imports and caches
        await session.burst(args.keys, args.gap_ms / 1000)
    idle = await idle_rate(pid)
    results["idle_cpu_ms_per_s"] = 1000 * idle
    cpu0 = cpu_seconds(pid)
    results["decode"] = await decode_frames(session, args.hover_moves)
    results["decode"]["server_cpu_ms"] = 1000 * (await settle(pid) - cpu0)
    progress(f"decode + draw: median {results['decode']['median_ms']:.2f} ms")

    phases = results["phases"] = []
    sessions = [session]
    if 1 in args.sessions:
        phases.append(await run_phase(pid, sessions, args, idle))
    if args.steps_for_memory:
        results["memory_walk"] = await memory_walk(
            pid, session, args.steps_for_memory, args.keys, args.gap_ms / 1000, idle
        )
        progress(f"memory walk: {results['memory_walk']['growth_mib']:+.1f} MiB")
    rss_one = rss_mib(pid)
    results["memory_sessions"] = [{"sessions": 1, "rss_mib": rss_one}]
    for n in sorted(args.sessions):
        if n == 1:
            continue
        more, opening = await open_sessions(
            chromium, pid, server.url, "app", n - len(sessions), args
        )
        sessions += more
        rss = rss_mib(pid)
        results["memory_sessions"].append(
            {
                "sessions": n,
                "rss_mib": rss,
                "per_extra_session_mib": (rss - rss_one) / (n - 1),
                **opening,
            }
        )
        phases.append(await run_phase(pid, sessions, args, idle))
    for s in sessions:
        await s.close()


async def run_phase(pid: int, sessions: list[Session], args, idle: float) -> dict:
    gap = args.gap_ms / 1000
    phase = await step_phase(pid, sessions, args.bursts, args.keys, gap, args.pause, idle)
    progress(
        f"{phase['sessions']} session(s): {phase['cpu_per_step_ms']:.1f} ms CPU/step, "
        f"p95 {fmt(phase['latency_p95_ms'], '.0f')} ms"
    )
    return phase


# ---------------------------------------------------------------- report


def report(results: dict, args) -> str:
    rows: list[tuple[str, str, str, str]] = []
    phases = {p["sessions"]: p for p in results.get("phases", [])}
    bare = {p["sessions"]: p for p in results["bare"]["phases"]}
    for n, p in phases.items():
        per_step = p.get("cpu_per_step_median_ms", p["cpu_per_step_ms"])
        if "cpu_per_step_median_ms" in p:
            how = "median burst"
            value = (
                f"{per_step:.1f} ms (mean {p['cpu_per_step_ms']:.1f}, "
                f"raw {p['cpu_per_step_raw_ms']:.1f})"
            )
        else:
            how = "mean"
            value = f"{per_step:.1f} ms (raw {p['cpu_per_step_raw_ms']:.1f})"
        rows.append(
            (
                f"1. server CPU per step, {n} session(s), {how}",
                value,
                f"≤ {TARGETS['cpu_per_step_ms']:g} ms",
                verdict(per_step, TARGETS["cpu_per_step_ms"]),
            )
        )
        median = p.get("cpu_per_commit_median_ms")
        rows.append(
            (
                f"   per commit, mean ({p['commits']} commits / {p['steps']} steps)",
                f"{fmt(p['cpu_per_commit_ms'])} ms (raw {fmt(p['cpu_per_commit_raw_ms'])}"
                + (f", median {median:.1f})" if median is not None else ")"),
                "",
                "",
            )
        )
    one, bare_one = phases.get(1), bare.get(1)
    walk = results.get("memory_walk")
    alone = one
    if walk and walk["cpu_per_commit_ms"] and walk["commits"] > (one["commits"] if one else 0):
        alone = walk  # more commits alone: a steadier mean
    if alone and bare_one and alone["cpu_per_commit_ms"]:
        ratio = alone["cpu_per_commit_ms"] / bare_one["cpu_per_step_ms"]
        results["commit_vs_bare"] = ratio
        raw = alone["cpu_per_commit_raw_ms"] / bare_one["cpu_per_step_raw_ms"]
        where = "memory walk" if alone is walk else "1 session"
        rows.append(
            (
                f"2. commit CPU / bare rerun, means ({alone['commits']} commits, {where}; "
                f"{bare_one['commits']} reruns)",
                f"{ratio:.2f}x ({alone['cpu_per_commit_ms']:.1f} / "
                f"{bare_one['cpu_per_step_ms']:.1f} ms; raw {raw:.2f}x)",
                f"≤ {TARGETS['commit_vs_bare']:g}x",
                verdict(ratio, TARGETS["commit_vs_bare"]),
            )
        )
        if one and one.get("cpu_per_commit_median_ms") and bare_one.get("cpu_per_commit_median_ms"):
            a, b = one["cpu_per_commit_median_ms"], bare_one["cpu_per_commit_median_ms"]
            results["commit_vs_bare_median"] = a / b
            rows.append(
                (
                    "   the same, median bursts, 1 session",
                    f"{a / b:.2f}x ({a:.1f} / {b:.1f} ms)",
                    "",
                    "",
                )
            )
    else:
        rows.append(("2. commit / bare rerun", "n/a (needs 1 in --sessions)", "", ""))
    for n, p in phases.items():
        target = TARGETS["p95_ms"].get(n)
        rows.append(
            (
                f"3. last key to confirmed z, {n} session(s), p50 / p95",
                f"{fmt(p['latency_p50_ms'], '.0f')} / {fmt(p['latency_p95_ms'], '.0f')} ms",
                f"p95 ≤ {target:g} ms" if target else "",
                verdict(p["latency_p95_ms"], target),
            )
        )
        rows.append(
            (
                "   of which commit sent to confirmed, p50 / p95",
                f"{fmt(p['round_trip_p50_ms'], '.0f')} / {fmt(p['round_trip_p95_ms'], '.0f')} ms",
                "",
                "",
            )
        )
    for n, p in bare.items():
        rows.append(
            (
                f"   bare fragment, {n} session(s), key to caption, p50 / p95",
                f"{fmt(p['latency_p50_ms'], '.0f')} / {fmt(p['latency_p95_ms'], '.0f')} ms",
                "",
                "",
            )
        )
    if "decode" in results:
        d = results["decode"]
        rows.append(
            (
                f"4. in-browser decode + draw per frame, median of {d['frames']}",
                f"{d['median_ms']:.2f} ms (p95 {d['p95_ms']:.2f})",
                f"≤ {TARGETS['decode_ms']:g} ms",
                verdict(d["median_ms"], TARGETS["decode_ms"]),
            )
        )
    if "first_visit" in results:
        f = results["first_visit"]
        rows.append(
            (
                f"5. first visit, healthy to ready, median of {len(f['healthy_to_ready_s'])}",
                f"{f['median_s']:.2f} s ({', '.join(f'{v:.2f}' for v in f['healthy_to_ready_s'])})",
                f"≤ {TARGETS['first_visit_s']:g} s",
                verdict(f["median_s"], TARGETS["first_visit_s"]),
            )
        )
    memory = results.get("memory_sessions", [])
    for m in memory[1:]:
        rows.append(
            (
                f"6. server RSS per extra session, 1 -> {m['sessions']} sessions",
                f"{m['per_extra_session_mib']:.1f} MiB "
                f"({memory[0]['rss_mib']:.0f} -> {m['rss_mib']:.0f})",
                f"≤ {TARGETS['rss_per_session_mib']:g} MiB",
                verdict(m["per_extra_session_mib"], TARGETS["rss_per_session_mib"]),
            )
        )
    if "memory_walk" in results:
        w = results["memory_walk"]
        rows.append(
            (
                f"6. server RSS over {w['steps']} steps in one session",
                f"{w['growth_mib']:+.1f} MiB ({w['rss_before_mib']:.0f} -> "
                f"{w['rss_after_mib']:.0f})",
                f"flat: ≤ {TARGETS['rss_growth_mib']:g} MiB",
                verdict(w["growth_mib"], TARGETS["rss_growth_mib"]),
            )
        )
    out = [table(HEADER, rows)]
    out += ["", "Details"]
    for name, group in (("app", phases), ("bare fragment", bare)):
        for n, p in group.items():
            gaps = ""
            if p["key_gap_p50_ms"] is not None:
                gaps = (
                    f"key gap p50 {p['key_gap_p50_ms']:.0f} ms, "
                    f"{p['key_gaps_over_commit_delay']} gaps > the commit delay; "
                )
            out.append(
                f"  {name}, {n} session(s): {p['bursts']} bursts of {p['steps'] // p['bursts']} "
                f"key(s) in {p['seconds']:.1f} s, {p['commits'] / p['bursts']:.2f} commits per "
                f"burst; server busy {100 * p['server_cpu_share']:.0f}% of one core, client side "
                f"(Chromium, Playwright, this script) {100 * p['client_cpu_share']:.0f}%; {gaps}"
                f"max latency {fmt(p['latency_max_ms'], '.0f')} ms; {p['unconfirmed']} "
                f"unconfirmed; {p['slider_missed']} bursts where the slider did not move as pressed"
            )
    for m in memory[1:]:
        out.append(
            f"  opening {m['pages']} more app pages at once: {m['opened_s']:.1f} s (median page "
            f"ready {m['page_ready_s_median']:.1f} s); server CPU {m['server_cpu_per_page_ms']:.0f}"
            " ms per page load and first commit"
        )
    if "decode" in results:
        d = results["decode"]
        out.append(
            f"  hover: {d['commits_sent']} commits sent, {d['server_cpu_ms']:.0f} ms server CPU "
            f"over {d['frames']} moves (the plane decodes in the browser)"
        )
    idle = [results.get("idle_cpu_ms_per_s"), results["bare"].get("idle_cpu_ms_per_s")]
    out.append(
        f"  server CPU when idle: app {fmt(idle[0])} ms/s, bare fragment {fmt(idle[1])} ms/s "
        "(Streamlit polls its config files): the CPU figures above are net of it over each "
        "phase; raw is utime + stime as read"
    )
    if "first_visit" in results:
        f = results["first_visit"]
        out.append(
            "  server process start to healthy: "
            + ", ".join(f"{v:.2f}" for v in f["process_start_to_healthy_s"])
            + " s"
        )
    if args.server_env:
        out.append(f"  server environment: {' '.join(args.server_env)}")
    m = results["machine"]
    delay = one.get("commit_delay_p50_ms") if one else None
    out += [
        "",
        f"Chromium (every session) and the servers share this machine's {m['cpus']} CPU cores: "
        "latencies include the browser's CPU. Server CPU is utime + stime from /proc in "
        f"{1000 / TICK:.0f} ms ticks, read with the server idle before and after. A commit "
        f"leaves the page {fmt(delay, '.0f')} ms (median, 1 session) after a burst's last key: "
        "the view's commit delay, by design part of each app latency.",
    ]
    return "\n".join(out)


HEADER = ("measure", "value", "target", "")


# ---------------------------------------------------------------- main


async def run(args) -> dict:
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "streamlit": streamlit.__version__,
            "chromium": browser.CHROMIUM,
        },
        "options": {k: v for k, v in vars(args).items() if k != "out"},
        "targets": {k: v for k, v in TARGETS.items() if k != "p95_ms"}
        | {f"p95_ms_{n}": v for n, v in TARGETS["p95_ms"].items()},
    }
    with tempfile.TemporaryDirectory() as cache:
        env = dict(e.split("=", 1) for e in args.server_env) | {"VAE_EXPLORER_CACHE": cache}
        async with async_playwright() as pw:
            chromium = await browser.launch(pw)
            results["bare"] = await bare_runs(chromium, env, args)
            await app_runs(chromium, env, args, results)
            await chromium.close()
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.class_load",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--sessions",
        type=session_counts,
        default=[1, 8, 16],
        help="comma-separated counts of sessions stepping at once",
    )
    p.add_argument("--bursts", type=int, default=20, help="bursts per session per phase")
    p.add_argument("--keys", type=int, default=5, help="key presses per burst")
    p.add_argument("--gap-ms", type=float, default=40, help="between a burst's key presses")
    p.add_argument(
        "--pause",
        type=float,
        default=0.2,
        help="seconds between a session's bursts, jittered by ±50%%",
    )
    p.add_argument(
        "--steps-for-memory",
        type=int,
        default=1000,
        help="steps in one session between two RSS readings (0: skip)",
    )
    p.add_argument(
        "--bare-steps", type=int, default=60, help="key presses on the bare app, 1 session"
    )
    p.add_argument(
        "--bare-sessions",
        type=session_counts,
        default=[1, 8],
        help="session counts on the bare app (each then does --bursts presses)",
    )
    p.add_argument("--hover-moves", type=int, default=100, help="pointer moves over the plane")
    p.add_argument("--starts", type=int, default=3, help="server starts for the first visit")
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for both servers, e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false",
    )
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    args = p.parse_args(argv)
    if args.starts < 1 or args.bursts < 1 or args.keys < 1:
        p.error("--starts, --bursts and --keys must be at least 1")
    if any("=" not in e for e in args.server_env):
        p.error("--server-env takes NAME=VALUE")

    results = asyncio.run(run(args))
    return finish(results, report(results, args), args.out)


if __name__ == "__main__":
    sys.exit(main())
