"""Training snapshots: the weights an epoch leaves, sent as float16 and rebuilt into a model."""

import json

import numpy as np
import pytest
import torch

from training import TrainConfig, TrainingCallbacks, TrainingRequest, train
from vae_core.inference import decode
from vae_core.model import VAE, VAEConfig
from vae_core.snapshot import Snapshot

SMALL = VAEConfig(hidden=(32,))


def test_a_snapshot_survives_its_json_message_and_rebuilds_the_model():
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=(64, 64))).eval()
    message = json.loads(json.dumps(Snapshot.of(model, 3, 10).to_message()))
    snapshot = Snapshot.from_message(message)
    assert (snapshot.epoch, snapshot.epochs) == (3, 10)
    rebuilt = snapshot.model(model.config)
    assert not rebuilt.training
    for name, tensor in model.state_dict().items():
        # float16 keeps 11 significant bits: a relative error of at most 2^-11.
        torch.testing.assert_close(rebuilt.state_dict()[name], tensor, rtol=2**-11, atol=1e-7)
    z = np.array([[0.0, 0.0], [1.0, -2.0]], np.float32)
    np.testing.assert_allclose(decode(rebuilt, z), decode(model, z), atol=2e-3)
    assert snapshot.nbytes == 2 * sum(t.numel() for t in model.state_dict().values())


def test_weights_of_another_model_are_refused_with_what_is_wrong():
    snapshot = Snapshot.of(VAE(VAEConfig(hidden=(16,))), 1, 2)
    with pytest.raises(ValueError, match="do not fit this model"):
        snapshot.model(VAEConfig(hidden=(32,)))
    message = snapshot.to_message()
    message["weights"]["to_mu.bias"]["shape"] = [5]
    with pytest.raises(ValueError):
        Snapshot.from_message(message)


def test_training_sends_a_snapshot_an_epoch_and_trains_the_same_weights(tiny_mnist):
    config = TrainConfig(epochs=3, batch_size=100, lr=3e-3)
    snapshots = []
    model, _ = train(
        TrainingRequest(SMALL, config, tiny_mnist), TrainingCallbacks(on_snapshot=snapshots.append)
    )
    plain, _ = train(TrainingRequest(SMALL, config, tiny_mnist))
    assert [(s.epoch, s.epochs) for s in snapshots] == [(1, 3), (2, 3), (3, 3)]
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, plain.state_dict()[name])
        np.testing.assert_array_equal(
            snapshots[-1].weights[name], tensor.numpy().astype(np.float16)
        )
    assert not np.array_equal(
        snapshots[0].weights["to_mu.weight"], snapshots[-1].weights["to_mu.weight"]
    )
