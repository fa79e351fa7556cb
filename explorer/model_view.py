"""One trained model as the page sees it, computed once per model and shared by every session.

A ModelView holds the test set's codes, the square window of the latent plane that every view
uses, and the compact payload the browser decodes with. The cached loaders here are the roots
of the page's small DAG: model -> view -> sections.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.runtime import Runtime

from i18n import N_, Deferred, Text, _
from training import DEFAULT_TRAIN_CONFIG, TrainConfig, cache_key, default_cache_dir
from training.cache import load_cached
from training.cluster import cluster_queue
from training.in_use import HEARTBEAT_S, InUse
from training.limits import Limits, data_dirs, scheduler, server_limits
from training.queue import TrainingQueue
from vae_core import Dataset, datasets_from, describe, encode, load_split
from vae_core.datasets import MNIST_CLASSES
from vae_core.inference import decoder_layers
from vae_core.model import VAE, VAEConfig

from . import payload

log = logging.getLogger(__name__)


def plane_window(
    mu: np.ndarray, quantile: float = 0.999, minimum: float = 3.0
) -> tuple[float, float]:
    """A square window on the latent plane holding nearly every code and the prior's bulk."""
    r = float(np.quantile(np.abs(mu), quantile)) * 1.05
    r = max(minimum, np.ceil(r * 2) / 2)
    return -r, r


@dataclass(frozen=True)
class ModelSettings:
    """What picks a model: the same fields the sidebar and a shared link name."""

    beta: float
    width: int
    epochs: int
    seed: int
    data: str = "mnist"  # the dataset's key, one of `datasets()`
    conditional: bool = False  # a conditional VAE (Sohn et al. 2015), given the class

    def configs(self) -> tuple[VAEConfig, TrainConfig, Path | None]:
        """The model and training configs and the data directory (None: the bundled MNIST);
        batch size and learning rate are the defaults'."""
        dataset = dataset_of(self.data)
        model_config = VAEConfig(
            latent_dim=2,
            hidden=(self.width, self.width),
            beta=self.beta,
            conditional=self.conditional,
            **({"classes": len(dataset.classes)} if self.conditional else {}),
        )
        train_config = TrainConfig(
            epochs=self.epochs,
            batch_size=DEFAULT_TRAIN_CONFIG.batch_size,
            lr=DEFAULT_TRAIN_CONFIG.lr,
            seed=self.seed,
        )
        return model_config, train_config, dataset.directory

    def describe(self) -> str:
        """The settings in words, for the sidebar and the Training tab (in the language of the
        page's run)."""
        if self.conditional:
            # TRANSLATORS: a model's settings: its data's name, its two hidden layers' widths,
            # β, how many epochs it trains for and its random seed.
            words = _(
                "{data} conditional VAE, hidden [{width}, {width}], β = {beta:g}, "
                "{epochs} epochs, seed {seed}"
            )
        else:
            # TRANSLATORS: a model's settings: its data's name, its two hidden layers' widths,
            # β, how many epochs it trains for and its random seed.
            words = _(
                "{data} VAE, hidden [{width}, {width}], β = {beta:g}, {epochs} epochs, seed {seed}"
            )
        return words.format(
            data=dataset_of(self.data).name,
            width=self.width,
            beta=self.beta,
            epochs=self.epochs,
            seed=self.seed,
        )


def model_id(model_config: VAEConfig, train_config: TrainConfig, data_dir=None) -> str:
    """The model's name across the page, the cache and the browser: its cache key."""
    return cache_key(model_config, train_config, data_dir)


@dataclass(frozen=True)
class ModelView:
    model_id: str
    mu: np.ndarray  # (N, 2) posterior means of the test images (a conditional model's q(z|x, y))
    sigma: np.ndarray  # (N, 2) posterior standard deviations
    labels: np.ndarray  # (N,) uint8 test labels
    window: tuple[float, float]  # the square [lo, hi] shown on both latent axes
    payload: bytes  # what the browser draws and decodes with (explorer.payload)
    images: np.ndarray | None = None  # (N, 28, 28) uint8 test images the codes are of
    classes: tuple[str, ...] = MNIST_CLASSES  # each label's name, in label order
    noun: str = "digit"  # what one image is called on the page: "digit" (MNIST) or "image"
    conditional: bool = False  # a conditional VAE: encoding and decoding take the class
    data: str = "mnist"  # the dataset's key (explorer.model_view.dataset_of)
    snapshot: tuple[int, int] | None = None  # (epoch, epochs) of a model still training


def build_view(
    model: VAE,
    images: np.ndarray,
    labels: np.ndarray,
    name: str,
    dataset: Dataset | None = None,
    snapshot: tuple[int, int] | None = None,
) -> ModelView:
    """The view of `model` over these test images of `dataset` (None: the bundled MNIST);
    `snapshot` (epoch, epochs) for a model still training (explorer.preview)."""
    dataset = dataset or describe(None)
    conditional = model.config.conditional
    mu, sigma = encode(model, images, labels if conditional else None)
    window = plane_window(mu)
    classes = dataset.classes
    packed = payload.pack(
        name, decoder_layers(model), mu, labels, window, classes, dataset.noun, snapshot
    )
    return ModelView(
        name,
        mu,
        sigma,
        labels,
        window,
        packed,
        images=images,
        classes=classes,
        noun=dataset.noun,
        conditional=conditional,
        data=dataset.key,
        snapshot=snapshot,
    )


# ---------------------------------------------------------------- cached roots, shared by sessions


@st.cache_resource(show_spinner=False)
def test_set(data: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """The test images and labels of the dataset with key `data`."""
    split = load_split(dataset_of(data).directory, "test")
    return split.images, split.labels


@st.cache_resource(show_spinner=Deferred(N_("Loading the model…")), max_entries=8)
def load_model(name: str, _configs: tuple[VAEConfig, TrainConfig]) -> tuple[VAE, dict]:
    """The model from the cache; never trains (the training line does): raises NotCached."""
    return load_cached(*_configs)


@st.cache_resource(show_spinner=Deferred(N_("Encoding the test images…")), max_entries=8)
def model_view(_model: VAE, name: str, data: str = "mnist") -> ModelView:
    return build_view(_model, *test_set(data), name, dataset_of(data))


# ---------------------------------------------------------------- the server's training line

_configured: Limits | None = None
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
    """The offered dataset with this key; the bundled MNIST for a key no longer offered."""
    offered = datasets()
    return next((d for d in offered if d.key == key), offered[0])


def default_data() -> str:
    """The dataset a new page starts on: the first directory the operator named, else MNIST."""
    offered = datasets()
    return offered[1].key if len(offered) > 1 else offered[0].key


def limits() -> Limits:
    """The operator's limits: as configured at server start, else from the environment."""
    return _configured or server_limits()


def session_alive(session_id: str) -> bool:
    """Whether a browser session is still connected (always, outside a Streamlit server)."""
    return not Runtime.exists() or Runtime.instance().is_active_session(session_id)


@st.cache_resource
def _shown() -> dict[str, str]:
    """The model id each session shows, so that pruning the cache keeps it."""
    return {}


def _shown_here(shown: dict[str, str]) -> set[str]:
    """The models this server's connected sessions show (forgetting sessions gone)."""
    for session_id in [s for s in list(shown) if not session_alive(s)]:
        shown.pop(session_id, None)
    return set(shown.values())


def _kept_here(shown: dict[str, str]) -> set[str]:
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


def note_shown(session_id: str, name: str) -> None:
    shown = _shown()
    shown[session_id] = name
    _in_use(str(default_cache_dir())).write(_kept_here(shown))


def models_in_use() -> set[str]:
    """The models shown by any page of any server on this cache: pruning keeps them."""
    here = _kept_here(_shown())
    record = _in_use(str(default_cache_dir()))
    record.write(here)
    return here | record.others()


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
