"""A training run on a background thread that any number of viewers can poll.

The app keeps one job per cache key, so two browser sessions that ask for the same new model
share one training run and both watch its progress; the result lands in the on-disk cache.
Progress counts optimizer steps, so it moves within an epoch; the estimate of the time left
comes from the rate of those steps.
"""

from __future__ import annotations

import threading
import traceback
from time import monotonic

from vae_core.model import VAE, VAEConfig

from .cache import default_cache_dir, get_or_train
from .loop import EpochReport, TrainConfig

ETA_MIN_STEPS = 5  # steps timed before the first estimate of the time left
# The most progress() says before the result exists: after the last step, the test evaluation
# and the checkpoint write still take a moment.
UNFINISHED = 0.99


class TrainingJob:
    def __init__(self, model_config: VAEConfig, train_config: TrainConfig, data_dir=None) -> None:
        self.model_config = model_config
        self.train_config = train_config
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._history: list[EpochReport] = []
        self._result: tuple[VAE, dict] | None = None
        self._error: str | None = None
        self._total_steps = 0  # optimizer steps in the whole run; 0 until the first is done
        self._started: float | None = None  # monotonic() at start()
        self._ended: float | None = None  # monotonic() when the result or the error arrived
        # (steps, monotonic()) at the first step reported and at the latest: the step rate comes
        # from between them, leaving out the data loading (and any wait for the cache lock) before.
        self._first_step: tuple[int, float] | None = None
        self._last_step: tuple[int, float] | None = None
        self._thread = threading.Thread(target=self._run, name="vae-training", daemon=True)

    def start(self) -> TrainingJob:
        with self._lock:
            self._started = monotonic()
        self._thread.start()
        return self

    def _on_epoch(self, report: EpochReport) -> None:
        with self._lock:
            self._history.append(report)

    def _on_batch(self, steps: int, total: int) -> None:
        # Called after every optimizer step on the training thread: keep it to a few assignments.
        now = monotonic()
        with self._lock:
            self._total_steps = total
            self._last_step = (steps, now)
            if self._first_step is None:
                self._first_step = (steps, now)

    def _run(self) -> None:
        try:
            result = get_or_train(
                self.model_config,
                self.train_config,
                self.data_dir,
                on_epoch=self._on_epoch,
                on_batch=self._on_batch,
            )
        except Exception as exc:  # reported to every viewer instead of leaving them waiting
            message = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, OSError):
                message += (
                    f". Check that the model cache {default_cache_dir()} can be written, or set "
                    "VAE_EXPLORER_CACHE to a directory that can"
                )
            with self._lock:
                self._error, self._ended = message, monotonic()
            traceback.print_exc()
            return
        with self._lock:
            self._result, self._ended = result, monotonic()

    @property
    def history(self) -> list[EpochReport]:
        with self._lock:
            return list(self._history)

    @property
    def error(self) -> str | None:
        with self._lock:
            return self._error

    @property
    def result(self) -> tuple[VAE, dict] | None:
        with self._lock:
            return self._result

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def progress(self) -> float:
        """Fraction of the optimizer steps done, in [0, 1]; 1.0 only once the result is there.

        A model found in the cache goes from 0.0 straight to 1.0.
        """
        with self._lock:
            if self._result is not None:
                return 1.0
            if self._last_step is None:
                return 0.0
            return min(UNFINISHED, self._last_step[0] / self._total_steps)

    def elapsed(self) -> float:
        """Seconds since start(), up to the end of the job once it has ended; 0.0 before start()."""
        with self._lock:
            if self._started is None:
                return 0.0
            return (self._ended if self._ended is not None else monotonic()) - self._started

    def eta(self) -> float | None:
        """Estimated seconds until the last optimizer step, from the step rate so far.

        None until ETA_MIN_STEPS steps have been timed, and after a failure; 0.0 once the
        result is there. Epoch ends (the test evaluation) count in the rate once one has passed.
        """
        with self._lock:
            if self._result is not None:
                return 0.0
            if self._error is not None or self._first_step is None or self._last_step is None:
                return None
            (first, t_first), (last, t_last) = self._first_step, self._last_step
            if last - first < ETA_MIN_STEPS:
                return None
            seconds_per_step = (t_last - t_first) / (last - first)
            left = (self._total_steps - last) * seconds_per_step - (monotonic() - t_last)
            return max(0.0, left)

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
