import hashlib
import json
import os
import pickle

import numpy as np
import pytest
import torch

from vae_core.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from vae_core.inference import encode, manifold
from vae_core.model import VAE, VAEConfig
from vae_core.replay import REPLAY_AXIS, Replay, ReplayFrame, record_frame, replay_of


@pytest.fixture
def model():
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=2, hidden=(32, 16), beta=2.0))


def test_round_trip_reproduces_every_weight_exactly(model, tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(model, path, metrics={"test_neg_elbo": 150.0}, extra={"note": "x"})
    loaded, checkpoint = load_checkpoint(path)
    assert loaded.config == model.config
    assert not loaded.training
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    assert checkpoint["metrics"] == {"test_neg_elbo": 150.0}
    assert checkpoint["extra"] == {"note": "x"}
    assert checkpoint["config"] == {
        "latent_dim": 2,
        "hidden": [32, 16],
        "beta": 2.0,
        "conditional": False,
        "classes": 10,
        "semi_supervised": False,
        "labelled": 0,
    }
    assert set(checkpoint["versions"]) == {"torch", "python"}
    z = torch.randn(4, 2)
    torch.testing.assert_close(loaded.pixel_probs(z), model.eval().pixel_probs(z), rtol=0, atol=0)


def test_interrupted_write_leaves_the_old_file_whole(model, tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    save_checkpoint(model, path)
    before = path.read_bytes()

    def dies_midway(obj, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(VAE(VAEConfig(hidden=(8,))), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.pt"]  # no temporary file left behind


def test_truncated_file_is_reported(model, tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(model, path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="truncated or damaged"):
        load_checkpoint(path)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "absent.pt")


def test_foreign_file_is_reported(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"model": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="not a checkpoint of this project"):
        load_checkpoint(path)
    path.write_text("hello")
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_tampered_weights_are_detected(model, tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(model, path)
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["state_dict"]["decoder.0.weight"][0, 0] += 1e-3
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="do not match its digest"):
        read_checkpoint(path)


def test_tampered_metrics_are_detected(model, tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(model, path, metrics={"test_neg_elbo": 150.0})
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["metrics"]["test_neg_elbo"] = 99.0
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="do not match its digest"):
        read_checkpoint(path)


def test_tampered_config_is_detected(model, tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(model, path)
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["config"]["beta"] = 1.0
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="do not match its digest"):
        read_checkpoint(path)


class _RunsCode:
    """Unpickling this calls os.system: what a hostile checkpoint would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "vae-explorer-checkpoint/1", "payload": _RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match="could run code"):
        load_checkpoint(path)
    assert not marker.exists()
    # The same payload as a bare pickle file.
    path.write_bytes(pickle.dumps(_RunsCode(marker)))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not marker.exists()


def _frames(model, epochs: int = 3) -> list[ReplayFrame]:
    x = torch.rand(50, 784)
    return [record_frame(model, x, epoch) for epoch in range(1, epochs + 1)]


def test_a_replay_round_trips_with_the_checkpoint(model, tmp_path):
    path = tmp_path / "m.pt"
    replay = Replay.from_frames(_frames(model))
    save_checkpoint(model, path, replay=replay)
    loaded = replay_of(read_checkpoint(path))
    assert loaded.epochs.tolist() == [1, 2, 3]
    assert loaded.codes.dtype == np.float16 and loaded.codes.shape == (3, 50, 2)
    assert loaded.manifold.dtype == np.uint8 and loaded.manifold.shape == (3, 224, 224)
    np.testing.assert_array_equal(loaded.codes, replay.codes)
    np.testing.assert_array_equal(loaded.manifold, replay.manifold)
    np.testing.assert_array_equal(loaded.axis, REPLAY_AXIS)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r["codes"].__setitem__((1, 0, 0), 9.0),
        lambda r: r["manifold"].__setitem__((2, 100, 100), 7),
        lambda r: r["epochs"].reverse(),
        lambda r: r.pop("axis"),
    ],
    ids=["codes", "manifold", "epochs", "axis"],
)
def test_a_tampered_replay_is_detected(model, tmp_path, tamper):
    path = tmp_path / "m.pt"
    save_checkpoint(model, path, replay=Replay.from_frames(_frames(model)))
    checkpoint = torch.load(path, weights_only=True)
    tamper(checkpoint["replay"])
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="do not match its digest"):
        read_checkpoint(path)


def _digest_before_replays(checkpoint: dict) -> str:
    """The digest as checkpoints were written before replays existed."""
    plain = {k: v for k, v in checkpoint.items() if k not in ("state_dict", "digest")}
    h = hashlib.sha256(json.dumps(plain, sort_keys=True).encode())
    for name in sorted(checkpoint["state_dict"]):
        tensor = checkpoint["state_dict"][name].contiguous()
        h.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        h.update(tensor.numpy().tobytes())
    return h.hexdigest()


def test_a_checkpoint_from_before_replays_loads_and_has_none(model, tmp_path):
    path = tmp_path / "old.pt"
    save_checkpoint(model, path, metrics={"test_neg_elbo": 150.0})
    checkpoint = torch.load(path, weights_only=True)
    assert "replay" not in checkpoint
    checkpoint["digest"] = _digest_before_replays(checkpoint)
    torch.save(checkpoint, path)
    loaded, checkpoint = load_checkpoint(path)
    assert replay_of(checkpoint) is None
    assert torch.equal(
        loaded.state_dict()["decoder.0.weight"], model.state_dict()["decoder.0.weight"]
    )


def test_a_frame_holds_the_codes_and_manifold_and_draws_no_random_number(model):
    x = torch.rand(300, 784)
    state = torch.get_rng_state()
    frame = record_frame(model.eval(), x, 4)
    assert torch.equal(torch.get_rng_state(), state)
    mu, _ = encode(model, x)
    np.testing.assert_allclose(frame.codes, mu, rtol=1e-3, atol=1e-4)  # float16
    grid = manifold(model, REPLAY_AXIS)
    assert np.abs(frame.manifold.astype(np.float32) - grid * 255).max() <= 0.5
    # The worker's message carries it exactly.
    message = json.loads(json.dumps(frame.to_message()))
    again = ReplayFrame.from_message(message)
    assert again.epoch == 4
    np.testing.assert_array_equal(again.codes, frame.codes)
    np.testing.assert_array_equal(again.manifold, frame.manifold)
