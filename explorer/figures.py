"""Plotly figures for the explorer. Each takes plain arrays and returns a go.Figure."""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go

# Plotly's (and D3's) category10: ten colours told apart easily; the pad uses the same.
DIGIT_COLOURS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
# Overlays are dark strokes on a white halo, readable in the light and the dark theme alike.
MARKER_COLOUR = "#111111"
HALO_COLOUR = "rgba(255,255,255,0.9)"


def plane_range(
    mu: np.ndarray, quantile: float = 0.999, minimum: float = 3.0
) -> tuple[float, float]:
    """A square window on the latent plane holding nearly every code and the prior's bulk."""
    r = float(np.quantile(np.abs(mu), quantile)) * 1.05
    r = max(minimum, np.ceil(r * 2) / 2)
    return -r, r


def _square_axes(fig: go.Figure, lo: float, hi: float, height: int, grid: bool = True) -> go.Figure:
    common = dict(range=[lo, hi], zeroline=False, showgrid=grid, constrain="domain")
    fig.update_xaxes(title_text="z1", **common)
    fig.update_yaxes(title_text="z2", scaleanchor="x", scaleratio=1, **common)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def ellipse(
    centre: np.ndarray, radii: np.ndarray, points: int = 72
) -> tuple[np.ndarray, np.ndarray]:
    """An axis-aligned ellipse: the contour of a diagonal Gaussian at `radii` = k * sigma."""
    t = np.linspace(0, 2 * np.pi, points)
    return centre[0] + radii[0] * np.cos(t), centre[1] + radii[1] * np.sin(t)


def _haloed(fig: go.Figure, trace: go.Scattergl, name: str) -> None:
    """Add `trace` as a dark stroke over a wider white copy of itself.

    WebGL like the digits' traces, since plotly draws WebGL above SVG: an SVG marker would
    disappear under the points.
    """
    for colour, extra in ((HALO_COLOUR, 2.5), (MARKER_COLOUR, 0.0)):
        t = go.Scattergl(trace)
        t.update(name=name if colour == MARKER_COLOUR else f"{name} halo", showlegend=False)
        if colour == HALO_COLOUR:
            t.update(hoverinfo="skip", hovertemplate=None)
        elif t.hovertemplate is None:
            t.update(hoverinfo="skip")
        if "lines" in t.mode:
            t.update(line=dict(color=colour, width=t.line.width + extra))
        else:
            t.update(marker=dict(color=colour, line=dict(color=colour, width=2 + extra)))
        fig.add_trace(t)


def latent_scatter(
    mu: np.ndarray,
    labels: np.ndarray,
    window: tuple[float, float],
    current: tuple[float, float],
    selected: tuple[np.ndarray, np.ndarray] | None = None,
    height: int = 520,
) -> go.Figure:
    """The codes (posterior means) of the test digits, one WebGL trace per label.

    Each point carries its dataset row in customdata, since selections count points within a
    trace. `selected` is the (mean, sigma) of a clicked digit, drawn with 1 and 2 sigma ellipses.
    """
    fig = go.Figure()
    rows = np.arange(len(mu))
    for digit in range(10):
        mask = labels == digit
        fig.add_trace(
            go.Scattergl(
                x=mu[mask, 0],
                y=mu[mask, 1],
                mode="markers",
                name=str(digit),
                customdata=rows[mask],
                marker=dict(size=4, color=DIGIT_COLOURS[digit], opacity=0.7),
                hovertemplate=f"digit {digit}<br>test image #%{{customdata}}"
                "<br>z = (%{x:.2f}, %{y:.2f})<extra></extra>",
            )
        )
    if selected is not None:
        centre, sigma = selected
        for k, dash in ((1, "solid"), (2, "dot")):
            x, y = ellipse(centre, k * sigma)
            _haloed(
                fig,
                go.Scattergl(x=x, y=y, mode="lines", line=dict(width=1.5, dash=dash)),
                f"{k} sigma",
            )
        _haloed(
            fig,
            go.Scattergl(
                x=[centre[0]],
                y=[centre[1]],
                mode="markers",
                marker=dict(size=11, symbol="circle-open"),
            ),
            "selected mean",
        )
    _haloed(
        fig,
        go.Scattergl(
            x=[current[0]],
            y=[current[1]],
            mode="markers",
            marker=dict(symbol="x-thin-open", size=16),
            hovertemplate="current point<br>z = (%{x:.2f}, %{y:.2f})<extra></extra>",
        ),
        "current point",
    )
    fig.update_layout(
        uirevision="latent",  # keeps zoom and legend toggles across reruns
        legend=dict(
            title_text="digit",
            orientation="h",
            yanchor="bottom",
            y=1.0,
            x=0,
            itemclick="toggle",
            itemdoubleclick="toggleothers",
        ),
        dragmode="pan",
        clickmode="event+select",
    )
    return _square_axes(fig, *window, height)


def manifold_figure(
    picture_png: bytes, window: tuple[float, float], height: int = 520
) -> go.Figure:
    """The decoded grid laid on the latent plane with the scatter's axes and scale."""
    lo, hi = window
    uri = "data:image/png;base64," + base64.b64encode(picture_png).decode()
    fig = go.Figure()
    fig.add_layout_image(
        source=uri,
        xref="x",
        yref="y",
        x=lo,
        y=hi,
        sizex=hi - lo,
        sizey=hi - lo,
        sizing="stretch",
        layer="below",
    )
    # An invisible trace so the axes exist and hovering reads off z.
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="markers",
            marker=dict(opacity=0),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    return _square_axes(fig, lo, hi, height, grid=False)


def loss_curves(history: list[dict], height: int = 260) -> go.Figure:
    """Per-epoch test negative ELBO and its two terms, with the training objective."""
    epochs = [h["epoch"] for h in history]
    fig = go.Figure()
    series = [
        ("test -ELBO", "test_neg_elbo", "solid", "y"),
        ("test reconstruction", "test_reconstruction", "dash", "y"),
        ("train objective", "train_loss", "dot", "y"),
        ("test KL", "test_kl", "solid", "y2"),
    ]
    for name, field, dash, axis in series:
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[h[field] for h in history],
                name=name,
                mode="lines+markers",
                line=dict(dash=dash),
                yaxis=axis,
            )
        )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="epoch",
        yaxis=dict(title_text="nats per image"),
        yaxis2=dict(title_text="KL (nats)", overlaying="y", side="right", showgrid=False),
        legend=dict(orientation="h", y=-0.3),
    )
    return fig
