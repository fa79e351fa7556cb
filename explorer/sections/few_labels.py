"""The few-labels lens: how well a handful of labels classifies the test images from their codes.

Model M1 of Kingma, Rezende, Mohamed & Welling (2014): the VAE learnt its codes from the
training images without labels; k images of each class are then labelled, and a classifier on
their codes is scored on the test images, beside the same classifier on the raw pixels. The
labelled images and the images read wrongly can be marked on the latent plane. A conditional
VAE is refused: its encoder was given the labels, so its codes are not M1's. A semi-supervised
VAE (their M2) classifies by itself: its q(y|x) is scored instead, beside their Table 1.
"""

from __future__ import annotations

import base64
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from i18n import N_, _, label_of, lazy, ngettext, nouns
from training.cache import NotCached, load_cached
from vae_core import encode, load_split
from vae_core.data import Split
from vae_core.few_labels import (
    CLASSIFIERS,
    FEATURES,
    KINGMA_2014_ERRORS,
    KS,
    NEIGHBOURS,
    few_label_accuracy,
    knn_classify,
    labelled_subset,
    pixel_features,
    predict_from_labelled,
)

from .. import images
from ..latent_view import mark
from ..lenses import class_probabilities, lens_of
from ..model_requests import shown_settings
from ..model_view import ModelSettings, ModelView, Shown, test_set
from ..server import dataset_of
from ..state import page_theme

ERRORS_A_ROW = 8  # misclassified images shown for each true class
MOST_MARKS = 500  # misclassified images marked on the plane: more would hide it
LINE = {"codes": "solid", "pixels": "dot"}
COLOUR = {"kNN": "#2563eb", "logistic": "#ea580c"}
EXPLAINED = {
    "kNN": N_("k-nearest neighbours: the majority label of the {n} nearest labelled images"),
    "logistic": N_(
        "logistic regression: a linear softmax on the standardised features (L2, C = 1)"
    ),
}
# How the page names each classifier and each kind of features (vae_core.few_labels's keys).
CLASSIFIER_NAMES = {
    # TRANSLATORS: the classifier k-nearest neighbours, short, as in a chart's legend.
    "kNN": N_("kNN"),
    # TRANSLATORS: the classifier logistic regression, short, as in a chart's legend.
    "logistic": N_("logistic"),
}
FEATURE_NAMES = {
    # TRANSLATORS: the features a classifier reads: the VAE's codes (posterior means μ).
    "codes": N_("codes"),
    # TRANSLATORS: the features a classifier reads: the raw pixels of the images.
    "pixels": N_("pixels"),
}


def classifier_name(classifier: str) -> str:
    return _(CLASSIFIER_NAMES.get(classifier, classifier))


def _series(features: str, classifier: str) -> str:
    """A line of the chart, a column of the table: "codes · kNN"."""
    return f"{_(FEATURE_NAMES.get(features, features))} · {classifier_name(classifier)}"


def explained() -> str:
    """Each classifier in a few words, joined."""
    return " · ".join(_(text).format(n=NEIGHBOURS) for text in EXPLAINED.values())


REFUSED = N_(
    "Model M1 classifies from codes learnt without labels. This model is a conditional VAE: "
    "its encoder is given each {noun}'s label, so its codes hold what the label does not say "
    "(the style), not the class, and a few labels cannot read the class from them. Pick a plain "
    "model in the sidebar (Kind of VAE: Plain) to see how well k labels a class read the test "
    "{nouns} from its codes, or a semi-supervised one (M2), which learns to classify."
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


# Their spinners are shown by the caller, in the page's language.
@st.cache_data(show_spinner=False, max_entries=8)
def pixel_accuracy(seed: int, data: str) -> dict[int, dict[str, float]]:
    """{k: {classifier: test accuracy}} on the raw pixels: the same for every model of `data`."""
    train = Split(*train_set(data))
    ks = usable_ks(train.labels)
    scores = few_label_accuracy(None, train, Split(*test_set(data)), ks, seed, ["pixels"])
    return {k: {s.classifier: s.accuracy for s in scores if s.k == k} for k in ks}


@lens_of(show_spinner=False, max_entries=16)
def code_results(shown: Shown, seed: int) -> dict[int, dict]:
    """{k: {"z": the labelled images' codes, "predicted": {classifier: (N,) uint8},
    "accuracy": {classifier: float}}}; only the k a class labelled images are encoded."""
    view = shown.view
    train_images, train_labels = train_set(view.data)
    results = {}
    for k in usable_ks(train_labels):
        rows = labelled_subset(train_labels, k, seed)
        z = encode(shown.model, train_images[rows])[0]
        found = predict_from_labelled(z, train_labels[rows], view.mu)
        results[k] = {
            "z": np.round(z, 3).tolist(),
            "predicted": {c: found[c].astype(np.uint8) for c in CLASSIFIERS},
            "accuracy": {c: float(np.mean(found[c] == view.labels)) for c in CLASSIFIERS},
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
                    name=_series(features, classifier),
                    mode="lines+markers",
                    line=dict(color=COLOUR[classifier], dash=LINE[features], width=2),
                    # TRANSLATORS: a plotly hover template: keep each %{...} as it is.
                    hovertemplate=_("%{y:.1f} % with %{x} a class<extra>%{fullData.name}</extra>"),
                )
            )
    fig.add_vline(x=k, line_width=1, line_dash="dash", line_color="#9ca3af")
    fig.update_layout(
        xaxis=dict(type="log", title=_("labelled images a class (log scale)"), tickvals=list(KS)),
        yaxis=dict(title=_("test accuracy (%)"), range=[0, 100]),
        height=320,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", y=-0.3),
    )
    return fig


def accuracy_table(table: dict[str, dict[int, dict[str, float]]]) -> str:
    """The chart's figures as a markdown table, a row for each k of `table`."""
    columns = [(f, c) for f in FEATURES for c in CLASSIFIERS]
    # TRANSLATORS: the heading of a table's first column, the number of labels of each class.
    k_heading = _("labels a class")
    lines = [
        f"| {k_heading} | " + " | ".join(_series(f, c) for f, c in columns) + " |",
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
    if view.noun == "digit":  # "a 7"; another dataset's class names take no article
        # TRANSLATORS: hover text of a misread test digit: "test #12: a 7, read as 1".
        hover = _("test #{row}: a {name}, read as {read}")
    else:
        # TRANSLATORS: hover text of a misread test image: "test #12: Sneaker, read as Sandal".
        hover = _("test #{row}: {name}, read as {read}")
    for c, rows in enumerate(rows_by_class):
        for j, r in enumerate(rows):
            cells[c * cols + j] = view.images[r] / 255.0
            xs.append(j * 30 + 14)
            ys.append(c * 30 + 14)
            name, read = view.classes[int(labels[r])], view.classes[int(predicted[r])]
            text.append(hover.format(row=r, name=name, read=read))
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
            title=_("true class"),
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


def misread_mosaic(view: ModelView, predicted: np.ndarray, key: str) -> None:
    """The test images `predicted` reads wrongly, a row for each true class, drawn."""
    rows_by_class = errors_by_class(view.labels, predicted, ERRORS_A_ROW, len(view.classes))
    st.plotly_chart(
        error_mosaic(rows_by_class, view.labels, predicted, view, page_theme()),
        key=key,
        width="content",
        config={"displayModeBar": False},
    )


@st.cache_data(show_spinner=False, ttl=60, max_entries=64)
def semi_supervised_accuracy(settings: ModelSettings) -> float | None:
    """The test accuracy of these settings' semi-supervised model, if this server holds it."""
    try:
        return load_cached(*settings.configs())[1]["metrics"].get("test_accuracy")
    except NotCached:
        return None


@st.cache_data(show_spinner=False, max_entries=16)
def pixel_knn(k: int, seed: int, data: str) -> float:
    """The test accuracy of kNN on the raw pixels of k labelled images a class."""
    train_images, train_labels = train_set(data)
    test_images, test_labels = test_set(data)
    rows = labelled_subset(train_labels, k, seed)
    found = knn_classify(
        pixel_features(train_images[rows]), train_labels[rows], pixel_features(test_images)
    )
    return float(np.mean(found == test_labels))


def semi_supervised_table(settings: ModelSettings, accuracy: float, classes: int) -> str:
    """M2's test accuracy here for each count of labels this server holds a model of, beside
    Kingma et al.'s (2014) and kNN on the pixels of the same labelled images; markdown."""
    heading = _(
        "| labelled images | M2 here | M2, Kingma et al. | M1+M2, Kingma et al. | pixels · kNN |"
    )
    lines = [heading, "| ---: | ---: | ---: | ---: | ---: |"]
    for n, (m2, m1_m2) in KINGMA_2014_ERRORS.items():
        ours = accuracy if n == settings.labelled else None
        if ours is None:
            ours = semi_supervised_accuracy(replace(settings, labelled=n))
        here = "–" if ours is None else f"{100 * ours:.1f} %"
        if n == settings.labelled:
            here = f"**{here}**"
        pixels = f"{100 * pixel_knn(n // classes, settings.seed, settings.data):.1f} %"
        lines.append(f"| {n:,} | {here} | {100 - m2:.1f} % | {100 - m1_m2:.1f} % | {pixels} |")
    return "\n".join(lines)


def _semi_supervised(shown: Shown) -> None:
    """A semi-supervised model (M2): its classifier q(y|x) on the test set, beside the paper's
    figures, and the test images it reads wrongly."""
    view, config = shown.view, shown.model.config
    words = nouns(view.noun)
    probs = class_probabilities(shown)
    predicted = probs.argmax(1)
    accuracy = float(np.mean(predicted == view.labels))
    train_labels = train_set(view.data)[1]
    st.caption(
        _(
            "Model M2 of Kingma, Rezende, Mohamed & Welling (2014), the semi-supervised VAE: "
            "the class y is a hidden variable beside z. It learnt a classifier q(y|x) together "
            "with q(z|x, y) and p(x|y, z) from {labelled} labelled training images ({k} of each "
            "class) and the other {unlabelled} unlabelled, each of which it explained under "
            "every class, weighted by what q(y|x) reads. That is the article's claim made "
            "real: with label information brought in, labelled and unlabelled data train one "
            "model together."
        ).format(
            labelled=f"{config.labelled:,}",
            k=config.labelled // config.classes,
            unlabelled=f"{len(train_labels) - config.labelled:,}",
        )
    )
    settings = shown_settings()
    left, right = st.columns([1, 2], gap="large")
    left.metric(
        _("q(y|x) on the {test} test {nouns}").format(test=f"{len(view.labels):,}", **words),
        f"{100 * accuracy:.1f} %",
        help=_("The share of test {nouns} whose most probable class is their label.").format(
            **words
        ),
    )
    with right:
        st.markdown(semi_supervised_table(settings, accuracy, config.classes))
        st.caption(
            _(
                "Test accuracy by labelled images: this server's M2 models of these settings "
                "(– where none is trained yet: pick another count in the sidebar), the paper's "
                "Table 1 (its z has 50 dimensions, ours 2) and kNN on the pixels of the same "
                "labelled images."
            )
        )
    wrong = np.flatnonzero(predicted != view.labels)
    st.markdown(
        _("**The test {nouns} q(y|x) reads wrongly: {wrong} of {total}**").format(
            wrong=f"{len(wrong):,}", total=f"{len(view.labels):,}", **words
        )
    )
    misread_mosaic(view, predicted, "few_labels_m2_errors")


def section(shown: Shown) -> None:
    ss, view = st.session_state, shown.view
    noun = view.noun
    words = nouns(noun)
    st.subheader(
        _("Few labels: reading the test {nouns} from k labelled images a class").format(**words)
    )
    if not dataset_of(view.data).labelled:
        st.info(
            _(
                "These pictures have no labels (they were uploaded without class folders): "
                "reading them from a few labels needs classes. Upload them in one folder per "
                "class to try it."
            ),
            icon="🏷️",
        )
        return
    if shown.model.config.semi_supervised:
        _semi_supervised(shown)
        return
    if view.conditional:
        st.info(_(REFUSED).format(**words), icon="🏷️")
        return
    train_labels = train_set(view.data)[1]
    ks = usable_ks(train_labels)
    st.caption(
        _(
            "Model M1 of Kingma, Rezende, Mohamed & Welling (2014): the VAE learnt its codes from "
            "{train} training images without their labels. Now only k images of each class are "
            "labelled, drawn at random with the seed, and a classifier learns from their codes "
            "(the posterior means μ) or, for comparison, from their raw pixels; each is scored "
            "on the {test} test {nouns}."
        ).format(train=f"{len(train_labels):,}", test=f"{len(view.labels):,}", **words)
    )
    if ss.get("few_k") not in ks:
        ss.pop("few_k", None)  # a k that another dataset had, beyond what this one can give
    a, b, c = st.columns([2, 1, 2])
    k = a.select_slider(_("Labelled images a class"), ks, value=min(10, ks[-1]), key="few_k")
    seed = int(b.number_input(_("Seed"), 0, 1_000_000, key="few_seed"))
    classifier = c.radio(
        _("Classifier of the codes, for the {nouns} it gets wrong").format(**words),
        CLASSIFIERS,
        horizontal=True,
        key="few_classifier",
        format_func=label_of(CLASSIFIERS, classifier_name),
        help=explained(),
    )
    with st.spinner(_("Classifying the test images from their codes…")):
        codes = code_results(shown, seed)
    with st.spinner(_("Classifying the test images from their pixels…")):
        pixels = pixel_accuracy(seed, view.data)
    table = {"codes": {n: codes[n]["accuracy"] for n in ks}, "pixels": pixels}
    chart, figures = st.columns([3, 2], gap="large")
    with chart:
        st.plotly_chart(accuracy_chart(table, k), key="few_labels_chart")
    with figures:
        st.markdown(accuracy_table(table))
        chance = 100 / len(view.classes)
        st.caption(
            _("{explained}. Chance is {chance:.3g} %.").format(explained=explained(), chance=chance)
        )
        labelled = codes[k]["z"]
        st.button(
            _("Mark the labelled images on the plane"),
            key="mark_labelled",
            on_click=mark,
            args=(lazy("labelled images, k = {k}", k=k), labelled, view.model_id),
            help=_(
                "They are training images, so they are not among the plane's test {nouns}: "
                "they are marked as rings."
            ).format(**words),
        )
    predicted = codes[k]["predicted"][classifier]
    wrong = np.flatnonzero(predicted != view.labels)
    mosaic, side = st.columns([2, 3], gap="large")
    with mosaic:
        misread_mosaic(view, predicted, "few_labels_errors")
    with side:
        name = classifier_name(classifier)
        st.markdown(
            ngettext(
                "**The test {nouns} the codes' {classifier} gets wrong with {k} label a class: "
                "{wrong} of {total}** ({right:.1f} % right).",
                "**The test {nouns} the codes' {classifier} gets wrong with {k} labels a class: "
                "{wrong} of {total}** ({right:.1f} % right).",
                k,
            ).format(
                classifier=name,
                k=k,
                wrong=f"{len(wrong):,}",
                total=f"{len(view.labels):,}",
                right=100 * codes[k]["accuracy"][classifier],
                **words,
            )
        )
        st.caption(
            _(
                "Each row is a true class, with its first {count} misread {nouns} in test-set "
                "order; hover {a_noun} for what the classifier read. Marked on the plane, they "
                "show where the classes overlap."
            ).format(count=ERRORS_A_ROW, **words)
        )
        marked = wrong[:MOST_MARKS]
        if len(wrong) > MOST_MARKS:
            misread = f"{len(wrong):,}"
            what = lazy(
                "the first {count} of {wrong} misread by {classifier}, k = {k}",
                count=MOST_MARKS,
                wrong=misread,
                classifier=lazy(CLASSIFIER_NAMES.get(classifier, classifier)),
                k=k,
            )
        else:
            what = lazy(
                "misread by {classifier}, k = {k}",
                classifier=lazy(CLASSIFIER_NAMES.get(classifier, classifier)),
                k=k,
            )
        st.button(
            _("Mark the misread test {nouns} on the plane").format(**words),
            key="mark_misread",
            on_click=mark,
            args=(what, np.round(view.mu[marked], 3).tolist(), view.model_id),
        )
        if ss.get("overlay"):
            st.caption(_("Marked on the latent plane: {name}.").format(name=ss.overlay["name"]))
            st.button(_("Clear the marks"), key="few_clear_marks", on_click=mark, args=(None,))
