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


def _square_layout(window: tuple[float, float], height: int, grid: bool = True, **extra) -> dict:
    """Equal scales on z1 and z2 over the same window, so figures can be read side by side."""
    axis = dict(range=list(window), zeroline=False, showgrid=grid, constrain="domain")
    return dict(
        xaxis=dict(title_text="z1", **axis),
        yaxis=dict(title_text="z2", scaleanchor="x", scaleratio=1, **axis),
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        **extra,
    )


def ellipse(
    centre: np.ndarray, radii: np.ndarray, points: int = 72
) -> tuple[np.ndarray, np.ndarray]:
    """An axis-aligned ellipse: the contour of a diagonal Gaussian at `radii` = k * sigma."""
    t = np.linspace(0, 2 * np.pi, points)
    return centre[0] + radii[0] * np.cos(t), centre[1] + radii[1] * np.sin(t)


def _haloed(trace: dict, name: str) -> list[go.Scattergl]:
    """`trace` as a dark stroke over a wider white copy of itself.

    WebGL like the digits' traces, since plotly draws WebGL above SVG: an SVG marker would
    disappear under the points.
    """
    halo, stroke = dict(trace), dict(trace)
    width = trace.get("line", {}).get("width", 2)
    if "lines" in trace["mode"]:
        halo["line"] = dict(trace["line"], color=HALO_COLOUR, width=width + 2.5)
        stroke["line"] = dict(trace["line"], color=MARKER_COLOUR)
    else:
        halo["marker"] = dict(
            trace["marker"], color=HALO_COLOUR, line=dict(color=HALO_COLOUR, width=4.5)
        )
        stroke["marker"] = dict(
            trace["marker"], color=MARKER_COLOUR, line=dict(color=MARKER_COLOUR, width=2)
        )
    halo.update(name=f"{name} halo", hoverinfo="skip", hovertemplate=None)
    stroke.update(name=name)
    if "hovertemplate" not in trace:
        stroke["hoverinfo"] = "skip"
    return [go.Scattergl(showlegend=False, **halo), go.Scattergl(showlegend=False, **stroke)]


def latent_scatter(
    mu: np.ndarray,
    labels: np.ndarray,
    window: tuple[float, float],
    current: tuple[float, float],
    selected: tuple[np.ndarray, np.ndarray] | None = None,
    height: int = 520,
    shown: frozenset[int] = frozenset(range(10)),
) -> go.Figure:
    """The codes (posterior means) of the test digits, one WebGL trace per label.

    Digits not in `shown` stay in the legend, greyed. The legend itself does not toggle them:
    Streamlit re-creates a chart whose figure changes, which would undo a legend click on the
    next slider move, so the app keeps that choice in a widget instead.

    Each point carries its dataset row in customdata, since selections count points within a
    trace. `selected` is the (mean, sigma) of a clicked digit, drawn with 1 and 2 sigma ellipses.
    The figure is built in one go: plotly's add_trace copies the whole figure each time.
    """
    rows = np.arange(len(mu))
    traces = []
    for digit in range(10):
        mask = labels == digit
        traces.append(
            go.Scattergl(
                x=mu[mask, 0],
                y=mu[mask, 1],
                mode="markers",
                name=str(digit),
                customdata=rows[mask],
                visible=True if digit in shown else "legendonly",
                marker=dict(size=4, color=DIGIT_COLOURS[digit], opacity=0.7),
                hovertemplate=f"digit {digit}<br>test image #%{{customdata}}"
                "<br>z = (%{x:.2f}, %{y:.2f})<extra></extra>",
            )
        )
    if selected is not None:
        centre, sigma = selected
        for k, dash in ((1, "solid"), (2, "dot")):
            x, y = ellipse(centre, k * sigma)
            line = dict(width=1.5, dash=dash)
            traces += _haloed(dict(x=x, y=y, mode="lines", line=line), f"{k} sigma")
        mean = dict(
            x=[centre[0]], y=[centre[1]], mode="markers", marker=dict(size=11, symbol="circle-open")
        )
        traces += _haloed(mean, "selected mean")
    marker = dict(
        x=[current[0]],
        y=[current[1]],
        mode="markers",
        marker=dict(symbol="x-thin-open", size=16),
        hovertemplate="current point<br>z = (%{x:.2f}, %{y:.2f})<extra></extra>",
    )
    traces += _haloed(marker, "current point")
    legend = dict(
        title_text="digit",
        orientation="h",
        yanchor="bottom",
        y=1.0,
        x=0,
        itemclick=False,
        itemdoubleclick=False,
    )
    layout = _square_layout(
        window,
        height,
        uirevision="latent",  # keeps zoom and legend toggles across reruns
        legend=legend,
        dragmode="pan",
        clickmode="event+select",
    )
    return go.Figure(data=traces, layout=layout)


def manifold_figure(
    picture_png: bytes, window: tuple[float, float], height: int = 520
) -> go.Figure:
    """The decoded grid laid on the latent plane with the scatter's axes and scale."""
    lo, hi = window
    image = dict(
        source="data:image/png;base64," + base64.b64encode(picture_png).decode(),
        xref="x",
        yref="y",
        x=lo,
        y=hi,
        sizex=hi - lo,
        sizey=hi - lo,
        sizing="stretch",
        layer="below",
    )
    # An invisible trace so the axes exist.
    frame = go.Scatter(
        x=[lo, hi],
        y=[lo, hi],
        mode="markers",
        marker=dict(opacity=0),
        hoverinfo="skip",
        showlegend=False,
    )
    return go.Figure(
        data=[frame], layout=_square_layout(window, height, grid=False, images=[image])
    )


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
        xaxis=dict(title_text="epoch", tick0=1, dtick=max(1, len(epochs) // 8)),
        yaxis=dict(title_text="nats per image"),
        yaxis2=dict(title_text="KL (nats)", overlaying="y", side="right", showgrid=False),
        legend=dict(orientation="h", y=-0.3 if height > 200 else -0.55),
    )
    return fig
