"""The interpolation lens: a straight path in the latent plane between two endpoints, decoded
step by step, beside the pixel cross-fade of the same two images.

An endpoint is a test image (the image and its posterior mean μ) or a point of the plane (its
decoded image and z). The selection panel sets test images as A or B; this tab can also take
the current latent point. A conditional VAE (Sohn et al. 2015) decodes the whole path with the
class chosen on the page: its plane holds the style, so the style morphs and the class stays.
"""

from __future__ import annotations

import streamlit as st

from i18n import _, lazy_ngettext, nouns
from vae_core import cross_fade, decode, latent_path

from .. import images, lenses, state
from ..latent_view import mark
from ..model_view import ModelView, Shown

DEFAULT_ENDPOINTS = ({"row": 0}, {"row": 1})  # the first two test images (MNIST's: a 7, a 2)


def endpoint_of(view: ModelView, end: dict) -> tuple[list[float], str]:
    """(z, how it is named) for a stored endpoint: {"row": r} or {"z": [z1, z2]}."""
    if "row" in end:
        row = end["row"]
        called = images.called(view, view.labels[row])
        # TRANSLATORS: an end of the path, in "From {a} to {b}"; {called} names its class ("a 7").
        return view.mu[row].tolist(), _("test image #{row} ({called})").format(
            row=row, called=called
        )
    # TRANSLATORS: an end of the path, in "From {a} to {b}": a point (z1, z2) of the plane.
    return list(end["z"]), _("the point ({z1:.2f}, {z2:.2f})").format(
        z1=end["z"][0], z2=end["z"][1]
    )


@lenses.lens_of(show_spinner=False, max_entries=32)
def path_pictures(
    shown: Shown,
    a: tuple,
    b: tuple,
    n: int,
    theme: str,
    label: int | None,
) -> dict:
    """The decoded steps and the cross-fade, as PNG strips, and the path's GIF; a conditional
    model decodes the path, and a point's image, as class `label`."""
    model, view = shown.model, shown.view
    ends = [dict(a), dict(b)]
    (za, _name_a), (zb, _name_b) = (endpoint_of(view, e) for e in ends)
    z = latent_path(za, zb, n)
    steps = decode(model, z, label)
    pixels = [
        view.images[e["row"]] / 255.0 if "row" in e else decode(model, [e["z"]], label)[0]
        for e in ends
    ]
    blend = cross_fade(pixels[0], pixels[1], n)

    def row(pictures):
        return images.png(images.themed(images.tile(pictures, cols=len(pictures)), theme), scale=3)

    return {
        "z": z.tolist(),
        "latent": row(steps),
        "pixels": row(blend),
        "gif": images.gif(steps, theme),
    }


def stored_endpoint(end: dict | None, default: dict, count: int) -> dict:
    """The endpoint stored, unless there is none or it is a row past the end of a test set of
    `count` images (set while the page showed other data)."""
    return end if end and end.get("row", 0) < count else default


def section(shown: Shown) -> None:
    ss, view = st.session_state, shown.view
    count = len(view.labels)
    a = stored_endpoint(ss.get("path_a"), DEFAULT_ENDPOINTS[0], count)
    b = stored_endpoint(ss.get("path_b"), DEFAULT_ENDPOINTS[1], count)
    name_a, name_b = endpoint_of(view, a)[1], endpoint_of(view, b)[1]
    st.subheader(_("From {a} to {b}").format(a=name_a, b=name_b))
    st.caption(
        _(
            "Set A and B from the selection panel beside the plane ({a_noun}), or take the "
            "current latent point here."
        ).format(**nouns(view.noun))
    )
    c1, c2, c3 = st.columns([1, 1, 2])
    current = {"z": [float(ss.z1), float(ss.z2)]}
    c1.button(
        _("A = the current point"),
        key="path_a_here",
        on_click=state.set_endpoint,
        args=("a", current),
    )
    c2.button(
        _("B = the current point"),
        key="path_b_here",
        on_click=state.set_endpoint,
        args=("b", current),
    )
    n = c3.slider(_("Steps"), 5, 15, 9, key="path_steps")
    label = state.chosen_class(view.conditional)
    data = path_pictures(shown, tuple(a.items()), tuple(b.items()), n, state.page_theme(), label)
    with st.container(key="path_latent"):
        st.markdown(_("**Through the latent plane**: the decoder's output at each step"))
        if label is not None:
            st.caption(
                _(
                    "Decoded as class **{name}**, the class chosen: a conditional VAE's plane "
                    "holds the style, so along the path the style morphs, the class stays "
                    "{name}."
                ).format(name=view.classes[label])
            )
        st.image(
            data["latent"],
            alt=_("{n} {nouns} decoded along the straight path from A to B in the plane").format(
                n=n, **nouns(view.noun)
            ),
        )
    with st.container(key="path_pixels"):
        st.markdown(_("**Through pixel space**: the two images blended"))
        st.image(
            data["pixels"],
            alt=_("{n} blends of the pixels of A and B").format(n=n),
        )
    st.caption(
        _(
            "Every step on the latent path decodes to something the model draws as {a_noun}; "
            "a pixel blend halfway is two faint {nouns} on top of each other. The VAE's plane "
            "is where images change smoothly."
        ).format(**nouns(view.noun))
    )
    d1, d2 = st.columns(2)
    d1.download_button(
        _("Download the path as a GIF"),
        data["gif"],
        file_name="latent_path.gif",
        mime="image/gif",
        key="path_gif",
        on_click="ignore",
    )
    d2.button(
        _("Mark the path on the plane"),
        key="mark_path",
        on_click=mark,
        # TRANSLATORS: the name of the marks on the latent plane (A and B are the path's ends).
        args=(lazy_ngettext("path A→B, {n} step", "path A→B, {n} steps", n), data["z"]),
        kwargs={"path": True},
    )
