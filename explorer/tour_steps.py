"""The guided tour's steps, and what they compute on the model shown.

Below the sections: the session's state checks a link's `tour=k` against the steps, and the
tour's panel (sections/tour.py) draws them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np

from i18n import N_

from .model_view import ModelSettings, ModelView

TARGET_CLASS = 7  # the class whose code the first step asks for (MNIST's 7s, a Sneaker)
UNUSUAL_TOP = 20  # the "unusual" image is one of the test set's this many highest −ELBO
UNUSUAL_SHARE = 95  # an image scored above this many % of the test set counts as unusual


@dataclass(frozen=True)
class Step:
    key: str  # the step's name in code and tests; the link carries its number
    title: str  # a message (N_), shown translated
    tab: str  # the tab it opens, a key of explorer.tabs.TAB_KEYS
    predict: str | None = None  # "place" (a click on the plane) or "choose" (one of two)


STEPS = (
    Step("encoder", N_("Where will the encoder put this {noun}?"), "plane", "place"),
    Step("decoder", N_("The decoder, at any point of the plane"), "plane"),
    Step("prior", N_("The prior, and sampling new {nouns}"), "sample"),
    Step("reparameterization", N_("The reparameterization trick"), "sample"),
    Step("elbo", N_("The ELBO's two terms, for one {noun}"), "plane"),
    Step("beta", N_("β: which model has the larger KL?"), "compare", "choose"),
    Step("posterior", N_("The true posterior, and the ELBO's gap"), "posterior"),
    Step("unusual", N_("Usual or unusual?"), "outliers", "choose"),
    Step("interpolate", N_("From one {noun} to another"), "interpolate"),
    Step("conditional", N_("The conditional VAE"), "plane"),
)


def target_row(view: ModelView) -> int:
    """The test image the tour follows: the first of class TARGET_CLASS (of the last class
    where there are fewer), else the first test image."""
    cls = min(TARGET_CLASS, len(view.classes) - 1)
    rows = np.flatnonzero(view.labels == cls)
    return int(rows[0]) if len(rows) else 0


def centres(view: ModelView) -> dict[int, tuple[float, float]]:
    """Each class's mean code, for the classes the test set has."""
    return {
        int(c): tuple(float(v) for v in view.mu[view.labels == c].mean(axis=0))
        for c in np.unique(view.labels)
    }


def nearest_classes(view: ModelView) -> tuple[int, int, tuple[float, float]]:
    """The two classes whose mean codes lie closest, and the point halfway between them."""
    found = centres(view)
    keys = sorted(found)
    pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :]]
    if not pairs:
        only = keys[0]
        return only, only, found[only]
    a, b = min(pairs, key=lambda p: np.hypot(*np.subtract(found[p[0]], found[p[1]])))
    mid = tuple(float(v) for v in (np.asarray(found[a]) + found[b]) / 2)
    return a, b, mid


def placement(view: ModelView, row: int, guess: tuple[float, float]) -> dict:
    """How far a guessed code is from test image `row`'s: in the plane's units and in units of
    its σ, and the class whose mean code lies nearest the guess."""
    mu, sigma = view.mu[row], view.sigma[row]
    offset = np.asarray(guess, dtype=np.float64) - mu
    found = centres(view)
    nearest = min(found, key=lambda c: np.hypot(*np.subtract(found[c], guess)))
    return {
        "truth": (float(mu[0]), float(mu[1])),
        "sigma": (float(sigma[0]), float(sigma[1])),
        "distance": float(np.hypot(*offset)),
        "in_sigmas": float(np.hypot(*(offset / sigma))),
        "centre": found[int(view.labels[row])],
        "nearest_class": int(nearest),
    }


def partner(settings: ModelSettings) -> ModelSettings:
    """The model the β step compares with: the same settings with β = 4 (β = 1 if this one
    has β ≥ 4)."""
    return replace(settings, beta=1.0 if settings.beta >= 4 else 4.0)


def pick_unusual(scores: np.ndarray, unusual: bool, rng: random.Random) -> int:
    """A test image for the learner to judge: one of the UNUSUAL_TOP highest −ELBO, or one
    from the middle fifth of the ranking."""
    order = np.argsort(scores)
    n = len(order)
    pool = order[-UNUSUAL_TOP:] if unusual else order[int(0.4 * n) : max(int(0.6 * n), 1)]
    return int(rng.choice(list(pool)))
