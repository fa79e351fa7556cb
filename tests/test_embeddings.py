"""vae_core.embeddings: PCA against numpy's SVD, the reconstruction figures against hand
computations, kNN of a map, the t-SNE wrapper, and the errors on bad input."""

import math

import numpy as np
import pytest

from vae_core import decode, encode, load_model, load_split
from vae_core.embeddings import (
    EPS,
    PCA,
    cross_validated_knn,
    flat_pixels,
    knn_accuracy,
    reconstruction_error,
    tsne,
    tsne_rows,
    vae_reconstructions,
)
from vae_core.few_labels import knn_classify


@pytest.fixture(scope="module")
def digits():
    test = load_split(None, "test")
    return test.images[:300], test.labels[:300]


def svd_pca(x: np.ndarray, k: int):
    """Components and projections straight from numpy's SVD of the centred data."""
    centred = x - x.mean(0)
    _, s, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    return vt[:k], centred @ vt[:k].T, s[:k] ** 2 / (len(x) - 1)


def test_pca_matches_numpys_svd_up_to_each_components_sign(digits):
    images, _ = digits
    x = flat_pixels(images)
    pca = PCA.fit(images, n_components=5)
    components, projections, variance = svd_pca(x, 5)
    signs = np.sign((pca.components * components).sum(1))
    assert np.all(np.abs(signs) == 1)
    np.testing.assert_allclose(pca.components, components * signs[:, None], atol=1e-6)
    np.testing.assert_allclose(pca.transform(images), projections * signs, atol=1e-4)
    np.testing.assert_allclose(pca.variance, variance, rtol=1e-6)
    # Sign-free: the same subspace, and the same distances between the projected points.
    np.testing.assert_allclose(
        pca.components.T @ pca.components, components.T @ components, atol=1e-6
    )
    mine, theirs = pca.transform(images), projections
    np.testing.assert_allclose(
        np.linalg.norm(mine[:, None] - mine[None], axis=-1),
        np.linalg.norm(theirs[:, None] - theirs[None], axis=-1),
        atol=1e-3,
    )


def test_pca_components_are_orthonormal_and_their_signs_fixed(digits):
    pca = PCA.fit(digits[0], n_components=3)
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(3), atol=1e-9)
    assert np.all(np.diff(pca.variance) <= 0)
    rows = np.arange(3)
    assert np.all(pca.components[rows, np.abs(pca.components).argmax(1)] > 0)
    assert pca.n_components == 3 and pca.shape == (28, 28)


def test_all_784_components_give_the_images_back(digits):
    images = digits[0][:100]
    pca = PCA.fit(images, n_components=784)
    back = pca.inverse_transform(pca.transform(images))
    np.testing.assert_allclose(back, flat_pixels(images), atol=1e-4)
    np.testing.assert_allclose(pca.decode(pca.transform(images)), images / 255.0, atol=1e-4)


def test_two_components_decode_to_the_mean_plus_two_patterns(digits):
    pca = PCA.fit(digits[0])
    point = np.array([[1.5, -2.0]])
    expected = pca.mean + 1.5 * pca.components[0] - 2.0 * pca.components[1]
    np.testing.assert_allclose(pca.inverse_transform(point)[0], expected, atol=1e-6)
    picture = pca.decode(point)
    assert picture.shape == (1, 28, 28)
    np.testing.assert_allclose(picture[0].ravel(), np.clip(expected, 0, 1), atol=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: PCA.fit(x, n_components=0), "n_components must lie in 1..784"),
        (lambda x: PCA.fit(x, n_components=785), "n_components must lie in 1..784"),
        (lambda x: PCA.fit(x[:1]), "at least 2 images"),
        (lambda x: PCA.fit(np.zeros((0, 28, 28))), "a batch of images"),
        (lambda x: PCA.fit(np.zeros(784)), "a batch of images"),
        (lambda x: PCA.fit(x).transform(np.zeros((3, 27, 27))), "729 pixels"),
        (lambda x: PCA.fit(x).inverse_transform(np.zeros((3, 3))), r"shape \(N, 2\)"),
        (lambda x: PCA.fit(x).inverse_transform(np.zeros(2)), r"shape \(N, 2\)"),
    ],
)
def test_pca_says_what_was_wrong(digits, call, message):
    with pytest.raises(ValueError, match=message):
        call(digits[0][:20])


def test_reconstruction_error_matches_a_hand_computation():
    images = np.array([[[0, 255], [255, 51]]], dtype=np.uint8)  # pixels 0, 1, 1, 0.2
    reconstruction = np.array([[[0.0, 0.5], [1.0, 0.25]]])
    found = reconstruction_error(images, reconstruction, eps=0.01)
    assert found.mse == pytest.approx((0 + 0.25 + 0 + 0.05**2) / 4)
    # Pixel by pixel: 0 under 0.01 (clipped), 1 under 0.5, 1 under 0.99 (clipped), 0.2 under 0.25.
    nats = (
        -math.log(0.99)
        - math.log(0.5)
        - math.log(0.99)
        - (0.2 * math.log(0.25) + 0.8 * math.log(0.75))
    )
    assert found.nats == pytest.approx(nats, rel=1e-6) and found.eps == 0.01


def test_reconstruction_error_is_a_mean_over_images_and_the_vaes_own_at_its_mean(digits):
    images = digits[0][:50]
    model = load_model()
    reconstructions = vae_reconstructions(model, images)
    np.testing.assert_allclose(reconstructions, decode(model, encode(model, images)[0]))
    whole = reconstruction_error(images, reconstructions)
    halves = [
        reconstruction_error(images[s], reconstructions[s]) for s in (slice(25), slice(25, None))
    ]
    assert whole.nats == pytest.approx(np.mean([h.nats for h in halves]))
    assert whole.mse == pytest.approx(np.mean([h.mse for h in halves]))
    assert whole.eps == EPS and 20 < whole.nats < 400 and 0 < whole.mse < 0.2


@pytest.mark.parametrize(
    "reconstructions, eps, message",
    [
        (np.zeros((4, 28, 28)), EPS, "give one reconstruction of each image"),
        (np.zeros((5, 784 - 1)), EPS, "give one reconstruction of each image"),
        (np.zeros((5, 28, 28)), 0.0, "eps must lie in"),
        (np.zeros((5, 28, 28)), 0.5, "eps must lie in"),
    ],
)
def test_reconstruction_error_says_what_was_wrong(digits, reconstructions, eps, message):
    with pytest.raises(ValueError, match=message):
        reconstruction_error(digits[0][:5], reconstructions, eps)


def test_knn_accuracy_is_knn_classifys_share_right():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(200, 2)), rng.normal(size=(50, 2))
    train_y, test_y = (train[:, 0] > 0).astype(int), (test[:, 0] > 0).astype(int)
    found = knn_classify(train, train_y, test)
    assert knn_accuracy(train, train_y, test, test_y) == pytest.approx(np.mean(found == test_y))
    with pytest.raises(ValueError, match="one label for each point"):
        knn_accuracy(train, train_y[:-1], test, test_y)


def test_cross_validated_knn_tests_every_point_once_on_the_others():
    # Two far clusters, each point's neighbours its own cluster's: all right. Labels that are
    # each point's own index cannot be learnt from the others: all wrong.
    points = np.concatenate([np.zeros((20, 2)), np.full((20, 2), 100.0)])
    points += np.random.default_rng(1).normal(scale=0.1, size=points.shape)
    clusters = np.repeat([0, 1], 20)
    assert cross_validated_knn(points, clusters) == 1.0
    assert cross_validated_knn(points, np.arange(40), folds=40) == 0.0
    with pytest.raises(ValueError, match="folds must lie in 2..40"):
        cross_validated_knn(points, clusters, folds=41)
    with pytest.raises(ValueError, match="40 points but 39 labels"):
        cross_validated_knn(points, clusters[:-1])


def test_tsne_rows_are_a_sorted_random_subset():
    rows = tsne_rows(10_000, 2000, seed=3)
    assert len(rows) == 2000 and len(set(rows.tolist())) == 2000
    assert np.all(np.diff(rows) > 0) and rows[-1] < 10_000
    np.testing.assert_array_equal(rows, tsne_rows(10_000, 2000, seed=3))
    np.testing.assert_array_equal(tsne_rows(50, 2000), np.arange(50))


def test_tsne_maps_a_few_images_to_a_plane_that_keeps_their_classes(digits):
    images, labels = digits
    ones_and_zeros = np.flatnonzero(labels < 2)[:40]
    points = tsne(images[ones_and_zeros])
    assert points.shape == (40, 2) and points.dtype == np.float32
    assert cross_validated_knn(points, labels[ones_and_zeros], folds=5) >= 0.95
    np.testing.assert_array_equal(points, tsne(images[ones_and_zeros]))
    with pytest.raises(ValueError, match="at least 4 images"):
        tsne(images[:3])
