"""The latent view, as every part of the page that mounts one meets it: its component, what it
reads on each rerun (`view_data`), its words, the marks a lens puts on it, and what it sends
back (a committed point, a clicked image). The Latent plane tab mounts it with the model
shown, Compare mounts two side by side.
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from i18n import N_, Deferred, Text

from . import lenses, payload, state, words
from .components import script, source
from .model_view import ModelView, Shown


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
    palette: str = payload.PALETTES[0],
) -> dict:
    """What the browser's view needs on every rerun: JSON-ready and small. `overlay` is a
    lens's marks: {"name", "points": [[z1, z2], ...], "path": bool}; `colour_by` is "digit"
    (by class) or "elbo" (each test image's −ELBO, from the scores mount); views with the same
    `sync` (models side by side) show the z one of them previews; a conditional model's decoder
    draws class `cls`; `palette` names the class colours (explorer.payload.PALETTES), sent
    as colours when they are not the payload's own."""
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
        **(
            {"colours": payload.palette_colours(palette, len(view.classes))}
            if palette != payload.PALETTES[0]
            else {}
        ),
    }


def mount_words(view: ModelView) -> None:
    """The latent views' words, for every view on the page (the compared ones too)."""
    data = json.dumps({"words": words.latent_view(view.noun)}).encode()
    component()(key="latent_words", data=data, height=0)


@lenses.lens_of(show_spinner=Deferred(N_("Scoring the test images…")), max_entries=8)
def scores_payload(shown: Shown) -> bytes:
    """The test images' −ELBO for the plane's colouring; the scale spans the 1st to 99th
    percentile, so a few extreme images do not wash out the rest."""
    scores = lenses.neg_elbo(shown)
    low, high = np.percentile(scores, [1, 99])
    return payload.pack_scores(shown.model_id, scores, low, high)


# ---------------------------------------------------------------- marks on the plane


def mark(
    name: Text | str | None,
    points=(),
    model_id: str | None = None,
    path: bool = False,
) -> None:
    """A lens's marks on the plane: `points` [[z1, z2], ...], joined as a path or not, shown
    with the model `model_id` only (None: with any model); `name` None clears them. Called
    before the plane is drawn (a callback, a step's set-up), so the plane shows them at once."""
    st.session_state.overlay = (
        None
        if name is None
        else {
            "name": name,
            "points": [[float(a), float(b)] for a, b in points],
            "path": path,
            "model_id": model_id,
        }
    )


def overlay(view: ModelView) -> dict | None:
    """A lens's marks, unless they belong to another model than the one shown."""
    marks = st.session_state.get("overlay")
    if marks is None or marks.get("model_id") not in (None, view.model_id):
        return None
    # The marks' name is a message: shown in the page's language, whichever marked them.
    return {"name": str(marks["name"]), "points": marks["points"], "path": marks["path"]}


# ---------------------------------------------------------------- what the browser sends


def on_commit(view: ModelView, key: str = "latent_scatter") -> None:
    event = st.session_state.get(key) or {}
    if state.commit(event.get("commit"), view.window):
        st.session_state.clicked = (st.session_state.z1, st.session_state.z2)


def on_palette(key: str = "latent_scatter") -> None:
    event = st.session_state.get(key) or {}
    if event.get("palette") in payload.PALETTES:
        st.session_state.palette = event["palette"]
        st.session_state.rerun_page = True  # the pictures the server draws in class colours


def on_select(view: ModelView, key: str = "latent_scatter") -> None:
    event = st.session_state.get(key) or {}
    if state.select(event.get("select"), len(view.labels)):
        row = st.session_state.selected_row
        st.session_state.clicked = (float(view.mu[row][0]), float(view.mu[row][1]))
        st.session_state.rerun_page = True
