"""One trained model as the page sees it, computed once per model and shared by every session.

A ModelView holds the test set's codes, the square window of the latent plane that every view
uses, and the compact payload the browser decodes with. The cached loaders here are the roots
of the page's small DAG: model -> view -> sections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit.runtime import Runtime

from training import DEFAULT_TRAIN_CONFIG, TrainConfig, cache_key, default_cache_dir
from training.cache import load_cached
from training.limits import Limits, server_limits
from training.queue import TrainingQueue
from vae_core import encode, load_split
from vae_core.inference import decoder_layers
from vae_core.model import VAE, VAEConfig

from . import payload


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

    def configs(self) -> tuple[VAEConfig, TrainConfig]:
        """The model and training configs; batch size and learning rate are the defaults'."""
        model_config = VAEConfig(latent_dim=2, hidden=(self.width, self.width), beta=self.beta)
        train_config = TrainConfig(
            epochs=self.epochs,
            batch_size=DEFAULT_TRAIN_CONFIG.batch_size,
            lr=DEFAULT_TRAIN_CONFIG.lr,
            seed=self.seed,
        )
        return model_config, train_config


def model_id(model_config: VAEConfig, train_config: TrainConfig) -> str:
    """The model's name across the page, the cache and the browser: its cache key."""
    return cache_key(model_config, train_config)


@dataclass(frozen=True)
class ModelView:
    model_id: str
    mu: np.ndarray  # (N, 2) posterior means of the test digits
    sigma: np.ndarray  # (N, 2) posterior standard deviations
    labels: np.ndarray  # (N,) uint8 test labels
    window: tuple[float, float]  # the square [lo, hi] shown on both latent axes
    payload: bytes  # what the browser draws and decodes with (explorer.payload)


def build_view(model: VAE, images: np.ndarray, labels: np.ndarray, name: str) -> ModelView:
    mu, sigma = encode(model, images)
    window = plane_window(mu)
    data = payload.pack(name, decoder_layers(model), mu, labels, window)
    return ModelView(name, mu, sigma, labels, window, data)


# ---------------------------------------------------------------- cached roots, shared by sessions


@st.cache_resource(show_spinner=False)
def test_set() -> tuple[np.ndarray, np.ndarray]:
    split = load_split(None, "test")
    return split.images, split.labels


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def load_model(name: str, _configs: tuple[VAEConfig, TrainConfig]) -> tuple[VAE, dict]:
    """The model from the cache; never trains (the training line does): raises NotCached."""
    return load_cached(*_configs)


@st.cache_resource(show_spinner="Encoding the 10,000 test digits…", max_entries=8)
def model_view(_model: VAE, name: str) -> ModelView:
    return build_view(_model, *test_set(), name)


# ---------------------------------------------------------------- the server's training line

_configured: Limits | None = None


def configure(argv: list[str]) -> None:
    """At server start: the operator's limits from what follows `streamlit run app.py --`."""
    global _configured
    _configured = server_limits(argv)


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


def note_shown(session_id: str, name: str) -> None:
    _shown()[session_id] = name


def models_in_use() -> set[str]:
    shown = _shown()
    for session_id in [s for s in list(shown) if not session_alive(s)]:
        shown.pop(session_id, None)
    return set(shown.values())


@st.cache_resource
def _queue(server_limits: Limits, cache_dir: str) -> TrainingQueue:
    queue = TrainingQueue(
        server_limits, cache_dir=cache_dir, alive=session_alive, in_use=models_in_use
    )
    queue.prune()  # the operator may have lowered the cache's size since the last start
    return queue


def training_queue() -> TrainingQueue:
    """The one training line of this server, shared by every session."""
    return _queue(limits(), str(default_cache_dir()))
