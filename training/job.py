"""A training that any number of viewers poll, whichever engine runs it (training.process: a
worker process of this host; training.cluster: a task of the Dask cluster).

The server keeps one job per cache key (training.queue), so sessions that ask for the same new
model share one run and all watch its progress; the model lands in the on-disk cache. The job
reads its worker's messages (training.worker says which); progress counts optimizer steps, so
it moves within an epoch, and the estimate of the time left comes from the rate of those steps.
"""

from __future__ import annotations

import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from time import monotonic

from i18n import Text
from vae_core.model import VAEConfig
from vae_core.replay import ReplayFrame
from vae_core.snapshot import Snapshot

from .cache import cache_key, default_cache_dir
from .request import EpochReport, TrainConfig, TrainingRequest

ETA_MIN_STEPS = 5  # steps timed before the first estimate of the time left
# The most progress() says before the model is there: after the last step, the test
# evaluation and the checkpoint write still take a moment.
UNFINISHED = 0.99

WAITING, RUNNING, DONE, FAILED, CANCELLED = "waiting", "running", "done", "failed", "cancelled"
_RUNS = itertools.count(1)


class TrainingJob(ABC):
    """What every engine's job shares: the request, the state and what viewers read of it.

    An engine says how a job starts and stops (`start`, `cancel`, `pid`); it feeds the worker's
    messages to `_handle` and calls `_finish` once the job has ended.
    """

    def __init__(self, request: TrainingRequest) -> None:
        if request.cache_dir is None:  # the worker may not see this process's environment
            request = replace(request, cache_dir=default_cache_dir())
        self.request = request
        self.cache_dir = Path(request.cache_dir)
        self.key = cache_key(*request.configs())
        # Tells this run from another of the same key (cancelled and asked for again, or
        # pruned and retrained), whose snapshots must not be taken for this one's.
        self.run = next(_RUNS)
        self._lock = threading.Lock()
        self._ended_event = threading.Event()
        self._state = WAITING
        self._history: list[EpochReport] = []
        self._frames: list[ReplayFrame] = []  # the training's replay so far, one per epoch
        self._snapshot: Snapshot | None = None  # the weights after the latest epoch
        self._error: Text | str | None = None  # str() of it: in the reader's language
        self._on_end: list[Callable[[TrainingJob], None]] = []
        self._total_steps = 0  # optimizer steps in the whole run; 0 until the first is done
        self._started: float | None = None  # monotonic() at start()
        self._ended: float | None = None  # monotonic() when the job ended
        # (steps, monotonic()) at the first step reported and at the latest: the step rate comes
        # from between them, leaving out the worker's start and data loading before.
        self._first_step: tuple[int, float] | None = None
        self._last_step: tuple[int, float] | None = None

    @property
    def model_config(self) -> VAEConfig:
        return self.request.model_config

    @property
    def train_config(self) -> TrainConfig:
        return self.request.train_config

    # ------------------------------------------------------------ lifecycle

    @abstractmethod
    def start(self) -> TrainingJob:
        """Hand the training to the engine; a job cancelled before this never starts."""

    @abstractmethod
    def cancel(self) -> None:
        """Drop a waiting job, or stop a running one (nothing reaches the cache)."""

    @property
    @abstractmethod
    def pid(self) -> int | None:
        """The training's process, on the host that runs it; None before it has one."""

    def add_done_callback(self, callback: Callable[[TrainingJob], None]) -> None:
        """Call `callback(job)` once the job has ended, on whichever thread ends it."""
        with self._lock:
            if not self._ended_event.is_set():
                self._on_end.append(callback)
                return
        callback(self)

    def wait(self, timeout: float | None = None) -> bool:
        return self._ended_event.wait(timeout)

    def _finish(self) -> None:
        with self._lock:
            callbacks, self._on_end = self._on_end, []
            self._ended_event.set()
        for callback in callbacks:
            callback(self)

    def _handle(self, message: dict) -> None:
        if "batch" in message:
            steps, total = message["batch"]
            self._on_batch(int(steps), int(total))
        elif "epoch" in message:
            with self._lock:
                self._history.append(EpochReport(**message["epoch"]))
        elif "replay" in message:
            frame = ReplayFrame.from_message(message["replay"])
            with self._lock:
                self._frames.append(frame)
        elif "snapshot" in message:
            snapshot = Snapshot.from_message(message["snapshot"])
            with self._lock:
                self._snapshot = snapshot
        elif "done" in message or "error" in message:
            with self._lock:
                if self._state == RUNNING:
                    self._ended = monotonic()
                    if "done" in message:
                        self._state = DONE
                    else:
                        # A lazy message as data (i18n.message_of), or an older worker's text.
                        self._state = FAILED
                        self._error = Text.from_message(message["error"])

    def _on_batch(self, steps: int, total: int) -> None:
        now = monotonic()
        with self._lock:
            self._total_steps = total
            self._last_step = (steps, now)
            if self._first_step is None:
                self._first_step = (steps, now)

    # ------------------------------------------------------------ what viewers read

    @property
    def state(self) -> str:
        """waiting, running, done, failed or cancelled."""
        with self._lock:
            return self._state

    @property
    def done(self) -> bool:
        """True once the model is in the cache."""
        return self.state == DONE

    @property
    def history(self) -> list[EpochReport]:
        with self._lock:
            return list(self._history)

    @property
    def replay_frames(self) -> list[ReplayFrame]:
        """The replay so far: a frame per epoch done, each arriving after its epoch's report."""
        with self._lock:
            return list(self._frames)

    @property
    def snapshot(self) -> Snapshot | None:
        """The weights after the latest epoch while the job runs; None before the first epoch
        has ended, and once the job has ended (the cache then holds the model)."""
        with self._lock:
            return self._snapshot if self._state == RUNNING else None

    @property
    def error(self) -> Text | str | None:
        """Why the job failed, None if it has not: a lazy message, `str()` of it in the reader's
        language (an f-string does that), or a plain string."""
        with self._lock:
            return self._error

    def progress(self) -> float:
        """Fraction of the optimizer steps done, in [0, 1]; 1.0 only once the model is there.

        A model found in the cache goes from 0.0 straight to 1.0.
        """
        with self._lock:
            if self._state == DONE:
                return 1.0
            if self._last_step is None:
                return 0.0
            return min(UNFINISHED, self._last_step[0] / self._total_steps)

    def elapsed(self) -> float:
        """Seconds since start(), up to the end of the job once it has ended; 0.0 before."""
        with self._lock:
            if self._started is None:
                return 0.0
            return (self._ended if self._ended is not None else monotonic()) - self._started

    def seconds_per_step(self) -> float | None:
        """The step rate measured so far, once ETA_MIN_STEPS steps have been timed."""
        with self._lock:
            return self._seconds_per_step()

    def _seconds_per_step(self) -> float | None:
        if self._first_step is None or self._last_step is None:
            return None
        (first, t_first), (last, t_last) = self._first_step, self._last_step
        if last - first < ETA_MIN_STEPS:
            return None
        return (t_last - t_first) / (last - first)

    def eta(self) -> float | None:
        """Estimated seconds until the last optimizer step, from the step rate so far.

        None until ETA_MIN_STEPS steps have been timed, and after a failure; 0.0 once the
        model is there. Epoch ends (the test evaluation) count in the rate once one has passed.
        """
        with self._lock:
            if self._state == DONE:
                return 0.0
            rate = self._seconds_per_step()
            if self._state != RUNNING or rate is None:
                return None
            last, t_last = self._last_step
            left = (self._total_steps - last) * rate - (monotonic() - t_last)
            return max(0.0, left)
