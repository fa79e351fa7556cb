"""A model still training, explored as its latest snapshot (vae_core.snapshot): the snapshot
built into a model and its view once for every page (which page shows which snapshot, and
when it moves on, is explorer/model_requests.py's).

A page that asked for a new model shows it from the end of its first epoch: the worker sends
the weights after every epoch, the server rebuilds the model from them once for every page, and
the whole page (the plane, hover, the sliders and every tab) works on that snapshot, marked
"training: epoch k of N".
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import streamlit as st

from training.job import TrainingJob
from vae_core.model import VAE
from vae_core.snapshot import Snapshot

from .model_view import ModelSettings, ModelView, Shown, build_view, test_set
from .server import dataset_of

BUILT = 4  # snapshots kept built on the server, for pages a refresh apart


@dataclass(frozen=True)
class Preview:
    settings: ModelSettings  # the model training
    job: TrainingJob
    epoch: int  # the snapshot's epoch, of job.train_config.epochs
    name: str  # the snapshot's model id: the cache key and the epoch, never the finished one's
    model: VAE
    view: ModelView

    @property
    def epochs(self) -> int:
        return self.job.train_config.epochs

    @property
    def shown(self) -> Shown:
        """The snapshot as the sections read the model shown."""
        return Shown(self.model, self.view, self.checkpoint())

    def checkpoint(self) -> dict:
        """What the page reads of a checkpoint, for the snapshot: the latest epoch's one-draw
        test metrics and the curves so far."""
        history = [r for r in self.job.history if r.epoch <= self.epoch]
        latest = history[-1]
        return {
            "config": self.job.model_config.to_dict(),
            "metrics": {
                "test_neg_elbo": latest.test_neg_elbo,
                "test_reconstruction": latest.test_reconstruction,
                "test_kl": latest.test_kl,
                "eval_samples": 1,
                "train_seconds": latest.seconds,
                "history": [r.to_dict() for r in history],
            },
            "extra": {
                "train_config": self.job.train_config.to_dict(),
                "cache_key": self.job.key,
                "snapshot": {"epoch": self.epoch, "epochs": self.epochs},
            },
        }


def snapshot_id(job: TrainingJob, epoch: int) -> str:
    """The model id of a snapshot: the cache key (the finished model's id) and, after "@", the
    epoch and the run, so that another run of the same settings is never mistaken for it."""
    return f"{job.key}@epoch{epoch}.run{job.run}"


@st.cache_resource
def _built() -> tuple[threading.Lock, OrderedDict[str, tuple[VAE, ModelView]]]:
    """Snapshots built into models and views, shared by every page; the BUILT used last."""
    return threading.Lock(), OrderedDict()


def build(job: TrainingJob, snapshot: Snapshot, data: str) -> tuple[VAE, ModelView]:
    """Raises ValueError or DataError if the snapshot makes no model of these data."""
    name = snapshot_id(job, snapshot.epoch)
    found = cached(name)
    if found is not None:
        return found
    model = snapshot.model(job.model_config)
    view = build_view(
        model, *test_set(data), name, dataset_of(data), snapshot=(snapshot.epoch, snapshot.epochs)
    )
    lock, built = _built()
    with lock:
        built[name] = (model, view)
        while len(built) > BUILT:
            built.popitem(last=False)
    return model, view


def cached(name: str) -> tuple[VAE, ModelView] | None:
    lock, built = _built()
    with lock:
        if name in built:
            built.move_to_end(name)
        return built.get(name)
