"""The few-labels lens: how well a handful of labels classifies the test images from their codes.

Model M1 of Kingma, Rezende, Mohamed & Welling (2014): the VAE learnt its codes from the
training images without labels; k images of each class are then labelled, and a classifier on
their codes is scored on the test images, beside the same classifier on the raw pixels. The
labelled images and the images read wrongly can be marked on the latent plane. A conditional
VAE is refused: its encoder was given the labels, so its codes are not M1's.
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

from .. import images
from ..model_view import ModelView, dataset_of, test_set
from ..state import page_theme

ERRORS_A_ROW = 8  # misclassified images shown for each true class
MOST_MARKS = 500  # misclassified images marked on the plane: more would hide it
LINE = {"codes": "solid", "pixels": "dot"}
COLOUR = {"kNN": "#2563eb", "logistic": "#ea580c"}
EXPLAINED = {
    "kNN": f"k-nearest neighbours: the majority label of the {NEIGHBOURS} nearest labelled images",
    "logistic": "logistic regression: a linear softmax on the standardised features (L2, C = 1)",
}


REFUSED = (
    "Model M1 classifies from codes learnt without labels. This model is a conditional VAE: "
    "its encoder is given each {noun}'s label, so its codes hold what the label does not say "
    "(the style), not the class, and a few labels cannot read the class from them. Pick a plain "
    "model in the sidebar (Conditional VAE off) to see how well k labels a class read the test "
    "{noun}s from its codes."
)


@st.cache_resource(show_spinner=False)
def train_set(data: str) -> tuple[np.ndarray, np.ndarray]:
    """The training images and labels of the dataset with key `data`."""
    split = load_split(dataset_of(data).directory, "train")
    return split.images, split.labels


def usable_ks(train_labels: np.ndarray) -> tuple[int, ...]:
    """The numbers of labels a class that the training set can give: a small dataset may hold
    fewer than 100 images of some class."""
    fewest = int(np.bincount(train_labels).min())
    return tuple(k for k in KS if k <= fewest)


@st.cache_data(show_spinner="Classifying the test images from their pixels…", max_entries=8)
def pixel_accuracy(seed: int, data: str) -> dict[int, dict[str, float]]:
    """{k: {classifier: test accuracy}} on the raw pixels: the same for every model of `data`."""
    train = Split(*train_set(data))
    ks = usable_ks(train.labels)
    scores = few_label_accuracy(None, train, Split(*test_set(data)), ks, seed, ["pixels"])
    return {k: {s.classifier: s.accuracy for s in scores if s.k == k} for k in ks}


@st.cache_data(show_spinner="Classifying the test images from their codes…", max_entries=16)
def code_results(_model, _view: ModelView, model_id: str, seed: int) -> dict[int, dict]:
    """{k: {"z": the labelled images' codes, "predicted": {classifier: (N,) uint8},
    "accuracy": {classifier: float}}}; only the k a class labelled images are encoded."""
    train_images, train_labels = train_set(_view.data)
    results = {}
    for k in usable_ks(train_labels):
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
    """The chart's figures as a markdown table, a row for each k of `table`."""
    columns = [(f, c) for f in FEATURES for c in CLASSIFIERS]
    lines = [
        "| labels a class | " + " | ".join(f"{f} · {c}" for f, c in columns) + " |",
        "| ---: " * (len(columns) + 1) + "|",
    ]
    for k in sorted(table[FEATURES[0]]):
        cells = " | ".join(f"{100 * table[f][k][c]:.1f} %" for f, c in columns)
        lines.append(f"| {k} | {cells} |")
    return "\n".join(lines)


def errors_by_class(
    labels: np.ndarray, predicted: np.ndarray, a_row: int, classes: int
) -> list[list[int]]:
    """For each of the true classes, the first `a_row` misclassified test rows, in test-set
    order."""
    wrong = np.flatnonzero(predicted != labels)
    return [wrong[labels[wrong] == c][:a_row].tolist() for c in range(classes)]


def error_mosaic(
    rows_by_class: list[list[int]], labels, predicted, view: ModelView, theme: str
) -> go.Figure:
    """The misclassified images, a row for each true class, each with its reading on hover.

    The mosaic is one PNG; invisible markers at the cells' centres carry the hover text."""
    count = len(rows_by_class)
    cols = max(1, max(len(r) for r in rows_by_class))
    cells = np.zeros((count * cols, 28, 28), dtype=np.float32)
    xs, ys, text = [], [], []
    for c, rows in enumerate(rows_by_class):
        for j, r in enumerate(rows):
            cells[c * cols + j] = view.images[r] / 255.0
            xs.append(j * 30 + 14)
            ys.append(c * 30 + 14)
            read = view.classes[int(predicted[r])]
            text.append(f"test #{r}: {images.called(view, labels[r])}, read as {read}")
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
            title="true class",
            tickvals=[c * 30 + 14 for c in range(count)],
            ticktext=list(view.classes),
            showgrid=False,
            zeroline=False,
            automargin=True,
        ),
        height=count * 40 + 20,
        # Room for the longest class name beside the rows (about 7 px a character).
        width=cols * 40 + 60 + 7 * max(len(name) for name in view.classes),
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
    noun = view.noun
    st.subheader(f"Few labels: reading the test {noun}s from k labelled images a class")
    if view.conditional:
        st.info(REFUSED.format(noun=noun), icon="🏷️")
        return
    train_labels = train_set(view.data)[1]
    ks = usable_ks(train_labels)
    st.caption(
        "Model M1 of Kingma, Rezende, Mohamed & Welling (2014): the VAE learnt its codes from "
        f"{len(train_labels):,} training images without their labels. Now only k images of "
        "each class are labelled, drawn at random with the seed, and a classifier learns from "
        "their codes (the posterior means μ) or, for comparison, from their raw pixels; each is "
        f"scored on the {len(view.labels):,} test {noun}s."
    )
    if ss.get("few_k") not in ks:
        ss.pop("few_k", None)  # a k that another dataset had, beyond what this one can give
    a, b, c = st.columns([2, 1, 2])
    k = a.select_slider("Labelled images a class", ks, value=min(10, ks[-1]), key="few_k")
    seed = int(b.number_input("Seed", 0, 1_000_000, key="few_seed"))
    classifier = c.radio(
        f"Classifier of the codes, for the {noun}s it gets wrong",
        CLASSIFIERS,
        horizontal=True,
        key="few_classifier",
        help=" · ".join(EXPLAINED.values()),
    )
    codes = code_results(model, view, view.model_id, seed)
    table = {
        "codes": {n: codes[n]["accuracy"] for n in ks},
        "pixels": pixel_accuracy(seed, view.data),
    }
    chart, figures = st.columns([3, 2], gap="large")
    with chart:
        st.plotly_chart(accuracy_chart(table, k), key="few_labels_chart")
    with figures:
        st.markdown(accuracy_table(table))
        chance = 100 / len(view.classes)
        st.caption(" · ".join(EXPLAINED.values()) + f". Chance is {chance:.3g} %.")
        labelled = codes[k]["z"]
        st.button(
            "Mark the labelled images on the plane",
            key="mark_labelled",
            on_click=_mark,
            args=(f"labelled images, k = {k}", labelled, view.model_id),
            help=f"They are training images, so they are not among the plane's test {noun}s: "
            "they are marked as rings.",
        )
    predicted = codes[k]["predicted"][classifier]
    wrong = np.flatnonzero(predicted != view.labels)
    mosaic, side = st.columns([2, 3], gap="large")
    with mosaic:
        rows_by_class = errors_by_class(view.labels, predicted, ERRORS_A_ROW, len(view.classes))
        st.plotly_chart(
            error_mosaic(rows_by_class, view.labels, predicted, view, page_theme()),
            key="few_labels_errors",
            width="content",
            config={"displayModeBar": False},
        )
    with side:
        st.markdown(
            f"**The test {noun}s the codes' {classifier} gets wrong with {k} label"
            f"{'s' if k > 1 else ''} a class: {len(wrong):,} of {len(view.labels):,}** "
            f"({100 * codes[k]['accuracy'][classifier]:.1f} % right)."
        )
        st.caption(
            f"Each row is a true class, with its first {ERRORS_A_ROW} misread {noun}s in "
            f"test-set order; hover {images.a(noun)} for what the classifier read. Marked on "
            "the plane, they show where the classes overlap."
        )
        marked = wrong[:MOST_MARKS]
        what = f"misread by {classifier}, k = {k}"
        if len(wrong) > MOST_MARKS:
            what = f"the first {MOST_MARKS} of {len(wrong):,} " + what
        st.button(
            f"Mark the misread test {noun}s on the plane",
            key="mark_misread",
            on_click=_mark,
            args=(what, np.round(view.mu[marked], 3).tolist(), view.model_id),
        )
        if ss.get("overlay"):
            st.caption(f"Marked on the latent plane: {ss.overlay['name']}.")
            st.button(
                "Clear the marks", key="few_clear_marks", on_click=_mark, args=(None, None, None)
            )
