"""The scatter overlay: a Streamlit v2 component that draws the moving marks on the scatter.

The current point and a clicked digit's posterior change with every slider move or click;
drawn into the plotly figure, they would change it, and Streamlit re-creates a chart whose
figure changes, losing the user's zoom and legend clicks. This draws them over the chart in
plotly's own coordinates instead, and follows its zoom and pan.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCATTER_SELECTOR = ".st-key-latent_scatter .js-plotly-plot"


@cache
def js_source() -> str:
    return (HERE / "scatter_overlay.js").read_text()


def payload(z: tuple[float, float], selected=None) -> dict:
    """JSON-ready: the current point and, if any, the clicked digit's (mean, sigma)."""
    data = {"target": SCATTER_SELECTOR, "z": [float(z[0]), float(z[1])], "selected": None}
    if selected is not None:
        mu, sigma = selected
        data["selected"] = {"mu": [float(v) for v in mu], "sigma": [float(v) for v in sigma]}
    return data
