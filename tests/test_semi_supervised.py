"""The semi-supervised VAE, M2 of Kingma, Rezende, Mohamed & Welling (2014): its config, its
objective against a hand computation, `classify`, a training that never reads the labels it
holds out, its checkpoint and cache key, and the command line."""

import hashlib
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.conftest import write_idx
from training import TrainConfig, TrainingRequest, cache_key, train, train_and_save
from training.cache import data_fingerprint
from training.cli import main
from vae_core import classify, load_checkpoint, load_split
from vae_core.data import IMAGES_MAGIC, LABELS_MAGIC
from vae_core.few_labels import labelled_subset
from vae_core.model import VAE, VAEConfig

M2 = VAEConfig(hidden=(16,), conditional=True, semi_supervised=True, labelled=50)
FAST = TrainConfig(epochs=2, batch_size=100, lr=3e-3, seed=0)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return VAE(
        VAEConfig(hidden=(8,), conditional=True, classes=3, semi_supervised=True, labelled=3)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"semi_supervised": True, "labelled": 100}, "make it conditional too"),
        ({"conditional": True, "semi_supervised": True, "labelled": 0}, "multiple of 10"),
        ({"conditional": True, "semi_supervised": True, "labelled": 105}, "got 105"),
        ({"conditional": True, "semi_supervised": 1, "labelled": 100}, "True or False"),
    ],
)
def test_a_bad_config_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VAEConfig(**kwargs)


def test_the_config_round_trips_and_older_dicts_are_not_semi_supervised():
    assert VAEConfig.from_dict(M2.to_dict()) == M2
    old = VAEConfig(conditional=True).to_dict()
    del old["semi_supervised"], old["labelled"]
    assert VAEConfig.from_dict(old) == VAEConfig(conditional=True)


def test_only_a_semi_supervised_model_has_a_classifier():
    assert not hasattr(VAE(VAEConfig(hidden=(8,), conditional=True)), "classifier")
    with pytest.raises(ValueError, match="no classifier"):
        VAE(VAEConfig(hidden=(8,))).class_logits(torch.zeros(1, 784))


def _hand_terms(model, x, seed):
    """L(x, y) for every class and U(x) as Kingma et al. (2014) write them, eqs. 6 and 7, from
    the layers' outputs and the same draws of noise, class after class."""
    classes = model.config.classes
    eps = torch.randn((classes * len(x), 2), generator=torch.Generator().manual_seed(seed))
    eps = eps.reshape(classes, len(x), 2)
    losses = []
    for y in range(classes):
        one_hot = F.one_hot(torch.full((len(x),), y), classes).float()
        h = model.encoder(torch.cat([x, one_hot], 1))
        mu, logvar = model.to_mu(h), model.to_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps[y]
        p = torch.sigmoid(model.decoder(torch.cat([z, one_hot], 1)))
        log_px = (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(1)
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
        losses.append(-log_px + kl + math.log(classes))  # L(x, y), with -log p(y) = log C
    losses = torch.stack(losses, 1)  # (N, C)
    q = torch.softmax(model.classifier(x), 1)
    entropy = -(q * torch.log(q)).sum(1)
    return losses, (q * losses).sum(1) - entropy  # eq. 7: U = sum_y q L - H(q)


def test_the_unlabelled_bound_is_kingmas_eq_7(model):
    x = torch.rand(4, 784, generator=torch.Generator().manual_seed(1))
    _, hand = _hand_terms(model, x, seed=5)
    terms = model.unlabelled_terms(x, torch.Generator().manual_seed(5))
    torch.testing.assert_close(terms.loss, hand, rtol=1e-5, atol=1e-4)
    # The bound's two parts add up to it: the expected reconstruction and both KLs.
    torch.testing.assert_close(terms.reconstruction + terms.kl, hand, rtol=1e-5, atol=1e-4)


def test_the_objective_is_kingmas_eq_9(model):
    gen = torch.Generator().manual_seed(2)
    x_labelled, x_unlabelled = torch.rand(3, 784, generator=gen), torch.rand(5, 784, generator=gen)
    y = torch.tensor([0, 2, 1])
    terms = model.semi_supervised_terms(
        x_labelled, y, x_unlabelled, alpha=7.0, generator=torch.Generator().manual_seed(3)
    )
    # The labelled batch's draws come first, then the unlabelled one's.
    noise = torch.Generator().manual_seed(3)
    eps = torch.randn((3, 2), generator=noise)
    one_hot = F.one_hot(y, 3).float()
    h = model.encoder(torch.cat([x_labelled, one_hot], 1))
    mu, logvar = model.to_mu(h), model.to_logvar(h)
    p = torch.sigmoid(model.decoder(torch.cat([mu + torch.exp(0.5 * logvar) * eps, one_hot], 1)))
    log_px = (x_labelled * torch.log(p) + (1 - x_labelled) * torch.log(1 - p)).sum(1)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
    labelled = (-log_px + kl).mean() + math.log(3)
    q = torch.softmax(model.classifier(x_labelled), 1)
    cross_entropy = -torch.log(q[torch.arange(3), y]).mean()
    torch.testing.assert_close(terms.labelled, labelled, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(terms.classification, cross_entropy, rtol=1e-5, atol=1e-5)
    expected = labelled + terms.unlabelled.loss.mean() + 7.0 * cross_entropy
    torch.testing.assert_close(terms.loss, expected, rtol=1e-5, atol=1e-4)


def test_classify_gives_probabilities_of_the_kind_it_is_given(model):
    images = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    probs = classify(model, images)
    assert isinstance(probs, np.ndarray) and probs.shape == (5, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    as_torch = classify(model, torch.from_numpy(images).reshape(5, 1, 28, 28))
    assert isinstance(as_torch, torch.Tensor) and as_torch.shape == (5, 3)
    np.testing.assert_allclose(as_torch.numpy(), probs, rtol=1e-6)
    flat = classify(model, images.reshape(5, 784))
    np.testing.assert_allclose(flat, probs, rtol=1e-6)
    # uint8 images are read as MNIST's files hold them.
    np.testing.assert_allclose(
        classify(model, (images * 255).round().astype(np.uint8)),
        classify(model, (images * 255).round() / 255),
        rtol=1e-5,
    )
    assert classify(model, np.zeros((0, 784), np.float32)).shape == (0, 3)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 27, 28), np.float32), "28x28"),
        (np.zeros(784, np.float32), "28x28"),
        (np.full((1, 784), 2.0, np.float32), r"lie in \[0, 1\]"),
        (np.full((1, 784), np.nan, np.float32), r"lie in \[0, 1\]"),
    ],
)
def test_classify_refuses_bad_images(model, images, message):
    with pytest.raises(ValueError, match=message):
        classify(model, images)


def test_classify_refuses_a_model_without_a_classifier():
    with pytest.raises(ValueError, match="no classifier"):
        classify(VAE(VAEConfig(hidden=(8,))), np.zeros((1, 784), np.float32))


def _relabelled(directory, tiny_mnist, rows):
    """tiny_mnist with every training label outside `rows` changed: what M2 must not read."""
    train = load_split(tiny_mnist, "train")
    labels = train.labels.copy()
    others = np.setdiff1d(np.arange(len(labels)), rows)
    labels[others] = (labels[others] + 1 + np.arange(len(others)) % 9) % 10
    assert (labels[others] != train.labels[others]).all()
    directory.mkdir()
    write_idx(directory / "train-images-idx3-ubyte", train.images, IMAGES_MAGIC)
    write_idx(directory / "train-labels-idx1-ubyte", labels, LABELS_MAGIC)
    test = load_split(tiny_mnist, "test")
    write_idx(directory / "t10k-images-idx3-ubyte", test.images, IMAGES_MAGIC)
    write_idx(directory / "t10k-labels-idx1-ubyte", test.labels, LABELS_MAGIC)
    return directory


def test_the_labelled_images_are_a_seeds_share_of_each_class(tiny_mnist):
    labels = load_split(tiny_mnist, "train").labels
    rows = labelled_subset(labels, M2.labelled // 10, FAST.seed)
    assert np.bincount(labels[rows], minlength=10).tolist() == [5] * 10
    assert not np.array_equal(rows, labelled_subset(labels, 5, FAST.seed + 1))


def test_training_never_reads_the_labels_it_holds_out(tiny_mnist, tmp_path, monkeypatch):
    """Which images keep their labels is drawn from all the labels (a seed's share of each
    class); given those images, the training reads no other label: the same labelled rows in a
    dataset whose other labels are all changed train the very same weights."""
    rows = labelled_subset(load_split(tiny_mnist, "train").labels, 5, FAST.seed)
    monkeypatch.setattr("training.loop.labelled_subset", lambda labels, k, seed: rows)
    model, history = train(TrainingRequest(M2, FAST, tiny_mnist))
    other, _ = train(TrainingRequest(M2, FAST, _relabelled(tmp_path / "r", tiny_mnist, rows)))
    for name, weights in model.state_dict().items():
        assert torch.equal(weights, other.state_dict()[name]), name
    assert all(0 <= r.test_accuracy <= 1 for r in history)


def test_a_tiny_training_learns_a_classifier_and_says_so(tiny_mnist, tmp_path):
    model, checkpoint = train_and_save(
        TrainingRequest(M2, TrainConfig(epochs=4, batch_size=100, seed=0), tiny_mnist),
        tmp_path / "m2.pt",
    )
    metrics = checkpoint["metrics"]
    test = load_split(tiny_mnist, "test")
    accuracy = float((classify(model, test.images).argmax(1) == test.labels).mean())
    assert metrics["test_accuracy"] == pytest.approx(accuracy)
    assert accuracy > 0.3  # 5 labels a class, 4 epochs on 1,000 images: far above chance
    assert metrics["history"][-1]["test_accuracy"] == pytest.approx(accuracy)
    loaded, _ = load_checkpoint(tmp_path / "m2.pt")
    assert loaded.config == M2
    np.testing.assert_allclose(classify(loaded, test.images), classify(model, test.images))


def test_the_cache_key_tells_m2_and_keeps_the_conditional_ones(tiny_mnist):
    conditional = VAEConfig(hidden=(16,), conditional=True)
    model = {"latent_dim": 2, "hidden": [16], "beta": 1.0, "conditional": True, "classes": 10}
    payload = {"model": model, "train": FAST.to_dict(), "data": data_fingerprint(tiny_mnist)}
    old_key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]
    assert cache_key(conditional, FAST, tiny_mnist) == old_key
    keys = {
        cache_key(VAEConfig(hidden=(16,), conditional=True, semi_supervised=True, labelled=n), FAST)
        for n in (100, 600)
    }
    assert len(keys) == 2 and cache_key(conditional, FAST) not in keys


def test_cli_trains_m2(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "m2.pt"
    argv = ["--hidden", "16", "--epochs", "1", "--batch-size", "100", "--data-dir", str(tiny_mnist)]
    assert main([*argv, "--labels", "50", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "test accuracy of q(y|x)" in printed
    assert load_checkpoint(out)[0].config == M2


@pytest.mark.parametrize(("labels", "message"), [("-1", "0 or more"), ("15", "multiple of 10")])
def test_cli_refuses_bad_label_counts(tiny_mnist, labels, message, capsys):
    with pytest.raises(SystemExit):
        main(["--labels", labels, "--data-dir", str(tiny_mnist)])
    assert message in capsys.readouterr().err
