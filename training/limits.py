"""What the operator of a server allows the pages to ask of it: trainings, epochs, disk, class
boards, and which data directories it offers.

Set by whoever starts the server, never by a page: environment variables
(`VAE_EXPLORER_MAX_TRAININGS=1 streamlit run app.py`) or options after `--`
(`streamlit run app.py -- --max-trainings 1`), the options winning. The defaults suit one
person on a laptop; README's "Serving a class" gives settings for a classroom.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

from i18n import Text, lazy


@dataclass(frozen=True)
class Limits:
    max_trainings: int = 1  # trainings run at once; other requests wait in line
    max_epochs: int = 200  # the most epochs a page may ask a new model to train for
    max_pending: int = 3  # requests one browser session may have waiting or training
    cache_mb: float = 2000.0  # the model cache's size; least recently used models go first
    train_threads: int = 0  # torch threads per training; 0: the cores shared among trainings
    max_boards: int = 20  # class boards open at once (explorer/board_store.py)
    board_items: int = 300  # items one class board holds
    board_interval_s: float = 3.0  # the least time between two sends of one browser session

    def __post_init__(self) -> None:
        at_least_one = ("max_trainings", "max_epochs", "max_pending", "max_boards", "board_items")
        for name in at_least_one:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (self.cache_mb > 0 and math.isfinite(self.cache_mb)):
            raise ValueError(f"cache_mb must be a positive number of MB, got {self.cache_mb}")
        if not (0 <= self.board_interval_s <= 3600):
            raise ValueError(
                f"board_interval_s must be between 0 and 3600 seconds, got {self.board_interval_s}"
            )
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


# Each limit's environment variable and its option after `--`.
ENV = {f.name: f"VAE_EXPLORER_{f.name.upper()}" for f in fields(Limits)}
OPTION = {f.name: "--" + f.name.replace("_", "-") for f in fields(Limits)}
HELP = {
    "max_trainings": "trainings run at once; the others wait in line",
    "max_epochs": "the most epochs a page may ask a new model to train for",
    "max_pending": "requests one browser session may have waiting or training",
    "cache_mb": "size of the model cache in MB; least recently used models are removed first",
    "train_threads": "torch threads per training (0: the cores shared among trainings)",
    "max_boards": "class boards open at once on this server",
    "board_items": "items (drawings, predictions) one class board holds",
    "board_interval_s": "the least seconds between two sends to a board from one browser session",
}


def where_set(name: str) -> Text:
    """How an operator changes a limit, for messages that name it (a lazy message: `str()`
    gives it in the reader's language)."""
    # TRANSLATORS: how whoever runs the server sets a limit: an environment variable, or an
    # option after `--` when starting the server.
    return lazy("{env} or `streamlit run app.py -- {option} N`", env=ENV[name], option=OPTION[name])


DATA_ENV = "VAE_EXPLORER_DATA"
SCHEDULER_ENV = "VAE_EXPLORER_SCHEDULER"


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        action="append",
        default=[],
        dest="data_dirs",
        help="a directory of MNIST-format files the page offers beside the bundled MNIST, "
        f"shown first; repeat for several (env {DATA_ENV}, directories separated by "
        f"{os.pathsep!r})",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="tcp://HOST:PORT of a Dask scheduler to run every training on (a school's "
        f"cluster, deploy/); env {SCHEDULER_ENV}; default: this server trains them itself",
    )


def data_dirs(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> list[str]:
    """The data directories the operator names: $VAE_EXPLORER_DATA's, then `--data-dir`'s."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    _add_data_dir(parser)
    named, _ = parser.parse_known_args(list(argv))
    from_env = [d for d in environ.get(DATA_ENV, "").split(os.pathsep) if d.strip()]
    return [*from_env, *named.data_dirs]


def scheduler(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> str | None:
    """The Dask scheduler the operator names for the trainings: `--scheduler`'s, else
    $VAE_EXPLORER_SCHEDULER's; None: none."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    _add_data_dir(parser)
    named, _ = parser.parse_known_args(list(argv))
    return named.scheduler or environ.get(SCHEDULER_ENV, "").strip() or None


def server_limits(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> Limits:
    """The limits from the environment and then from `argv` (what follows `--`).

    A bad value stops the server at start with a message naming the setting (argparse exits
    with status 2), rather than running with a limit nobody chose.
    """
    environ = os.environ if environ is None else environ
    defaults = Limits()
    parser = argparse.ArgumentParser(
        prog="streamlit run app.py --",
        description="Limits of a VAE explorer server; each also reads its environment variable.",
        allow_abbrev=False,
    )
    _add_data_dir(parser)
    values = {}
    for f in fields(Limits):
        kind = type(getattr(defaults, f.name))  # int, or float for sizes and seconds
        text = environ.get(ENV[f.name])
        try:
            values[f.name] = kind(text) if text not in (None, "") else getattr(defaults, f.name)
        except ValueError:
            parser.error(f"{ENV[f.name]}={text!r} is not a number")
        parser.add_argument(
            OPTION[f.name],
            type=kind,
            dest=f.name,
            default=values[f.name],
            help=f"{HELP[f.name]} (env {ENV[f.name]}; default: %(default)s)",
        )
    args = vars(parser.parse_args(list(argv)))
    del args["data_dirs"], args["scheduler"]
    try:
        return Limits(**args)
    except ValueError as exc:
        parser.error(str(exc))
