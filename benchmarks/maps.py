"""Two-dimensional maps: the VAE's codes, PCA and t-SNE; kNN accuracy, reconstruction, cost.

    python -m benchmarks.maps [--checkpoint PATH] [--tsne-images 2000] [--data-dir DIR]
                              [--out FILE]

The figures of the VAE vs PCA tab (vae_core.embeddings), for the shipped model (or the
checkpoint given): each map's kNN accuracy (5 neighbours) on the test images, the VAE's and
PCA's maps and their kNN fitted on the training images; the same kNN within t-SNE's subset of
the test images (10-fold), which is all t-SNE can be scored on; the reconstruction of the test
images in squared error per pixel and in nats (Bernoulli, pixels clipped to [EPS, 1 - EPS]);
and what each costs, on the clock and in this process's CPU. The raw pixels' kNN is the
ceiling a 2-D map is measured against.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from benchmarks.data_option import add_data_dir, described
from benchmarks.harness import report
from vae_core import encode, load_checkpoint, load_model, load_split
from vae_core.embeddings import (
    EPS,
    FOLDS,
    NEIGHBOURS,
    PCA,
    TSNE_IMAGES,
    cross_validated_knn,
    flat_pixels,
    knn_accuracy,
    reconstruction_error,
    tsne,
    tsne_rows,
    vae_reconstructions,
)


class Clock:
    """Seconds on the clock and of this process's CPU, summed over what it timed."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __call__(self, compute, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        found = compute(*args)
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        return found

    def __str__(self) -> str:
        return f"{self.wall:.1f} s ({self.cpu:.1f} s CPU)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.maps", description=__doc__.split("\n")[0]
    )
    p.add_argument("--checkpoint", help="the VAE to map with (default: the shipped model)")
    p.add_argument(
        "--tsne-images",
        type=int,
        default=TSNE_IMAGES,
        help="test images t-SNE maps (default: %(default)s, as the page)",
    )
    add_data_dir(p)
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    args = p.parse_args(argv)
    dataset = described(args.data_dir)
    if dataset is None:
        return 2
    if args.checkpoint:
        model, checkpoint = load_checkpoint(args.checkpoint)
        conditional = bool(checkpoint["config"].get("conditional"))
    elif args.data_dir is None:
        model, conditional = load_model(), False
    else:
        print(
            "error: the shipped model is MNIST's: give --checkpoint of a model of these data",
            file=sys.stderr,
        )
        return 2
    train, test = load_split(args.data_dir, "train"), load_split(args.data_dir, "test")
    rows = tsne_rows(len(test.labels), args.tsne_images)
    results: dict[str, dict] = {}

    def add(name, clock, train_points, test_points, subset_points, reconstruction=None):
        knn_clock = Clock()
        error = (
            None if reconstruction is None else reconstruction_error(test.images, reconstruction)
        )
        results[name] = {
            "knn": None
            if train_points is None
            else knn_clock(knn_accuracy, train_points, train.labels, test_points, test.labels),
            "knn_subset": cross_validated_knn(subset_points, test.labels[rows]),
            "mse": None if error is None else error.mse,
            "nats": None if error is None else error.nats,
            "seconds": None if clock is None else clock.wall,
            "cpu_seconds": None if clock is None else clock.cpu,
            "knn_seconds": None if train_points is None else knn_clock.wall,
            "knn_cpu_seconds": None if train_points is None else knn_clock.cpu,
        }

    given = (train.labels, test.labels) if conditional else (None, None)
    clock = Clock()
    train_codes = clock(lambda: encode(model, train.images, given[0])[0])
    test_codes = clock(lambda: encode(model, test.images, given[1])[0])
    reconstruction = vae_reconstructions(model, test.images, given[1])
    add("VAE (2-D codes)", clock, train_codes, test_codes, test_codes[rows], reconstruction)

    clock = Clock()
    pca = clock(PCA.fit, train.images)
    train_points, test_points = (
        clock(pca.transform, train.images),
        clock(pca.transform, test.images),
    )
    add(
        "PCA (2 components)",
        clock,
        train_points,
        test_points,
        test_points[rows],
        pca.decode(test_points),
    )

    clock = Clock()
    add("t-SNE", clock, None, None, clock(tsne, test.images[rows]))

    pixels_train, pixels_test = flat_pixels(train.images), flat_pixels(test.images)
    add("pixels (784-D, no map)", None, pixels_train, pixels_test, pixels_test[rows])

    def cell(value, form: str, missing: str = "—") -> str:
        return missing if value is None else form.format(value)

    table = []
    for name, found in results.items():
        cannot = "—" if name.startswith("pixels") else "cannot decode"
        cost, knn_cost = "—", "—"
        if found["seconds"] is not None:
            cost = f"{found['seconds']:.1f} s ({found['cpu_seconds']:.1f} s CPU)"
        if found["knn_seconds"] is not None:
            knn_cost = f"{found['knn_seconds']:.1f} s ({found['knn_cpu_seconds']:.1f} s CPU)"
        table.append(
            [
                name,
                cell(found["knn"], "{:.1%}", "cannot place new images"),
                cell(found["knn_subset"], "{:.1%}"),
                cell(found["mse"], "{:.4f}", cannot),
                cell(found["nats"], "{:.1f}", cannot),
                cost,
                knn_cost,
            ]
        )
    count = f"{len(rows):,}"
    header = [
        "map",
        "kNN, train → test",
        f"kNN, {FOLDS}-fold within {count} test",
        "reconstruction MSE (per pixel)",
        "reconstruction (nats per image)",
        "cost of the map",
        "cost of its kNN",
    ]
    notes = [
        f"kNN: {NEIGHBOURS} neighbours (vae_core.few_labels.knn_classify); train → test: the map "
        f"and the kNN fitted on the {len(train.labels):,} training images, scored on the "
        f"{len(test.labels):,} test images. t-SNE maps only the {count} test images it is given.",
        f"Nats: Bernoulli −log p(x | reconstruction), pixels clipped to [{EPS}, 1 − {EPS}]; the "
        "VAE's reconstruction decoded at the posterior mean, PCA's clipped to [0, 1].",
        "Costs: the VAE's, encoding the training and test images; PCA's, its fit and projecting "
        "both; t-SNE's, its fit (one thread). Load average while it ran: "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg())
        + f" on {os.cpu_count()} cores.",
    ]
    title = f"Two-dimensional maps of the {dataset.name} test {dataset.noun}s"
    return report(results, header, table, notes, title=title, right=range(1, 7), out=args.out)


if __name__ == "__main__":
    sys.exit(main())
