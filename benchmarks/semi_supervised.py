"""The semi-supervised VAE (M2, Kingma et al. 2014): its test accuracy and training time by labels.

    python -m benchmarks.semi_supervised [--labels 100 600 1000] [--epochs 25] [--width 256]
                                         [--seed 0] [--cache-dir DIR]

For each count of labelled training images, the M2 of the quick recipe (width and epochs as
given) from the model cache, trained there first if absent (`python -m training --labels N`
trains the same one): the accuracy of its q(y|x) on the 10k test digits, its test −ELBO given
each digit's class, its training time and where it trained; beside the paper's Table 1 and kNN
on the pixels of the same labelled images. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch

from benchmarks.harness import report
from training import TrainingCallbacks, TrainingRequest, get_or_train
from training.recipes import QUICK
from vae_core import load_split
from vae_core.few_labels import KINGMA_2014_ERRORS, few_label_accuracy


def _epoch(report_line) -> None:
    print(
        f"  epoch {report_line.epoch}/{report_line.epochs}: accuracy "
        f"{report_line.test_accuracy:.2%}, {report_line.seconds:.0f} s",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.semi_supervised", description=__doc__.split("\n")[0]
    )
    p.add_argument("--labels", type=int, nargs="+", default=[100, 600, 1000])
    p.add_argument("--epochs", type=int, default=QUICK.epochs)
    p.add_argument("--width", type=int, default=QUICK.width)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", type=Path, default=None)
    args = p.parse_args(argv)
    train, test = load_split(None, "train"), load_split(None, "test")
    rows, results = [], []
    for n in args.labels:
        if n < 10 or n % 10:
            p.error(f"--labels: {n} is not a positive multiple of MNIST's 10 classes")
        model_config = QUICK.model_config(
            args.width, conditional=True, semi_supervised=True, labelled=n
        )
        request = TrainingRequest(
            model_config, QUICK.train_config(args.epochs, args.seed), cache_dir=args.cache_dir
        )
        print(f"M2 with {n} labels (cached, or trained now):", flush=True)
        _, checkpoint = get_or_train(request, TrainingCallbacks(on_epoch=_epoch))
        m = checkpoint["metrics"]
        pixels = few_label_accuracy(None, train, test, (n // 10,), args.seed, ["pixels"])
        knn = next(s.accuracy for s in pixels if s.classifier == "kNN")
        m2, m1_m2 = KINGMA_2014_ERRORS.get(n, (float("nan"), float("nan")))
        epochs = len(m["history"])
        results.append({"labels": n, "pixels_knn": knn, **m})
        rows.append(
            [
                f"{n:,}",
                f"**{100 * m['test_accuracy']:.1f}**",
                f"{100 - m2:.1f}",
                f"{100 - m1_m2:.1f}",
                f"{100 * knn:.1f}",
                f"{m['test_neg_elbo']:.1f}",
                f"{m['train_seconds']:.0f} s ({m['train_seconds'] / epochs:.0f} s an epoch)",
            ]
        )
    return report(
        results,
        [
            "labels",
            "M2 here (%)",
            "M2, Kingma et al. (%)",
            "M1+M2, Kingma et al. (%)",
            "pixels · kNN (%)",
            "test −ELBO given y",
            "training",
        ],
        rows,
        [
            f"Test accuracy on MNIST's 10k test digits. M2 of the quick recipe: hidden "
            f"[{args.width}, {args.width}], 2-D z, {args.epochs} epochs, seed {args.seed}; "
            f"torch {torch.__version__} on {platform.processor() or platform.machine()} "
            f"({torch.backends.cpu.get_cpu_capability()}), where it trained: "
            f"{checkpoint['metrics'].get('device_name', 'unknown')}. The paper's M2 has a 50-D z "
            "and 500-unit layers."
        ],
        title="Semi-supervised VAE (M2)",
        right=range(1, 6),
    )


if __name__ == "__main__":
    sys.exit(main())
