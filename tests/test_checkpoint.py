import os
import pickle

import pytest
import torch

from vae_core.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from vae_core.model import VAE, VAEConfig


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
    assert checkpoint["config"] == {"latent_dim": 2, "hidden": [32, 16], "beta": 2.0}
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
