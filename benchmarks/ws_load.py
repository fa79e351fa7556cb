"""A class on one server without browsers: simulated sessions that speak Streamlit's protocol.

    python -m benchmarks.ws_load [--sessions 1,16,30] [--commits 30] [--replicas N] [--out FILE]
    quick (~1 min): --sessions 1,4 --commits 5

benchmarks/class_load.py drives real Chromium pages, and on the 2-core machine Chromium takes
the cores the server needs: its 16-session latencies measure the browsers. Here each student
is one WebSocket on /_stcore/stream that says what the real frontend says, as protobuf
BackMsgs, and reads the ForwardMsgs it gets back, so N sessions cost the client almost
nothing and the latencies are the server's:

1. connect as the frontend does (subprotocols ["streamlit", <XSRF token or placeholder>],
   the page's Origin), send the first `rerun_script` (empty query string, page hash and
   name, no widget states, the browser's context info) and wait for that full run's
   `script_finished`; on the way, note the BidiComponent element keyed "latent_scatter", the
   fragment it lives in (Delta.fragment_id), the page script hash (NewSession), the link the
   server puts in the address bar (PageInfo), the values the browser's widget manager would
   hold (the sidebar form's widgets), and keep every cacheable message by its hash, as the
   frontend's message cache does, so that later runs may send references to it;
2. every 0.5-1 s (jittered, like a student settling on a point), commit a random z as the
   view's `setTriggerValue("commit", [z1, z2])` does: a `rerun_script` for that fragment
   with the link as query string, the held widget states and the component's trigger
   aggregator ("$$STREAMLIT_INTERNAL_KEY_<id>__events") with json_trigger_value
   '[{"event":"commit","value":[z1,z2]}]', and the cached messages' hashes. (Checked
   against the frames Chromium sends for a slider step on this page: the same fields.)
3. time from sending the commit to the first latent_scatter element whose JSON z is exactly
   the z sent ("confirmed"), and to that fragment run's script_finished.

Reported per session count: p50/p95 of commit-to-confirmed (the target: 16 sessions, p95 <=
1 s), server CPU per commit (utime + stime from /proc, net of the server's idle polling, read
with the server settled before and after, as class_load does), each session's commit rate,
and this client's own CPU. Correctness: every confirmed z must be the z sent (a rerun that
shows another z, or finishes without the element, is counted and fails the run), and no
delta may carry an exception element or an error alert; the server's log must be clean.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import streamlit
import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks.harness import (
    TICK,
    finish,
    fmt,
    idle_rate,
    percentile,
    progress,
    rss_mib,
    serving,
    serving_school,
    session_counts,
    settled,
    table,
)

SCATTER_KEY = "latent_scatter"
# The widget id of a v2 component's trigger aggregator: Streamlit's internal key prefix, the
# component id, "__", "events" (streamlit/components/v2/bidi_component/main.py
# _make_trigger_id, and Me() in the frontend's BidiComponent chunk).
TRIGGER_ID = "$$STREAMLIT_INTERNAL_KEY_{}__events"
READY_TIMEOUT_S = 180.0  # 30 first runs at once on 2 cores, each with the 2.8 MB payload
CONFIRM_TIMEOUT_S = 30.0
TARGET_P95_MS = {16: 1000.0}
FINISHED = ForwardMsg.ScriptFinishedStatus
ERROR_LOG = re.compile(r"Traceback|\bERROR\b")
# Every model's plane reaches at least +-3 on both axes (explorer.model_view.plane_window's
# minimum), so points within +-2.5 are never clamped: the server must show exactly what was
# sent. A clamp would move z on purpose and is not what this measures.
COMMIT_WINDOW = (-2.5, 2.5)


def _compact_json(value) -> str:
    """JSON as the browser's JSON.stringify writes it: no spaces, and a whole number without
    ".0" (JavaScript has one number type). Python's shortest float repr otherwise matches
    JavaScript's for the 3-decimal values sent here."""

    def js(v):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [js(x) for x in v]
        if isinstance(v, dict):
            return {k: js(x) for k, x in v.items()}
        return v

    return json.dumps(js(value), separators=(",", ":"))


def held_state(which: str, widget) -> WidgetState | None:
    """The value the frontend's widget manager holds for a widget element once it is drawn,
    for the kinds on this page (the sidebar form's select slider, selectbox and number
    inputs); the browser sends these with every rerun request, the commit's included.
    Buttons and other triggers hold nothing between reruns."""
    state = WidgetState(id=widget.id)
    if which == "slider":
        if widget.type == Slider.SELECT_SLIDER:
            shown = widget.raw_value or [widget.options[int(i)] for i in widget.default]
            state.string_array_value.data.extend(shown)
        else:
            state.double_array_value.data.extend(
                widget.value if widget.set_value else widget.default
            )
    elif which == "selectbox":
        if not widget.HasField("raw_value"):
            return None
        state.string_value = widget.raw_value
    elif which == "number_input":
        value = widget.value if widget.set_value else widget.default
        if widget.data_type == NumberInput.INT:
            state.int_value = int(value)
        else:
            state.double_value = value
    else:
        return None
    return state


@dataclass
class Commit:
    z: tuple[float, float]
    sent: float  # time.perf_counter()
    confirmed_ms: float | None = None  # to the element showing this z
    finished_ms: float | None = None  # to that run's script_finished
    wrong_z: list = field(default_factory=list)  # z of elements shown instead, if any
    status: str | None = None  # script_finished status of the run that answered


class SimSession:
    """One simulated student: a WebSocket that talks like Streamlit's frontend."""

    def __init__(self, url: str, index: int, rng: random.Random) -> None:
        parts = urlsplit(url)
        self.http = url
        self.ws_url = f"ws://{parts.netloc}/_stcore/stream"
        self.index = index
        self.rng = rng
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.page_script_hash = ""
        self.query_string = ""  # the link the server last set (page_info_changed)
        self.held: dict[str, WidgetState] = {}  # widget states the browser would hold
        self.session_id = ""
        self.scatter_id: str | None = None
        self.fragment_id: str | None = None
        # The frontend's ForwardMsg cache: hash -> [message, run count when last used, the
        # fragment it came from]. Its hashes go with every rerun request, and the server then
        # sends a reference instead of a message the browser holds (the 2.8 MB payload on
        # full reruns). Entries expire as the frontend expires them (see _expire).
        self.cache: dict[str, list] = {}
        self.run_count = 0
        self.max_cache_age = 2  # global.maxCachedMessageAge, until NewSession says
        self.new_session_seen = False
        self.last_z: list[float] | None = None
        self.errors: list[str] = []  # exception elements, error alerts, odd finishes
        self.commits: list[Commit] = []
        self.pending: Commit | None = None
        self.event = asyncio.Event()  # set on every message that may settle `pending`
        self.finished_runs = 0
        self.ready_s: float | None = None
        self.bytes_in = 0

    # ------------------------------------------------------------ sending

    def _context_info(self):
        """What the browser reports of itself with every rerun (timezone, locale, URL...)."""
        msg = BackMsg()
        info = msg.rerun_script.context_info
        info.timezone = "UTC"
        info.timezone_offset = 0
        info.locale = "en-US"
        info.url = self.http + "/"
        info.is_embedded = False
        info.color_scheme = "light"
        return info

    def _rerun(self, triggers: list[WidgetState], fragment_id: str | None) -> bytes:
        """A rerun_script BackMsg as the frontend's sendRerunBackMsg builds it: the address
        bar's query string, every widget state it holds, then the pending triggers."""
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query_string
        rerun.widget_states.SetInParent()  # sent even when empty, as the frontend does
        rerun.widget_states.widgets.extend([*self.held.values(), *triggers])
        # First run: no page hash yet, and the page name is the URL path under the base
        # ("" at the root); afterwards the page hash the server named, and no name.
        rerun.page_script_hash = self.page_script_hash
        rerun.page_name = ""
        if fragment_id:
            rerun.fragment_id = fragment_id
        rerun.cached_message_hashes.extend(self.cache)
        rerun.context_info.CopyFrom(self._context_info())
        self.new_session_seen = False  # as sendRerunBackMsg resets hasReceivedNewSession
        return msg.SerializeToString()

    async def open(self) -> None:
        """Connect, request the first run, wait for it to finish with the view on the page."""
        start = time.perf_counter()
        # The frontend offers "streamlit" and its XSRF cookie (or a placeholder without one)
        # as subprotocols; the server picks the first and reads the token only for auth
        # cookies, which a class has none of. The browser sends its own Origin.
        self.ws = await websockets.connect(
            self.ws_url,
            subprotocols=["streamlit", "PLACEHOLDER_AUTH_TOKEN"],
            origin=self.http,
            max_size=None,  # the first run carries the model's 2.8 MB payload
            open_timeout=READY_TIMEOUT_S,
            ping_interval=None,  # the server pings; the library answers either way
        )
        self.reader = asyncio.create_task(self._read())
        await self.ws.send(self._rerun([], None))
        deadline = start + READY_TIMEOUT_S
        while self.finished_runs == 0 or self.scatter_id is None:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"session {self.index}: no full run with the view")
            await self._wait(deadline)
        self.ready_s = time.perf_counter() - start

    async def commit(self, z: tuple[float, float]) -> Commit:
        """One commit, exactly as the view's setTriggerValue sends it; wait for its answer."""
        trigger = WidgetState(
            id=TRIGGER_ID.format(self.scatter_id),
            json_trigger_value=_compact_json([{"event": "commit", "value": list(z)}]),
        )
        payload = self._rerun([trigger], self.fragment_id)
        c = self.pending = Commit(z, time.perf_counter())
        await self.ws.send(payload)
        deadline = c.sent + CONFIRM_TIMEOUT_S
        while c.finished_ms is None and time.perf_counter() < deadline:
            await self._wait(deadline)
        self.pending = None
        self.commits.append(c)
        return c

    async def full_rerun(self) -> bool:
        """Rerun the whole page, as the browser's "Rerun" does; True if it finished and the
        view still shows the last committed z: every section ran again on the state the
        commits left (and _delta records any exception element they drew)."""
        runs = self.finished_runs
        self.last_z = None
        await self.ws.send(self._rerun([], None))
        deadline = time.perf_counter() + READY_TIMEOUT_S
        while self.finished_runs == runs and time.perf_counter() < deadline:
            await self._wait(deadline)
        want = list(self.commits[-1].z) if self.commits else None
        return self.finished_runs > runs and self.last_z == want

    async def _wait(self, deadline: float) -> None:
        self.event.clear()
        try:
            await asyncio.wait_for(self.event.wait(), max(0.0, deadline - time.perf_counter()))
        except TimeoutError:
            pass
        if self.reader.done():
            exc = self.reader.exception()
            raise RuntimeError(f"session {self.index}: connection lost: {exc!r}")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            try:
                await self.reader
            except (asyncio.CancelledError, websockets.ConnectionClosed):
                pass

    # ------------------------------------------------------------ receiving

    async def _read(self) -> None:
        async for data in self.ws:
            now = time.perf_counter()  # stamped before parsing: the client's cost stays out
            self.bytes_in += len(data)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            self._handle(msg, now)
            self.event.set()

    def _handle(self, msg: ForwardMsg, now: float) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            # A message this client said it holds: the frontend replays it from its cache.
            entry = self.cache.get(msg.ref_hash)
            if entry is None:
                self.errors.append(f"reference to a message never received: {msg.ref_hash}")
                return
            entry[1] = self.run_count
            full = ForwardMsg()
            full.CopyFrom(entry[0])
            full.metadata.CopyFrom(msg.metadata)
            msg, kind = full, "delta"
        elif msg.metadata.cacheable and msg.hash:
            if msg.hash in self.cache:
                self.cache[msg.hash][1] = self.run_count
            else:
                fragment = msg.delta.fragment_id if kind == "delta" else ""
                self.cache[msg.hash] = [msg, self.run_count, fragment or None]
        if kind == "new_session":
            self.new_session_seen = True
            self.page_script_hash = msg.new_session.page_script_hash
            self.session_id = msg.new_session.initialize.session_id
            self.max_cache_age = msg.new_session.config.max_cached_message_age
        elif kind == "page_info_changed":
            # The link the page keeps in the address bar; the browser sends it back.
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta":
            self._delta(msg, now)
        elif kind == "script_finished":
            status = FINISHED.Name(msg.script_finished)
            if msg.script_finished == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                self.errors.append("script finished with a compile error")
            if msg.script_finished in (
                FINISHED.FINISHED_SUCCESSFULLY,
                FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
            ):
                self.finished_runs += 1
            if msg.script_finished != FINISHED.FINISHED_EARLY_FOR_RERUN and self.new_session_seen:
                self._expire(list(msg.metadata.run.fragment_ids))
            c = self.pending
            # The answer to a commit: the first run to finish after the element showed it,
            # or, if none showed it, the first fragment run that finished after the send.
            if c is not None and c.finished_ms is None:
                if c.confirmed_ms is not None or (
                    msg.script_finished == FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
                ):
                    c.finished_ms = 1000 * (now - c.sent)
                    c.status = status
        elif kind == "session_event":
            event = msg.session_event
            if event.HasField("script_compilation_exception"):
                self.errors.append(f"compile error: {event.script_compilation_exception.message}")

    def _expire(self, fragment_ids: list[str]) -> None:
        """The frontend's ForwardMessageCache.incrementRunCount: after a run, drop what that
        run could have used and has not for more than max_cache_age runs; a fragment run
        ages only its fragment's messages."""
        self.run_count += 1
        for key, (_, used, fragment) in list(self.cache.items()):
            if fragment_ids and (fragment is None or fragment not in fragment_ids):
                continue
            if self.run_count - used > self.max_cache_age:
                del self.cache[key]

    def _delta(self, msg: ForwardMsg, now: float) -> None:
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        which = element.WhichOneof("type")
        if which == "exception":
            e = element.exception
            self.errors.append(f"exception element: {e.type}: {e.message}"[:300])
        elif which == "alert" and element.alert.format == Alert.ERROR:
            self.errors.append(f"error alert: {element.alert.body}"[:300])
        elif which in ("slider", "selectbox", "number_input"):
            state = held_state(which, getattr(element, which))
            if state is not None:
                self.held[state.id] = state
        elif which == "bidi_component":
            bidi = element.bidi_component
            if SCATTER_KEY not in bidi.id:
                return
            self.scatter_id = bidi.id
            self.fragment_id = delta.fragment_id or None
            data = json.loads(bidi.bytes)
            self.last_z = data["z"]
            c = self.pending
            if c is not None and c.confirmed_ms is None:
                if tuple(data["z"]) == c.z:
                    c.confirmed_ms = 1000 * (now - c.sent)
                else:
                    c.wrong_z.append(data["z"])

    # ------------------------------------------------------------ the student

    def next_z(self) -> tuple[float, float]:
        """A random point well inside the plane, rounded as the view rounds (3 decimals), and
        never the current one, so every commit must change what the server shows."""
        lo, hi = COMMIT_WINDOW
        while True:
            z = tuple(round(self.rng.uniform(lo, hi), 3) for _ in range(2))
            if self.last_z is None or list(z) != self.last_z:
                return z


# ---------------------------------------------------------------- phases


async def open_sessions(url: str, pid: int, count: int, first: int, seed: int) -> dict:
    """`count` sessions connecting at once; the server's CPU per first run."""
    cpu0, _ = await settled(pid)
    start = time.perf_counter()
    sessions = [
        SimSession(url, first + i, random.Random(seed * 1000 + first + i)) for i in range(count)
    ]
    await asyncio.gather(*(s.open() for s in sessions))
    elapsed = time.perf_counter() - start
    cpu1, _ = await settled(pid)
    return {
        "sessions": sessions,
        "opened_s": elapsed,
        "ready_s_median": statistics.median(s.ready_s for s in sessions),
        "server_cpu_per_first_run_ms": 1000 * (cpu1 - cpu0) / count,
    }


async def idle_now(pid: int) -> float:
    """The server's idle CPU seconds per second with the sessions it has now: the median of
    three short readings, since one reading can catch a stray collection or timer."""
    return statistics.median([await idle_rate(pid, 2.0) for _ in range(3)])


def _client_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


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

    idle_before = await idle_now(pid)
    cpu0, t0 = await settled(pid)
    client0 = _client_cpu()
    rss0 = rss_mib(pid)
    start = time.perf_counter()
    await asyncio.gather(*(student(s) for s in sessions))
    elapsed = time.perf_counter() - start
    client1 = _client_cpu()
    cpu1, t1 = await settled(pid)
    idle_after = await idle_now(pid)
    idle = (idle_before + idle_after) / 2
    done = [c for s, n in zip(sessions, first, strict=True) for c in s.commits[n:]]
    confirmed = [c.confirmed_ms for c in done if c.confirmed_ms is not None]
    finished = [c.finished_ms for c in done if c.finished_ms is not None]
    raw_ms = 1000 * (cpu1 - cpu0)
    cpu_ms = raw_ms - 1000 * idle * (t1 - t0)
    # Each session's commits per second, first send to last send: the rate it kept up,
    # slower than 1 / mean gap only where answers came later than the next commit was due.
    rates = []
    for s, n in zip(sessions, first, strict=True):
        mine = s.commits[n:]
        if len(mine) > 1:
            rates.append((len(mine) - 1) / (mine[-1].sent - mine[0].sent))
    wrong = [c for c in done if c.wrong_z or (c.confirmed_ms is None and c.finished_ms)]
    return {
        "sessions": len(sessions),
        "commits": len(done),
        "seconds": elapsed,
        "latency_ms": confirmed,
        "latency_p50_ms": percentile(confirmed, 50),
        "latency_p95_ms": percentile(confirmed, 95),
        "latency_max_ms": max(confirmed) if confirmed else None,
        "finished_p50_ms": percentile(finished, 50),
        "finished_p95_ms": percentile(finished, 95),
        "unanswered": sum(c.finished_ms is None and c.confirmed_ms is None for c in done),
        "wrong_z": len(wrong),
        "wrong_z_examples": [[list(c.z), c.wrong_z, c.status] for c in wrong[:5]],
        "statuses": sorted({c.status for c in done if c.status}),
        "idle_cpu_ms_per_s": [1000 * idle_before, 1000 * idle_after],
        "server_cpu_raw_ms": raw_ms,
        "server_cpu_ms": cpu_ms,
        "server_cpu_share": (cpu1 - cpu0) / elapsed,
        "cpu_per_commit_ms": cpu_ms / len(done) if done else None,
        "cpu_per_commit_raw_ms": raw_ms / len(done) if done else None,
        "client_cpu_share": (client1 - client0) / elapsed,
        "client_cpu_per_commit_ms": 1000 * (client1 - client0) / len(done) if done else None,
        "commit_rate_per_s": {
            "median": statistics.median(rates) if rates else None,
            "min": min(rates, default=None),
            "max": max(rates, default=None),
        },
        "rss_before_mib": rss0,
        "rss_after_mib": rss_mib(pid),
    }


# ---------------------------------------------------------------- run and report


async def run(args) -> dict:
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "streamlit": streamlit.__version__,
            "websockets": websockets.__version__,
        },
        "options": {k: str(v) for k, v in vars(args).items()},
        "phases": [],
        "openings": [],
    }
    results["commit_window"] = list(COMMIT_WINDOW)
    gap = (args.gap_min, args.gap_max)
    sessions: list[SimSession] = []
    with tempfile.TemporaryDirectory() as cache:
        env = {"VAE_EXPLORER_CACHE": cache}
        school = serving_school(env, args.replicas) if args.replicas else serving(env)
        with school as server:
            pid = server.pid
            results["server_start_to_healthy_s"] = server.healthy_seconds
            try:
                # One session warms the server (first run's imports, caches, the payload
                # built once) outside every measure.
                opening = await open_sessions(server.url, pid, 1, 0, args.seed)
                sessions += opening.pop("sessions")
                for _ in range(3):
                    await sessions[0].commit(sessions[0].next_z())
                rss_one = rss_mib(pid)
                for n in args.sessions:
                    if n > len(sessions):
                        opening = await open_sessions(
                            server.url, pid, n - len(sessions), len(sessions), args.seed
                        )
                        more = opening.pop("sessions")
                        sessions += more
                        for s in more:  # each session's first commit: outside the measure
                            await s.commit(s.next_z())
                        rss = rss_mib(pid)
                        opening |= {
                            "sessions": n,
                            "pages": len(more),
                            "rss_mib": rss,
                            "rss_per_extra_session_mib": (rss - rss_one) / (n - 1),
                        }
                        results["openings"].append(opening)
                        progress(
                            f"{n} sessions open: {len(more)} first runs in "
                            f"{opening['opened_s']:.2f} s, "
                            f"{opening['server_cpu_per_first_run_ms']:.0f} ms server CPU each"
                        )
                    phase = await commit_phase(pid, sessions[:n], args.commits, gap)
                    results["phases"].append(phase)
                    progress(
                        f"{n} session(s): p50/p95 {fmt(phase['latency_p50_ms'], '.0f')}/"
                        f"{fmt(phase['latency_p95_ms'], '.0f')} ms, "
                        f"{fmt(phase['cpu_per_commit_ms'])} ms server CPU per commit, "
                        f"{phase['wrong_z']} wrong, {phase['unanswered']} unanswered"
                    )
                # Last, every session reruns its whole page once: the other sections must
                # still draw without an error on the state the commits left.
                kept = await asyncio.gather(*(s.full_rerun() for s in sessions))
                results["full_rerun_kept_z"] = f"{sum(kept)}/{len(kept)}"
                results["full_rerun_ok"] = all(kept)
            finally:
                await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
            log = server.log_text()
    results["session_errors"] = sorted({e for s in sessions for e in s.errors})
    results["server_log_errors"] = bool(ERROR_LOG.search(log))
    if results["server_log_errors"]:
        at = log.find("Traceback")
        results["server_log_tail"] = log[at:][-3000:] if at >= 0 else log[-3000:]
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


def report(results: dict) -> str:
    header = (
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
    rows = [header]
    for p in results["phases"]:
        n = p["sessions"]
        target = TARGET_P95_MS.get(n)
        ok = ""
        if target is not None and p["latency_p95_ms"] is not None:
            ok = " ok" if p["latency_p95_ms"] <= target else " MISSED"
        rate = p["commit_rate_per_s"]
        rate_text = "n/a"
        if rate["median"] is not None:
            rate_text = f"{rate['median']:.2f} ({rate['min']:.2f}-{rate['max']:.2f})"
        rows.append(
            (
                str(n),
                str(p["commits"]),
                f"{fmt(p['latency_p50_ms'], '.0f')} / {fmt(p['latency_p95_ms'], '.0f')} ms",
                f"p95 ≤ {target:g} ms{ok}" if target else "",
                f"{fmt(p['finished_p50_ms'], '.0f')} / {fmt(p['finished_p95_ms'], '.0f')} ms",
                f"{fmt(p['cpu_per_commit_ms'])} ms (raw {fmt(p['cpu_per_commit_raw_ms'])})",
                f"{100 * p['server_cpu_share']:.0f}% of a core",
                rate_text,
                f"{fmt(p['client_cpu_per_commit_ms'], '.2f')} ms",
                f"{p['wrong_z']} / {p['unanswered']}",
            )
        )
    out = [table(rows[0], rows[1:])]
    out.append("")
    replicas = int(results["options"].get("replicas", "0"))
    if replicas:
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
    out.append(
        f"server idle, ms CPU/s before/after each phase (sessions: before/after): {idle}; "
        "their mean is subtracted over the phase (Streamlit polls its config files); raw is "
        f"utime + stime as read, in {1000 / TICK:.0f} ms ticks. Latencies: commit BackMsg sent -> first ForwardMsg carrying the latent_scatter "
        "element with that z (the view's own 120 ms commit delay is not included)."
    )
    errors = results["session_errors"]
    out.append(
        "correctness: "
        + ("every commit confirmed with the z sent; " if correct(results) else "FAILED; ")
        + f"{len(errors)} distinct exception/error elements or odd finishes"
        + (": " + "; ".join(errors[:5]) if errors else "")
        + f"; a full rerun of every page at the end kept its z in {results['full_rerun_kept_z']}"
        + "; server log "
        + ("HAS ERRORS (see JSON)" if results["server_log_errors"] else "clean")
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.ws_load",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--sessions",
        type=session_counts,
        default=[1, 16, 30],
        help="comma-separated counts of sessions committing at once",
    )
    p.add_argument("--commits", type=int, default=30, help="commits per session per phase")
    p.add_argument("--gap-min", type=float, default=0.5, help="least seconds between commits")
    p.add_argument("--gap-max", type=float, default=1.0, help="most seconds between commits")
    p.add_argument("--seed", type=int, default=0, help="seed of the students' random points")
    p.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="0: one server; N: a school of N replicas behind HAProxy (python -m deploy.school), "
        "its CPU summed over the replicas and the proxy",
    )
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    args = p.parse_args(argv)
    if args.commits < 1:
        p.error("--commits must be at least 1")
    if not 0 <= args.gap_min <= args.gap_max:
        p.error("need 0 <= --gap-min <= --gap-max")

    results = asyncio.run(run(args))
    finish(results, report(results), args.out)
    return 0 if correct(results) else 1


if __name__ == "__main__":
    sys.exit(main())
