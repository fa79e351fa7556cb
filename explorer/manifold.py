"""The manifold section: the decoder's output over a grid of latent points."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import grid_axis, manifold

from . import figures, images
from .model_view import ModelView
from .state import page_theme


def themed_png(picture: np.ndarray, theme_name: str) -> bytes:
    """A float picture as ink on the theme's paper; NaN (no cell there) transparent."""
    rgb = images.themed(np.nan_to_num(picture, nan=0.0), theme_name)
    alpha = np.where(np.isnan(picture), 0, 255).astype(np.uint8)
    return images.png(np.dstack([rgb, alpha]))


@st.cache_data(show_spinner="Decoding the grid…", max_entries=16)
def pictures(
    _model,
    model_id: str,
    n: int,
    spacing: str,
    extent: float,
    window: tuple[float, float] | None,
    theme_name: str,
) -> tuple[bytes, bytes]:
    """(the grid as a PNG to download, the picture to show: the grid, or laid on `window`)."""
    axis = grid_axis(n, spacing, extent)
    grid = manifold(_model, axis)
    grid_png = themed_png(grid, theme_name)
    if window is None:
        return grid_png, grid_png
    plane = images.manifold_on_plane(grid, axis, *window, size=28 * max(n, 24))
    return grid_png, themed_png(plane, theme_name)


@st.fragment
def section(model, view: ModelView) -> None:
    plot, controls = st.columns([6.2, 3.8], gap="medium")
    with controls:
        st.subheader("Manifold")
        st.caption(
            "Each digit is the decoder's output at the centre of its cell. Inverse-normal "
            "spacing gives every cell the same prior mass (Kingma & Welling 2014, fig. 4); "
            "linear spacing covers a range evenly."
        )
        n = st.slider("Grid size n", 5, 40, 20, key="manifold_n")
        spacing = st.radio(
            "Spacing",
            ["normal", "linear"],
            horizontal=True,
            key="manifold_spacing",
            format_func={"normal": "inverse normal CDF", "linear": "linear"}.get,
        )
        extent = st.slider(
            "Linear range ±",
            0.5,
            float(view.window[1]),
            min(3.0, float(view.window[1])),
            step=0.25,
            key="manifold_extent",
            disabled=spacing != "linear",
        )
        on_plane = st.toggle(
            "Draw at latent scale",
            key="manifold_on_plane",
            help="Off: equal cells, the classic figure. On: each digit over its own cell of "
            "the plane, on the latent view's window, so normal spacing shows its wide outer "
            "cells.",
        )
        grid_png, shown_png = pictures(
            model,
            view.model_id,
            n,
            spacing,
            extent,
            view.window if on_plane else None,
            page_theme(),
        )
        st.download_button(
            f"Download the {n}×{n} grid (PNG)",
            grid_png,
            file_name=f"manifold_{n}x{n}.png",
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
