"""One trained model as the page sees it, computed once per model and shared by every session.

A ModelView holds the test set's codes, the square window of the latent plane that every view
uses, and the compact payload the browser decodes with. The cached loaders here are the roots
of the page's small DAG: model -> view -> sections.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import streamlit as st

from training import DEFAULT_TRAIN_CONFIG, TrainConfig, cache_key
from training.cache import get_or_train
from training.job import TrainingJob
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
    return get_or_train(*_configs)


@st.cache_resource(show_spinner="Encoding the 10,000 test digits…", max_entries=8)
def model_view(_model: VAE, name: str) -> ModelView:
    return build_view(_model, *test_set(), name)


@st.cache_resource
def _jobs() -> tuple[dict[str, TrainingJob], threading.Lock]:
    """Training jobs by model id, shared by every session of this server."""
    return {}, threading.Lock()


def training_job(
    name: str, configs: tuple[VAEConfig, TrainConfig], restart_failed: bool = False
) -> TrainingJob:
    """The one job training this model, started on first request and shared by all who ask."""
    jobs, lock = _jobs()
    with lock:
        job = jobs.get(name)
        if job is None or (restart_failed and job.error):
            job = jobs[name] = TrainingJob(*configs).start()
        return job
