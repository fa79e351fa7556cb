"""What several parts of the page compute on the model shown, cached per model and shared by
every session: each test image's −ELBO (and a semi-supervised model's q(y|x)), one image
judged (its pictures and ELBO terms), samples from the prior, the reparameterization trick,
the manifold's pictures, a drawing's result.

A lens of the model and its view takes the `Shown` model and is cached by its id (`lens_of`);
a lens of the model alone takes `_model` and its id. Plain values out (arrays, numbers, PNGs),
so the sections only draw them.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from i18n import N_, Deferred
from vae_core import (
    classify,
    decode,
    elbo_terms,
    encode,
    grid_axis,
    manifold,
    reparameterized_draws,
    sample_prior,
)

from . import images
from .model_view import Shown

# st.cache_data keyed by the model's id wherever a lens is given the model shown: the model
# and its view are the same objects for every session, and not worth hashing.
lens_of = partial(st.cache_data, hash_funcs={Shown: lambda shown: shown.model_id})

SAMPLES = 8  # draws of z behind each test image's −ELBO
SELECTION_SAMPLES = 64  # draws of z behind one judged image's reconstruction term
DRAWS = 6  # draws from q(z|x) shown for the trick
NEAREST = 6  # test images shown nearest a drawing's mean in the plane


def own_classes(shown: Shown, rows=slice(None)) -> np.ndarray | None:
    """The test images' own classes, which a conditional model is given; None for a plain one."""
    view = shown.view
    return view.labels[rows] if view.conditional else None


@lens_of(show_spinner=Deferred(N_("Scoring the test images…")), max_entries=8)
def neg_elbo(shown: Shown) -> np.ndarray:
    """Each test image's −ELBO in nats, mean of SAMPLES draws of z: (N,). A conditional model's
    is given each image's own class: a bound on −log p(x|y)."""
    return elbo_terms(shown.model, shown.view.images, own_classes(shown), samples=SAMPLES)[
        "neg_elbo"
    ]


@lens_of(show_spinner=Deferred(N_("Classifying the test images…")), max_entries=8)
def class_probabilities(shown: Shown) -> np.ndarray:
    """A semi-supervised model's q(y|x) for each test image: (N, classes)."""
    return classify(shown.model, shown.view.images)


def percentile(scores: np.ndarray, value: float) -> float:
    """The share of test images (in %) whose score is below `value`: more usual ones."""
    return float(100.0 * np.mean(scores < value))


def judge(
    model, pixels: np.ndarray, mu: np.ndarray, seed: int, theme: str, label: int | None = None
) -> dict:
    """One image (1, 28, 28) uint8 with its posterior mean (D,): its picture, reconstruction
    (decoded at the mean) and their difference as PNGs, and its ELBO terms in nats.

    `label` is the class a conditional model is given (None for a plain model): both the
    reconstruction and the terms are then given it."""
    image = pixels[0] / 255.0
    reconstruction = decode(model, mu[None], label)[0]
    terms = elbo_terms(model, pixels, label, samples=SELECTION_SAMPLES, seed=seed)
    # Named in English, shown translated (the captions of the selection and the drawing).
    pictures = {
        N_("input"): images.themed(image, theme),
        N_("reconstruction"): images.themed(reconstruction, theme),
        N_("difference"): images.difference_rgb(image, reconstruction),
    }
    return {
        "pictures": {name: images.png(p, scale=4) for name, p in pictures.items()},
        **{name: float(value[0]) for name, value in terms.items()},
    }


@lens_of(show_spinner=False, max_entries=64)
def details(shown: Shown, row: int, theme: str) -> dict:
    """Pictures (PNG) and ELBO terms of test image `row` (a conditional model's given its own
    class); plain values."""
    view = shown.view
    label = int(view.labels[row]) if view.conditional else None
    return judge(shown.model, view.images[row][None], view.mu[row], row, theme, label)


@st.cache_data(show_spinner=False, max_entries=32)
def prior_samples(_model, model_id: str, k: int, seed: int, theme: str, label: int | None) -> dict:
    """k draws of z from the prior, decoded (as class `label` by a conditional model)."""
    z = sample_prior(k, seed=seed)
    pictures = decode(_model, z, label)
    return {
        "z": z.tolist(),
        "png": images.png(images.themed(images.tile(pictures), theme), scale=3),
    }


@lens_of(show_spinner=False, max_entries=32)
def trick(shown: Shown, row: int, seed: int, theme: str) -> dict:
    """DRAWS draws from test image `row`'s q(z|x), decoded (a conditional model's given the
    image's own class, as its q(z|x, y) was)."""
    view = shown.view
    eps, z = reparameterized_draws(view.mu[row], view.sigma[row], DRAWS, seed=seed)
    pictures = decode(shown.model, z, int(view.labels[row]) if view.conditional else None)
    return {
        "eps": eps.tolist(),
        "z": z.tolist(),
        "pngs": [images.png(images.themed(p, theme), scale=3) for p in pictures],
    }


def themed_png(picture: np.ndarray, theme_name: str) -> bytes:
    """A float picture as ink on the theme's paper; NaN (no cell there) transparent."""
    rgb = images.themed(np.nan_to_num(picture, nan=0.0), theme_name)
    alpha = np.where(np.isnan(picture), 0, 255).astype(np.uint8)
    return images.png(np.dstack([rgb, alpha]))


@st.cache_data(show_spinner=Deferred(N_("Decoding the grid…")), max_entries=16)
def manifold_pictures(
    _model,
    model_id: str,
    n: int,
    spacing: str,
    extent: float,
    window: tuple[float, float] | None,
    theme_name: str,
    cls: int | None = None,
) -> tuple[bytes, bytes]:
    """The manifold: (the grid as a PNG to download, the picture to show: the grid, or laid on
    `window`); `cls` is the class a conditional model draws, None for a plain one."""
    axis = grid_axis(n, spacing, extent)
    grid = manifold(_model, axis, cls)
    grid_png = themed_png(grid, theme_name)
    if window is None:
        return grid_png, grid_png
    plane = images.manifold_on_plane(grid, axis, *window, size=28 * max(n, 24))
    return grid_png, themed_png(plane, theme_name)


def nearest_rows(mu_all: np.ndarray, mu: np.ndarray, k: int = NEAREST) -> list[int]:
    """The k test images whose posterior means lie nearest `mu` in the plane, nearest first."""
    d = ((mu_all - np.asarray(mu)[None]) ** 2).sum(axis=1)
    rows = np.argpartition(d, k)[:k]
    return [int(r) for r in rows[np.argsort(d[rows])]]


@lens_of(show_spinner=False, max_entries=64)
def drawing(shown: Shown, pixels: bytes, label: int | None, theme: str) -> dict:
    """What the model makes of a drawing (784 bytes), read as class `label` by a conditional
    model: judged as a test image is, where its −ELBO stands among the test images', and the
    test images nearest it in the plane; plain values and PNGs."""
    model, view = shown.model, shown.view
    x = np.frombuffer(pixels, np.uint8).reshape(1, 28, 28).copy()  # torch wants it writable
    mu, sigma = encode(model, x, label)
    judged = judge(model, x, mu[0], 0, theme, label)  # as the selection panel judges a test image
    rows = nearest_rows(view.mu, mu[0])
    pictures = view.images[rows] / 255.0
    semi = model.config.semi_supervised
    return {
        **judged,
        # What a semi-supervised model's classifier q(y|x) reads the drawing as.
        "classes": classify(model, x)[0].tolist() if semi else None,
        "mu": mu[0].tolist(),
        "sigma": sigma[0].tolist(),
        "percentile": percentile(neg_elbo(shown), judged["neg_elbo"]),
        "nearest": [
            (r, view.classes[view.labels[r]], images.png(images.themed(p, theme), scale=2))
            for r, p in zip(rows, pictures, strict=True)
        ],
    }
