"""Plotly figures for the explorer. Each takes plain arrays and returns a go.Figure."""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go

# Plotly's (and D3's) category10: ten colours told apart easily; the pad is sent the same.
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


def latent_scatter(
    mu: np.ndarray, labels: np.ndarray, window: tuple[float, float], height: int = 520
) -> go.Figure:
    """The codes (posterior means) of the test digits, one WebGL trace per label.

    Each point carries its dataset row in customdata, since selections count points within a
    trace. The figure depends on the model alone: Streamlit re-creates a chart whose figure
    changes, which would undo the user's zoom and legend clicks, so the moving parts (the
    current point, a clicked digit's posterior) are drawn over it by the scatter overlay.
    The figure is built in one go: plotly's add_trace copies the whole figure each time.
    """
    rows = np.arange(len(mu))
    traces = [
        go.Scattergl(
            x=mu[labels == digit, 0],
            y=mu[labels == digit, 1],
            mode="markers",
            name=str(digit),
            customdata=rows[labels == digit],
            marker=dict(size=4, color=DIGIT_COLOURS[digit], opacity=0.7),
            # A click selects a point; the others keep their look instead of fading out.
            unselected=dict(marker=dict(opacity=0.7)),
            selected=dict(marker=dict(opacity=1.0)),
            hovertemplate=f"digit {digit}<br>test image #%{{customdata}}"
            "<br>z = (%{x:.2f}, %{y:.2f})<extra></extra>",
        )
        for digit in range(10)
    ]
    legend = dict(
        title_text="digit",
        orientation="h",
        yanchor="bottom",
        y=1.0,
        x=0,
        itemclick="toggle",
        itemdoubleclick="toggleothers",
    )
    layout = _square_layout(
        window,
        height,
        uirevision="latent",
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
