"""What the operator of a server allows its training line: trainings at once, epochs, requests
per page, the model cache's size, torch's threads.

Set by whoever starts the server, never by a page (explorer/server.py reads them, with the
server's other options, from the environment and the options after `--`). The defaults suit
one person on a laptop; docs/serving.md gives settings for a classroom.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass

from i18n import Text, lazy


@dataclass(frozen=True)
class Limits:
    max_trainings: int = 1  # trainings run at once; other requests wait in line
    max_epochs: int = 200  # the most epochs a page may ask a new model to train for
    max_pending: int = 3  # requests one browser session may have waiting or training
    cache_mb: float = 2000.0  # the model cache's size; least recently used models go first
    train_threads: int = 0  # torch threads per training; 0: the cores shared among trainings

    def __post_init__(self) -> None:
        for name in ("max_trainings", "max_epochs", "max_pending"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (self.cache_mb > 0 and math.isfinite(self.cache_mb)):
            raise ValueError(f"cache_mb must be a positive number of MB, got {self.cache_mb}")
        if self.train_threads < 0:
            raise ValueError(
                f"train_threads must be 0 (automatic) or more, got {self.train_threads}"
            )

    @property
    def cache_bytes(self) -> int:
        return int(self.cache_mb * 1024 * 1024)

    def threads(self, cores: int | None = None) -> int:
        """Torch threads for one training: as set, else the cores shared by the trainings."""
        if self.train_threads:
            return self.train_threads
        return max(1, (cores or os.cpu_count() or 1) // self.max_trainings)

    def to_dict(self) -> dict:
        return asdict(self)


def env_name(name: str) -> str:
    """The environment variable that sets the limit `name`."""
    return f"VAE_EXPLORER_{name.upper()}"


def option_name(name: str) -> str:
    """The server's option (after `--`) that sets the limit `name`."""
    return "--" + name.replace("_", "-")


def where_set(name: str) -> Text:
    """How an operator changes a limit, for messages that name it (a lazy message: `str()`
    gives it in the reader's language)."""
    # TRANSLATORS: how whoever runs the server sets a limit: an environment variable, or an
    # option after `--` when starting the server.
    return lazy(
        "{env} or `streamlit run app.py -- {option} N`",
        env=env_name(name),
        option=option_name(name),
    )
