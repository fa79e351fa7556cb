"""The selection panel: one test image, its reconstruction, and its share of the ELBO.

A conditional VAE (Sohn et al. 2015) judges an image given its class y: the reconstruction is
decoded from z and y, and the terms bound −log p(x|y).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import decode, elbo_terms

from .. import images, state
from ..model_view import ModelView
from .interpolation import set_endpoint

SELECTION_SAMPLES = 64  # draws of z behind the reconstruction term
PICTURE_PX = 112


def judge(
    model, pixels: np.ndarray, mu: np.ndarray, seed: int, theme: str, label: int | None = None
) -> dict:
    """One image (1, 28, 28) uint8 with its posterior mean (D,): its picture, reconstruction
    (decoded at the mean) and their difference as PNGs, and its ELBO terms in nats.

    `label` is the class a conditional model is given (None for a plain model): both the
    reconstruction and the terms are then given it."""
    image = pixels[0] / 255.0
    reconstruction = decode(model, mu[None], label)[0]
    terms = elbo_terms(model, pixels, label, samples=SELECTION_SAMPLES, seed=seed)
    pictures = {
        "input": images.themed(image, theme),
        "reconstruction": images.themed(reconstruction, theme),
        "difference": images.difference_rgb(image, reconstruction),
    }
    return {
        "pictures": {name: images.png(p, scale=4) for name, p in pictures.items()},
        **{name: float(value[0]) for name, value in terms.items()},
    }


@st.cache_data(show_spinner=False, max_entries=64)
def details(_model, _view: ModelView, model_id: str, row: int, theme: str) -> dict:
    """Pictures (PNG) and ELBO terms of test image `row` (a conditional model's given its own
    class); plain values, cached per model id."""
    label = int(_view.labels[row]) if _view.conditional else None
    return judge(_model, _view.images[row][None], _view.mu[row], row, theme, label)


KEY = (
    f"<span style='color:{images.hex_colour(images.ADDED)}'>■</span> ink added by the "
    f"reconstruction · <span style='color:{images.hex_colour(images.MISSED)}'>■</span> ink it "
    "misses · <span style='color:#808080'>■</span> the two agree"
)


def panel(model, view: ModelView) -> None:
    row = st.session_state.selected_row
    if row is None:
        st.markdown(
            f"**Click {images.a(view.noun)}** on the plane to see it, its reconstruction and "
            "its ELBO."
        )
        return
    d = details(model, view, view.model_id, row, state.page_theme())
    mu, sigma = view.mu[row], view.sigma[row]
    st.markdown(f"**Test image #{row}: {images.called(view, view.labels[row])}**")
    with st.container(horizontal=True, gap="small"):
        for name, picture in d["pictures"].items():
            st.image(picture, caption=name, width=PICTURE_PX, output_format="PNG")
    st.caption(KEY, unsafe_allow_html=True)
    st.markdown(
        f"posterior mean μ = ({mu[0]:.2f}, {mu[1]:.2f}), "
        f"standard deviation σ = ({sigma[0]:.3f}, {sigma[1]:.3f})  \n"
        f"reconstruction **{d['reconstruction']:.1f}** + KL **{d['kl']:.2f}** "
        f"= −ELBO **{d['neg_elbo']:.1f}** nats"
    )
    if view.conditional:
        given = (
            f"−log p(x|y), natural log, given the image's own class y = "
            f"{view.classes[int(view.labels[row])]}: a conditional VAE encodes and decodes "
            "with the class. "
        )
        q = "q(z|x, y)"
    else:
        given, q = "−log p(x), natural log. ", "q(z|x)"
    st.caption(
        f"A nat is a unit of information: −ELBO is an upper bound on {given}Lower means the "
        f"model finds the {view.noun} more likely. The inset on the plane zooms on this "
        f"{view.noun}'s {q}."
    )
    st.button(
        "Move the latent point here",
        key="goto_selected",
        on_click=state.move_to,
        args=(float(mu[0]), float(mu[1]), view.window),
    )
    with st.container(horizontal=True, gap="small"):
        for which in ("a", "b"):
            st.button(
                f"Set as {which.upper()}",
                key=f"set_{which}",
                on_click=set_endpoint,
                args=(which, {"row": int(row)}),
                help="An endpoint of the path on the Interpolate tab.",
            )
