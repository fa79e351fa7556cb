"""vae_core.few_labels: the labelled subset, kNN, logistic regression, the accuracy table."""

import numpy as np
import pytest
import torch

from vae_core import load_model, load_split
from vae_core.few_labels import (
    Score,
    few_label_accuracy,
    knn_classify,
    labelled_subset,
    logistic_regression,
    pixel_features,
)


def blobs(n_per_class: int, centres, spread: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.asarray(centres, dtype=np.float64)
    x = np.concatenate([c + spread * rng.standard_normal((n_per_class, len(c))) for c in centres])
    return x, np.repeat(np.arange(len(centres)), n_per_class)


def test_the_labelled_subset_has_k_of_each_class_and_repeats_for_a_seed():
    labels = np.random.default_rng(0).integers(0, 10, 5_000)
    rows = labelled_subset(labels, 5, seed=3)
    assert len(rows) == len(set(rows.tolist())) == 50
    assert np.array_equal(labels[rows], np.repeat(np.arange(10), 5))
    assert np.array_equal(labelled_subset(labels, 5, seed=3), rows)
    assert not np.array_equal(labelled_subset(labels, 5, seed=4), rows)
    # A seed's subsets grow with k: the 10 per class hold the 5.
    assert set(rows.tolist()) <= set(labelled_subset(labels, 10, seed=3).tolist())
    with pytest.raises(ValueError, match="at least 1"):
        labelled_subset(labels, 0)
    with pytest.raises(ValueError, match="fewer than k"):
        labelled_subset(labels, 1_000)


def test_one_nearest_neighbour_gives_back_the_training_labels():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((300, 6)), rng.integers(0, 10, 300)
    assert np.array_equal(knn_classify(x, y, x, n_neighbours=1), y)


def test_knn_is_a_majority_vote_and_a_tie_goes_to_the_nearer_class():
    train = np.array([[0.0], [1.0], [1.1], [5.0], [5.2]])
    labels = np.array([0, 1, 1, 2, 2])
    # 0.4: the neighbours 0 (0.4 away), 1, 1 -> a vote of two to one for class 1.
    assert knn_classify(train, labels, [[0.4]], n_neighbours=3).tolist() == [1]
    # 0.3 with two neighbours: one vote each, and class 0's is the nearer.
    assert knn_classify(train, labels, [[0.3]], n_neighbours=2).tolist() == [0]
    # More neighbours than training rows: all five vote, two for 1 and two for 2, and the
    # nearest of those is a 2.
    assert knn_classify(train, labels, [[4.0]], n_neighbours=50).tolist() == [2]


def test_knn_matches_a_row_by_row_reference_whatever_the_batch():
    rng = np.random.default_rng(2)
    train, labels = rng.standard_normal((80, 3)), rng.integers(0, 4, 80)
    test = rng.standard_normal((200, 3))

    def reference(row):
        near = np.argsort(((train - row) ** 2).sum(1), kind="stable")[:5]
        votes = np.bincount(labels[near], minlength=4)
        tied = np.flatnonzero(votes == votes.max())
        return next(labels[i] for i in near if labels[i] in tied)

    expected = [reference(row) for row in test]
    for batch_size in (7, 2048):
        assert knn_classify(train, labels, test, 5, batch_size=batch_size).tolist() == expected


def test_logistic_regression_separates_separable_classes():
    x, y = blobs(40, [[0, 0], [6, 0], [0, 6]], spread=0.8)
    fit = logistic_regression(x, y)
    assert np.array_equal(fit.predict(x), y)
    assert fit.weight.shape == (2, 3) and fit.bias.shape == (3,)
    test, truth = blobs(100, [[0, 0], [6, 0], [0, 6]], spread=0.8, seed=1)
    assert np.mean(fit.predict(test) == truth) > 0.99


def test_logistic_regression_finds_the_minimum_a_reference_solver_finds():
    x, y = blobs(30, [[0, 0, 0], [1, 1, 0], [0, 1, 1]], spread=1.0, seed=3)
    x[:, 2] *= 50  # standardisation makes a feature's unit irrelevant
    l2 = 0.5
    fit = logistic_regression(x, y, l2=l2)
    # The same objective minimised by torch's L-BFGS with a strong Wolfe line search.
    xs = torch.tensor((x - x.mean(0)) / x.std(0))
    target = torch.tensor(y)
    weight = torch.zeros(3, 3, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [weight, bias], max_iter=200, tolerance_grad=1e-9, line_search_fn="strong_wolfe"
    )

    def objective():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xs @ weight + bias, target, reduction="sum")
        loss = loss + 0.5 * l2 * (weight * weight).sum()
        loss.backward()
        return loss

    opt.step(objective)
    assert fit.weight == pytest.approx(weight.detach().numpy(), abs=1e-4)
    # The bias is defined up to a constant shared by the classes.
    bias = fit.bias - bias.detach().numpy()
    assert bias == pytest.approx(np.full(3, bias.mean()), abs=1e-4)
    assert logistic_regression(x, y, l2=l2).weight.tolist() == fit.weight.tolist()
    # A stronger penalty, smaller weights.
    assert np.abs(logistic_regression(x, y, l2=50).weight).sum() < np.abs(fit.weight).sum()


def test_pixel_features_are_flat_and_in_the_unit_interval():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    features = pixel_features(images)
    assert features.dtype == np.float32
    assert features == pytest.approx(np.array([[0.0, 1.0, 0.2, 0.4]]))


def test_few_labels_on_the_shipped_model_codes_beat_pixels_when_labels_are_scarce():
    table = few_label_accuracy(
        load_model(), load_split(None, "train"), load_split(None, "test"), ks=(1, 100), seed=0
    )
    assert len(table) == 8 and all(isinstance(s, Score) for s in table)
    acc = {(s.features, s.classifier, s.k): s.accuracy for s in table}
    # One labelled image per class: chance is 10 %; the codes do far better than the pixels.
    assert 0.45 < acc["codes", "kNN", 1] < 0.75
    assert acc["codes", "kNN", 1] > acc["pixels", "kNN", 1] + 0.05
    assert acc["codes", "logistic", 1] > acc["pixels", "logistic", 1] + 0.05
    # A hundred a class: both improve; a 2-D code keeps too little to beat pixels' kNN.
    assert 0.74 < acc["codes", "kNN", 100] < 0.92
    assert 0.84 < acc["pixels", "kNN", 100] < 0.93
    for features in ("codes", "pixels"):
        for classifier in ("kNN", "logistic"):
            assert acc[features, classifier, 100] > acc[features, classifier, 1]
    # The pixels' scores need no model, and are the same without one.
    alone = few_label_accuracy(
        None, load_split(None, "train"), load_split(None, "test"), ks=(1,), features=("pixels",)
    )
    assert [(s.classifier, s.accuracy) for s in alone] == [
        (c, acc["pixels", c, 1]) for c in ("kNN", "logistic")
    ]
