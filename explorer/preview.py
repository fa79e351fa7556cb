"""A model still training, explored as its latest snapshot (vae_core.snapshot).

A page that asked for a new model shows it from the end of its first epoch: the worker sends
the weights after every epoch, the server rebuilds the model from them once for every page, and
the whole page (the plane, hover, the sliders and every tab) works on that snapshot, marked
"training: epoch k of N". A page adopts a newer snapshot at most every REFRESH_SECONDS, so a
watching page receives one model's payload that often; the finished model then takes the
snapshot's place with z kept. "Show the previous model" turns the preview off for that
training; the page then waits as it did before snapshots existed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic

import streamlit as st

from i18n import lazy, said
from training.job import RUNNING, TrainingJob
from vae_core.data import DataError
from vae_core.model import VAE
from vae_core.snapshot import Snapshot

from .model_view import (
    ModelSettings,
    ModelView,
    build_view,
    dataset_of,
    model_id,
    test_set,
    training_queue,
)

REFRESH_SECONDS = 8.0  # a page adopts a newer snapshot at most this often
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


def _build(job: TrainingJob, snapshot: Snapshot, data: str) -> tuple[VAE, ModelView]:
    """Raises ValueError or DataError if the snapshot makes no model of these data."""
    name = snapshot_id(job, snapshot.epoch)
    found = _cached(name)
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


def _cached(name: str) -> tuple[VAE, ModelView] | None:
    lock, built = _built()
    with lock:
        if name in built:
            built.move_to_end(name)
        return built.get(name)


def training() -> tuple[ModelSettings, TrainingJob] | None:
    """This page's latest request that is training and has a snapshot to show, unless its
    preview was turned off."""
    ss = st.session_state
    queue = training_queue()
    for settings in reversed(ss.requests):
        job = queue.job(model_id(*settings.configs()))
        if (
            job is not None
            and job.state == RUNNING
            and job.key not in ss.preview_off
            and job.snapshot is not None
        ):
            return settings, job
    return None


def due() -> bool:
    """Whether the page should rerun to show a newer snapshot than the one it shows, or to
    stop showing one."""
    found, shown = training(), st.session_state.preview
    if found is None:
        return shown is not None
    _, job = found
    if shown is None or shown["id"] != snapshot_id(job, shown["epoch"]):
        return True
    snapshot = job.snapshot
    return (
        snapshot is not None
        and snapshot.epoch != shown["epoch"]
        and monotonic() - shown["at"] >= REFRESH_SECONDS
    )


def current() -> Preview | None:
    """What the page shows of the model it is training: the snapshot it adopted last, or the
    latest once REFRESH_SECONDS have passed; None when there is no snapshot to show."""
    ss = st.session_state
    found = training()
    latest = None if found is None else found[1].snapshot  # read once: the job may end now
    if latest is None:
        ss.preview = None
        return None
    settings, job = found
    shown = ss.preview
    kept = None
    if (
        shown is not None
        and shown["id"] == snapshot_id(job, shown["epoch"])
        and monotonic() - shown["at"] < REFRESH_SECONDS
    ):
        kept = _cached(shown["id"])
    if kept is not None:
        epoch, (model, view) = shown["epoch"], kept
    else:
        epoch = latest.epoch
        if not any(r.epoch == epoch for r in job.history):
            ss.preview = None  # its epoch's report was lost: nothing to say of it
            return None
        try:
            model, view = _build(job, latest, settings.data)
        except (ValueError, DataError) as exc:
            stop(job.key)
            ss.request_error = lazy(
                "Cannot show {model} while it trains: {problem}",
                model=settings.describe(),
                problem=said(exc),
            )
            return None
        if shown is None or shown["id"] != view.model_id:
            ss.preview = {"id": view.model_id, "key": job.key, "epoch": epoch, "at": monotonic()}
    return Preview(settings, job, epoch, view.model_id, model, view)


def shown_settings() -> ModelSettings:
    """The settings of the model the page shows: the one training while it is previewed."""
    ss = st.session_state
    if ss.get("preview") is not None:
        for settings in ss.requests:
            if model_id(*settings.configs()) == ss.preview["key"]:
                return settings
    return ss.settings


def stop(key: str) -> None:
    """Show the previous model until this training ends."""
    ss = st.session_state
    ss.preview_off = ss.preview_off | {key}
    ss.preview = None


def stop_all() -> None:
    """The page asked for another model than the ones training: show it, not a snapshot."""
    ss = st.session_state
    ss.preview_off = ss.preview_off | {model_id(*s.configs()) for s in ss.requests}
    ss.preview = None


def resume(key: str) -> None:
    ss = st.session_state
    ss.preview_off = ss.preview_off - {key}


def forget(key: str) -> None:
    """The page no longer waits for this training: a later one of the same settings previews."""
    ss = st.session_state
    ss.preview_off = ss.preview_off - {key}
