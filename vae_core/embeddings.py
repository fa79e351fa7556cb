"""Two-dimensional maps of the images and what each keeps: PCA, a VAE's codes, t-SNE.

Reducing dimensions (to see the data in a plane) is one use of a VAE; PCA did it long before.
A map from 784 pixels to a plane is judged two ways here: whether it keeps the classes apart
(a k-nearest-neighbours classifier on the 2-D points, vae_core.few_labels.knn_classify) and
whether the pixels can be had back from it (reconstruction, in squared error and in nats).
PCA is the linear map with the least squared error of any; a VAE's encoder and decoder are
nonlinear; t-SNE (van der Maaten & Hinton 2008) places points so that neighbours stay
neighbours, but has no map for a new image and none back to pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .few_labels import NEIGHBOURS, knn_classify
from .inference import decode, encode
from .model import VAE

# Reconstructions' pixels are clipped to [EPS, 1 - EPS] before their Bernoulli likelihood is
# taken: PCA's clipped reconstruction puts exact 0s and 1s where the image may have ink or
# none, which would cost infinitely many nats. A pixel reconstructed wholly wrong costs at most
# -log(EPS) = 6.9 nats.
EPS = 1e-3
TSNE_IMAGES = 2000  # test images t-SNE maps: 10 s of one core here; 5,000 took 28 s
TSNE_ITERATIONS = 500  # its gradient steps: as many as 1,000 gave the same kNN accuracy
TSNE_PERPLEXITY = 30.0  # scikit-learn's default, lowered on a set too small for it
TSNE_PCA = 50  # t-SNE's usual first step: its neighbours found among 50 PCA coordinates
FOLDS = 10  # kNN within one set of points: each tenth classified by the other nine


def flat_pixels(images) -> np.ndarray:
    """Images as rows of pixels in [0, 1]: uint8 (N, ...) divided by 255, floats as given;
    (N, ...) -> float32 (N, pixels)."""
    x = np.asarray(images)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"expected a batch of images (N, 28, 28) or (N, 784), got shape {x.shape}")
    rows = x.reshape(len(x), -1)
    if x.dtype == np.uint8:  # straight to float32: no float64 copy of 60,000 images
        return np.multiply(rows, np.float32(1 / 255), dtype=np.float32)
    return rows.astype(np.float32, copy=False)


@dataclass(frozen=True)
class PCA:
    """Principal components of a set of images: code = (x - mean) @ components.T."""

    mean: np.ndarray  # (P,) float64, the images' mean pixel values
    components: np.ndarray  # (k, P) float64 orthonormal rows, by falling variance
    variance: np.ndarray  # (k,) the variance of the images along each component
    shape: tuple[int, ...]  # one image's shape, for the reconstructions

    @classmethod
    def fit(cls, images, n_components: int = 2, batch_size: int = 8192) -> PCA:
        """The first `n_components` principal components of `images` (uint8 or floats in [0, 1]).

        From the eigendecomposition of the pixels' covariance, summed a batch at a time, so
        60,000 images need no (60000, 784) float64 copy. Each component's sign is chosen so
        that its entry of largest magnitude is positive: the same images give the same map.
        """
        images = np.asarray(images)
        x = flat_pixels(images)
        n, p = x.shape
        if not 1 <= n_components <= p:
            raise ValueError(f"n_components must lie in 1..{p} (the pixels), got {n_components}")
        if n < 2:
            raise ValueError(f"PCA needs at least 2 images, got {n}")
        mean = x.mean(0, dtype=np.float64)
        covariance = np.zeros((p, p))
        for i in range(0, n, batch_size):
            centred = x[i : i + batch_size] - mean.astype(np.float32)
            covariance += centred.T @ centred  # float32 products, summed in float64
        values, vectors = np.linalg.eigh(covariance / (n - 1))
        top = np.argsort(values)[::-1][:n_components]
        components = vectors[:, top].T
        flip = np.sign(components[np.arange(n_components), np.abs(components).argmax(1)])
        return cls(mean, components * flip[:, None], values[top], images.shape[1:])

    @property
    def n_components(self) -> int:
        return len(self.components)

    def transform(self, images) -> np.ndarray:
        """Each image's coordinates along the components: (N, ...) -> float32 (N, k)."""
        x = flat_pixels(images)
        if x.shape[1] != len(self.mean):
            raise ValueError(
                f"these images have {x.shape[1]} pixels, the PCA was fitted on images of "
                f"{len(self.mean)}"
            )
        # In float32, the mean taken out after the product: no centred copy of the images.
        components = self.components.T.astype(np.float32)
        return x @ components - (self.mean @ self.components.T).astype(np.float32)

    def inverse_transform(self, codes) -> np.ndarray:
        """The pixels a point of the map stands for, unclipped: (N, k) -> float32 (N, P)."""
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != self.n_components:
            raise ValueError(
                f"expected points of shape (N, {self.n_components}), got shape {codes.shape}"
            )
        return (self.mean + codes @ self.components).astype(np.float32)

    def decode(self, codes) -> np.ndarray:
        """The pictures of points of the map, clipped to [0, 1]: (N, k) -> (N, *shape)."""
        return np.clip(self.inverse_transform(codes), 0.0, 1.0).reshape(-1, *self.shape)


def vae_reconstructions(model: VAE, images, labels=None) -> np.ndarray:
    """Each image decoded at its posterior mean (a conditional model's given `labels`):
    (N, 28, 28) -> (N, 28, 28) pixel probabilities."""
    return decode(model, encode(model, images, labels)[0], labels)


@dataclass(frozen=True)
class ReconstructionError:
    mse: float  # squared error per pixel, mean over every pixel of every image
    nats: float  # -log p(x | reconstruction) per image (Bernoulli, summed over pixels), mean
    eps: float  # the reconstructions' pixels clipped to [eps, 1 - eps] for `nats`


def reconstruction_error(images, reconstructions, eps: float = EPS) -> ReconstructionError:
    """How far reconstructions (floats in [0, 1]) lie from images (uint8 or floats in [0, 1]):
    mean squared error per pixel, and the images' Bernoulli negative log-likelihood in nats
    under the reconstructions (the continuous-target cross-entropy of the VAE's own ELBO),
    its pixels clipped to [eps, 1 - eps]."""
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must lie in (0, 0.5), got {eps}")
    x, r = flat_pixels(images), flat_pixels(reconstructions)
    if x.shape != r.shape:
        raise ValueError(
            f"{len(x)} images of {x.shape[1]} pixels against {len(r)} reconstructions of "
            f"{r.shape[1]}: give one reconstruction of each image"
        )
    p = np.clip(r.astype(np.float64), eps, 1 - eps)
    nats = -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(1)
    return ReconstructionError(
        float(np.mean((x - r) ** 2, dtype=np.float64)), float(nats.mean()), eps
    )


def knn_accuracy(train_points, train_labels, test_points, test_labels, n_neighbours=NEIGHBOURS):
    """The share of test points a kNN classifier of the training points labels rightly."""
    test_labels = np.asarray(test_labels)
    if len(train_points) != len(train_labels) or len(test_points) != len(test_labels):
        raise ValueError("give one label for each point")
    found = knn_classify(train_points, train_labels, test_points, n_neighbours, batch_size=512)
    return float(np.mean(found == test_labels))


def cross_validated_knn(points, labels, folds: int = FOLDS, seed: int = 0, n_neighbours=NEIGHBOURS):
    """kNN accuracy within one set of points, for a map that cannot place new ones (t-SNE): the
    points are dealt at random into `folds` parts and each part is classified by the others."""
    points, labels = np.asarray(points), np.asarray(labels)
    if len(points) != len(labels):
        raise ValueError(f"{len(points)} points but {len(labels)} labels")
    if not 2 <= folds <= len(points):
        raise ValueError(f"folds must lie in 2..{len(points)} (the points), got {folds}")
    part = np.empty(len(points), dtype=np.int64)
    part[np.random.default_rng(seed).permutation(len(points))] = np.arange(len(points)) % folds
    right = 0
    for f in range(folds):
        held = part == f
        found = knn_classify(points[~held], labels[~held], points[held], n_neighbours)
        right += int(np.sum(found == labels[held]))
    return right / len(points)


def tsne_rows(count: int, size: int = TSNE_IMAGES, seed: int = 0) -> np.ndarray:
    """Which of `count` images t-SNE maps: `size` of them (all if fewer) drawn at random, in
    ascending order."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(count)[: min(size, count)])


def tsne(
    images,
    seed: int = 0,
    perplexity: float = TSNE_PERPLEXITY,
    max_iter: int = TSNE_ITERATIONS,
    pca_dims: int = TSNE_PCA,
) -> np.ndarray:
    """scikit-learn's Barnes-Hut t-SNE of the images, after PCA to `pca_dims` coordinates:
    (N, ...) -> float32 (N, 2). The perplexity is lowered to (N - 1) / 3 on a smaller set."""
    from sklearn.manifold import TSNE  # imported here: 1 s that only a t-SNE needs
    from threadpoolctl import threadpool_limits

    x = flat_pixels(images)
    if len(x) < 4:
        raise ValueError(f"t-SNE needs at least 4 images, got {len(x)}")
    reduced = PCA.fit(x, min(pca_dims, x.shape[1])).transform(x)
    # One thread: OpenMP's threads spin while they wait, and on cores shared with other work
    # (a server's other sessions, a training) two of them took three times the CPU of one.
    with threadpool_limits(1):
        found = TSNE(
            2,
            perplexity=min(perplexity, (len(x) - 1) / 3),
            max_iter=max_iter,
            init="pca",
            random_state=seed,
        ).fit_transform(reduced)
    return found.astype(np.float32)
