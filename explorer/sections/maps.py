"""Why a VAE and not PCA? The test images mapped to a plane three ways, side by side.

Reducing dimensions, to see the data, is one use of a VAE. Beside its plane of codes stand
PCA's (the best linear map, fitted on the training images) and t-SNE's (a nonlinear map of a
subset of the test images, with no way to place new images nor back to pixels): how well each
keeps the classes apart (kNN on its points) and gives the images back (reconstruction), and a
click on any point of a map decodes it where the map can. PCA and t-SNE do not depend on the
model: they are computed once per dataset; the VAE's figures once per model.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from i18n import N_, Deferred, _, nouns
from vae_core import decode, encode, load_split
from vae_core.embeddings import (
    EPS,
    FOLDS,
    NEIGHBOURS,
    PCA,
    TSNE_IMAGES,
    cross_validated_knn,
    knn_accuracy,
    reconstruction_error,
    tsne,
    tsne_rows,
    vae_reconstructions,
)

from .. import figures, images
from ..lenses import lens_of
from ..model_view import Shown, test_set
from ..payload import palette_colours
from ..server import dataset_of
from ..state import chosen_class, page_theme

MAPS = ("vae", "pca", "tsne")
TITLES = {"vae": N_("VAE"), "pca": N_("PCA"), "tsne": N_("t-SNE")}
AXES = {"vae": ("z1", "z2"), "pca": ("PC1", "PC2"), "tsne": ("t-SNE 1", "t-SNE 2")}
MIN_TEST = 50  # test images the comparison needs: t-SNE's perplexity (30) and 10 folds of kNN
GRID = 25  # the empty-space grid's points a side: a click lands within 1/48 of the span
PICTURE_SCALE = 4  # a 28-pixel picture drawn 112 px wide, as the selection's


def square(points: np.ndarray, margin: float = 0.05) -> tuple[float, float]:
    """A window [lo, hi] on both axes that holds every point, with a margin."""
    lo, hi = float(points.min()), float(points.max())
    pad = margin * (hi - lo) or 1.0
    return lo - pad, hi + pad


def grid_of(window: tuple[float, float]) -> np.ndarray:
    """GRID × GRID points evenly over the window, inside its edges: (GRID², 2)."""
    lo, hi = window
    step = (hi - lo) / GRID
    axis = np.linspace(lo + step / 2, hi - step / 2, GRID)
    x, y = np.meshgrid(axis, axis)
    return np.column_stack([x.ravel(), y.ravel()]).astype(np.float32)


def knn_scores(train_points, train_labels, test_points, test_labels) -> dict[str, float]:
    """A map's kNN accuracy two ways: "knn", learnt from the training points and scored on the
    test points; "within", FOLDS-fold within the test points t-SNE maps, as t-SNE's is."""
    rows = tsne_rows(len(test_labels))
    return {
        "knn": knn_accuracy(train_points, train_labels, test_points, test_labels),
        "within": cross_validated_knn(test_points[rows], test_labels[rows]),
    }


@st.cache_data(show_spinner=Deferred(N_("Fitting PCA to the training images…")), max_entries=4)
def pca_map(data: str) -> dict:
    """PCA of the training images of dataset `data`: the fit, the test images' points, their
    kNN accuracy (training points -> test points, and within t-SNE's subset) and the test
    images' reconstruction error; the same for every model of the data."""
    train = load_split(dataset_of(data).directory, "train")
    test_images, test_labels = test_set(data)
    pca = PCA.fit(train.images)
    points = pca.transform(test_images)
    return {
        "pca": pca,
        "points": points,
        **knn_scores(pca.transform(train.images), train.labels, points, test_labels),
        "error": reconstruction_error(test_images, pca.decode(points)),
    }


@st.cache_data(show_spinner=False, max_entries=4)
def tsne_map(data: str) -> dict:
    """t-SNE of TSNE_IMAGES test images of dataset `data`: their rows, their points and the
    kNN accuracy within them (FOLDS-fold); the same for every model."""
    test_images, test_labels = test_set(data)
    rows = tsne_rows(len(test_labels))
    points = tsne(test_images[rows])
    return {
        "rows": rows,
        "points": points,
        "within": cross_validated_knn(points, test_labels[rows]),
    }


@lens_of(
    show_spinner=Deferred(N_("Placing the training images on the VAE's plane…")), max_entries=8
)
def vae_map(shown: Shown) -> dict:
    """The model's kNN accuracy (training codes -> test codes, and within t-SNE's subset) and
    its reconstruction error of the test images (decoded at the posterior mean; a conditional
    model's given each image's own class)."""
    view = shown.view
    train = load_split(dataset_of(view.data).directory, "train")
    given = train.labels if view.conditional else None
    codes = encode(shown.model, train.images, given)[0]
    own = view.labels if view.conditional else None
    return {
        **knn_scores(codes, train.labels, view.mu, view.labels),
        "error": reconstruction_error(
            view.images, vae_reconstructions(shown.model, view.images, own)
        ),
    }


def picked_point(event) -> tuple[int, float, float] | None:
    """The point a map's selection picked last: (test row or -1 for empty space, x, y)."""
    points = event["selection"]["points"] if event else []
    for point in reversed(points):
        row = point.get("customdata")
        if isinstance(row, dict):  # as Plotly Express would send it
            row = row.get("0")
        if row is not None and "x" in point and "y" in point:
            return int(row), float(point["x"]), float(point["y"])
    return None


def picture(pixels: np.ndarray, theme: str) -> bytes:
    return images.png(images.themed(pixels, theme), scale=PICTURE_SCALE)


def percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def pick_pictures(name: str, pick, model, view, pca: PCA, label: int | None) -> list:
    """What a pick on map `name` shows: [(pixels (28, 28) in [0, 1], caption)], the test image
    picked (if a point of the map was) and, for the VAE and PCA, the decoding at that point
    (a conditional VAE's given the picked image's own class, else `label`)."""
    row, x, y = pick
    shots = []
    if row >= 0:
        called = images.called(view, view.labels[row])
        shots.append(
            (view.images[row] / 255.0, _("test #{row}, {called}").format(row=row, called=called))
        )
    at = f"({x:.2f}, {y:.2f})"
    if name == "vae":
        z = view.mu[row] if row >= 0 else np.array([x, y], np.float32)
        given = int(view.labels[row]) if row >= 0 and label is not None else label
        decoded = decode(model, z[None], given)[0]
        shots.append((decoded, _("the decoder at z = {z}").format(z=at)))
    elif name == "pca":
        point = pca.transform(view.images[row][None])[0] if row >= 0 else np.array([x, y])
        shots.append((pca.decode(point[None])[0], _("PCA decoded at {p}").format(p=at)))
    return shots


def show_pick(name: str, pick, shown: Shown, pca: PCA, theme: str, label: int | None) -> None:
    """Under map `name`: the test image picked and, where the map can, its decoding there."""
    view = shown.view
    words = nouns(view.noun)
    if pick is None:
        st.caption(
            _("Click {a_noun} or the map's empty space to see what lies there.").format(**words)
        )
        return
    row, x, y = pick
    shots = pick_pictures(name, pick, shown.model, view, pca, label)
    cells = st.columns(max(2, len(shots)))
    for cell, (pixels, caption) in zip(cells, shots, strict=False):
        cell.image(picture(pixels, theme), caption=caption, width=28 * PICTURE_SCALE, alt=caption)
    if name == "tsne":
        st.caption(
            _(
                "t-SNE cannot decode: it placed these {nouns} and learnt no map back to pixels, "
                "so an empty point of its map stands for no image at all."
            ).format(**words)
        )
    elif row < 0 and name == "pca":
        st.caption(
            _(
                "PCA decodes linearly: the mean image plus {x:.2f} and {y:.2f} times two fixed "
                "patterns, a blurry average wherever you click."
            ).format(x=x, y=y)
        )
    elif row < 0:
        st.caption(_("The VAE decodes nonlinearly: a point between classes still draws a shape."))


def table(vae: dict, pca: dict, tsne_found: dict, words: dict) -> str:
    """The maps' figures as a markdown table."""
    cannot = _("cannot decode")
    count = f"{len(tsne_found['rows']):,}"
    head = [
        _("map"),
        _("kNN: learnt from the training {nouns}, tested on the test {nouns}").format(**words),
        _("kNN: {folds}-fold within the {count} test {nouns} t-SNE maps").format(
            folds=FOLDS, count=count, **words
        ),
        _("reconstruction MSE (per pixel)"),
        _("reconstruction (nats per {noun})").format(**words),
    ]
    rows = [
        (_("VAE (2-D codes)"), percent(vae["knn"]), percent(vae["within"]), vae["error"]),
        (_("PCA (2 components)"), percent(pca["knn"]), percent(pca["within"]), pca["error"]),
    ]
    lines = ["| " + " | ".join(head) + " |", "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {m} | {a} | {b} | {e.mse:.4f} | {e.nats:.1f} |" for m, a, b, e in rows]
    places = _("cannot place new {nouns}").format(**words)
    lines.append(f"| t-SNE | {places} | {percent(tsne_found['within'])} | {cannot} | {cannot} |")
    return "\n".join(lines)


@st.fragment
def section(shown: Shown) -> None:
    ss, view = st.session_state, shown.view
    words = nouns(view.noun)
    theme = page_theme()
    label = chosen_class(view.conditional)
    st.subheader(_("Why a VAE and not PCA? Three maps of the same {nouns}").format(**words))
    st.caption(
        _(
            "Reducing dimensions, to see {nouns} of 784 pixels as points in a plane, is often "
            "listed among a VAE's uses. PCA has done it for a century: it projects each {noun} onto the two "
            "directions along which the training {nouns} vary most, the best any linear map can "
            "do, and back again. The VAE's encoder and decoder are nonlinear maps there and "
            "back. t-SNE is nonlinear too, but maps only the {nouns} it is given and has no way "
            "back. Each map is scored by how well its plane keeps the classes apart (k nearest "
            "neighbours on its points) and, where it can decode, by how well a point gives the "
            "{noun} back."
        ).format(**words)
    )
    if view.conditional:
        st.caption(
            _(
                "A conditional model: its encoder is given each {noun}'s class, so its plane holds "
                "the style, not the class, and its kNN accuracy falls towards chance. Empty points "
                "are decoded as the class chosen on the page, {name}."
            ).format(name=view.classes[label], **words)
        )
    if len(view.labels) < MIN_TEST or len(view.classes) < 2:
        st.info(
            _(
                "These data are too few for the maps' comparison: it scores each map by how "
                "well it keeps {min_classes} or more classes apart among {min_test} or more test "
                "{nouns} (t-SNE needs as many), and these have {classes} and {count}."
            ).format(
                min_classes=2,
                min_test=MIN_TEST,
                classes=len(view.classes) if dataset_of(view.data).labelled else 0,
                count=len(view.labels),
                **words,
            )
        )
        return
    pca = pca_map(view.data)
    with st.spinner(
        _("Running t-SNE on {count} test {nouns}, once per server: several seconds…").format(
            count=f"{min(TSNE_IMAGES, len(view.labels)):,}", **words
        )
    ):
        tsne_found = tsne_map(view.data)
    vae = vae_map(shown)
    colours = palette_colours(ss.get("palette", "default"), len(view.classes))
    # TRANSLATORS: a plotly hover template: keep %{fullData.name} and %{customdata} as they are.
    hover = _("%{fullData.name} · test #%{customdata}")
    everyone = np.arange(len(view.labels))
    shown_maps = {
        "vae": (view.mu, view.labels, everyone, view.window, vae["knn"]),
        "pca": (pca["points"], view.labels, everyone, square(pca["points"]), pca["knn"]),
        "tsne": (
            tsne_found["points"],
            view.labels[tsne_found["rows"]],
            tsne_found["rows"],
            square(tsne_found["points"]),
            tsne_found["within"],
        ),
    }
    columns = st.columns(3, gap="medium")
    for name, column in zip(MAPS, columns, strict=True):
        points, labels, rows, window, knn = shown_maps[name]
        with column, st.container(key=f"map_{name}"):
            if name == "tsne":
                heading = _("**t-SNE** of {count} test {nouns} · kNN {knn} ({folds}-fold)").format(
                    count=f"{len(rows):,}", knn=percent(knn), folds=FOLDS, **words
                )
                # TRANSLATORS: a plotly hover template: keep each %{...} as it is.
                grid_hover = _("(%{x:.1f}, %{y:.1f}): no image here")
            else:
                heading = _("**{map}** · kNN {knn}").format(map=_(TITLES[name]), knn=percent(knn))
                # TRANSLATORS: a plotly hover template: keep each %{...} as it is.
                grid_hover = _("(%{x:.2f}, %{y:.2f}): click to decode here")
            st.markdown(heading)
            fig = figures.map_figure(
                points,
                labels,
                rows,
                list(view.classes),
                colours,
                window,
                grid_of(window),
                AXES[name],
                hover,
                grid_hover,
            )
            event = st.plotly_chart(
                fig,
                key=f"maps_{name}",
                on_select="rerun",
                selection_mode="points",
                config={"displayModeBar": False},
            )
            show_pick(name, picked_point(event), shown, pca["pca"], theme, label)
    st.markdown(table(vae, pca, tsne_found, words))
    st.caption(
        _(
            "kNN: the majority class of the {n} nearest points. VAE and PCA are maps: fitted on "
            "the training {nouns}, they place the test {nouns} too, and the kNN learns from the "
            "training points. t-SNE places only the {nouns} it was given, so its kNN is scored "
            "within them, each tenth by the other nine; the middle column scores every map so, "
            "on the same {nouns}. MSE: squared error per pixel; nats: the test {nouns}' "
            "Bernoulli −log-likelihood under the reconstruction (the VAE's decoded at the "
            "posterior mean, PCA's clipped to [0, 1]), its pixels clipped to [{eps}, 1 − {eps}]."
        ).format(n=NEIGHBOURS, eps=EPS, **words)
    )
    st.markdown(
        _(
            "What to look for: PCA's plane is a shadow of pixel space, where {nouns} that share "
            "ink overlap, and every point of it decodes to the mean {noun} plus two fixed "
            "patterns. The VAE's encoder can bend pixel space to pull the classes apart, and its "
            "decoder bends back, so a point between two classes still decodes to a shape. "
            "t-SNE often pulls the classes apart best, but draws nothing: a map for looking, "
            "not a model of the {nouns}."
        ).format(**words)
    )
