"""Another dataset through the model, for the Outliers tab: its test images scored beside the
model's own, each score's AUROC, the two histograms, and the other images it finds likeliest.

A VAE's likelihood is meant to flag what is unlike its training data (anomaly detection), but
a model trained on Fashion-MNIST gives MNIST's digits higher likelihoods than its own test
images (Nalisnick et al., ICLR 2019): vae_core/ood.py has the scores, and a correction for the
images' complexity (Serrà et al., ICLR 2020). Scored on a fixed subset of each test set: the
exact likelihood's quadrature would take minutes on all 20,000 images of two CPU cores.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from i18n import N_, Deferred, _, label_of, nouns
from vae_core import Dataset, ood

from . import images, state
from .lenses import lens_of
from .model_view import Shown, test_set
from .server import dataset_of, datasets

SUBSET = 500  # test images of each dataset a plain model scores
# A conditional model scores each image under every one of its classes (no class is known of
# another dataset's images), so K times the work: fewer images, about the same time.
CONDITIONAL_SUBSET = 100
EXACT_GRID = ood.EXACT_GRID  # cells a side of the exact likelihood's quadrature
GALLERY = 6  # the other dataset's images the model finds most likely
# Each score's name on the page, in SCORES' order; a conditional model's p(x) is under a
# uniform prior over its classes, which the page says.
SCORE_NAMES = {
    "neg_elbo": N_("−ELBO"),
    "neg_log_px": N_("exact −log p(x)"),
    "corrected": N_("−log p(x) − L(x), corrected for complexity"),
}
OWN_COLOUR, OTHER_COLOUR = "#60a5fa", "#f97316"


def others(data: str) -> list[Dataset]:
    """The datasets the server offers beside the one with key `data`."""
    return [d for d in datasets() if d.key != data]


def subset_size(conditional: bool) -> int:
    return CONDITIONAL_SUBSET if conditional else SUBSET


@lens_of(
    show_spinner=Deferred(N_("Scoring both test sets, exact likelihood included…")), max_entries=8
)
def through(shown: Shown, other: str, size: int) -> dict:
    """`size` test images of the model's own data and of the dataset `other` (the same rows on
    every run), scored by vae_core.ood.model_scores in one call: {"own": scores, "other":
    scores, "aurocs": {score: AUROC}, "own_rows", "other_rows"}."""
    own_images = shown.view.images
    other_images, _labels = test_set(other)
    own_rows = ood.subset(len(own_images), size)
    other_rows = ood.subset(len(other_images), size)
    both = np.concatenate([own_images[own_rows], other_images[other_rows]])
    scores = ood.model_scores(shown.model, both, grid=EXACT_GRID)
    own = {name: values[: len(own_rows)] for name, values in scores.items()}
    theirs = {name: values[len(own_rows) :] for name, values in scores.items()}
    return {
        "own": own,
        "other": theirs,
        "aurocs": ood.aurocs(own, theirs),
        "own_rows": own_rows,
        "other_rows": other_rows,
    }


def histograms(own: np.ndarray, other: np.ndarray, names: tuple[str, str], score: str) -> go.Figure:
    """The two sets' scores overlaid, on shared bins: `names` (own, other) label them."""
    edges = np.histogram_bin_edges(np.concatenate([own, other]), bins=60)
    bins = dict(start=float(edges[0]), end=float(edges[-1]), size=float(edges[1] - edges[0]))
    fig = go.Figure()
    for values, name, colour in ((own, names[0], OWN_COLOUR), (other, names[1], OTHER_COLOUR)):
        fig.add_trace(
            go.Histogram(x=values, xbins=bins, name=name, marker_color=colour, opacity=0.6)
        )
    fig.update_layout(
        barmode="overlay",
        xaxis_title=_("{score} (nats): more anomalous to the right").format(score=score),
        yaxis_title=_("test images"),
        height=280,
        margin=dict(l=10, r=10, t=24, b=10),
        legend=dict(orientation="h", y=1.12),
    )
    return fig


def table(result: dict, names: tuple[str, str]) -> str:
    """Each score's AUROC and mean in both sets, as a markdown table."""
    # TRANSLATORS: the headings of a table: a score, its AUROC, its mean over one dataset's
    # test images ({name}).
    heads = [_("score"), "AUROC", *(_("mean, {name}").format(name=n) for n in names)]
    lines = ["| " + " | ".join(heads) + " |", "| --- | ---: | ---: | ---: |"]
    for name in ood.SCORES:
        lines.append(
            f"| {_(SCORE_NAMES[name])} | **{result['aurocs'][name]:.3f}** | "
            f"{result['own'][name].mean():.1f} | {result['other'][name].mean():.1f} |"
        )
    return "\n".join(lines)


def reading(result: dict, own: str, other: str) -> str:
    """What this model's figures say, in words: which way likelihood ranks the two."""
    aurocs = result["aurocs"]
    if aurocs["neg_log_px"] < 0.5:
        first = _(
            "The paradox, here: the model gives {other}'s images, which it never saw, a higher "
            "likelihood than its own {own} test images more often than not (AUROC "
            "{auroc:.2f}, below chance)."
        )
    elif aurocs["neg_log_px"] < 0.9:
        first = _(
            "Likelihood tells {other} from {own} only partly here (AUROC {auroc:.2f}): many of "
            "{other}'s images, never seen, look as likely to the model as its own test images."
        )
    else:
        first = _(
            "Likelihood works this way round: the model finds {other}'s images less likely than "
            "its own {own} test images (AUROC {auroc:.2f})."
        )
    second = _(
        "Subtracting each image's complexity L(x) (its size as a PNG) gives AUROC {corrected:.2f}."
    )
    pooled = {
        name: np.concatenate([result["own"][name], result["other"][name]]).mean()
        for name in ("complexity", "neg_log_px")
    }
    # The PNG codes the 8-bit image; the Bernoulli decoder's likelihood of grey pixels is no
    # code length of it, and is an order of magnitude smaller: L(x) swamps the difference.
    third = _(
        "But L(x) is {ratio:.0f} times as large as −log p(x) here: this model's Bernoulli "
        "likelihood of grey pixels is not a code length of the 8-bit image, as the PNG's size "
        "is, so the corrected score ranks mostly by simplicity and flags whichever dataset is "
        "the simpler one."
    )
    return " ".join(
        [
            first.format(other=other, own=own, auroc=aurocs["neg_log_px"]),
            second.format(corrected=aurocs["corrected"]),
            third.format(ratio=pooled["complexity"] / pooled["neg_log_px"]),
        ]
    )


def _no_other(noun: str) -> None:
    st.info(
        _(
            "This server offers no other dataset to put through the model. Its operator adds "
            "one with `streamlit run app.py -- --data-dir DIR` (Fashion-MNIST, say), and this "
            "part then scores that dataset's test images beside the model's own test {nouns}."
        ).format(**nouns(noun))
    )


@st.fragment
def part(shown: Shown) -> None:
    """The Outliers tab's "Another dataset through the model": a choice of dataset and score,
    the histograms, the AUROC table, what to take from it, the likeliest other images."""
    view = shown.view
    st.subheader(_("Another dataset through the model"))
    st.caption(
        _(
            "A VAE serves anomaly detection: an image unlike the training data should get a "
            "low likelihood. Put another dataset's test images through this model and see "
            "whether it does."
        )
    )
    offered = others(view.data)
    if not offered:
        _no_other(view.noun)
        return
    names = {d.key: d.name for d in offered}
    left, right = st.columns(2)
    other = left.selectbox(_("Other dataset"), list(names), format_func=names.get, key="ood_data")
    score = right.radio(
        _("Histogram of"),
        ood.SCORES,
        horizontal=True,
        format_func=label_of(ood.SCORES, lambda name: _(SCORE_NAMES[name])),
        key="ood_score",
    )
    size = subset_size(view.conditional)
    result = through(shown, other, size)
    own_name, other_name = dataset_of(view.data).name, names[other]
    pair = (own_name, other_name)
    st.plotly_chart(
        histograms(result["own"][score], result["other"][score], pair, _(SCORE_NAMES[score])),
        key="ood_histogram",
    )
    with st.container(key="ood_table"):
        st.markdown(table(result, pair))
    sample = _(
        "{size} test images of each, drawn at random once. AUROC: the chance that an image of "
        "{other} scores as more anomalous than one of {own}; 1 tells them apart perfectly, "
        "0.5 is a coin's toss, below 0.5 the other dataset looks more usual than the model's "
        "own. L(x): the image's size compressed losslessly as a PNG, in nats (Serrà et al. "
        "2020)."
    ).format(size=size, other=other_name, own=own_name)
    if view.conditional:
        sample += " " + _(
            "A conditional model needs a class, which the other dataset's images do not have: "
            "every image, its own test images too, is scored under each class and the "
            "likelihoods averaged, p(x) = (1/K) Σ p(x|y), a uniform prior over the {k} "
            "classes."
        ).format(k=len(view.classes))
    st.caption(sample)
    st.markdown(reading(result, own_name, other_name))
    st.markdown(
        _(
            "What to take from it: a likelihood measures how well the model can code an image, "
            "and simple images (few strokes, much black) are easy to code whatever they show. "
            "So a low likelihood does flag an anomaly, but a high one does not vouch for an "
            "image: check the detector on the kind of anomaly you expect before trusting it "
            "(Nalisnick et al. 2019). Corrections, for the image's complexity (Serrà et al. "
            "2020) or against a model of the background (Ren et al. 2019), help where they are "
            "measured on the likelihood's own scale."
        )
    )
    _likeliest(shown, result, other, other_name)


def _likeliest(shown: Shown, result: dict, other: str, other_name: str) -> None:
    """The other dataset's images the model finds most likely, by exact −log p(x)."""
    scores = result["other"]["neg_log_px"]
    order = np.argsort(scores)[:GALLERY]
    rows = result["other_rows"][order]
    pictures = test_set(other)[0][rows] / 255.0
    median = float(np.median(result["own"]["neg_log_px"]))
    st.markdown(
        _(
            "**The {other} images this model finds likeliest** (its own test images' median: "
            "{median:.1f} nats)"
        ).format(other=other_name, median=median)
    )
    theme = state.page_theme()
    for cell, row, score, picture in zip(
        st.columns(GALLERY), rows, scores[order], pictures, strict=True
    ):
        cell.image(
            images.png(images.themed(picture, theme), scale=3),
            # TRANSLATORS: under a picture: a test image of another dataset and its −log p(x).
            caption=_("#{row} · {score:.1f} nats").format(row=int(row), score=float(score)),
            alt=_("test image #{row} of {name}").format(row=int(row), name=other_name),
        )
