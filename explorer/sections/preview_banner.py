"""The banner above the tabs while the page shows a model still training (explorer/preview.py):
what is shown, when the finished model comes, and the way back to the previous one."""

from __future__ import annotations

import streamlit as st

from .. import preview
from .sidebar import duration


def section(shown: preview.Preview) -> None:
    """Says that the page shows a model still training, and how to go back."""
    job, metrics = shown.job, shown.checkpoint()["metrics"]
    left = job.eta()
    when = f"in about {duration(left + 2)}" if left is not None else "when it ends"
    with st.container(key="preview"):
        words, back = st.columns([5, 1], vertical_alignment="center")
        words.info(
            f"**Training: epoch {shown.epoch} of {shown.epochs}** · {shown.settings.describe()}. "
            f"You are exploring this model as it trains: the plane, hover, the sliders and every "
            f"tab use its weights after epoch {shown.epoch} (test −ELBO {metrics['test_neg_elbo']:.1f} "
            f"nats, one draw of z), refreshed as epochs end. The finished model takes their "
            f"place {when}, z kept.",
            icon="⏳",
        )
        if back.button(
            "Show the previous model",
            key="preview_stop",
            help="Explore the model shown before this training until it has finished; the "
            "sidebar can bring the training back.",
        ):
            preview.stop(job.key)
            st.rerun()
