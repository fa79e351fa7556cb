"""The latent view: the page's main section, drawn and decoded in the browser.

Mounts of one v2 component. `latent_data` carries the model's payload (explorer.payload)
and sits outside the fragment, so it is sent on full reruns only (and then by reference, from
Streamlit's message cache), as does `latent_words`, the views' words in the page's language
(explorer.words, 1.5 kB); `latent_scatter` carries a few hundred bytes of JSON (z, the
selection) and lives in a fragment of its own, so a commit from the browser reruns that one
element. A click on a digit reruns the page, for the selection panel beside the plane.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from i18n import N_, Deferred, _, nouns

from .. import images, payload, state, words
from ..components import script, source
from ..model_view import ModelView
from . import drawing, outliers, selection

COLOURINGS = state.COLOURINGS


@st.cache_resource
def component():
    return st.components.v2.component(
        "latent_view", css=source("latent_view.css"), js=script("latent_view")
    )


def view_data(
    view: ModelView,
    z: tuple[float, float],
    z_rev: int,
    row: int | None,
    overlay: dict | None = None,
    colour_by: str = "digit",
    sync: str | None = None,
    cls: int = 0,
) -> dict:
    """What the browser's view needs on every rerun: JSON-ready and small. `overlay` is a
    lens's marks: {"name", "points": [[z1, z2], ...], "path": bool}; `colour_by` is "digit"
    (by class) or "elbo" (each test image's −ELBO, from the scores mount); views with the same
    `sync` (models side by side) show the z one of them previews; a conditional model's decoder
    draws class `cls`."""
    selected = None
    if row is not None:
        selected = {
            "row": int(row),
            "label": int(view.labels[row]),
            "mu": [float(v) for v in view.mu[row]],
            "sigma": [float(v) for v in view.sigma[row]],
        }
    return {
        "model_id": view.model_id,
        "z": [float(z[0]), float(z[1])],
        "z_rev": int(z_rev),
        "selected": selected,
        "overlay": overlay,
        "colour_by": colour_by,
        **({"sync": sync} if sync else {}),
        **({"cls": int(cls)} if view.conditional else {}),
    }


def mount_words(view: ModelView) -> None:
    """The latent views' words, for every view on the page (the compared ones too)."""
    data = json.dumps({"words": words.latent_view(view.noun)}).encode()
    component()(key="latent_words", data=data, height=0)


def _overlay(view: ModelView) -> dict | None:
    """A lens's marks, unless they belong to another model than the one shown."""
    overlay = st.session_state.get("overlay")
    if overlay is None or overlay.get("model_id") not in (None, view.model_id):
        return None
    # The marks' name is a message: shown in the page's language, whichever marked them.
    return {"name": str(overlay["name"]), "points": overlay["points"], "path": overlay["path"]}


def on_commit(view: ModelView, key: str = "latent_scatter") -> None:
    event = st.session_state.get(key) or {}
    if state.commit(event.get("commit"), view.window):
        st.session_state.clicked = (st.session_state.z1, st.session_state.z2)


def on_select(view: ModelView, key: str = "latent_scatter") -> None:
    event = st.session_state.get(key) or {}
    if state.select(event.get("select"), len(view.labels)):
        row = st.session_state.selected_row
        st.session_state.clicked = (float(view.mu[row][0]), float(view.mu[row][1]))
        st.session_state.rerun_page = True


@st.cache_data(show_spinner=Deferred(N_("Scoring the test images…")), max_entries=8)
def scores_payload(_model, _view: ModelView, model_id: str) -> bytes:
    """The test images' −ELBO for the plane's colouring; the scale spans the 1st to 99th
    percentile, so a few extreme images do not wash out the rest."""
    scores = outliers.neg_elbo(_model, _view, model_id)
    low, high = np.percentile(scores, [1, 99])
    return payload.pack_scores(model_id, scores, low, high)


def _on_colour() -> None:
    event = st.session_state.get("latent_scatter") or {}
    if event.get("colour") in COLOURINGS:
        st.session_state.colour_by = event["colour"]


def _on_theme() -> None:
    st.session_state.rerun_page = True


def _on_class() -> None:
    st.session_state.cls = int(st.session_state.class_choice)


def class_chooser(view: ModelView) -> None:
    """A conditional model draws the class chosen here: the plane, the sliders, the manifold
    and the samples then vary the style within it."""
    ss = st.session_state
    ss.class_choice = ss.cls  # the widget follows the state (a link, a switch of data)
    options = list(range(len(view.classes)))
    chooser, why = st.columns([3, 2], vertical_alignment="center")
    kwargs = dict(
        label=_("Class the decoder draws"),
        options=options,
        format_func=view.classes.__getitem__,
        key="class_choice",
        on_change=_on_class,
    )
    with chooser:
        if len(options) <= 12:
            st.radio(**kwargs, horizontal=True)
        else:
            st.selectbox(**kwargs)
    why.caption(
        _(
            "A conditional VAE is given each {noun}'s class, so its codes q(z|x, y) no longer "
            "cluster by class: the decoder is told the class, and z is left to hold what the "
            "class does not say (slant, thickness, width). Hover or slide to change the style "
            "of {called}."
        ).format(called=images.called(view, ss.cls), **nouns(view.noun))
    )


def section(model, view: ModelView) -> None:
    """The plane (with the decoded image and the sliders) and, beside it, the selection."""
    component()(key="latent_data", data=view.payload, height=0)
    mount_words(view)
    if view.conditional:
        class_chooser(view)
    plane, side = st.columns([3, 1], gap="small")
    with plane:
        _plane(model, view)
    with side:
        if st.toggle(
            _("✏️ Draw {a_noun}").format(**nouns(view.noun)),
            key="drawing",
            on_change=drawing.forget,
            help=_("Draw your own {noun} and see where the encoder puts it, live.").format(
                **nouns(view.noun)
            ),
        ):
            drawing.panel(model, view)
        else:
            with st.container(key="selection"):
                selection.panel(model, view)


@st.fragment
def _plane(model, view: ModelView) -> None:
    """A commit from the browser reruns this alone: one small element and the link."""
    ss = st.session_state
    if ss.colour_by == "elbo":  # 40 kB once per model, then by reference
        component()(key="latent_scores", data=scores_payload(model, view, view.model_id), height=0)
    component()(
        key="latent_scatter",
        # JSON as bytes: Streamlit would probe a dict for dataframes, importing pandas (half
        # a second on a first visit) for nothing.
        data=json.dumps(
            view_data(
                view,
                (ss.z1, ss.z2),
                ss.z_rev,
                ss.selected_row,
                _overlay(view),
                ss.colour_by,
                cls=ss.cls,
            )
        ).encode(),
        on_commit_change=lambda: on_commit(view),
        on_select_change=lambda: on_select(view),
        on_theme_change=_on_theme,
        on_colour_change=_on_colour,
    )
    state.sync_link()
    if ss.pop("rerun_page", False):
        # A new selection, or a theme switch for the pictures drawn on the server.
        st.rerun()
