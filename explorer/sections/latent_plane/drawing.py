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

import streamlit as st

from i18n import _, nouns
from vae_core.inference import encoder_layers

from ... import images, lenses, payload, posterior_lens, state, words
from ...class_board import send_button
from ...components import script, source
from ...model_view import ModelView, Shown

PIXELS = 28 * 28
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


def parse_image(value) -> bytes | None:
    """The pad's base64 28x28 as 784 bytes; None for anything else (the browser is untrusted)."""
    if not isinstance(value, str) or len(value) > 2 * PIXELS:
        return None
    try:
        pixels = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return pixels if len(pixels) == PIXELS else None


def _on_image() -> None:
    ss = st.session_state
    ss.drawn = parse_image((ss.get("draw") or {}).get("image"))


def forget() -> None:
    """The pad is put away: its drawing goes with it."""
    st.session_state.drawn = None


@st.fragment
def panel(shown: Shown) -> None:
    """The pad and, once something is drawn, the result: a release reruns this alone."""
    ss, view = st.session_state, shown.view
    # Scored now, while the pad is empty: the first release then has no test set to score.
    lenses.neg_elbo(shown)
    label = state.chosen_class(view.conditional)
    # The weights in a mount of their own, out of sight: a new class changes only the pad's
    # few bytes, and the 2.6 MB cross the wire once per model.
    component()(key="draw_encoder", data=encoder_payload(shown.model, view.model_id), height=0)
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
        _result(shown, ss.drawn, label)


def _classified(probs: list[float], classes: tuple[str, ...], shown: int = 3) -> None:
    """A semi-supervised model's q(y|x) for the drawing: its likeliest classes, in words."""
    order = sorted(range(len(probs)), key=lambda c: -probs[c])[:shown]
    read = ", ".join(f"**{classes[c]}** {100 * probs[c]:.0f} %" for c in order)
    st.markdown(_("Its classifier q(y|x) reads it as {read}.").format(read=read))


def _result(shown: Shown, pixels: bytes, label: int | None) -> None:
    view = shown.view
    d = lenses.drawing(shown, pixels, label, state.page_theme())
    alt = {
        "input": _("your drawing, as the encoder sees it"),
        "reconstruction": _("its reconstruction, decoded from its posterior mean"),
        "difference": _("the difference between the image and its reconstruction"),
    }
    with st.container(horizontal=True, gap="small"):
        for name, picture in d["pictures"].items():
            st.image(picture, caption=_(name), width=RESULT_PX, output_format="PNG", alt=alt[name])
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
    send_button(
        "drawing",
        kind="drawing",
        z=d["mu"],
        percentile=d["percentile"],
        pixels=pixels,
        model_id=view.model_id,
    )
    if d["classes"] is not None:
        _classified(d["classes"], view.classes)
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
            st.image(
                picture,
                caption=f"#{row}: {name}",
                width=NEAREST_PX,
                output_format="PNG",
                alt=_("test image #{row}, {called}").format(
                    row=row, called=images.called(view, view.labels[row])
                ),
            )
    st.markdown(_("**Its true posterior**"))
    data = posterior_lens.lens_of_image(shown.model, view.model_id, pixels, label)
    posterior_lens.show(data, -d["neg_elbo"], key="draw_posterior", compact=True, given=given)
