"""Another dataset through the model: how well its likelihood tells the two apart.

A VAE trained on one dataset gives each image a likelihood, and an image of another dataset,
never seen, ought to get a lower one: the idea behind using a VAE for anomaly detection.
Nalisnick et al., "Do Deep Generative Models Know What They Don't Know?" (ICLR 2019), found
the opposite for models trained on Fashion-MNIST: MNIST's digits got *higher* likelihoods
than the model's own test images. Serrà et al., "Input Complexity and Out-of-Distribution
Detection with Likelihood-Based Generative Models" (ICLR 2020), traced this to the inputs'
complexity: simple images (a digit's few strokes on black) are likely under any model. Their
score subtracts a general-purpose compressor's code length L(x) from −log p(x):
S(x) = −log p(x) − L(x), both in nats here.

Every score is "higher = more anomalous", and `auroc` says how often an image of the other
dataset scores higher than one of the model's own (1: always, 0.5: chance, below 0.5: the
paradox, the other dataset looks *more* usual).

The scores take no class: a conditional model's −log p(x|y) needs y, which an image of
another dataset does not have. It is scored under a uniform prior over the classes instead,
−log p(x) = −log (1/K) Σ_y p(x|y), the bound likewise (log-mean-exp of the ELBOs given each
class, still a bound on log p(x)), and the model's own test images are scored the same way.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from .inference import elbo_terms, exact_log_px
from .model import VAE

# The compressor behind L(x): PNG, as Pillow writes it at its strongest zlib level. The
# whole file counts, its fixed ~60 bytes of headers too: the same for every 28x28 image, so
# they shift every corrected score alike and change no ranking.
COMPRESSOR = "PNG (Pillow, compress_level=9)"
SCORES = ("neg_elbo", "neg_log_px", "corrected")  # the scores `model_scores` gives, in order
EXACT_GRID = 400  # cells a side of exact −log p(x)'s quadrature (vae_core.exact_log_px)
ELBO_SAMPLES = 8  # draws of z behind each −ELBO, as the Outliers tab's own scores


def _scores(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError(f"{name} is empty: AUROC needs at least one score on each side")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(f"{name} holds {bad} non-finite scores (NaN or ±inf); drop or fix them")
    return array


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of the ranks they span."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    _, first, counts = np.unique(ordered, return_index=True, return_counts=True)
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return ranks


def auroc(inlier_scores, outlier_scores) -> float:
    """The area under the ROC curve of telling outliers from inliers by a score, higher
    meaning more anomalous: P(outlier's score > inlier's) + P(tie) / 2.

    The Mann-Whitney U statistic of the outliers over n_in * n_out, from the ranks of both
    sets pooled (ties at their mean rank). Raises ValueError for an empty set or a
    non-finite score.
    """
    inliers = _scores(inlier_scores, "inlier_scores")
    outliers = _scores(outlier_scores, "outlier_scores")
    ranks = _average_ranks(np.concatenate([inliers, outliers]))
    n_in, n_out = len(inliers), len(outliers)
    u = ranks[n_in:].sum() - n_out * (n_out + 1) / 2.0
    return float(u / (n_in * n_out))


def _as_bytes(images) -> np.ndarray:
    """28x28 images, uint8 or floats in [0, 1] -> uint8 (N, 28, 28), quantised to 8 bits."""
    array = np.asarray(images)
    if array.ndim == 2 and array.shape[1] == 28 * 28:
        array = array.reshape(-1, 28, 28)
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(
            f"images must be of shape (N, 28, 28) or (N, 784), not {array.shape}; "
            "a single image is a batch of one"
        )
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"images must be uint8 (0-255) or floats in [0, 1], not {array.dtype} values"
        )
    if not np.isfinite(array).all() or array.min(initial=0.0) < 0 or array.max(initial=0.0) > 1:
        raise ValueError("float images must hold finite pixels in [0, 1] (divide 0-255 by 255)")
    return np.rint(array * 255.0).astype(np.uint8)


def complexity_nats(images) -> np.ndarray:
    """Each image's complexity L(x) (Serrà et al. 2020): the length in nats of its 8-bit
    quantisation compressed losslessly by COMPRESSOR, 8 ln 2 nats a byte: (N,) float64.

    `images` are uint8 (N, 28, 28) or (N, 784), or floats in [0, 1] quantised as x * 255
    rounded; anything else raises ValueError.
    """
    pixels = _as_bytes(images)
    sizes = np.empty(len(pixels))
    for i, image in enumerate(pixels):
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", compress_level=9)
        sizes[i] = buffer.tell()
    return sizes * 8 * math.log(2)


def corrected_score(neg_log_px, complexity) -> np.ndarray:
    """S(x) = −log p(x) − L(x) (Serrà et al. 2020), both in nats, one per image: how much
    worse the model codes x than a general-purpose compressor does."""
    a = np.asarray(neg_log_px, dtype=np.float64)
    b = np.asarray(complexity, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"−log p(x) and L(x) must be one score per image each, got shapes {a.shape} and "
            f"{b.shape}"
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("−log p(x) and L(x) must be finite")
    return a - b


def subset(count: int, size: int, seed: int = 0) -> np.ndarray:
    """`size` of `count` rows drawn without replacement (all of them if fewer), ascending:
    the same rows for the same arguments."""
    if count < 1 or size < 1:
        raise ValueError(f"need at least one row to draw from and to draw, got {count}, {size}")
    if size >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size, replace=False))


def _log_mean_exp(values: np.ndarray) -> np.ndarray:
    """log of the mean of exp(values) over axis 0, without overflow."""
    top = values.max(axis=0)
    return top + np.log(np.exp(values - top).mean(axis=0))


def model_scores(
    model: VAE, images, grid: int = EXACT_GRID, samples: int = ELBO_SAMPLES, seed: int = 0
) -> dict[str, np.ndarray]:
    """Each image's scores, none given a class, in nats, (N,) each: "neg_elbo" (−ELBO, mean
    of `samples` draws of z), "neg_log_px" (exact −log p(x) by quadrature on a grid x grid
    plane), "complexity" (L(x)) and "corrected" (−log p(x) − L(x)).

    A conditional model scores each image under every class and averages the likelihoods
    (a uniform prior over the classes): K times the work. Score all the images to be
    compared in one call: the quadrature's grid is decoded once per call.
    """
    pixels = _as_bytes(images)
    if model.config.conditional:
        classes = range(model.config.classes)
        # Every image under every class, in one batch: each class's grid decoded once.
        given = np.repeat(np.arange(model.config.classes), len(pixels))
        tiled = np.tile(pixels, (model.config.classes, 1, 1))
        elbos = -elbo_terms(model, tiled, given, samples=samples, seed=seed)["neg_elbo"]
        logs = exact_log_px(model, tiled, given, n=grid)
        shape = (len(classes), len(pixels))
        neg_elbo = -_log_mean_exp(elbos.reshape(shape).astype(np.float64))
        neg_log_px = -_log_mean_exp(logs.reshape(shape))
    else:
        neg_elbo = elbo_terms(model, pixels, samples=samples, seed=seed)["neg_elbo"]
        neg_log_px = -exact_log_px(model, pixels, n=grid)
    complexity = complexity_nats(pixels)
    return {
        "neg_elbo": np.asarray(neg_elbo, dtype=np.float64),
        "neg_log_px": np.asarray(neg_log_px, dtype=np.float64),
        "complexity": complexity,
        "corrected": corrected_score(neg_log_px, complexity),
    }


def aurocs(inliers: dict[str, np.ndarray], outliers: dict[str, np.ndarray]) -> dict[str, float]:
    """AUROC of each of SCORES, from two results of `model_scores`: the model's own images
    (inliers) and the other dataset's (outliers)."""
    return {name: auroc(inliers[name], outliers[name]) for name in SCORES}
