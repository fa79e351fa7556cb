"""The conditional VAE (Sohn, Lee & Yan 2015): config, model, the labels the API takes, training,
checkpoints and cache keys; and that plain models stay as they were."""

import hashlib
import json
import math

import numpy as np
import pytest
import torch

from training import (
    TrainConfig,
    TrainingCallbacks,
    TrainingRequest,
    cache_key,
    train,
    train_and_save,
)
from training.cache import (
    DEFAULT_MODEL_CONFIG,
    DEFAULT_TRAIN_CONFIG,
    cached_path,
    data_fingerprint,
)
from training.cli import main
from vae_core import (
    decode,
    elbo_terms,
    encode,
    exact_log_px,
    exact_posterior,
    iwae_log_px,
    load_checkpoint,
    load_model,
    load_split,
    manifold,
    replay_of,
    save_checkpoint,
)
from vae_core.checkpoint import _digest, read_checkpoint
from vae_core.data import DataError
from vae_core.inference import decoder_layers, encoder_layers
from vae_core.model import VAE, VAEConfig
from vae_core.posterior import decode_plane

CONDITIONAL = VAEConfig(hidden=(32,), conditional=True)
FAST = TrainConfig(epochs=2, batch_size=100, lr=3e-3, seed=0)
NOT_CONDITIONAL = "not conditional: it takes no class labels"
NEEDS_LABELS = "conditional: it needs the class"


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return VAE(CONDITIONAL).eval()


@pytest.fixture(scope="module")
def plain():
    torch.manual_seed(0)
    return VAE(VAEConfig(hidden=(32,))).eval()


@pytest.fixture(scope="module")
def digits():
    test = load_split(None, "test")
    return test.images[:12], test.labels[:12]


def test_config_round_trips_and_old_dicts_are_plain():
    c = VAEConfig(latent_dim=3, hidden=(64,), conditional=True, classes=5)
    assert VAEConfig.from_dict(c.to_dict()) == c
    assert c.to_dict()["conditional"] is True and c.to_dict()["classes"] == 5
    old = {"latent_dim": 2, "hidden": [512, 512], "beta": 1.0}  # written before this option
    assert VAEConfig.from_dict(old) == VAEConfig(hidden=(512, 512))
    assert not VAEConfig.from_dict(old).conditional


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"conditional": True, "classes": 1}, "at least 2 classes"),
        ({"conditional": "yes"}, "True or False"),
    ],
)
def test_bad_conditional_config_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VAEConfig(**kwargs)


def test_only_the_first_layers_widen(model, plain):
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    plain_shapes = {k: tuple(v.shape) for k, v in plain.state_dict().items()}
    assert shapes.keys() == plain_shapes.keys()
    assert shapes["encoder.0.weight"] == (32, 784 + 10)
    assert shapes["decoder.0.weight"] == (32, 2 + 10)
    widened = {"encoder.0.weight", "decoder.0.weight"}
    assert all(shapes[k] == plain_shapes[k] for k in shapes.keys() - widened)


def test_a_plain_model_keeps_the_names_and_shapes_of_the_shipped_checkpoint():
    # The model that shipped before conditional models existed, now in the lesson pack.
    path = cached_path(DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG)
    checkpoint = read_checkpoint(path)
    assert not checkpoint["config"].get("conditional", False)
    shipped = {k: tuple(v.shape) for k, v in checkpoint["state_dict"].items()}
    assert {k: tuple(v.shape) for k, v in VAE(VAEConfig()).state_dict().items()} == shipped
    model = load_model(path)
    assert model.config == VAEConfig() and not model.config.conditional
    assert path.name == f"{cache_key(DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG)}.pt"
    assert not load_model().config.conditional  # the default


def test_model_methods_take_the_class_and_use_it(model):
    x, y = torch.rand(5, 1, 28, 28), torch.tensor([0, 1, 2, 3, 9])
    mu, logvar = model.encode(x, y)
    assert mu.shape == logvar.shape == (5, 2)
    z = torch.zeros(5, 2)
    assert model.decode_logits(z, y).shape == model.pixel_probs(z, y).shape == (5, 1, 28, 28)
    # Same z, other classes: other digits.
    probs = model.pixel_probs(z, y)
    assert not torch.allclose(probs[0], probs[1])
    terms = model.loss_terms(x, torch.Generator().manual_seed(0), y)
    assert terms.loss.shape == (5,) and torch.isfinite(terms.loss).all()
    torch.testing.assert_close(model(x, y).kl, terms.kl)


def test_model_methods_refuse_a_label_mismatch(model, plain):
    x, z, y = torch.rand(2, 784), torch.zeros(2, 2), torch.tensor([1, 2])
    for call in (lambda: model.encode(x), lambda: model.pixel_probs(z), lambda: model(x)):
        with pytest.raises(ValueError, match=NEEDS_LABELS):
            call()
    for call in (lambda: plain.encode(x, y), lambda: plain.pixel_probs(z, y)):
        with pytest.raises(ValueError, match=NOT_CONDITIONAL):
            call()


def test_decode_and_encode_refuse_missing_labels_and_labels_for_a_plain_model(model, plain, digits):
    images, labels = digits
    z = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match=NEEDS_LABELS + r".*0\.\.9"):
        decode(model, z)
    with pytest.raises(ValueError, match=NEEDS_LABELS):
        encode(model, images)
    with pytest.raises(ValueError, match=r"VAEConfig\(conditional=True\)"):
        decode(plain, z, 3)
    with pytest.raises(ValueError, match=NOT_CONDITIONAL):
        encode(plain, images, labels)
    for f in (elbo_terms, iwae_log_px, exact_log_px):
        with pytest.raises(ValueError, match=NEEDS_LABELS):
            f(model, images)
        with pytest.raises(ValueError, match=NOT_CONDITIONAL):
            f(plain, images, labels)


@pytest.mark.parametrize(
    "labels, message",
    [
        ([1, 2], r"one per point \(3 of them\)"),
        ([[1, 2, 3]], r"one per point"),
        ([0, 5, 10], r"0\.\.9, got 0\.\.10"),
        (-1, r"0\.\.9"),
        ([1.0, 2.0, 3.0], "integer class indices"),
        ([True, False, True], "integer class indices"),
    ],
)
def test_labels_are_validated(model, labels, message):
    with pytest.raises(ValueError, match=message):
        decode(model, np.zeros((3, 2), np.float32), labels)


def test_one_label_stands_for_every_point(model):
    z = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    np.testing.assert_array_equal(decode(model, z, 7), decode(model, z, [7] * 4))
    np.testing.assert_array_equal(
        decode(model, z, np.int64(7)), decode(model, z, torch.full((4,), 7))
    )
    picture = manifold(model, np.array([-1.0, 1.0], np.float32), label=4)
    np.testing.assert_allclose(picture[:28, :28], decode(model, [[-1.0, 1.0]], 4)[0], atol=1e-6)
    with pytest.raises(ValueError, match=NEEDS_LABELS):
        manifold(model, np.array([0.0], np.float32))


def test_the_likelihoods_condition_on_each_images_class(model, digits):
    images, labels = digits
    x = torch.as_tensor(images).float().reshape(-1, 784) / 255
    y = torch.as_tensor(labels).long()
    with torch.no_grad():
        one = model.loss_terms(x, torch.Generator().manual_seed(3), y)
    terms = elbo_terms(model, images, labels, samples=1, seed=3)
    np.testing.assert_allclose(terms["neg_elbo"], one.loss.numpy(), rtol=1e-5)
    # Grouping the images by class decodes the grid once a class; one at a time agrees.
    exact = exact_log_px(model, images, labels, n=60)
    alone = [exact_log_px(model, images[i : i + 1], labels[i : i + 1], n=60)[0] for i in (0, 5)]
    np.testing.assert_allclose(exact[[0, 5]], alone, rtol=1e-6)
    assert not np.allclose(exact, exact_log_px(model, images, (labels + 1) % 10, n=60))
    iwae = iwae_log_px(model, images, labels, k=50)
    assert iwae.shape == (12,) and np.all(iwae <= exact + 1.0)


def test_the_exact_posterior_of_a_conditional_model(model, digits):
    images, labels = digits
    label = int(labels[0])
    post = exact_posterior(model, images[0], label, n=64)
    assert np.exp(post.log_density).sum() * post.cell_area == pytest.approx(1.0, abs=1e-6)
    whole_plane = exact_log_px(model, images[:1], label, n=300)[0]  # an untrained, broad p(z|x)
    assert post.log_px == pytest.approx(whole_plane, abs=0.05)
    with pytest.raises(ValueError, match="decoded for class"):
        exact_posterior(model, images[0], label, plane=decode_plane(model, (label + 1) % 10))
    with pytest.raises(ValueError, match=NEEDS_LABELS):
        exact_posterior(model, images[0])


def test_the_layers_read_the_one_hot_after_the_inputs(model, digits):
    """What a client running the MLPs itself needs: [z, one-hot] and [pixels, one-hot]."""
    z, label = np.array([[0.3, -1.2]], np.float32), 6
    one_hot = np.eye(10, dtype=np.float32)[[label]]
    h = np.concatenate([z, one_hot], axis=1)
    layers = decoder_layers(model)
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        h = np.maximum(h, 0) if i < len(layers) - 1 else h
    np.testing.assert_allclose(
        1 / (1 + np.exp(-h[0])), decode(model, z, label)[0].ravel(), atol=1e-5
    )
    images, labels = digits
    h = np.concatenate([images[:1].reshape(1, 784) / 255.0, np.eye(10)[labels[:1]]], axis=1)
    layers = encoder_layers(model)
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        h = np.maximum(h, 0) if i < len(layers) - 1 else h
    np.testing.assert_allclose(h[0, :2], encode(model, images[:1], labels[:1])[0][0], atol=1e-5)


def test_a_tiny_conditional_training_saves_a_checkpoint_that_says_so(tiny_mnist, tmp_path):
    frames = []
    model, checkpoint = train_and_save(
        TrainingRequest(CONDITIONAL, FAST, tiny_mnist),
        tmp_path / "c.pt",
        TrainingCallbacks(on_replay=frames.append),
    )
    assert checkpoint["config"]["conditional"] is True and model.config == CONDITIONAL
    history = checkpoint["metrics"]["history"]
    assert history[-1]["test_neg_elbo"] < history[0]["test_neg_elbo"]
    assert math.isfinite(checkpoint["metrics"]["test_neg_elbo"])
    loaded, again = load_checkpoint(tmp_path / "c.pt")
    assert loaded.config.conditional and again["digest"] == checkpoint["digest"]
    # The replay's codes are the test digits encoded with their classes.
    test = load_split(tiny_mnist, "test")
    mu, _ = encode(loaded, test.images, test.labels)
    np.testing.assert_allclose(replay_of(again).codes[-1], mu, rtol=1e-3, atol=1e-4)
    assert [f.epoch for f in frames] == [1, 2]
    # Deterministic for a seed, as a plain training.
    retrained, _ = train(TrainingRequest(CONDITIONAL, FAST, tiny_mnist))
    assert all(torch.equal(retrained.state_dict()[k], v) for k, v in loaded.state_dict().items())


def test_labels_beyond_the_models_classes_are_a_data_error(tiny_mnist):
    with pytest.raises(DataError, match="beyond the model's 5 classes"):
        train(
            TrainingRequest(VAEConfig(hidden=(8,), conditional=True, classes=5), FAST, tiny_mnist)
        )


def test_a_checkpoint_from_before_conditional_models_loads_as_plain(plain, tmp_path):
    path = tmp_path / "old.pt"
    save_checkpoint(plain, path)
    checkpoint = torch.load(path, weights_only=True)
    for key in ("conditional", "classes"):
        del checkpoint["config"][key]
    checkpoint["digest"] = _digest(checkpoint)
    torch.save(checkpoint, path)
    loaded, _ = load_checkpoint(path)
    assert loaded.config == plain.config
    z = torch.randn(3, 2)
    torch.testing.assert_close(loaded.pixel_probs(z), plain.pixel_probs(z), rtol=0, atol=0)


def test_the_cache_key_tells_a_conditional_model_and_keeps_the_plain_ones(tiny_mnist):
    plain_config = VAEConfig(hidden=(32,))
    payload = {  # as keys were hashed before conditional models existed
        "model": {"latent_dim": 2, "hidden": [32], "beta": 1.0},
        "train": FAST.to_dict(),
        "data": data_fingerprint(tiny_mnist),
    }
    old_key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]
    assert cache_key(plain_config, FAST, tiny_mnist) == old_key
    assert cache_key(CONDITIONAL, FAST, tiny_mnist) != old_key
    assert cache_key(CONDITIONAL, FAST, tiny_mnist) != cache_key(
        VAEConfig(hidden=(32,), conditional=True, classes=12), FAST, tiny_mnist
    )


def test_cli_trains_a_conditional_model(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "c.pt"
    argv = ["--hidden", "16", "--epochs", "1", "--batch-size", "100", "--data-dir", str(tiny_mnist)]
    assert main([*argv, "--conditional", "--output", str(out)]) == 0
    assert "test -ELBO" in capsys.readouterr().out
    model, checkpoint = load_checkpoint(out)
    assert model.config == VAEConfig(hidden=(16,), conditional=True)
    assert checkpoint["config"]["conditional"] is True
