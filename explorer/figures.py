"""Plotly figures for the manifold and the training curves: plain values in, a go.Figure out.

Their words are in the current language (i18n): a figure is drawn anew on every run, never
cached with its text.
"""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from i18n import _


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


def _image(picture_png: bytes, x: float, y: float, size: float) -> dict:
    return dict(
        source="data:image/png;base64," + base64.b64encode(picture_png).decode(),
        xref="x",
        yref="y",
        x=x,
        y=y,
        sizex=size,
        sizey=size,
        sizing="stretch",
        layer="below",
    )


def _frame(lo: float, hi: float) -> go.Scatter:
    """An invisible trace so that the axes exist."""
    return go.Scatter(
        x=[lo, hi],
        y=[lo, hi],
        mode="markers",
        marker=dict(opacity=0),
        hoverinfo="skip",
        showlegend=False,
    )


def manifold_grid_figure(picture_png: bytes, axis: np.ndarray, height: int = 640) -> go.Figure:
    """The classic manifold (Kingma & Welling 2014, fig. 4): equal cells, z ticks on the axes.

    Cell i spans [i - 0.5, i + 0.5] on both axes and is labelled with its centre, axis[i].
    """
    n = len(axis)
    every = max(1, int(np.ceil(n / 10)))
    ticks = list(range(0, n, every))
    labels = [f"{axis[i]:.2f}" for i in ticks]
    frame = dict(range=[-0.5, n - 0.5], zeroline=False, showgrid=False, constrain="domain")
    layout = dict(
        xaxis=dict(title_text=_("z1 (cell centre)"), tickvals=ticks, ticktext=labels, **frame),
        yaxis=dict(
            title_text=_("z2 (cell centre)"),
            tickvals=ticks,
            ticktext=labels,
            scaleanchor="x",
            scaleratio=1,
            **frame,
        ),
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        images=[_image(picture_png, -0.5, n - 0.5, n)],
    )
    return go.Figure(data=[_frame(-0.5, n - 0.5)], layout=layout)


def manifold_plane_figure(
    picture_png: bytes, window: tuple[float, float], height: int = 640
) -> go.Figure:
    """The decoded grid laid on the latent plane at latent scale, over `window` on both axes."""
    lo, hi = window
    layout = _square_layout(
        window, height, grid=False, images=[_image(picture_png, lo, hi, hi - lo)]
    )
    return go.Figure(data=[_frame(lo, hi)], layout=layout)


def loss_curves(history: list[dict], height: int = 300) -> go.Figure:
    """Per-epoch test −ELBO with its reconstruction term and the training objective above, the
    KL term below on its own axis: one scale per panel, no twin axes."""
    epochs = [h["epoch"] for h in history]
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.08
    )
    series = [
        (_("test −ELBO"), "test_neg_elbo", "solid", 1),
        (_("test reconstruction"), "test_reconstruction", "dash", 1),
        (_("train objective"), "train_loss", "dot", 1),
        (_("test KL"), "test_kl", "solid", 2),
    ]
    for name, field, dash, row in series:
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[h[field] for h in history],
                name=name,
                mode="lines+markers",
                line=dict(dash=dash),
            ),
            row=row,
            col=1,
        )
    fig.update_yaxes(title_text=_("nats per image"), row=1, col=1)
    fig.update_yaxes(title_text=_("KL (nats)"), row=2, col=1)
    fig.update_xaxes(title_text=_("epoch"), tick0=1, dtick=max(1, len(epochs) // 8), row=2, col=1)
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return fig


def sparkline_svg(series: dict[str, list[float]], width: int = 240, height: int = 70) -> str:
    """A few lines on one scale as a small inline SVG, for the sidebar's live training curves.

    Plain SVG rather than a plotly figure: the sidebar redraws it every second while a model
    trains, and a figure would cost the server and each browser tens of milliseconds a time.
    Series are drawn in order with falling opacity in the text colour; each is labelled with
    its last value, under the name it is given (already in the page's language). Fewer than two
    points per series draw nothing.
    """
    points = [v for values in series.values() for v in values]
    if not points or max(len(v) for v in series.values()) < 2:
        return ""
    lo, hi = min(points), max(points)
    span = (hi - lo) or 1.0
    pad, label = 4, 16
    plot_h = height - label - pad

    def xy(i: int, n: int, v: float) -> str:
        x = pad + (width - 2 * pad) * i / max(1, n - 1)
        y = label + plot_h * (hi - v) / span
        return f"{x:.1f},{y:.1f}"

    lines, legend = [], []
    for k, (name, values) in enumerate(series.items()):
        opacity = 1.0 - 0.45 * k
        dash = "" if k == 0 else ' stroke-dasharray="4 3"'
        path = " ".join(xy(i, len(values), v) for i, v in enumerate(values))
        lines.append(
            f'<polyline points="{path}" fill="none" stroke="currentColor" '
            f'stroke-width="1.6" opacity="{opacity:.2f}"{dash}/>'
        )
        legend.append(f"{name} {values[-1]:.1f}")
    text = " · ".join(legend)
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{text}" style="color:inherit">'
        f'<text x="{pad}" y="11" font-size="11" fill="currentColor" opacity="0.75">{text}</text>'
        + "".join(lines)
        + "</svg>"
    )


def _ellipse(mu, sigma, k: float, points: int = 90) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, points)
    return mu[0] + k * sigma[0] * np.cos(t), mu[1] + k * sigma[1] * np.sin(t)


def posterior_figure(
    z1: np.ndarray,
    z2: np.ndarray,
    log_density: np.ndarray,
    mu,
    sigma,
    scale: str = "linear",
    height: int = 460,
    given: bool = False,
) -> go.Figure:
    """The exact p(z|x) as a heatmap (log_density[j, i] at (z1[i], z2[j])) with q(z|x)'s 1σ
    and 2σ ellipses and mean on top, on equal axes; p(z|x, y) and q(z|x, y) when `given` a
    class (a conditional model).

    `scale` "linear" shows the density itself; "log" shows log p(z|x) down to 12 nats below
    its peak, where a second mode or a heavy tail shows."""
    cond = "x, y" if given else "x"
    if scale == "log":
        values = np.maximum(log_density, log_density.max() - 12.0)
        title = f"log p(z|{cond})"
    else:
        values = np.exp(log_density)
        title = f"p(z|{cond})"
    fig = go.Figure(
        go.Heatmap(
            x=z1,
            y=z2,
            z=values,
            colorscale="Viridis",
            colorbar=dict(title=dict(text=title), thickness=12),
            hovertemplate="z = (%{x:.3f}, %{y:.3f})<br>" + title + " = %{z:.3g}<extra></extra>",
        )
    )
    for k, dash in ((1, "solid"), (2, "dash")):
        x, y = _ellipse(mu, sigma, k)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line=dict(color="white", width=2, dash=dash),
                name=f"q(z|{cond}): {k}σ",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[mu[0]],
            y=[mu[1]],
            mode="markers",
            marker=dict(symbol="x", size=10, color="white"),
            name=_("{q}: mean μ").format(q=f"q(z|{cond})"),
            hoverinfo="skip",
        )
    )
    axis = dict(zeroline=False, showgrid=False, constrain="domain")
    fig.update_layout(
        xaxis=dict(title_text="z1", range=[z1[0], z1[-1]], **axis),
        yaxis=dict(title_text="z2", range=[z2[0], z2[-1]], scaleanchor="x", **axis),
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0),
    )
    return fig


def bound_bars(log_px: float, iwae: float, elbo: float, given: bool = False) -> go.Figure:
    """log p(x) and its two lower bounds as bars from a common floor (longer is higher), with
    the ELBO's gap marked; log p(x|y) when `given` a class (a conditional model)."""
    exact = _("exact log p(x|y)") if given else _("exact log p(x)")
    names = [_("ELBO (q's bound)"), _("IWAE, k = {k}").format(k=100), exact]
    values = [elbo, iwae, log_px]
    floor = min(values) - max(1.0, 2 * (log_px - elbo))
    fig = go.Figure(
        go.Bar(
            x=[v - floor for v in values],
            y=names,
            base=floor,
            orientation="h",
            text=[f"{v:.2f}" for v in values],
            textposition="inside",
            marker_color=["#9ca3af", "#60a5fa", "#2563eb"],
            # TRANSLATORS: a plotly hover template: keep each %{...} as it is.
            hovertemplate=_("%{y}: %{text} nats<extra></extra>"),
        )
    )
    fig.add_shape(
        type="line", x0=elbo, x1=log_px, y0=0.55, y1=0.55, line=dict(width=2, color="#ef4444")
    )
    fig.add_annotation(
        x=(elbo + log_px) / 2,
        y=0.55,
        text=_("gap {gap:.2f}").format(gap=log_px - elbo),
        showarrow=False,
        yshift=10,
    )
    fig.update_layout(
        xaxis=dict(title_text="nats", range=[floor, max(values) + 0.1 * (max(values) - floor)]),
        height=200,
        margin=dict(l=10, r=10, t=10, b=10),
        showlegend=False,
    )
    return fig


def labelled_grid_figure(
    picture_png: bytes,
    columns: list[str],
    rows: list[str],
    cell_px: int,
    pitch: int = 30,
    side: int = 28,
) -> go.Figure:
    """A tiled picture (images.tile: `side` px cells every `pitch` px) with each column and row
    named on the axes, drawn at `cell_px` a cell."""
    ticks = dict(showgrid=False, zeroline=False, fixedrange=True, ticks="")
    centre = side / 2
    fig = go.Figure(
        go.Image(
            source="data:image/png;base64," + base64.b64encode(picture_png).decode(),
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        xaxis=dict(
            side="top",
            tickvals=[j * pitch + centre for j in range(len(columns))],
            ticktext=columns,
            **ticks,
        ),
        yaxis=dict(
            tickvals=[i * pitch + centre for i in range(len(rows))],
            ticktext=rows,
            **ticks,
        ),
        width=len(columns) * cell_px + 160,
        height=len(rows) * cell_px + 70,
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return fig


def map_figure(
    points: np.ndarray,
    labels: np.ndarray,
    rows: np.ndarray,
    classes: list[str],
    colours: list[str],
    window: tuple[float, float],
    grid: np.ndarray,
    axes: tuple[str, str],
    hover: str,
    grid_hover: str,
    height: int = 360,
) -> go.Figure:
    """A 2-D map of test images, one WebGL trace a class (each point's test row as its
    customdata), each class's name at its points' median, so colour is not the only cue.

    Under them a faint grid of points (customdata -1) lets a click on the map's empty space
    pick a point there (Plotly selects points only). `hover` is the data points' hover
    template, `grid_hover` the grid's, both in the page's language. Nothing in it depends on
    what is picked: Streamlit keeps a chart's selection only while its figure stays the same.
    """
    fig = go.Figure(
        go.Scattergl(
            x=grid[:, 0],
            y=grid[:, 1],
            customdata=np.full(len(grid), -1),
            mode="markers",
            marker=dict(size=5, color="#9ca3af", opacity=0.15),
            unselected=dict(marker=dict(opacity=0.15)),
            hovertemplate=grid_hover + "<extra></extra>",
            showlegend=False,
        )
    )
    annotations = []
    for c, name in enumerate(classes):
        mine = labels == c
        if not mine.any():
            continue
        fig.add_trace(
            go.Scattergl(
                x=points[mine, 0],
                y=points[mine, 1],
                customdata=rows[mine],
                mode="markers",
                name=name,
                marker=dict(size=3, color=colours[c]),
                unselected=dict(marker=dict(opacity=0.6)),
                hovertemplate=hover + "<extra></extra>",
                showlegend=False,
            )
        )
        x, y = np.median(points[mine], axis=0)
        # Dark on a light pill: readable over any class's points, in either theme.
        annotations.append(
            dict(
                x=x,
                y=y,
                text=f"<b>{name}</b>",
                showarrow=False,
                font=dict(size=13, color="#111827"),
                bgcolor="rgba(255, 255, 255, 0.75)",
                borderpad=1,
            )
        )
    layout = _square_layout(window, height, annotations=annotations, clickmode="event+select")
    layout["xaxis"]["title_text"], layout["yaxis"]["title_text"] = axes
    layout["margin"]["t"] = 10  # the map's title is the page's, above it
    # A narrow column leaves the square map shorter than the figure: flush with the title.
    layout["yaxis"]["constraintoward"] = "top"
    fig.update_layout(**layout)
    return fig
