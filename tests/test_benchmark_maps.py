"""benchmarks/maps.py on a small dataset: its table, its figures as JSON, and the shipped
model refused for other data."""

import json

import numpy as np
import pytest
import torch

from benchmarks import maps
from vae_core import VAE, VAEConfig, load_split, save_checkpoint
from vae_core.embeddings import PCA, knn_accuracy, reconstruction_error


def test_the_benchmark_tabulates_every_map_on_other_data(three_classes, tmp_path, capsys):
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=(32, 32))).eval()
    checkpoint = tmp_path / "model.pt"
    save_checkpoint(model, checkpoint)
    out = tmp_path / "maps.json"
    argv = ["--data-dir", str(three_classes), "--checkpoint", str(checkpoint), "--out", str(out)]
    assert maps.main(argv) == 0
    printed = capsys.readouterr().out
    for row in ("| VAE (2-D codes)", "| PCA (2 components)", "| t-SNE", "| pixels (784-D"):
        assert row in printed
    found = json.loads(out.read_text())
    train, test = load_split(three_classes, "train"), load_split(three_classes, "test")
    pca = PCA.fit(train.images)
    points = pca.transform(test.images)
    pca_found = found["PCA (2 components)"]
    expected = knn_accuracy(pca.transform(train.images), train.labels, points, test.labels)
    assert pca_found["knn"] == pytest.approx(expected)
    error = reconstruction_error(test.images, pca.decode(points))
    assert (pca_found["mse"], pca_found["nats"]) == pytest.approx((error.mse, error.nats))
    assert found["t-SNE"]["knn"] is None and found["t-SNE"]["nats"] is None
    # Fewer test images than t-SNE's 2,000: it maps them all, and every map is scored on them.
    assert all(0 <= f["knn_subset"] <= 1 for f in found.values())
    assert np.isfinite(found["VAE (2-D codes)"]["nats"])


def test_the_shipped_model_is_mnists_alone(three_classes, capsys):
    assert maps.main(["--data-dir", str(three_classes)]) == 2
    assert "give --checkpoint of a model of these data" in capsys.readouterr().err
