"""Classifying digits from a few labels, with the VAE's codes as features (model M1).

Kingma, Rezende, Mohamed & Welling (2014), "Semi-supervised Learning with Deep Generative
Models", model M1: a VAE is trained on all the images without their labels, then a classifier
is trained on the posterior means of the few labelled ones. Here the classifiers are the two
simplest there are, k-nearest neighbours and multinomial logistic regression, on the codes and,
for comparison, on the raw pixels, with the same labelled images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import Split
from .inference import encode
from .model import VAE

KS = (1, 5, 10, 100)  # labelled images per class
NEIGHBOURS = 5  # for kNN; with one image per class its tie-breaking makes it 1-NN
L2 = 1.0  # logistic regression's penalty, as scikit-learn's C = 1 / L2
FEATURES = ("codes", "pixels")
# Kingma et al. (2014), Table 1: MNIST's test error (%) by labelled training images, of M2 and
# of M1+M2 (M2 on the codes of a 50-D M1).
KINGMA_2014_ERRORS = {
    100: (11.97, 3.33),
    600: (4.94, 2.59),
    1000: (3.60, 2.40),
    3000: (3.92, 2.18),
}
CLASSIFIERS = ("kNN", "logistic")


def labelled_subset(labels, k: int, seed: int = 0) -> np.ndarray:
    """Indices of k images of each class drawn without replacement, class by class (ascending).

    One permutation of each class is drawn for a seed and its first k taken, so a seed's
    subsets grow with k: the 5 per class hold the 1, the 10 hold the 5.
    """
    labels = np.asarray(labels)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < k:
            raise ValueError(f"class {c} has {len(members)} images, fewer than k = {k}")
        chosen.append(rng.permutation(members)[:k])
    return np.concatenate(chosen)


def pixel_features(images) -> np.ndarray:
    """uint8 images -> float32 (N, 784) in [0, 1]: the raw pixels as features."""
    images = np.asarray(images)
    return (images.reshape(len(images), -1) / 255.0).astype(np.float32)


def knn_classify(
    train_x, train_y, test_x, n_neighbours: int = NEIGHBOURS, batch_size: int = 2048
) -> np.ndarray:
    """Each test row's majority label among its n nearest training rows (Euclidean).

    A tie between classes goes to the class with the nearer neighbour; neighbours at one
    distance are ordered by training index. Distances are computed a batch of test rows at a
    time: (batch, N_train) floats.
    """
    train_x = np.asarray(train_x, dtype=np.float32)
    test_x = np.asarray(test_x, dtype=np.float32)
    train_y = np.asarray(train_y).astype(np.int64)
    n = min(n_neighbours, len(train_x))
    classes = int(train_y.max()) + 1
    train_sq = (train_x * train_x).sum(1)
    out = np.empty(len(test_x), dtype=np.int64)
    for i in range(0, len(test_x), batch_size):
        # The test row's own squared norm is the same for every training row: it cannot
        # change the ranking, so it is left out.
        d = train_sq[None, :] - 2 * test_x[i : i + batch_size] @ train_x.T
        near = np.argpartition(d, n - 1, axis=1)[:, :n]
        dist = np.take_along_axis(d, near, 1)
        order = np.lexsort((near, dist), axis=1)  # by distance, then by training index
        near = np.take_along_axis(near, order, 1)
        votes = train_y[near]  # (batch, n), nearest first
        onehot = votes[:, :, None] == np.arange(classes)
        count = onehot.sum(1)
        first = np.where(onehot.any(1), onehot.argmax(1), n)  # rank of each class's nearest
        out[i : i + batch_size] = np.argmax(count * (n + 1) + (n - first), axis=1)
    return out


@dataclass(frozen=True)
class Softmax:
    """A fitted multinomial logistic regression: logits = ((x - mean) / scale) @ weight + bias."""

    mean: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    weight: np.ndarray  # (D, C)
    bias: np.ndarray  # (C,)

    def logits(self, x) -> np.ndarray:
        # The standardisation folded into the weights: no standardised copy of a large x.
        weight = self.weight / self.scale[:, None]
        bias = self.bias - (self.mean / self.scale) @ self.weight
        return np.asarray(x) @ weight.astype(np.float32) + bias

    def predict(self, x) -> np.ndarray:
        return np.argmax(self.logits(x), axis=1)


def _lbfgs(objective, x: np.ndarray, max_iter: int, tol: float, history: int = 10) -> np.ndarray:
    """Minimise a smooth strictly convex `objective(x) -> (value, gradient)` from x by L-BFGS
    (Nocedal & Wright 2006, algorithm 7.4) with a backtracking (Armijo) line search: on a
    strictly convex function every step keeps s.y > 0, so no Wolfe search is needed."""
    f, g = objective(x)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []  # (s, y, 1 / s.y), oldest first
    for _ in range(max_iter):
        if np.abs(g).max() <= tol:
            break
        q = g.copy()
        alphas = []
        for s, y, rho in reversed(steps):
            alphas.append(rho * (s @ q))
            q -= alphas[-1] * y
        if steps:
            s, y, _ = steps[-1]
            q *= (s @ y) / (y @ y)
        else:  # no curvature known yet: a first step of unit length
            q /= np.linalg.norm(q)
        for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
            q += (alpha - rho * (y @ q)) * s
        slope = -(g @ q)
        step = 1.0
        while True:
            x_new = x - step * q
            f_new, g_new = objective(x_new)
            if f_new <= f + 1e-4 * step * slope:
                break
            step /= 2
            if step < 1e-10:  # no decrease left at float64's precision: x is the minimum
                return x
        s, y = x_new - x, g_new - g
        if s @ y > 0:
            steps = [*steps[-(history - 1) :], (s, y, 1.0 / (s @ y))]
        x, f, g = x_new, f_new, g_new
    return x


def logistic_regression(
    train_x, train_y, l2: float = L2, max_iter: int = 1000, tol: float = 1e-6
) -> Softmax:
    """Multinomial logistic regression on standardised features, fitted by full-batch L-BFGS.

    Minimises the summed cross-entropy + l2 / 2 * ||weight||^2 (the bias unpenalised), the
    objective of scikit-learn's LogisticRegression with C = 1 / l2, until no entry of its
    gradient exceeds `tol` per training row. It is strictly convex and the fit starts from
    zero, in float64 numpy (torch's threads stall when the cores are busy, and this problem is
    small): the same data give the same model.
    """
    x = np.asarray(train_x, dtype=np.float64)
    y = np.asarray(train_y).astype(np.int64)
    mean = x.mean(0)
    scale = x.std(0)
    scale[scale < 1e-8] = 1.0  # a constant feature (a border pixel) stays 0 once centred
    xs = (x - mean) / scale
    d = xs.shape[1]
    classes = int(y.max()) + 1
    onehot = np.eye(classes)[y]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weight, bias = theta[: d * classes].reshape(d, classes), theta[d * classes :]
        logits = xs @ weight + bias
        logits -= logits.max(1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(1, keepdims=True))
        residual = np.exp(logits - log_norm) - onehot  # softmax minus the labels
        value = -(onehot * (logits - log_norm)).sum() + 0.5 * l2 * (weight * weight).sum()
        grad = np.concatenate([(xs.T @ residual + l2 * weight).ravel(), residual.sum(0)])
        return value, grad

    theta = _lbfgs(objective, np.zeros(d * classes + classes), max_iter, tol * len(xs))
    return Softmax(mean, scale, theta[: d * classes].reshape(d, classes), theta[d * classes :])


def predict_from_labelled(train_x, train_y, test_x) -> dict[str, np.ndarray]:
    """The test rows' predicted labels by each classifier: {"kNN": (N,), "logistic": (N,)}."""
    return {
        "kNN": knn_classify(train_x, train_y, test_x),
        "logistic": logistic_regression(train_x, train_y).predict(test_x),
    }


@dataclass(frozen=True)
class Score:
    features: str  # "codes" or "pixels"
    classifier: str  # "kNN" or "logistic"
    k: int  # labelled images per class
    accuracy: float  # on the test set, in [0, 1]


def few_label_accuracy(
    model: VAE | None, train: Split, test: Split, ks=KS, seed: int = 0, features=FEATURES
) -> list[Score]:
    """Test accuracy of each classifier on the codes and on the pixels, for k labels a class.

    The codes are the posterior means of q(z|x); only the labelled training images are
    encoded. Both features use the same labelled images (labelled_subset with `seed`). The
    pixels' scores do not depend on the model: `features=("pixels",)` needs none.
    """
    featurise = {
        "codes": lambda images: encode(model, images)[0],
        "pixels": pixel_features,
    }
    test_x = {f: featurise[f](test.images) for f in features}
    scores = []
    for k in ks:
        rows = labelled_subset(train.labels, k, seed)
        for f in features:
            found = predict_from_labelled(
                featurise[f](train.images[rows]), train.labels[rows], test_x[f]
            )
            for classifier in CLASSIFIERS:
                accuracy = float(np.mean(found[classifier] == test.labels))
                scores.append(Score(f, classifier, k, accuracy))
    return scores
