"""A training run on a background thread that any number of viewers can poll.

The app keeps one job per cache key, so two browser sessions that ask for the same new model
share one training run and both watch its progress; the result lands in the on-disk cache.
"""

from __future__ import annotations

import threading
import traceback

from vae_core.model import VAE, VAEConfig

from .cache import default_cache_dir, get_or_train
from .loop import EpochReport, TrainConfig


class TrainingJob:
    def __init__(self, model_config: VAEConfig, train_config: TrainConfig, data_dir=None) -> None:
        self.model_config = model_config
        self.train_config = train_config
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._history: list[EpochReport] = []
        self._result: tuple[VAE, dict] | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name="vae-training", daemon=True)

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def _on_epoch(self, report: EpochReport) -> None:
        with self._lock:
            self._history.append(report)

    def _run(self) -> None:
        try:
            result = get_or_train(
                self.model_config, self.train_config, self.data_dir, on_epoch=self._on_epoch
            )
        except Exception as exc:  # reported to every viewer instead of leaving them waiting
            message = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, OSError):
                message += (
                    f". Check that the model cache {default_cache_dir()} can be written, or set "
                    "VAE_EXPLORER_CACHE to a directory that can"
                )
            with self._lock:
                self._error = message
            traceback.print_exc()
            return
        with self._lock:
            self._result = result

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
        """Fraction of epochs done, in [0, 1]."""
        done = len(self.history)
        return 1.0 if self.result is not None else done / self.train_config.epochs

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
