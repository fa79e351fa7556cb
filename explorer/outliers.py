"""The outlier lens: the test digits the model finds least likely, and where any digit stands.

A VAE's −ELBO is an upper bound on −log p(x): high for images unlike the training data, so it
serves for anomaly detection. With a 2-D latent, exact −log p(x) is within reach too, and it
ranks the unusual digits differently from the bound, since the gap KL(q(z|x) ‖ p(z|x)) varies
from digit to digit.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core import decode, elbo_terms, exact_log_px

from . import images
from .model_view import ModelView, test_set
from .state import page_theme

SAMPLES = 8  # draws of z behind each test digit's −ELBO
CANDIDATES = 500  # digits, least likely by −ELBO first, re-ranked by exact −log p(x)
EXACT_GRID = 400  # cells a side of the quadrature behind that ranking
GALLERY = 12
RANKINGS = {
    "elbo": "−ELBO, all 10,000 test digits",
    "exact": f"exact −log p(x), among the {CANDIDATES} least likely by −ELBO",
}


@st.cache_data(show_spinner="Scoring the 10,000 test digits…", max_entries=8)
def neg_elbo(_model, model_id: str) -> np.ndarray:
    """Each test digit's −ELBO in nats, mean of SAMPLES draws of z: (10000,)."""
    return elbo_terms(_model, test_set()[0], samples=SAMPLES)["neg_elbo"]


@st.cache_data(show_spinner="Computing exact log p(x) by quadrature…", max_entries=8)
def exact_ranking(_model, model_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(rows, −log p(x)) of the CANDIDATES least likely digits by −ELBO, by exact −log p(x)."""
    rows = np.argsort(-neg_elbo(_model, model_id))[:CANDIDATES]
    scores = -exact_log_px(_model, test_set()[0][rows], n=EXACT_GRID)
    order = np.argsort(-scores)
    return rows[order], scores[order]


def least_likely(_model, model_id: str, ranking: str, k: int = GALLERY) -> list[tuple[int, float]]:
    """The k least likely test digits as (row, score in nats), least likely first."""
    if ranking == "exact":
        rows, scores = exact_ranking(_model, model_id)
        return [(int(r), float(s)) for r, s in zip(rows[:k], scores[:k], strict=True)]
    scores = neg_elbo(_model, model_id)
    rows = np.argsort(-scores)[:k]
    return [(int(r), float(scores[r])) for r in rows]


def percentile(scores: np.ndarray, value: float) -> float:
    """The share of test digits (in %) whose score is below `value`: more usual ones."""
    return float(100.0 * np.mean(scores < value))


MARK_COLOURS = ["#ef4444", "#16a34a"]  # the selected digit, the drawing


def histogram(scores: np.ndarray, marks: list[tuple[float, str]]) -> go.Figure:
    """The test digits' −ELBO, with a labelled line at each of `marks`: (value, label)."""
    fig = go.Figure(go.Histogram(x=scores, nbinsx=80, marker_color="#60a5fa", name="test digits"))
    for (value, label), colour in zip(marks, MARK_COLOURS, strict=False):
        fig.add_vline(x=value, line_width=2, line_color=colour)
        fig.add_annotation(
            x=value, y=1, yref="paper", text=label, showarrow=False, yshift=8, font_color=colour
        )
    fig.update_layout(
        xaxis_title="−ELBO (nats)",
        yaxis_title="test digits",
        height=240,
        margin=dict(l=10, r=10, t=24, b=10),
        showlegend=False,
    )
    return fig


def _select(row: int) -> None:
    st.session_state.selected_row = row


def section(model, view: ModelView, row: int, drawn: dict | None = None) -> None:
    """The gallery and the histogram; `drawn` is the drawing pad's result, if any, to mark."""
    theme = page_theme()
    scores = neg_elbo(model, view.model_id)
    st.subheader("Digits the model finds unusual")
    ranking = st.radio(
        "Rank by",
        list(RANKINGS),
        format_func=RANKINGS.get,
        horizontal=True,
        key="outlier_ranking",
    )
    found = least_likely(model, view.model_id, ranking)
    rows = [r for r, _ in found]
    originals = test_set()[0][rows] / 255.0
    reconstructions = decode(model, view.mu[rows])  # at the posterior means, in one batch
    pictures = {
        r: np.stack(pair) for r, *pair in zip(rows, originals, reconstructions, strict=True)
    }
    for start in range(0, len(found), 6):
        for cell, (r, score) in zip(st.columns(6), found[start : start + 6], strict=False):
            with cell.container(key=f"outlier_{start // 6}_{r}"):
                st.image(
                    images.png(images.themed(images.tile(pictures[r], cols=2), theme), scale=3)
                )
                st.caption(f"#{r}, a {int(view.labels[r])} · {score:.1f} nats")
                st.button("Select", key=f"select_outlier_{r}", on_click=_select, args=(r,))
    st.caption("Each pair: the test image and its reconstruction (decoded at the posterior mean).")
    value = float(scores[row])
    marks = [(value, f"#{row}: {value:.1f}")]
    lines = [
        f"The selected test image #{row} (a {int(view.labels[row])}) has −ELBO {value:.1f} "
        f"nats: more unusual than {percentile(scores, value):.0f} % of test digits."
    ]
    if drawn is not None:
        mine = drawn["neg_elbo"]
        marks.append((mine, f"your digit: {mine:.1f}"))
        lines.append(
            f"Your drawing has −ELBO {mine:.1f} nats: more unusual than "
            f"{drawn['percentile']:.0f} % of test digits."
        )
    st.plotly_chart(histogram(scores, marks), key="outlier_histogram")
    st.markdown("  \n".join(lines))
