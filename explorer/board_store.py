"""The class board's store: boards a teacher opens, items students send to them, on disk.

A board is one JSON file under `root` (beside the model cache), so a restart of the server
keeps every open board; a closed board's file is removed, and so is an expired one's the next
time the store is used. Every change is made under one file lock and written atomically
(a temporary file, then `os.replace`), so a reader never sees half a board and a failed
write leaves the board as it was.

Everything a student sends is untrusted: a name is cut to plain short text, a point must be
two finite numbers, a drawing exactly the pad's 784 bytes, and a session sends at most one
item every `send_interval_s`. A code names a board and is enough to send to it; only the
secret, which students' links never carry, lets a teacher hide, clear or close. Both come
from `secrets.token_urlsafe`, so they cannot be found by trying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from filelock import FileLock

from i18n import Text, lazy
from vae_core.checkpoint import atomic_write

PIXELS = 28 * 28
NAME_CHARS = 24  # the longest display name kept
KINDS = ("drawing", "prediction", "choice")
ANSWER_CHARS = 24  # the longest answer to a choice kept
CODE = re.compile(r"[A-Za-z0-9_-]{12}")  # token_urlsafe(9): 72 random bits
SECRET = re.compile(r"[A-Za-z0-9_-]{32}")  # token_urlsafe(24): 192 random bits


@dataclass(frozen=True)
class BoardLimits:
    boards: int = 20  # boards open at once on this server
    items: int = 300  # items one board holds
    send_interval_s: float = 3.0  # the least time between two sends of one session
    lifetime_s: float = 12 * 3600.0  # a board is removed this long after it was opened


class BoardError(ValueError):
    """What was wrong with a board request, as a message in the reader's language."""

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class Item:
    id: int  # the item's number on its board, from 1
    kind: str  # "drawing", "prediction" (a tour step's guess on the plane) or "choice"
    name: str  # the sender's display name, plain text ("" when none was given)
    z: tuple[float, float] | None  # a drawing's q(z|x) mean, a prediction's guess; a choice: None
    truth: tuple[float, float] | None = None  # a prediction's true code
    step: int | None = None  # the tour step a prediction or a choice answers
    percentile: float | None = None  # a drawing's −ELBO percentile among the test images
    pixels: bytes | None = None  # a drawing's 28x28, as the pad prepared it
    model_id: str = ""  # the model that placed it
    at: float = 0.0  # when it was sent (the store's clock)
    hidden: bool = False  # taken off the board by the teacher
    answer: str | None = None  # a choice's answer as its step names it ("β = 4", "unusual")
    right: bool | None = None  # whether that answer was right

    def to_json(self) -> dict:
        d = asdict(self)
        d["pixels"] = None if self.pixels is None else base64.b64encode(self.pixels).decode()
        return d

    @classmethod
    def from_json(cls, d: dict) -> Item:
        pixels = d.get("pixels")
        return cls(
            **{
                **d,
                "z": None if d.get("z") is None else tuple(d["z"]),
                "truth": None if d.get("truth") is None else tuple(d["truth"]),
                "pixels": None if pixels is None else base64.b64decode(pixels),
            }
        )


@dataclass(frozen=True)
class Board:
    code: str  # what a join link carries
    secret: str  # what only the teacher's board link carries
    opened: float  # when it was opened (the store's clock)
    items: tuple[Item, ...] = ()
    senders: dict = field(default_factory=dict)  # a hashed session id: its latest send

    def shown(self) -> list[Item]:
        return [item for item in self.items if not item.hidden]

    def counts(self) -> dict[tuple[str, int | None], int]:
        """The items shown per kind and tour step: ("drawing", None), ("prediction", 1),
        ("choice", 6)."""
        counts: dict[tuple[str, int | None], int] = {}
        for item in self.shown():
            key = (item.kind, item.step)
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)))

    def answers(self) -> dict[int, dict[str, tuple[int, bool | None]]]:
        """The choices shown, per tour step: each answer's count and whether it was right."""
        steps: dict[int, dict[str, tuple[int, bool | None]]] = {}
        for item in self.shown():
            if item.kind == "choice":
                tally = steps.setdefault(item.step, {})
                count, _right = tally.get(item.answer, (0, None))
                tally[item.answer] = (count + 1, item.right)
        return dict(sorted(steps.items()))


def clean_name(text) -> str:
    """A display name as plain short text: no control or format characters, spaces
    collapsed, at most NAME_CHARS characters. The page still shows it escaped."""
    if not isinstance(text, str):
        return ""
    kept = "".join(c for c in text[: NAME_CHARS * 4] if unicodedata.category(c)[0] != "C")
    return " ".join(kept.split())[:NAME_CHARS]


def is_code(code) -> bool:
    """Whether `code` has a board code's shape: only then may it name a file."""
    return isinstance(code, str) and CODE.fullmatch(code) is not None


def _point(value, problem: Text) -> tuple[float, float]:
    try:
        z = (float(value[0]), float(value[1]))
        ok = len(value) == 2 and all(math.isfinite(v) for v in z)
    except (TypeError, ValueError, IndexError, KeyError):
        ok = False
    if not ok:
        raise BoardError(problem)
    return z


class BoardStore:
    def __init__(
        self,
        root: str | os.PathLike,
        limits: BoardLimits = BoardLimits(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root)
        self.limits = limits
        self.clock = clock
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.root / ".lock"))

    # ------------------------------------------------------------ files

    def _path(self, code: str) -> Path:
        return self.root / f"{code}.json"

    def _read(self, code: str) -> Board | None:
        if not is_code(code):
            return None
        try:
            d = json.loads(self._path(code).read_text())
            board = Board(
                code=d["code"],
                secret=d["secret"],
                opened=float(d["opened"]),
                items=tuple(Item.from_json(i) for i in d["items"]),
                senders=dict(d.get("senders", {})),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if self.clock() - board.opened > self.limits.lifetime_s:
            self._path(code).unlink(missing_ok=True)
            return None
        return board

    def _write(self, board: Board) -> None:
        d = {
            "code": board.code,
            "secret": board.secret,
            "opened": board.opened,
            "items": [item.to_json() for item in board.items],
            "senders": board.senders,
        }
        atomic_write(self._path(board.code), lambda f: f.write(json.dumps(d).encode()))

    def _codes(self) -> list[str]:
        return [p.stem for p in self.root.glob("*.json") if is_code(p.stem)]

    # ------------------------------------------------------------ reading

    def board(self, code: str) -> Board:
        """The open board of this code (a student's view: anyone with the code)."""
        board = self._read(code)
        if board is None:
            raise BoardError(
                lazy(
                    "There is no open board with this code: it was closed, it expired, or "
                    "the link is mistyped. Ask your teacher for the board's link."
                )
            )
        return board

    def teacher(self, code: str, secret: str) -> Board:
        """The board, if `secret` is its teacher's; else a BoardError."""
        board = self.board(code)
        given = secret if isinstance(secret, str) else ""
        if not hmac.compare_digest(given.encode(), board.secret.encode()):
            raise BoardError(lazy("Only the teacher's board link can change this board."))
        return board

    def version(self, code: str) -> int:
        """Changes whenever the board does (its file's time), 0 once it is gone: what a page
        polls before it reads the board again."""
        if not is_code(code):
            return 0
        try:
            return self._path(code).stat().st_mtime_ns
        except OSError:
            return 0

    # ------------------------------------------------------------ changing

    def open(self) -> Board:
        """A new board, if the server holds fewer than its limit."""
        with self._lock:
            open_now = [c for c in self._codes() if self._read(c) is not None]
            if len(open_now) >= self.limits.boards:
                raise BoardError(
                    lazy(
                        "This server already has {count} open boards, its limit: close one, "
                        "or ask whoever runs the server to allow more.",
                        count=len(open_now),
                    )
                )
            code = secrets.token_urlsafe(9)
            while code in open_now:
                code = secrets.token_urlsafe(9)
            board = Board(code=code, secret=secrets.token_urlsafe(24), opened=self.clock())
            self._write(board)
            return board

    def send(
        self,
        code: str,
        session: str,
        *,
        kind: str,
        z=None,
        name: str = "",
        truth=None,
        step: int | None = None,
        percentile: float | None = None,
        pixels: bytes | None = None,
        model_id: str = "",
        answer: str | None = None,
        right: bool | None = None,
    ) -> Item:
        """A student's item onto the board; a BoardError says why not."""
        if kind not in KINDS:
            raise BoardError(
                lazy("Only drawings and the tour's predictions can be sent to a board.")
            )
        if kind != "drawing" and (not isinstance(step, int) or isinstance(step, bool)):
            raise BoardError(lazy("A prediction is sent from a step of the tour."))
        point = None
        if kind == "choice":
            answer = clean_name(answer)[:ANSWER_CHARS]
            if not answer:
                raise BoardError(lazy("Choose an answer before you send it."))
            truth, pixels, right = None, None, right if isinstance(right, bool) else None
        else:
            point = _point(z, lazy("The point sent must be two finite numbers."))
            answer, right = None, None
        if kind == "drawing":
            if not isinstance(pixels, bytes) or len(pixels) != PIXELS:
                raise BoardError(lazy("Draw something on the pad before you send it."))
            truth, step = None, None
        elif kind == "prediction":
            truth = _point(truth, lazy("A prediction needs the true code: two finite numbers."))
            pixels = None
        if percentile is not None and not (
            isinstance(percentile, (int, float)) and 0 <= percentile <= 100
        ):
            percentile = None
        sender = hashlib.sha256(str(session).encode()).hexdigest()[:16]
        with self._lock:
            board = self.board(code)
            now = self.clock()
            wait = self.limits.send_interval_s - (now - board.senders.get(sender, -math.inf))
            if wait > 0:
                raise BoardError(
                    lazy("You sent one a moment ago: send again in {s:.0f} s.", s=math.ceil(wait))
                )
            if len(board.items) >= self.limits.items:
                raise BoardError(
                    lazy(
                        "The board is full ({count} items): your teacher can clear it.",
                        count=len(board.items),
                    )
                )
            item = Item(
                id=max((i.id for i in board.items), default=0) + 1,
                kind=kind,
                name=clean_name(name),
                z=point,
                truth=truth,
                step=step,
                percentile=None if percentile is None else float(percentile),
                pixels=pixels,
                model_id=str(model_id)[:64],
                at=now,
                answer=answer,
                right=right,
            )
            self._write(
                replace(board, items=(*board.items, item), senders={**board.senders, sender: now})
            )
            return item

    def hide(self, code: str, secret: str, item_id: int) -> None:
        with self._lock:
            board = self.teacher(code, secret)
            items = tuple(replace(i, hidden=True) if i.id == item_id else i for i in board.items)
            self._write(replace(board, items=items))

    def clear(self, code: str, secret: str) -> None:
        with self._lock:
            board = self.teacher(code, secret)
            self._write(replace(board, items=()))

    def close(self, code: str, secret: str) -> None:
        with self._lock:
            self.teacher(code, secret)
            self._path(code).unlink(missing_ok=True)
