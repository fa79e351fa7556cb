"""The manifold section: the decoder's output over a grid of latent points.

A conditional model draws the grid as the class chosen on the page, and shows one z decoded
as every class: the "same style, every class" grid.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from i18n import N_, _, label_of, nouns
from vae_core import decode, grid_axis

from .. import figures, images
from ..lenses import manifold_pictures
from ..model_view import ModelView, Shown
from ..state import page_theme

STYLE_CELL_PX = 56  # a cell of the style grid, while the classes fit the page's width
STYLE_ROW_WIDTH_PX = 1100  # past this, the cells shrink so that one row still fits
SPACINGS = {"normal": N_("inverse normal CDF"), "linear": N_("linear")}  # the options shown


def style_grid(model, zs: np.ndarray) -> np.ndarray:
    """A conditional model's points z drawn as every class: (rows, D) -> (rows, k, 28, 28).

    Row r, column c is decode(z_r, class c): the style z_r holds, in each of the k classes."""
    k = model.config.classes
    zs = np.asarray(zs, dtype=np.float32).reshape(-1, model.config.latent_dim)
    pixels = decode(model, np.repeat(zs, k, axis=0), np.tile(np.arange(k), len(zs)))
    return pixels.reshape(len(zs), k, 28, 28)


def _style_section(model, view: ModelView) -> None:
    ss = st.session_state
    row = ss.selected_row
    zs = np.array([[ss.z1, ss.z2], view.mu[row]], dtype=np.float32)
    grid = style_grid(model, zs)
    k = len(view.classes)
    picture = images.png(images.themed(images.tile(grid.reshape(-1, 28, 28), cols=k), page_theme()))
    st.subheader(_("Same style, every class"))
    st.caption(
        _(
            "Each row is one point z decoded as each of the {k} classes. The class is given to "
            "the decoder, so z is free to hold what the class does not say (slant, thickness, "
            "width): one z draws the same style in every class. Top: the latent point; bottom: "
            "the code of the selected test {noun}, #{row} ({called}), encoded with its own "
            "class."
        ).format(k=k, row=row, called=images.called(view, view.labels[row]), **nouns(view.noun))
    )
    # TRANSLATORS: the label of the style grid's second row, beside its pictures.
    rows = [f"z = ({ss.z1:.2f}, {ss.z2:.2f})", _("test #{row}'s style").format(row=row)]
    cell = max(16, min(STYLE_CELL_PX, STYLE_ROW_WIDTH_PX // k))
    st.plotly_chart(
        figures.labelled_grid_figure(picture, list(view.classes), rows, cell),
        key="style_grid",
        width="content",
        config={"displayModeBar": False},
    )


@st.fragment
def section(shown: Shown) -> None:
    model, view = shown.model, shown.view
    ss = st.session_state
    cls = ss.cls if view.conditional else None
    plot, controls = st.columns([6.2, 3.8], gap="medium")
    with controls:
        st.subheader(_("Manifold"))
        st.caption(
            _(
                "Each {noun} is the decoder's output at the centre of its cell. Inverse-normal "
                "spacing gives every cell the same prior mass (Kingma & Welling 2014, fig. 4); "
                "linear spacing covers a range evenly."
            ).format(**nouns(view.noun))
        )
        if view.conditional:
            st.caption(
                _(
                    "A conditional model: the decoder is given the class chosen on the page, so "
                    "the style varies over the plane; the class stays {name}."
                ).format(name=view.classes[cls])
            )
        n = st.slider(_("Grid size n"), 5, 40, 20, key="manifold_n")
        spacing = st.radio(
            _("Spacing"),
            list(SPACINGS),
            horizontal=True,
            key="manifold_spacing",
            format_func=label_of(SPACINGS, lambda value: _(SPACINGS[value])),
        )
        # Normal spacing reads the prior's quantiles: the range is linear spacing's alone, and
        # shown only then (a disabled slider's grey label is 2.3:1, unreadable).
        extent = min(3.0, float(view.window[1]))
        if spacing == "linear":
            extent = st.slider(
                _("Linear range ±"),
                0.5,
                float(view.window[1]),
                extent,
                step=0.25,
                key="manifold_extent",
            )
        on_plane = st.toggle(
            _("Draw at latent scale"),
            key="manifold_on_plane",
            help=_(
                "Off: equal cells, the classic figure. On: each {noun} over its own cell of the "
                "plane, on the latent view's window, so normal spacing shows its wide outer cells."
            ).format(**nouns(view.noun)),
        )
        grid_png, shown_png = manifold_pictures(
            model,
            view.model_id,
            n,
            spacing,
            extent,
            view.window if on_plane else None,
            page_theme(),
            cls,
        )
        st.download_button(
            _("Download the {n}×{n} grid (PNG)").format(n=n),
            grid_png,
            file_name=f"manifold_{n}x{n}{'' if cls is None else f'_class{cls}'}.png",
            mime="image/png",
            key="manifold_png",
            on_click="ignore",
        )
    with plot, st.container(key="manifold"):
        if on_plane:
            figure = figures.manifold_plane_figure(shown_png, view.window)
        else:
            figure = figures.manifold_grid_figure(shown_png, grid_axis(n, spacing, extent))
        st.plotly_chart(figure, key="manifold_plot")
    if view.conditional:
        _style_section(model, view)
