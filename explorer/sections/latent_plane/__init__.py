"""The latent view: the page's main section, drawn and decoded in the browser.

Mounts of one v2 component. `latent_data` carries the model's payload (explorer.payload)
and sits outside the fragment, so it is sent on full reruns only (and then by reference, from
Streamlit's message cache), as does `latent_words`, the views' words in the page's language
(explorer.words, 1.5 kB); `latent_scatter` carries a few hundred bytes of JSON (z, the
selection) and lives in a fragment of its own, so a commit from the browser reruns that one
element. A click on a digit reruns the page, for the selection panel beside the plane (selection.py),
or the drawing pad in its place (drawing.py): the tab's two side panels.
"""

from __future__ import annotations

import json

import streamlit as st

from i18n import _, nouns

from ... import images, state
from ...latent_view import (
    component,
    mount_words,
    on_commit,
    on_palette,
    on_select,
    overlay,
    scores_payload,
    view_data,
)
from ...model_view import ModelView, Shown
from . import drawing, selection

COLOURINGS = state.COLOURINGS


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


def section(shown: Shown) -> None:
    """The plane (with the decoded image and the sliders) and, beside it, the selection or the
    drawing pad."""
    view = shown.view
    component()(key="latent_data", data=view.payload, height=0)
    mount_words(view)
    if view.conditional:
        class_chooser(view)
    plane, side = st.columns([3, 1], gap="small")
    with plane:
        _plane(shown)
    with side:
        if st.toggle(
            _("✏️ Draw {a_noun}").format(**nouns(view.noun)),
            key="drawing",
            on_change=drawing.forget,
            help=_("Draw your own {noun} and see where the encoder puts it, live.").format(
                **nouns(view.noun)
            ),
        ):
            drawing.panel(shown)
        else:
            with st.container(key="selection"):
                selection.panel(shown)


@st.fragment
def _plane(shown: Shown) -> None:
    """A commit from the browser reruns this alone: one small element and the link."""
    ss, view = st.session_state, shown.view
    if ss.colour_by == "elbo":  # 40 kB once per model, then by reference
        component()(key="latent_scores", data=scores_payload(shown), height=0)
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
                overlay(view),
                ss.colour_by,
                cls=ss.cls,
                palette=ss.palette,
            )
        ).encode(),
        on_commit_change=lambda: on_commit(view),
        on_select_change=lambda: on_select(view),
        on_theme_change=_on_theme,
        on_colour_change=_on_colour,
        on_palette_change=on_palette,
    )
    state.sync_link()
    if ss.pop("rerun_page", False):
        # A new selection, or a theme switch for the pictures drawn on the server.
        st.rerun()
