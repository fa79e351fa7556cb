"""The banner above the tabs while the page shows a model still training (explorer/preview.py,
model_requests.py): what is shown, when the finished model comes, and the way back to the
previous one."""

from __future__ import annotations

import streamlit as st

from i18n import _

from .. import model_requests
from ..preview import Preview
from ..words import duration


def section(shown: Preview) -> None:
    """Says that the page shows a model still training, and how to go back."""
    job, metrics = shown.job, shown.checkpoint()["metrics"]
    left = job.eta()
    if left is not None:
        text = _(
            "**Training: epoch {epoch} of {epochs}** · {settings}. You are exploring this model "
            "as it trains: the plane, hover, the sliders and every tab use its weights after "
            "epoch {epoch} (test −ELBO {neg_elbo:.1f} nats, one draw of z), refreshed as epochs "
            "end. The finished model takes their place in about {left}, z kept."
        )
    else:
        text = _(
            "**Training: epoch {epoch} of {epochs}** · {settings}. You are exploring this model "
            "as it trains: the plane, hover, the sliders and every tab use its weights after "
            "epoch {epoch} (test −ELBO {neg_elbo:.1f} nats, one draw of z), refreshed as epochs "
            "end. The finished model takes their place when it ends, z kept."
        )
    with st.container(key="preview"):
        words, back = st.columns([5, 1], vertical_alignment="center")
        words.info(
            text.format(
                epoch=shown.epoch,
                epochs=shown.epochs,
                settings=shown.settings.describe(),
                neg_elbo=metrics["test_neg_elbo"],
                left=duration(left + 2) if left is not None else "",
            ),
            icon="⏳",
        )
        if back.button(
            _("Show the previous model"),
            key="preview_stop",
            help=_(
                "Explore the model shown before this training until it has finished; the "
                "sidebar can bring the training back."
            ),
        ):
            model_requests.stop(job.key)
            st.rerun()
