"""Conditional VAE (Sohn, Lee & Yan 2015): are the digits it draws of the class asked for?

    python -m benchmarks.cvae [--epochs 2] [--samples 1000] [--seed 0] [--data-dir DIR] [--out FILE]

The model is the CLI's default but conditional, for the epochs given: the one that
`python -m training --conditional --epochs N` puts in the app's cache, read from there or
trained now and cached (training.get_or_train). The judge is a small CNN this script trains on
the 60k MNIST training digits (seeded, so the same each run), scored on the 10k test digits.
For each class, `samples` draws of z ~ N(0, I) (the same draws for every class) are decoded with
that class, and the share the CNN reads as that class is reported, per class and overall
(target >= 95 %). Prints a markdown table and the times. With `--data-dir`, the same for the
data of that directory (Fashion-MNIST, say): the CVAE, the judge and the test set are its.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.data_option import add_data_dir, described
from benchmarks.harness import report
from training import (
    DEFAULT_MODEL_CONFIG,
    DEFAULT_TRAIN_CONFIG,
    TrainingRequest,
    get_or_train,
    is_cached,
)
from vae_core import decode, load_split, sample_prior
from vae_core.data import to_tensor

TARGET = 0.95  # the share of generated digits to be read as their class
CLASSIFIER_EPOCHS = 3
CLASSIFIER_BATCH = 128


def classifier(classes: int = 10) -> nn.Module:
    """Two 5x5 convolutions with max-pooling and a 128-unit layer: 28x28 pixels -> logits."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (16, 14, 14)
        nn.Conv2d(16, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (32, 7, 7)
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 128),
        nn.ReLU(),
        nn.Linear(128, classes),
    )


def train_classifier(seed: int, data_dir=None, classes: int = 10) -> nn.Module:
    """The CNN after CLASSIFIER_EPOCHS of Adam on the training set (MNIST's unless `data_dir`),
    in eval mode."""
    train = load_split(data_dir, "train")
    x, y = to_tensor(train.images), torch.from_numpy(train.labels.astype(np.int64))
    torch.manual_seed(seed)
    net = classifier(classes)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(CLASSIFIER_EPOCHS):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), CLASSIFIER_BATCH):
            rows = order[i : i + CLASSIFIER_BATCH]
            loss = F.cross_entropy(net(x[rows]), y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return net.eval()


@torch.no_grad()
def read(net: nn.Module, pixels: np.ndarray) -> np.ndarray:
    """The classes the CNN reads in images of pixels in [0, 1]: (N, 28, 28) -> (N,)."""
    x = torch.as_tensor(pixels, dtype=torch.float32).reshape(-1, 784)
    return torch.cat([net(chunk).argmax(1) for chunk in x.split(2000)]).numpy()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.cvae", description=__doc__.split("\n")[0]
    )
    p.add_argument("--epochs", type=int, default=2, help="the CVAE's (default: %(default)s)")
    p.add_argument(
        "--samples", type=int, default=1000, help="draws of z per class (default: %(default)s)"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="the CNN's and the draws' (default: %(default)s)"
    )
    add_data_dir(p)
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    args = p.parse_args(argv)
    dataset = described(args.data_dir)
    if dataset is None:
        return 2
    k = len(dataset.classes)
    model_config = replace(DEFAULT_MODEL_CONFIG, conditional=True, classes=k)
    train_config = replace(DEFAULT_TRAIN_CONFIG, epochs=args.epochs)

    cached = is_cached(model_config, train_config, args.data_dir)
    start = time.perf_counter()
    model, checkpoint = get_or_train(TrainingRequest(model_config, train_config, args.data_dir))
    model_seconds = time.perf_counter() - start
    start = time.perf_counter()
    net = train_classifier(args.seed, args.data_dir, k)
    classifier_seconds = time.perf_counter() - start
    test = load_split(args.data_dir, "test")
    test_accuracy = float((read(net, test.images / 255.0) == test.labels).mean())

    start = time.perf_counter()
    z = sample_prior(args.samples, model_config.latent_dim, args.seed)
    shares = [float((read(net, decode(model, z, c)) == c).mean()) for c in range(k)]
    generate_seconds = time.perf_counter() - start
    overall = float(np.mean(shares))

    verdict = "meets" if overall >= TARGET else "misses"
    rows = [
        (name, f"{100 * share:.1f} %") for name, share in zip(dataset.classes, shares, strict=True)
    ]
    rows.append(("all", f"**{100 * overall:.1f} %** ({verdict} the {100 * TARGET:.0f} % target)"))
    header = ("class", f"read as that class ({args.samples} draws of z ~ N(0, I))")
    trained = f"{checkpoint['metrics']['train_seconds']:.0f} s to train"
    title = (
        f"CVAE on {dataset.name}: latent {model_config.latent_dim}, hidden {model_config.hidden}, "
        f"{args.epochs} epochs, test -ELBO (given y) {checkpoint['metrics']['test_neg_elbo']:.2f}"
    )
    notes = [
        f"Judge: CNN, {CLASSIFIER_EPOCHS} epochs, {100 * test_accuracy:.2f} % on the test "
        f"{dataset.noun}s",
        f"Times: CVAE {'from the cache' if cached else f'{model_seconds:.0f} s'} ({trained}), "
        f"CNN {classifier_seconds:.0f} s, drawing and reading {generate_seconds:.1f} s",
    ]
    results = {"classes": dict(zip(dataset.classes, shares, strict=True)), "overall": overall}
    report(results, header, rows, notes, title=title, right=(0, 1), out=args.out)
    return 0 if overall >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
