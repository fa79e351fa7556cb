"""The life of a page's request for a model: ask, wait in line, preview while it trains,
switch to it when done, leave (cancel, dismiss), and ask again after a prune.

The one home of it: the sidebar's form, the tour's steps, the progress the sidebar shows and
app.py call these functions, and only these write the session's `settings` (the model shown),
`requests` (those it waits for, oldest first), `preview` and `preview_off`.

A page that asked for a new model shows it from the end of its first epoch, as a snapshot
(explorer/preview.py). It adopts a newer snapshot at most every REFRESH_SECONDS, so a watching
page receives one model's payload that often; the finished model then takes the snapshot's
place with z kept. "Show the previous model" turns the preview off for that training; the page
then waits as it did before snapshots existed.
"""

from __future__ import annotations

from time import monotonic

import streamlit as st

from i18n import _, lazy, said
from training import is_cached
from training.cache import NotCached
from training.job import RUNNING, TrainingJob
from training.queue import LimitError
from vae_core.data import DataError

from .model_view import DEFAULT_SETTINGS, ModelSettings, load_settings
from .own_data import note_model
from .preview import Preview, build, cached, snapshot_id
from .server import dataset_of, session_id, training_queue

REFRESH_SECONDS = 8.0  # a page adopts a newer snapshot at most this often


# ---------------------------------------------------------------- ask, switch, leave


def request(settings: ModelSettings) -> None:
    """Show these settings' model: at once if it is cached, else once it has trained.

    A request over the server's limits leaves a message for the sidebar instead.
    """
    ss = st.session_state
    ss.request_error = None
    dataset = dataset_of(settings.data)
    classes = len(dataset.classes)
    if settings.conditional and not dataset.labelled:
        ss.request_error = lazy(
            "These pictures have no classes (they were uploaded without class folders): a "
            "conditional or semi-supervised VAE needs them. Choose a plain VAE, or upload the "
            "pictures in one folder per class."
        )
        return
    if settings.labelled % classes:
        ss.request_error = lazy(
            "A semi-supervised VAE takes the same number of labelled images from each class: "
            "{labelled} labels do not share out among {classes} classes. Pick a multiple of "
            "{classes}.",
            labelled=settings.labelled,
            classes=classes,
        )
        return
    if settings in ss.requests:
        resume(settings.key)  # asked for again: show it as it trains
        return
    if settings == ss.settings or is_cached(*settings.configs()):
        stop_all()  # a finished model, rather than a training's snapshot
        if settings != ss.settings:
            switch_to(settings)
        return
    if dataset.upload:  # deleting the upload deletes its models: each one asked for is noted
        note_model(settings.data, settings.key)
    try:
        training_queue().submit(*settings.configs(), waiter=session_id())
    except LimitError as exc:
        ss.request_error = said(exc)  # a message shown in the page's language when shown
        return
    ss.requests = [*ss.requests, settings]


def forget_data(key: str) -> None:
    """The data with this key are gone (an upload deleted): leave every request on them and
    show the shipped model, the form on its data too."""
    ss = st.session_state
    for settings in [s for s in ss.requests if s.data == key]:
        leave(settings)
    switch_to(DEFAULT_SETTINGS)
    ss.data = DEFAULT_SETTINGS.data


def leave(settings: ModelSettings) -> None:
    """This session no longer waits for that model (shown, cancelled or dismissed)."""
    ss = st.session_state
    training_queue().withdraw(settings.key, session_id())
    forget(settings.key)
    ss.requests = [s for s in ss.requests if s != settings]


def _metrics_of(settings: ModelSettings) -> dict | None:
    """A finished model's test −ELBO and KL, for the sidebar's changes against it."""
    try:
        _model, checkpoint = load_settings(settings)
    except NotCached:  # removed from the cache since: nothing to compare with
        return None
    m = checkpoint["metrics"]
    return {"test_neg_elbo": m["test_neg_elbo"], "test_kl": m["test_kl"], "settings": settings}


def switch_to(settings: ModelSettings) -> None:
    ss = st.session_state
    ss.previous_metrics = _metrics_of(ss.settings)
    ss.settings = settings
    if settings in ss.requests:
        leave(settings)


def show_finished() -> bool:
    """Switch to the model this session asked for that has finished, if one has; True then.

    Run before anything is drawn too, so that no run between a training's end and the
    progress fragment's next tick shows the previous model (which would clamp z to its plane).
    """
    queue = training_queue()
    for settings in list(st.session_state.requests):
        job = queue.job(settings.key)
        if job is not None and job.done:
            switch_to(settings)
            st.toast(
                _("Now showing the new model: {model}.").format(model=settings.describe()),
                icon="✅",
            )
            return True
    return False


def reask_pruned() -> None:
    """The model shown is no longer in the cache (pruned, or deleted by hand): show the
    default meanwhile, and train it again."""
    ss = st.session_state
    gone = ss.settings
    ss.settings = DEFAULT_SETTINGS
    request(gone)
    notice = _(
        "The model this page showed is no longer in the server's model cache (removed to "
        "keep the cache within its size, or deleted); the default is shown meanwhile."
    )
    ss.request_error = " ".join(str(m) for m in (notice, ss.request_error) if m)


# ---------------------------------------------------------------- wait


def poll() -> list[tuple[ModelSettings, TrainingJob]]:
    """One look at the training line for this session: switches to a finished model, asks
    again for one dropped while the session was away (a sleeping laptop), keeps its place
    otherwise. Returns the requests still waiting or training, with their jobs; reruns the
    page when what it shows must change."""
    ss = st.session_state
    queue = training_queue()
    if show_finished():
        st.rerun()
    waiting = []
    for settings in list(ss.requests):
        job = queue.job(settings.key)
        if job is None:
            ss.requests = [s for s in ss.requests if s != settings]
            request(settings)
            if ss.settings == settings or ss.request_error:  # ready meanwhile, or refused
                st.rerun()
            continue
        queue.rejoin(settings.key, session_id())
        waiting.append((settings, job))
    if due():  # a newer snapshot of the training shown, or its preview ended
        st.rerun()
    return waiting


def training_now() -> tuple[ModelSettings, TrainingJob] | None:
    """The first model this session asked for that is training, with its job."""
    queue = training_queue()
    for settings in st.session_state.get("requests", []):
        job = queue.job(settings.key)
        if job is not None and job.state == RUNNING:
            return settings, job
    return None


# ---------------------------------------------------------------- preview while it trains


def training() -> tuple[ModelSettings, TrainingJob] | None:
    """This page's latest request that is training and has a snapshot to show, unless its
    preview was turned off."""
    ss = st.session_state
    queue = training_queue()
    for settings in reversed(ss.requests):
        job = queue.job(settings.key)
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
        kept = cached(shown["id"])
    if kept is not None:
        epoch, (model, view) = shown["epoch"], kept
    else:
        epoch = latest.epoch
        if not any(r.epoch == epoch for r in job.history):
            ss.preview = None  # its epoch's report was lost: nothing to say of it
            return None
        try:
            model, view = build(job, latest, settings.data)
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
            if settings.key == ss.preview["key"]:
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
    ss.preview_off = ss.preview_off | {s.key for s in ss.requests}
    ss.preview = None


def resume(key: str) -> None:
    ss = st.session_state
    ss.preview_off = ss.preview_off - {key}


def forget(key: str) -> None:
    """The page no longer waits for this training: a later one of the same settings previews."""
    ss = st.session_state
    ss.preview_off = ss.preview_off - {key}
