"""The server: what its operator set, and what every page of it shares.

The operator's options (never a page's): the limits on trainings and class boards, the data
directories offered, a school's Dask scheduler; from environment variables
(`VAE_EXPLORER_MAX_TRAININGS=1 streamlit run app.py`) or options after `--`
(`streamlit run app.py -- --max-trainings 1`), the options winning. Then the server's
singletons: its training line, its class boards, and its record in the shared model cache of
the models its pages show, so that pruning keeps them.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from i18n import Text
from training import default_cache_dir
from training.cluster import cluster_queue
from training.in_use import HEARTBEAT_S, InUse
from training.limits import Limits, env_name, option_name
from training.queue import TrainingQueue
from vae_core import Dataset, datasets_from, describe
from vae_core.data import DataError
from vae_core.uploads import KEY, upload_dir

from .board_store import BoardLimits, BoardStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerLimits(Limits):
    """The training line's limits (training.limits), and the class boards'."""

    max_boards: int = 20  # class boards open at once (explorer/board_store.py)
    board_items: int = 300  # items one class board holds
    board_interval_s: float = 3.0  # the least time between two sends of one browser session
    upload_mb: float = 50.0  # the most one upload of own pictures may send (a zip, or files)
    upload_images: int = 20_000  # the most pictures in one upload
    upload_megapixels: float = 40.0  # the most pixels one picture may claim, in millions
    upload_total_megapixels: float = 1000.0  # the most all pictures of one upload may claim
    uploads_per_session: int = 10  # uploads one browser session may send
    uploads_per_hour: int = 60  # uploads the whole server prepares in an hour
    uploads_kept: int = 50  # uploads the cache keeps; the least recently used go first
    upload_days: float = 7.0  # days an upload no page shows is kept

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in (
            "max_boards",
            "board_items",
            "upload_images",
            "uploads_per_session",
            "uploads_per_hour",
            "uploads_kept",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (0 <= self.board_interval_s <= 3600):
            raise ValueError(
                f"board_interval_s must be between 0 and 3600 seconds, got {self.board_interval_s}"
            )
        for name in ("upload_mb", "upload_megapixels", "upload_total_megapixels", "upload_days"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive number, got {value}")

    def boards(self) -> BoardLimits:
        return BoardLimits(
            boards=self.max_boards, items=self.board_items, send_interval_s=self.board_interval_s
        )


HELP = {
    "max_trainings": "trainings run at once; the others wait in line",
    "max_epochs": "the most epochs a page may ask a new model to train for",
    "max_pending": "requests one browser session may have waiting or training",
    "cache_mb": "size of the model cache in MB; least recently used models are removed first",
    "train_threads": "torch threads per training (0: the cores shared among trainings)",
    "max_boards": "class boards open at once on this server",
    "board_items": "items (drawings, predictions) one class board holds",
    "board_interval_s": "the least seconds between two sends to a board from one browser session",
    "upload_mb": "the most MB one upload of own pictures may send",
    "upload_images": "the most pictures in one upload",
    "upload_megapixels": "the most pixels one uploaded picture may claim, in millions",
    "upload_total_megapixels": "the most pixels all pictures of one upload may claim, in millions",
    "uploads_per_session": "uploads one browser session may send",
    "uploads_per_hour": "uploads this server prepares in an hour, all sessions together",
    "uploads_kept": "uploads the cache keeps; the least recently used go first",
    "upload_days": "days an upload that no page shows is kept",
}
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


def server_limits(
    argv: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> ServerLimits:
    """The limits from the environment and then from `argv` (what follows `--`).

    A bad value stops the server at start with a message naming the setting (argparse exits
    with status 2), rather than running with a limit nobody chose.
    """
    environ = os.environ if environ is None else environ
    defaults = ServerLimits()
    parser = argparse.ArgumentParser(
        prog="streamlit run app.py --",
        description="Limits of a VAE explorer server; each also reads its environment variable.",
        allow_abbrev=False,
    )
    _add_data_dir(parser)
    values = {}
    for f in fields(ServerLimits):
        kind = type(getattr(defaults, f.name))  # int, or float for sizes and seconds
        env = env_name(f.name)
        text = environ.get(env)
        try:
            values[f.name] = kind(text) if text not in (None, "") else getattr(defaults, f.name)
        except ValueError:
            parser.error(f"{env}={text!r} is not a number")
        parser.add_argument(
            option_name(f.name),
            type=kind,
            dest=f.name,
            default=values[f.name],
            help=f"{HELP[f.name]} (env {env}; default: %(default)s)",
        )
    args = vars(parser.parse_args(list(argv)))
    del args["data_dirs"], args["scheduler"]
    try:
        return ServerLimits(**args)
    except ValueError as exc:
        parser.error(str(exc))


# ---------------------------------------------------------------- as configured at start

_configured: ServerLimits | None = None
_scheduler: str | None = None
_datasets: tuple[list[Dataset], list[Text | str]] | None = None


def configure(argv: list[str]) -> None:
    """At server start: the operator's limits and data directories from what follows
    `streamlit run app.py --` and the environment."""
    global _configured, _datasets, _scheduler
    _configured = server_limits(argv)
    _scheduler = scheduler(argv)
    _datasets = datasets_from(data_dirs(argv))
    for problem in _datasets[1]:
        log.warning(problem)


def limits() -> ServerLimits:
    """The operator's limits: as configured at server start, else from the environment."""
    return _configured or server_limits()


def datasets() -> list[Dataset]:
    """The datasets this server offers: the bundled MNIST, then the directories the operator
    named (as configured at server start, else from the environment)."""
    global _datasets
    if _datasets is None:
        _datasets = datasets_from(data_dirs())
    return _datasets[0]


def data_problems() -> list[Text | str]:
    """Why a directory the operator named is not offered: one message per directory, shown in
    the reader's language (`str()` of it)."""
    datasets()
    return _datasets[1]


def dataset_of(key: str) -> Dataset:
    """The offered dataset, or the upload, with this key; the bundled MNIST for a key no
    longer offered or held."""
    offered = datasets()
    return next((d for d in offered if d.key == key), None) or own_dataset(key) or offered[0]


def holds(key: str) -> bool:
    """Whether this server offers or holds the data with this key."""
    return any(d.key == key for d in datasets()) or own_dataset(key) is not None


def uploads_root() -> Path:
    """Where uploaded pictures live, prepared: in the model cache, shared by a school's
    replicas and workers as the models are."""
    return default_cache_dir() / "uploads"


def is_own(key: str) -> bool:
    """Whether a data key names an upload (whether or not this server holds it)."""
    return KEY.fullmatch(key) is not None


def own_dataset(key: str) -> Dataset | None:
    """The upload with this key as a dataset; None when the key is not an upload's, or the
    server no longer holds it."""
    directory = upload_dir(uploads_root(), key)  # None for a key that is not an upload's too
    if directory is None:
        return None
    try:
        return describe(directory)
    except DataError as exc:  # half pruned, or changed by hand: as good as gone
        log.warning("upload %s unreadable: %s", key, exc)
        return None


def default_data() -> str:
    """The dataset a new page starts on: the first directory the operator named, else MNIST."""
    offered = datasets()
    return offered[1].key if len(offered) > 1 else offered[0].key


# ---------------------------------------------------------------- the server's sessions


def session_id() -> str:
    """This browser session's id, by which the training line knows who waits for what."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


def session_alive(session_id: str) -> bool:
    """Whether a browser session is still connected (always, outside a Streamlit server)."""
    return not Runtime.exists() or Runtime.instance().is_active_session(session_id)


@st.cache_resource
def _shown() -> dict[str, frozenset[str]]:
    """The model id each session shows, and its upload's key, so that pruning keeps them."""
    return {}


def _shown_here(shown: dict[str, frozenset[str]]) -> set[str]:
    """The models this server's connected sessions show (forgetting sessions gone)."""
    for session_id in [s for s in list(shown) if not session_alive(s)]:
        shown.pop(session_id, None)
    return set().union(*shown.values())


def _kept_here(shown: dict[str, frozenset[str]]) -> set[str]:
    """What this server's record names: the models its pages show, and those its training
    line trains or finished for them, which a school's other replicas must not prune."""
    return _shown_here(shown) | (_line.kept() if _line is not None else set())


@st.cache_resource
def _in_use(cache_dir: str) -> InUse:
    """This server's record in the shared cache of what its pages show, kept fresh by a
    heartbeat while the server runs (training/in_use.py)."""
    record, shown = InUse(cache_dir), _shown()

    def beat() -> None:
        while True:
            time.sleep(HEARTBEAT_S / 2)
            record.write(_kept_here(shown))

    threading.Thread(target=beat, daemon=True, name="models-in-use").start()
    return record


def note_shown(session_id: str, name: str, data: str = "mnist") -> None:
    """Record the model a session shows and, when its data are an upload, the upload: the
    record keeps both from pruning."""
    shown = _shown()
    shown[session_id] = frozenset({name, data} if is_own(data) else {name})
    _in_use(str(default_cache_dir())).write(_kept_here(shown))


def models_in_use() -> set[str]:
    """The models shown by any page of any server on this cache: pruning keeps them."""
    here = _kept_here(_shown())
    record = _in_use(str(default_cache_dir()))
    record.write(here)
    return here | record.others()


# ---------------------------------------------------------------- the server's singletons

_line: TrainingQueue | None = None  # the queue _queue made, whose waited-for models pruning keeps


@st.cache_resource
def _queue(server_limits: Limits, cache_dir: str, address: str | None) -> TrainingQueue:
    global _line
    queue = cluster_queue(
        server_limits, address, cache_dir=cache_dir, alive=session_alive, in_use=models_in_use
    )
    _line = queue
    queue.prune()  # the operator may have lowered the cache's size since the last start
    return queue


def training_queue() -> TrainingQueue:
    """The one training line of this server, shared by every session."""
    return _queue(limits(), str(default_cache_dir()), _scheduler or scheduler())


@st.cache_resource
def _boards(root: str, board_limits: BoardLimits) -> BoardStore:
    return BoardStore(root, board_limits)


def board_store() -> BoardStore:
    """The server's class boards, in the model cache's directory, within the operator's
    limits."""
    return _boards(str(default_cache_dir() / "boards"), limits().boards())
