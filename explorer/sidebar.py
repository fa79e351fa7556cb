"""The sidebar: which model the page shows, training new ones, and their test metrics."""

from __future__ import annotations

import streamlit as st

from training import is_cached

from . import figures, state
from .model_view import ModelSettings, model_id, training_job


def _form_settings() -> ModelSettings:
    ss = st.session_state
    return ModelSettings(
        beta=float(ss.beta), width=int(ss.width), epochs=int(ss.epochs), seed=int(ss.seed)
    )


def request(settings: ModelSettings) -> None:
    """Show these settings' model: at once if it is cached, else once it has trained."""
    ss = st.session_state
    configs = settings.configs()
    if settings == ss.settings:
        ss.requested = None
    elif is_cached(*configs):
        switch_to(settings)
    else:
        ss.requested = settings
        training_job(model_id(*configs), configs, restart_failed=True)


def switch_to(settings: ModelSettings) -> None:
    ss = st.session_state
    if ss.get("metrics") is not None:
        ss.previous_metrics = {**ss.metrics, "settings": ss.settings}
    ss.settings, ss.requested = settings, None


def _on_submit() -> None:
    request(_form_settings())


def _delta(now: float, before: dict | None, field: str) -> str | None:
    return None if before is None else f"{now - before[field]:+.2f}"


def _describe(s: ModelSettings) -> str:
    return f"hidden [{s.width}, {s.width}], β = {s.beta:g}, {s.epochs} epochs, seed {s.seed}"


def panel(checkpoint: dict) -> None:
    ss = st.session_state
    m = checkpoint["metrics"]
    ss.metrics = {"test_neg_elbo": m["test_neg_elbo"], "test_kl": m["test_kl"]}
    with st.sidebar:
        st.header("Model")
        with st.form("model_settings", border=False):
            st.select_slider(
                "β (KL weight)", state.BETAS, key="beta", help="1 trains the true ELBO."
            )
            st.selectbox(
                "Hidden width",
                state.WIDTHS,
                key="width",
                help="Both hidden layers, encoder and decoder.",
            )
            st.number_input("Epochs", min_value=1, max_value=state.MAX_EPOCHS, step=1, key="epochs")
            st.number_input("Seed", min_value=0, max_value=state.MAX_SEED, step=1, key="seed")
            st.form_submit_button(
                "Load or train", on_click=_on_submit, type="primary", width="stretch"
            )
        if ss.requested is not None:
            progress()
        s = ss.settings
        st.caption(f"Showing: 2-D latent, {_describe(s)}.")
        before = ss.previous_metrics
        a, b = st.columns(2)
        a.metric(
            "test −ELBO",
            f"{m['test_neg_elbo']:.1f}",
            delta=_delta(m["test_neg_elbo"], before, "test_neg_elbo"),
            delta_color="inverse",
            help=f"nats per test image, mean of {m['eval_samples']} draws of z; lower is better",
        )
        b.metric(
            "KL",
            f"{m['test_kl']:.2f}",
            delta=_delta(m["test_kl"], before, "test_kl"),
            delta_color="off",
        )
        st.caption(
            f"Reconstruction {m['test_reconstruction']:.1f} nats · trained in "
            f"{m['train_seconds']:.0f} s on {len(m['history'])} epochs."
        )
        if before is not None:
            st.caption(
                f"Changes against the previous model ({_describe(before['settings'])}): "
                f"test −ELBO {before['test_neg_elbo']:.1f}, KL {before['test_kl']:.2f}."
            )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


@st.fragment(run_every=1.0)
def progress() -> None:
    ss = st.session_state
    if ss.requested is None:  # finished while this fragment was polling
        return
    settings = ss.requested
    configs = settings.configs()
    job = training_job(model_id(*configs), configs)
    if job.error:
        st.error(f"Training failed: {job.error}. The page still shows the previous model.")
        if st.button("Dismiss", key="dismiss_error"):
            ss.requested = None
            st.rerun()
        return
    if job.result is not None:
        switch_to(settings)
        st.rerun()
    history = job.history
    label = (
        f"Training β = {settings.beta:g}, hidden [{settings.width}, {settings.width}]: "
        f"epoch {min(len(history) + 1, settings.epochs)} of {settings.epochs}"
    )
    st.progress(job.progress(), text=label)
    text = (
        f"{job.progress():.0%} · elapsed {_duration(job.elapsed())} · left {_duration(job.eta())}"
    )
    if history:
        text += f" · test −ELBO {history[-1].test_neg_elbo:.1f} nats"
    st.caption(text)
    st.caption("Keep exploring the current model; the page switches when training is done.")
    if len(history) >= 2:
        st.plotly_chart(
            figures.loss_curves([h.to_dict() for h in history], height=220), key="live_curves"
        )
