"""A class sending to one board at once, without browsers: sessions that speak the protocol

    python -m benchmarks.board_load [--students 30] [--rounds 2] [--out FILE]
    quick (~1 min): --students 4 --rounds 1

A board is opened in the server's board directory (as the sidebar's button does), then:

1. the teacher connects with the board's own link (`?board=CODE&key=SECRET`) and, as the
   browser does for a fragment with `run_every`, reruns the board's fragment each time the
   server's AutoRerun interval comes round (`is_auto_rerun`), reading every board_plane
   element it gets back: the time it first sees each item;
2. N students connect with the join link, switch on the drawing pad (the toggle's bool) and
   draw a test digit (the pad's `setStateValue("image", ...)`: the component's JSON state),
   each a different one, until the page offers "Send to the board";
3. every student presses it at the same moment (the button's trigger), and reads back the
   page's "Sent: #k" (the item's number), or the refusal;
4. repeated `--rounds` times, each round after the store's send interval has passed.

Reported: time from a student's press to the teacher's board showing that item (p50, p95,
max; the target: every item within 2 s), to the student's own "Sent", the server's CPU per
send net of its idle rate (the teacher's polling included in that idle), and correctness:
every press answered "Sent", every item on the teacher's board and in the store's file,
none twice, no exception element or error alert, a clean server log.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks import harness
from benchmarks.harness import fmt, progress, serving
from benchmarks.protocol import SimSession
from explorer.board_store import BoardLimits, BoardStore
from vae_core import load_split

TARGET_MS = 2000.0  # the issue's: a send reaches the teacher's board within 2 s
SENT = re.compile(r"Sent: #(\d+) on the board\.")
ANSWER_TIMEOUT_S = 60.0


def keyed(element_id: str, key: str) -> bool:
    """Whether a widget or component id is the one of user key `key` (Streamlit ends an id
    made from a key with "-<key>")."""
    return element_id.endswith(f"-{key}")


class Page(SimSession):
    """A session that also notes the ids and fragments of the board's elements."""

    def __init__(self, url: str, index: int, query: str) -> None:
        super().__init__(url, index, random.Random(index))
        self.query_string = query
        self.ids: dict[str, str] = {}  # user key -> element id
        self.fragments: dict[str, str | None] = {}  # user key -> the fragment it lives in

    def _note(self, element_id: str, fragment: str | None, keys: tuple[str, ...]) -> None:
        for key in keys:
            if keyed(element_id, key):
                self.ids[key] = element_id
                self.fragments[key] = fragment

    async def until(self, done, what: str, timeout: float = ANSWER_TIMEOUT_S) -> None:
        deadline = time.perf_counter() + timeout
        while not done():
            if time.perf_counter() > deadline:
                raise TimeoutError(f"session {self.index}: {what}")
            await self._wait(deadline)


class Student(Page):
    def __init__(self, url: str, index: int, query: str, pixels: bytes) -> None:
        super().__init__(url, index, query)
        self.pixels = pixels
        self.pressed: float | None = None  # time.perf_counter() of the press
        self.sent_ms: float | None = None  # press to the page's "Sent"
        self.item: int | None = None  # the item's number the page reported
        self.refused: str | None = None

    def _delta(self, msg: ForwardMsg, now: float) -> None:
        super()._delta(msg, now)
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        which = element.WhichOneof("type")
        fragment = delta.fragment_id or None
        if which in ("checkbox", "button", "bidi_component"):
            self._note(
                getattr(element, which).id, fragment, ("drawing", "draw", "board_send_drawing")
            )
        elif which == "alert" and self.pressed is not None and self.sent_ms is None:
            found = SENT.search(element.alert.body)
            if found:
                self.item, self.sent_ms = int(found[1]), 1000 * (now - self.pressed)
            elif element.alert.format == Alert.WARNING:
                self.refused = element.alert.body

    async def prepare(self) -> None:
        """Switch the pad on and draw: the page then offers "Send to the board"."""
        await self.until(lambda: "drawing" in self.ids, "no drawing toggle")
        toggle = WidgetState(id=self.ids["drawing"], bool_value=True)
        self.held[toggle.id] = toggle
        await self.ws.send(self._rerun([], None))
        await self.until(lambda: "draw" in self.ids, "no drawing pad")
        image = base64.b64encode(self.pixels).decode()
        pad = WidgetState(id=self.ids["draw"], json_value=json.dumps({"image": image}))
        self.held[pad.id] = pad
        await self.ws.send(self._rerun([], self.fragments["draw"]))
        await self.until(lambda: "board_send_drawing" in self.ids, "no send button")

    async def send(self) -> None:
        self.pressed, self.sent_ms, self.item, self.refused = time.perf_counter(), None, None, None
        press = WidgetState(id=self.ids["board_send_drawing"], trigger_value=True)
        await self.ws.send(self._rerun([press], self.fragments["board_send_drawing"]))
        await self.until(
            lambda: self.sent_ms is not None or self.refused is not None, "no answer to a send"
        )


class Teacher(Page):
    def __init__(self, url: str, query: str) -> None:
        super().__init__(url, -1, query)
        self.seen: dict[int, float] = {}  # item number -> time.perf_counter() first shown
        self.shown = 0  # items on the board as last drawn
        self.polls = 0
        self.poller: asyncio.Task | None = None

    def _handle(self, msg: ForwardMsg, now: float) -> None:
        if msg.WhichOneof("type") == "auto_rerun" and self.poller is None:
            rerun = msg.auto_rerun
            self.poller = asyncio.get_running_loop().create_task(
                self._poll(rerun.interval, rerun.fragment_id)
            )
        super()._handle(msg, now)

    async def _poll(self, interval: float, fragment_id: str) -> None:
        """What the frontend does for a fragment with run_every: a rerun of it each interval."""
        while True:
            await asyncio.sleep(interval)
            msg = BackMsg()
            msg.ParseFromString(self._rerun([], fragment_id))
            msg.rerun_script.is_auto_rerun = True
            await self.ws.send(msg.SerializeToString())
            self.polls += 1

    def _delta(self, msg: ForwardMsg, now: float) -> None:
        super()._delta(msg, now)
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        if element.WhichOneof("type") == "bidi_component" and keyed(
            element.bidi_component.id, "board_plane"
        ):
            items = json.loads(element.bidi_component.bytes)["items"]
            self.shown = len(items)
            for item in items:
                self.seen.setdefault(item["id"], now)

    async def close(self) -> None:
        if self.poller is not None:
            self.poller.cancel()
        await super().close()


async def round_of_sends(pid: int, teacher: Teacher, students: list[Student]) -> dict:
    """Every student presses Send at once; until the teacher's board shows every item."""
    idle = await harness.idle_now(pid)
    before = set(teacher.seen)
    async with harness.usage(pid, harness.own_cpu_seconds) as used:
        await asyncio.gather(*(s.send() for s in students))
        items = [s.item for s in students if s.item is not None]
        await teacher.until(lambda: set(items) <= set(teacher.seen), "items never on the board")
    to_board = [1000 * (teacher.seen[s.item] - s.pressed) for s in students if s.item]
    figures = used.figures(idle, send=max(1, len(items)))
    return {
        "students": len(students),
        "sent": len(items),
        "refused": [s.refused for s in students if s.refused],
        "new_on_board": len(set(teacher.seen) - before),
        **harness.spread(to_board, "to_board"),
        **harness.spread([s.sent_ms for s in students if s.sent_ms is not None], "to_sent"),
        "idle_cpu_ms_per_s": 1000 * idle,
        "server_cpu_per_send_ms": figures["cpu_per_send_ms"],
        "server_cpu_raw_ms": figures["server_cpu_raw_ms"],
    }


async def run(args) -> dict:
    results: dict = {
        "machine": harness.machine(),
        "options": {k: str(v) for k, v in vars(args).items()},
        "rounds": [],
    }
    images = load_split(None, "test").images
    pages: list[Page] = []
    with tempfile.TemporaryDirectory() as cache:
        store = BoardStore(Path(cache) / "boards", BoardLimits())
        board = store.open()
        env = {"VAE_EXPLORER_CACHE": cache}
        with serving(env) as server:
            pid = server.pid
            try:
                teacher = Teacher(server.url, f"lang=en&board={board.code}&key={board.secret}")
                pages.append(teacher)
                await teacher.open()
                await teacher.until(lambda: teacher.poller is not None, "the board never polls")
                students = [
                    Student(server.url, i, f"lang=en&join={board.code}", images[i].tobytes())
                    for i in range(args.students)
                ]
                pages += students
                start = time.perf_counter()
                await asyncio.gather(*(s.open() for s in students))
                await asyncio.gather(*(s.prepare() for s in students))
                results["students_ready_s"] = time.perf_counter() - start
                progress(f"{args.students} students ready in {results['students_ready_s']:.1f} s")
                for r in range(args.rounds):
                    if r:  # the store lets a session send again after its interval
                        await asyncio.sleep(BoardLimits().send_interval_s)
                    found = await round_of_sends(pid, teacher, students)
                    results["rounds"].append(found)
                    progress(
                        f"round {r + 1}: {found['sent']} sent, to the board p50/p95/max "
                        f"{fmt(found['to_board_p50_ms'], '.0f')}/"
                        f"{fmt(found['to_board_p95_ms'], '.0f')}/"
                        f"{fmt(found['to_board_max_ms'], '.0f')} ms, "
                        f"{fmt(found['server_cpu_per_send_ms'])} ms server CPU per send"
                    )
                results["teacher_polls"] = teacher.polls
            finally:
                await asyncio.gather(*(p.close() for p in pages), return_exceptions=True)
            log = server.log_text()
        stored = store.board(board.code).items
    results["stored_items"] = len(stored)
    results["stored_distinct"] = len({i.id for i in stored})
    results["session_errors"] = sorted({e for p in pages for e in p.errors})
    return results | harness.log_errors(log)


def correct(results: dict) -> bool:
    rounds = results["rounds"]
    expected = sum(r["students"] for r in rounds)
    return (
        bool(rounds)
        and all(
            r["sent"] == r["students"] == r["new_on_board"] and not r["refused"] for r in rounds
        )
        and results["stored_items"] == results["stored_distinct"] == expected
        and not results["session_errors"]
        and not results["server_log_errors"]
    )


HEADER = (
    "round",
    "students",
    "press to the teacher's board p50 / p95 / max",
    "target",
    "press to “Sent” p50 / p95",
    "server CPU per send",
    "sent / new on the board",
)


def row(k: int, r: dict) -> tuple:
    """Round k's figures, in HEADER's order."""
    ok = (
        "ok" if r["to_board_max_ms"] is not None and r["to_board_max_ms"] <= TARGET_MS else "MISSED"
    )
    return (
        k,
        r["students"],
        harness.p50_p95(r, "to_board", with_max=True),
        f"max ≤ {TARGET_MS:.0f} ms {ok}",
        harness.p50_p95(r, "to_sent"),
        f"{fmt(r['server_cpu_per_send_ms'])} ms "
        f"(raw {r['server_cpu_raw_ms']:.0f} ms for the round)",
        f"{r['sent']} / {r['new_on_board']}",
    )


def notes(results: dict) -> list[str]:
    idle = ", ".join(f"{r['idle_cpu_ms_per_s']:.1f}" for r in results["rounds"])
    errors = results["session_errors"]
    return [
        f"server idle before each round, ms CPU/s (the teacher's board polls once a second): "
        f"{idle}; subtracted over the round. The teacher's page polled "
        f"{results.get('teacher_polls', 0)} times.",
        "correctness: "
        + (
            "every press answered “Sent” and reached the board once; "
            if correct(results)
            else "FAILED; "
        )
        + f"{results['stored_items']} items in the store's file ({results['stored_distinct']} distinct); "
        + f"{len(errors)} exception/error elements"
        + (": " + "; ".join(errors[:5]) if errors else "")
        + "; server log "
        + ("HAS ERRORS (see JSON)" if results["server_log_errors"] else "clean"),
    ]


OPTIONS = {
    "--students": (int, 30, "students sending at once"),
    "--rounds": (int, 2, "rounds of everyone sending at once"),
}


def main(argv: list[str] | None = None) -> int:
    p = harness.parser("python -m benchmarks.board_load", __doc__, OPTIONS)
    args = p.parse_args(argv)
    if args.students < 1 or args.rounds < 1:
        p.error("--students and --rounds must be at least 1")
    results = asyncio.run(run(args))
    rows = [row(k, r) for k, r in enumerate(results["rounds"], start=1)]
    harness.report(results, HEADER, rows, notes(results), out=args.out)
    return 0 if correct(results) else 1


if __name__ == "__main__":
    sys.exit(main())
