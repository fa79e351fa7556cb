"""Streamlit's frontend, simulated: a session on /_stcore/stream that speaks the protocol as
the browser does, for benchmarks of many sessions whose client costs almost nothing
(benchmarks.ws_load, board_load).

1. Connect as the frontend does (subprotocols ["streamlit", <XSRF token or placeholder>], the
   page's Origin), send the first `rerun_script` (empty query string, page hash and name, no
   widget states, the browser's context info) and wait for that full run's `script_finished`;
   on the way, note the BidiComponent element keyed "latent_scatter", the fragment it lives in
   (Delta.fragment_id), the page script hash (NewSession), the link the server puts in the
   address bar (PageInfo), the values the browser's widget manager would hold (the sidebar
   form's widgets), and keep every cacheable message by its hash, as the frontend's message
   cache does, so that later runs may send references to it.
2. Commit a z as the view's `setTriggerValue("commit", [z1, z2])` does: a `rerun_script` for
   that fragment with the link as query string, the held widget states and the component's
   trigger aggregator ("$$STREAMLIT_INTERNAL_KEY_<id>__events") with json_trigger_value
   '[{"event":"commit","value":[z1,z2]}]', and the cached messages' hashes. (Checked against
   the frames Chromium sends for a slider step on this page: the same fields.)
3. Time from sending the commit to the first latent_scatter element whose JSON z is exactly the
   z sent ("confirmed"), and to that fragment run's script_finished; note every exception
   element, error alert and odd finish.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

SCATTER_KEY = "latent_scatter"
# The widget id of a v2 component's trigger aggregator: Streamlit's internal key prefix, the
# component id, "__", "events" (streamlit/components/v2/bidi_component/main.py
# _make_trigger_id, and Me() in the frontend's BidiComponent chunk).
TRIGGER_ID = "$$STREAMLIT_INTERNAL_KEY_{}__events"
READY_TIMEOUT_S = 180.0  # 30 first runs at once on 2 cores, each with the 2.8 MB payload
CONFIRM_TIMEOUT_S = 30.0
FINISHED = ForwardMsg.ScriptFinishedStatus
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
