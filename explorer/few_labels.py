"""The few-labels lens: how well a handful of labels classifies the test digits from their codes.

Model M1 of Kingma, Rezende, Mohamed & Welling (2014): the VAE learnt its codes from the
training images without labels; k images of each class are then labelled, and a classifier on
their codes is scored on the 10,000 test digits, beside the same classifier on the raw pixels.
The labelled images and the digits read wrongly can be marked on the latent plane.
"""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core import encode, load_split
from vae_core.data import Split
from vae_core.few_labels import (
    CLASSIFIERS,
    FEATURES,
    KS,
    NEIGHBOURS,
    classify,
    few_label_accuracy,
    labelled_subset,
)

from . import images
from .model_view import ModelView, test_set
from .state import page_theme

ERRORS_A_ROW = 8  # misclassified digits shown for each true class
MOST_MARKS = 500  # misclassified digits marked on the plane: more would hide it
LINE = {"codes": "solid", "pixels": "dot"}
COLOUR = {"kNN": "#2563eb", "logistic": "#ea580c"}
EXPLAINED = {
    "kNN": f"k-nearest neighbours: the majority label of the {NEIGHBOURS} nearest labelled images",
    "logistic": "logistic regression: a linear softmax on the standardised features (L2, C = 1)",
}


@st.cache_resource(show_spinner=False)
def train_set() -> tuple[np.ndarray, np.ndarray]:
    split = load_split(None, "train")
    return split.images, split.labels


@st.cache_data(show_spinner="Classifying the test digits from their pixels…", max_entries=8)
def pixel_accuracy(seed: int) -> dict[int, dict[str, float]]:
    """{k: {classifier: test accuracy}} on the raw pixels: the same for every model."""
    scores = few_label_accuracy(None, Split(*train_set()), Split(*test_set()), KS, seed, ["pixels"])
    return {k: {s.classifier: s.accuracy for s in scores if s.k == k} for k in KS}


@st.cache_data(show_spinner="Classifying the test digits from their codes…", max_entries=16)
def code_results(_model, _view: ModelView, model_id: str, seed: int) -> dict[int, dict]:
    """{k: {"z": the labelled images' codes, "predicted": {classifier: (10000,) uint8},
    "accuracy": {classifier: float}}}; only the k x 10 labelled images are encoded."""
    train_images, train_labels = train_set()
    results = {}
    for k in KS:
        rows = labelled_subset(train_labels, k, seed)
        z = encode(_model, train_images[rows])[0]
        found = classify(z, train_labels[rows], _view.mu)
        results[k] = {
            "z": np.round(z, 3).tolist(),
            "predicted": {c: found[c].astype(np.uint8) for c in CLASSIFIERS},
            "accuracy": {c: float(np.mean(found[c] == _view.labels)) for c in CLASSIFIERS},
        }
    return results


def accuracy_chart(table: dict[str, dict[int, dict[str, float]]], k: int) -> go.Figure:
    """Test accuracy (%) against labels a class, one line per features and classifier; `table`
    is {features: {k: {classifier: accuracy}}} and k the one marked."""
    fig = go.Figure()
    for features in FEATURES:
        for classifier in CLASSIFIERS:
            ks = sorted(table[features])
            fig.add_trace(
                go.Scatter(
                    x=ks,
                    y=[100 * table[features][n][classifier] for n in ks],
                    name=f"{features} · {classifier}",
                    mode="lines+markers",
                    line=dict(color=COLOUR[classifier], dash=LINE[features], width=2),
                    hovertemplate="%{y:.1f} % with %{x} a class<extra>%{fullData.name}</extra>",
                )
            )
    fig.add_vline(x=k, line_width=1, line_dash="dash", line_color="#9ca3af")
    fig.update_layout(
        xaxis=dict(type="log", title="labelled images a class (log scale)", tickvals=list(KS)),
        yaxis=dict(title="test accuracy (%)", range=[0, 100]),
        height=320,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", y=-0.3),
    )
    return fig


def accuracy_table(table: dict[str, dict[int, dict[str, float]]]) -> str:
    """The chart's figures as a markdown table, a row for each k."""
    columns = [(f, c) for f in FEATURES for c in CLASSIFIERS]
    lines = [
        "| labels a class | " + " | ".join(f"{f} · {c}" for f, c in columns) + " |",
        "| ---: " * (len(columns) + 1) + "|",
    ]
    for k in KS:
        cells = " | ".join(f"{100 * table[f][k][c]:.1f} %" for f, c in columns)
        lines.append(f"| {k} | {cells} |")
    return "\n".join(lines)


def errors_by_class(labels: np.ndarray, predicted: np.ndarray, a_row: int) -> list[list[int]]:
    """For each true class, the first `a_row` misclassified test rows, in test-set order."""
    wrong = np.flatnonzero(predicted != labels)
    return [wrong[labels[wrong] == c][:a_row].tolist() for c in range(10)]


def error_mosaic(
    rows_by_class: list[list[int]], labels, predicted, test_images: np.ndarray, theme: str
) -> go.Figure:
    """The misclassified digits, a row for each true class, each with its reading on hover.

    The mosaic is one PNG; invisible markers at the cells' centres carry the hover text."""
    cols = max(1, max(len(r) for r in rows_by_class))
    cells = np.zeros((10 * cols, 28, 28), dtype=np.float32)
    xs, ys, text = [], [], []
    for c, rows in enumerate(rows_by_class):
        for j, r in enumerate(rows):
            cells[c * cols + j] = test_images[r] / 255.0
            xs.append(j * 30 + 14)
            ys.append(c * 30 + 14)
            text.append(f"test #{r}: a {int(labels[r])}, read as {int(predicted[r])}")
    picture = images.png(images.themed(images.tile(cells, cols=cols), theme), scale=2)
    fig = go.Figure(
        go.Image(
            source="data:image/png;base64," + base64.b64encode(picture).decode(),
            dx=0.5,
            dy=0.5,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            marker=dict(size=24, opacity=0),
            hovertext=text,
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig.update_layout(
        xaxis=dict(visible=False, fixedrange=True),
        yaxis=dict(
            fixedrange=True,
            title="true digit",
            tickvals=[c * 30 + 14 for c in range(10)],
            ticktext=[str(c) for c in range(10)],
            showgrid=False,
            zeroline=False,
        ),
        height=10 * 40 + 20,
        width=cols * 40 + 80,
        margin=dict(l=10, r=10, t=10, b=10),
        hoverdistance=30,
    )
    return fig


def _mark(name: str | None, points: list | None, model_id: str | None) -> None:
    """Before the run, so the plane drawn first in it shows the marks (None clears them)."""
    st.session_state.overlay = (
        None
        if name is None
        else {"name": name, "points": points, "path": False, "model_id": model_id}
    )


def section(model, view: ModelView) -> None:
    ss = st.session_state
    st.subheader("Few labels: reading the test digits from k labelled images a class")
    st.caption(
        "Model M1 of Kingma, Rezende, Mohamed & Welling (2014): the VAE learnt its codes from "
        "60,000 training images without their labels. Now only k images of each digit are "
        "labelled, drawn at random with the seed, and a classifier learns from their codes "
        "(the posterior means μ) or, for comparison, from their raw pixels; each is scored on "
        "the 10,000 test digits."
    )
    a, b, c = st.columns([2, 1, 2])
    k = a.select_slider("Labelled images a class", KS, value=10, key="few_k")
    seed = int(b.number_input("Seed", 0, 1_000_000, key="few_seed"))
    classifier = c.radio(
        "Classifier of the codes, for the digits it gets wrong",
        CLASSIFIERS,
        horizontal=True,
        key="few_classifier",
        help=" · ".join(EXPLAINED.values()),
    )
    codes = code_results(model, view, view.model_id, seed)
    table = {
        "codes": {n: codes[n]["accuracy"] for n in KS},
        "pixels": pixel_accuracy(seed),
    }
    chart, figures = st.columns([3, 2], gap="large")
    with chart:
        st.plotly_chart(accuracy_chart(table, k), key="few_labels_chart")
    with figures:
        st.markdown(accuracy_table(table))
        st.caption(" · ".join(EXPLAINED.values()) + ". Chance is 10 %.")
        labelled = codes[k]["z"]
        st.button(
            "Mark the labelled images on the plane",
            key="mark_labelled",
            on_click=_mark,
            args=(f"labelled images, k = {k}", labelled, view.model_id),
            help="They are training images, so they are not among the plane's test digits: "
            "they are marked as rings.",
        )
    predicted = codes[k]["predicted"][classifier]
    wrong = np.flatnonzero(predicted != view.labels)
    mosaic, side = st.columns([2, 3], gap="large")
    with mosaic:
        rows_by_class = errors_by_class(view.labels, predicted, ERRORS_A_ROW)
        st.plotly_chart(
            error_mosaic(rows_by_class, view.labels, predicted, test_set()[0], page_theme()),
            key="few_labels_errors",
            width="content",
            config={"displayModeBar": False},
        )
    with side:
        st.markdown(
            f"**The test digits the codes' {classifier} gets wrong with {k} label"
            f"{'s' if k > 1 else ''} a class: {len(wrong):,} of {len(view.labels):,}** "
            f"({100 * codes[k]['accuracy'][classifier]:.1f} % right)."
        )
        st.caption(
            f"Each row is a true digit, with its first {ERRORS_A_ROW} misread ones in test-set "
            "order; hover a digit for what the classifier read. Marked on the plane, they show "
            "where the classes overlap."
        )
        marked = wrong[:MOST_MARKS]
        what = f"misread by {classifier}, k = {k}"
        if len(wrong) > MOST_MARKS:
            what = f"the first {MOST_MARKS} of {len(wrong):,} " + what
        st.button(
            "Mark the misread test digits on the plane",
            key="mark_misread",
            on_click=_mark,
            args=(what, np.round(view.mu[marked], 3).tolist(), view.model_id),
        )
        if ss.get("overlay"):
            st.caption(f"Marked on the latent plane: {ss.overlay['name']}.")
            st.button(
                "Clear the marks", key="few_clear_marks", on_click=_mark, args=(None, None, None)
            )
