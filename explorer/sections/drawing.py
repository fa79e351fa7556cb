"""Draw your own image: a pad that encodes in the browser, and what the model makes of it.

The pad (drawing.js) prepares the drawing as MNIST's digits were and encodes it with the
model's own encoder weights while it is drawn, so its q(z|x) moves on the latent plane with
every stroke. On each release the prepared 28x28 comes here: its reconstruction, its −ELBO
and where that stands among the test images (a VAE as an anomaly detector), the test images
nearest in the plane, and its exact posterior beside q(z|x).

A conditional VAE (Sohn et al. 2015) reads the drawing with the class chosen on the page, in
the browser and here alike: the pad's data carry that class beside the model's id.
"""

from __future__ import annotations

import base64
import binascii
import json

import numpy as np
import streamlit as st

from i18n import _, nouns
from vae_core import encode
from vae_core.inference import encoder_layers

from .. import images, payload, state, words
from ..components import script, source
from ..model_view import ModelView
from . import board, outliers, posterior
from .selection import judge

PIXELS = 28 * 28
NEAREST = 6  # test images shown nearest the drawing's mean in the plane
NEAREST_PX = 56
RESULT_PX = 72  # three pictures side by side in the page's narrow side column


@st.cache_resource
def component():
    return st.components.v2.component("draw_pad", css=source("drawing.css"), js=script("drawing"))


@st.cache_data(show_spinner=False, max_entries=8)
def encoder_payload(_model, model_id: str) -> bytes:
    """The encoder's weights for the pad (2.6 MB for width 512), sent once per model."""
    return payload.pack_encoder(model_id, encoder_layers(_model))


def pad_data(view: ModelView, label: int | None, drawn: bool = False) -> bytes:
    """What the pad's own mount reads, JSON as bytes: the model whose encoder it uses (from the
    encoder's mount), the class a conditional model reads the drawing with (None for a plain
    model), the pad's words in the page's language (explorer.words), and whether the page holds
    a drawing (a pad made anew then takes back its strokes: Streamlit remounts it when the
    tabs are renamed, on a switch of language)."""
    pad_words = words.drawing(view.noun, conditional=label is not None)
    data = {"model_id": view.model_id, "cls": label, "words": pad_words, "drawn": drawn}
    return json.dumps(data).encode()


def chosen_class(view: ModelView) -> int | None:
    """The class chosen on the page, which a conditional model reads a drawing with; None for
    a plain model."""
    return int(st.session_state.cls) if view.conditional else None


def parse_image(value) -> bytes | None:
    """The pad's base64 28x28 as 784 bytes; None for anything else (the browser is untrusted)."""
    if not isinstance(value, str) or len(value) > 2 * PIXELS:
        return None
    try:
        pixels = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return pixels if len(pixels) == PIXELS else None


def nearest_rows(mu_all: np.ndarray, mu: np.ndarray, k: int = NEAREST) -> list[int]:
    """The k test images whose posterior means lie nearest `mu` in the plane, nearest first."""
    d = ((mu_all - np.asarray(mu)[None]) ** 2).sum(axis=1)
    rows = np.argpartition(d, k)[:k]
    return [int(r) for r in rows[np.argsort(d[rows])]]


@st.cache_data(show_spinner=False, max_entries=64)
def result(
    _model, _view: ModelView, model_id: str, pixels: bytes, label: int | None, theme: str
) -> dict:
    """What the model makes of a drawing, read as class `label` by a conditional model: plain
    values and PNGs, cached per model, image and class."""
    x = np.frombuffer(pixels, np.uint8).reshape(1, 28, 28).copy()  # torch wants it writable
    mu, sigma = encode(_model, x, label)
    judged = judge(_model, x, mu[0], 0, theme, label)  # as the selection panel judges a test image
    rows = nearest_rows(_view.mu, mu[0])
    pictures = _view.images[rows] / 255.0
    scores = outliers.neg_elbo(_model, _view, model_id)
    return {
        **judged,
        "mu": mu[0].tolist(),
        "sigma": sigma[0].tolist(),
        "percentile": outliers.percentile(scores, judged["neg_elbo"]),
        "nearest": [
            (r, _view.classes[_view.labels[r]], images.png(images.themed(p, theme), scale=2))
            for r, p in zip(rows, pictures, strict=True)
        ],
    }


def current(model, view: ModelView) -> dict | None:
    """The result for this session's drawing, if the pad holds one."""
    pixels = st.session_state.drawn
    if pixels is None:
        return None
    return result(model, view, view.model_id, pixels, chosen_class(view), state.page_theme())


def _on_image() -> None:
    ss = st.session_state
    ss.drawn = parse_image((ss.get("draw") or {}).get("image"))


def forget() -> None:
    """The pad is put away: its drawing goes with it."""
    st.session_state.drawn = None


@st.fragment
def panel(model, view: ModelView) -> None:
    """The pad and, once something is drawn, the result: a release reruns this alone."""
    ss = st.session_state
    # Scored now, while the pad is empty: the first release then has no test set to score.
    outliers.neg_elbo(model, view, view.model_id)
    label = chosen_class(view)
    # The weights in a mount of their own, out of sight: a new class changes only the pad's
    # few bytes, and the 2.6 MB cross the wire once per model.
    component()(key="draw_encoder", data=encoder_payload(model, view.model_id), height=0)
    component()(
        key="draw",
        data=pad_data(view, label, drawn=ss.drawn is not None),
        default={"image": None},
        on_image_change=_on_image,
    )
    with st.container(key="draw_result"):
        if ss.drawn is None:
            st.caption(
                _(
                    "Draw {a_noun} above. On each release the server shows its "
                    "reconstruction, how unusual the model finds it, its nearest test "
                    "{nouns} and its true posterior."
                ).format(**nouns(view.noun))
            )
            return
        _result(model, view, ss.drawn, label)


def _result(model, view: ModelView, pixels: bytes, label: int | None) -> None:
    d = result(model, view, view.model_id, pixels, label, state.page_theme())
    with st.container(horizontal=True, gap="small"):
        for name, picture in d["pictures"].items():
            st.image(picture, caption=_(name), width=RESULT_PX, output_format="PNG")
    st.markdown(
        _(
            "reconstruction **{reconstruction:.1f}** + KL **{kl:.2f}** = "
            "−ELBO **{neg_elbo:.1f}** nats: more unusual than **{percentile:.0f} %** "
            "of test {nouns}."
        ).format(
            reconstruction=d["reconstruction"],
            kl=d["kl"],
            neg_elbo=d["neg_elbo"],
            percentile=d["percentile"],
            **nouns(view.noun),
        )
    )
    board.send_button(
        "drawing",
        kind="drawing",
        z=d["mu"],
        percentile=d["percentile"],
        pixels=pixels,
        model_id=view.model_id,
    )
    given = None if label is None else view.classes[label]
    if given is not None:
        st.caption(
            _(
                "Read as class **{given}**, the class chosen: a conditional VAE encodes and "
                "decodes with the class, so these terms bound −log p(x|y), and the test "
                "images' are each given their own class."
            ).format(given=given)
        )
    st.caption(
        _(
            "μ = ({mu1:.2f}, {mu2:.2f}), σ = ({sigma1:.3f}, {sigma2:.3f}): the diamond and "
            "ellipses on the plane."
        ).format(mu1=d["mu"][0], mu2=d["mu"][1], sigma1=d["sigma"][0], sigma2=d["sigma"][1])
    )
    st.markdown(_("**Nearest test {nouns} in the plane**").format(**nouns(view.noun)))
    with st.container(horizontal=True, gap="small"):
        for row, name, picture in d["nearest"]:
            st.image(picture, caption=f"#{row}: {name}", width=NEAREST_PX, output_format="PNG")
    st.markdown(_("**Its true posterior**"))
    data = posterior.lens_of_image(model, view.model_id, pixels, label)
    posterior.show(data, -d["neg_elbo"], key="draw_posterior", compact=True, given=given)
