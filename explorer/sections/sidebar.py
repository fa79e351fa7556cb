"""The sidebar: which model the page shows, training new ones, and their test metrics."""

from __future__ import annotations

import streamlit as st

from training import is_cached
from training.queue import LimitError

from .. import figures, preview, state
from ..model_view import (
    ModelSettings,
    data_problems,
    datasets,
    limits,
    model_id,
    training_queue,
)


def _form_settings() -> ModelSettings:
    ss = st.session_state
    return ModelSettings(
        beta=float(ss.beta),
        width=int(ss.width),
        epochs=int(ss.epochs),
        seed=int(ss.seed),
        data=str(ss.data),
        conditional=bool(ss.conditional),
    )


def request(settings: ModelSettings) -> None:
    """Show these settings' model: at once if it is cached, else once it has trained.

    A request over the server's limits leaves a message for the sidebar instead.
    """
    ss = st.session_state
    ss.request_error = None
    configs = settings.configs()
    if settings in ss.requests:
        preview.resume(model_id(*configs))  # asked for again: show it as it trains
        return
    if settings == ss.settings or is_cached(*configs):
        preview.stop_all()  # a finished model, rather than a training's snapshot
        if settings != ss.settings:
            switch_to(settings)
        return
    try:
        training_queue().submit(*configs, waiter=state.session_id())
    except LimitError as exc:
        ss.request_error = str(exc)
        return
    ss.requests = [*ss.requests, settings]


def _leave(settings: ModelSettings) -> None:
    """This session no longer waits for that model (shown, cancelled or dismissed)."""
    ss = st.session_state
    key = model_id(*settings.configs())
    training_queue().withdraw(key, state.session_id())
    preview.forget(key)
    ss.requests = [s for s in ss.requests if s != settings]


def switch_to(settings: ModelSettings) -> None:
    ss = st.session_state
    if ss.get("metrics") is not None:
        ss.previous_metrics = {**ss.metrics, "settings": ss.settings}
    ss.settings = settings
    if settings in ss.requests:
        _leave(settings)


def _on_submit() -> None:
    request(_form_settings())


def _delta(now: float, before: dict | None, field: str) -> str | None:
    return None if before is None else f"{now - before[field]:+.2f}"


def trained_where(checkpoint: dict, shipped: bool = False) -> str:
    """Where, how and how fast the model was trained, in words, from its checkpoint."""
    m = checkpoint["metrics"]
    epochs = len(m["history"])
    snapshot = checkpoint["extra"].get("snapshot")
    if snapshot is not None:
        return (
            f"Training now: epoch {snapshot['epoch']} of {snapshot['epochs']}, "
            f"{m['train_seconds']:.0f} s so far; test −ELBO of one draw of z."
        )
    if "device" in m:
        kind = "GPU" if m["device"] == "cuda" else f"CPU of {m['cores']} cores"
        where = f" on a {kind} ({m['device_name']}, {m['precision']})"
    else:
        where = ""  # trained before checkpoints recorded where
    rate = f"{m['train_seconds'] / epochs:.1f} s an epoch"
    if shipped:
        return (
            f"The shipped model: trained ahead of time{where}, {epochs} epochs in "
            f"{m['train_seconds']:.0f} s ({rate}); nothing was trained for this page."
        )
    return f"Trained{where}: {epochs} epochs in {m['train_seconds']:.0f} s ({rate})."


def panel(checkpoint: dict) -> None:
    ss = st.session_state
    m = checkpoint["metrics"]
    snapshot = checkpoint["extra"].get("snapshot")
    if snapshot is None:  # a snapshot's figures are no model's to compare the next one with
        ss.metrics = {"test_neg_elbo": m["test_neg_elbo"], "test_kl": m["test_kl"]}
    with st.sidebar:
        st.header("Model")
        with st.form("model_settings", border=False):
            offered = {d.key: d.name for d in datasets()}
            st.selectbox(
                "Data",
                list(offered),
                format_func=offered.__getitem__,
                key="data",
                help="The bundled MNIST, or a directory of MNIST-format files named by whoever "
                "runs the server. Each dataset has models of its own.",
            )
            st.toggle(
                "Conditional VAE",
                key="conditional",
                help="Sohn et al. 2015: the encoder and the decoder are also given the class, "
                "so the latent plane holds the style and you choose the class to draw.",
            )
            st.select_slider(
                "β (KL weight)", state.BETAS, key="beta", help="1 trains the true ELBO."
            )
            st.selectbox(
                "Hidden width",
                state.WIDTHS,
                key="width",
                help="Both hidden layers, encoder and decoder.",
            )
            st.number_input(
                "Epochs",
                min_value=1,
                max_value=state.MAX_EPOCHS,
                step=1,
                key="epochs",
                help=f"This server trains new models for up to {limits().max_epochs} epochs.",
            )
            st.number_input("Seed", min_value=0, max_value=state.MAX_SEED, step=1, key="seed")
            st.form_submit_button(
                "Load or train", on_click=_on_submit, type="primary", width="stretch"
            )
        for problem in data_problems():
            st.error(problem, icon="📁")
        if ss.request_error:
            st.error(ss.request_error, icon="🚫")
        if ss.requests:
            progress()
        s = preview.shown_settings()
        training = " (still training)" if snapshot is not None else ""
        st.caption(f"Showing: 2-D latent, {s.describe()}{training}.")
        before = ss.previous_metrics if snapshot is None else None
        a, b = st.columns(2)
        a.metric(
            "test −ELBO",
            f"{m['test_neg_elbo']:.1f}",
            delta=_delta(m["test_neg_elbo"], before, "test_neg_elbo"),
            delta_color="inverse",
            help=f"nats per test image, mean of {m['eval_samples']} draw"
            f"{'s' if m['eval_samples'] > 1 else ''} of z; lower is better",
        )
        b.metric(
            "KL",
            f"{m['test_kl']:.2f}",
            delta=_delta(m["test_kl"], before, "test_kl"),
            delta_color="off",
        )
        shipped = snapshot is None and s == state.DEFAULT_SETTINGS
        st.caption(
            f"Reconstruction {m['test_reconstruction']:.1f} nats. "
            f"{trained_where(checkpoint, shipped)}"
        )
        if before is not None:
            st.caption(
                f"Changes against the previous model ({before['settings'].describe()}): "
                f"test −ELBO {before['test_neg_elbo']:.1f}, KL {before['test_kl']:.2f}."
            )


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def show_finished() -> bool:
    """Switch to the model this session asked for that has finished, if one has; True then.

    Run before anything is drawn too, so that no run between a training's end and the
    progress fragment's next tick shows the previous model (which would clamp z to its plane).
    """
    queue = training_queue()
    for settings in list(st.session_state.requests):
        job = queue.job(model_id(*settings.configs()))
        if job is not None and job.done:
            switch_to(settings)
            st.toast(f"Now showing the new model: {settings.describe()}.", icon="✅")
            return True
    return False


@st.fragment(run_every=1.0)
def progress() -> None:
    """Each model this session asked for: in line, training, failed; the page switches when
    one is ready."""
    ss = st.session_state
    queue = training_queue()
    if show_finished():
        st.rerun()
    for settings in list(ss.requests):
        key = model_id(*settings.configs())
        job = queue.job(key)
        if job is None:
            # Dropped while this session was away for long (a sleeping laptop): ask again.
            ss.requests = [s for s in ss.requests if s != settings]
            request(settings)
            if ss.settings == settings or ss.request_error:  # ready meanwhile, or refused
                st.rerun()
            continue
        queue.rejoin(key, state.session_id())
        if preview.due():  # a newer snapshot of the training shown, or its preview ended
            st.rerun()
        with st.container(border=True, key=f"request_{key}"):
            _request_status(settings, job, queue.place(key), queue.estimate(key))


def _request_status(settings: ModelSettings, job, place: int | None, estimate) -> None:
    ss = st.session_state
    name = settings.describe()
    if job.error:
        st.error(f"Training {name} failed: {job.error}. The page still shows the previous model.")
        if st.button("Dismiss", key=f"dismiss_{job.key}"):
            _leave(settings)
            st.rerun()
        return
    if place is not None:
        start, finish = estimate if estimate is not None else (None, None)
        st.markdown(f"**Waiting: {_ordinal(place)} in line** for {name}.")
        st.caption(
            f"Starts in about {duration(start)} · ready in about {duration(finish)}. "
            f"This server trains {_count(limits().max_trainings, 'model')} at a time."
        )
    else:
        history = job.history
        label = (
            f"Training {name}: epoch {min(len(history) + 1, settings.epochs)} of {settings.epochs}"
        )
        st.progress(job.progress(), text=label)
        text = (
            f"{job.progress():.0%} · elapsed {duration(job.elapsed())} · left {duration(job.eta())}"
        )
        if history:
            text += f" · test −ELBO {history[-1].test_neg_elbo:.1f} nats"
        st.caption(text)
        if job.key in ss.preview_off:
            if st.button(
                "Explore it while it trains",
                key=f"preview_{job.key}",
                help="Show this model's latest weights on the whole page, refreshed as epochs "
                "end, until the finished model takes their place.",
            ):
                preview.resume(job.key)
                st.rerun()
        elif not history:
            st.caption("The page shows this model from the end of its first epoch.")
        curves = figures.sparkline_svg(
            {
                "test −ELBO": [h.test_neg_elbo for h in history],
                "train objective": [h.train_loss for h in history],
            }
        )
        if curves:
            st.html(curves)
    if st.button(
        "Cancel",
        key=f"cancel_{job.key}",
        help="Withdraw this request; other pages asking for the same model keep theirs.",
    ):
        _leave(settings)
        st.rerun()
    if len(ss.requests) == 1:
        st.caption("Keep exploring the current model; the page switches when training is done.")


def _count(n: int, noun: str) -> str:
    return f"{'one' if n == 1 else n} {noun}{'' if n == 1 else 's'}"
