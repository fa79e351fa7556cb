"""Out of distribution, MNIST ⇄ Fashion-MNIST: does a model's likelihood tell the other apart?

    python -m benchmarks.ood [--fashion-dir DIR] [--subset 10000] [--grid 400] [--out FILE]

Nalisnick et al. (ICLR 2019) found that generative models trained on Fashion-MNIST give
MNIST's digits higher likelihoods than their own test images. Here, both ways round: the
shipped model (MNIST, full recipe), the lesson pack's quick-recipe MNIST model, and the
quick-recipe model of Fashion-MNIST from the app's cache (`python -m training --data-dir
DIR` trains it; left out, saying so, when absent), each scoring its own test set and the
other's. For each, the AUROC (vae_core.ood.auroc: 1 = the other dataset always scores as
more anomalous, below 0.5 = the paradox) of −ELBO (8 draws of z), exact −log p(x) (quadrature
on a grid x grid plane) and −log p(x) − L(x), L the PNG size in nats (Serrà et al., ICLR
2020), with each score's mean in both sets, and the AUROC of simplicity alone (−L(x): the
simpler, the more anomalous), which the corrected score nears when L(x) dwarfs −log p(x).
`--subset N` scores N test images of each set (the same rows each run), all 10,000 by
default. Last, the time of the Outliers tab's own computation for the shipped model (500
images of each set).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import report
from training import DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG
from training.cache import NotCached, load_cached
from vae_core import DataError, describe, load_model, load_split, ood

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
PAGE_SUBSET = 500  # explorer/ood_lens.py's SUBSET: the images of each set the page scores
NAMES = {"neg_elbo": "−ELBO", "neg_log_px": "exact −log p(x)", "corrected": "−log p(x) − L(x)"}


def models(fashion_dir: str) -> list[tuple[str, object, str | None]]:
    """(name, model, its data directory: None for MNIST) of each model to score."""
    found = [
        ("MNIST, shipped (full recipe)", load_model(), None),
        ("MNIST, quick recipe", load_cached(DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG)[0], None),
    ]
    try:
        fashion = load_cached(DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG, fashion_dir)[0]
        found.append(("Fashion-MNIST, quick recipe", fashion, fashion_dir))
    except NotCached:
        print(
            f"No Fashion-MNIST model in the cache: `python -m training --data-dir {fashion_dir}` "
            "trains it; left out.\n"
        )
    return found


def scored(model, own: np.ndarray, other: np.ndarray, grid: int) -> tuple[dict, dict, float]:
    """Both sets' scores from one call (one decoding of the grid), and its seconds."""
    start = time.perf_counter()
    scores = ood.model_scores(model, np.concatenate([own, other]), grid=grid)
    seconds = time.perf_counter() - start
    n = len(own)
    return {k: v[:n] for k, v in scores.items()}, {k: v[n:] for k, v in scores.items()}, seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ood", description=__doc__.split("\n")[0])
    p.add_argument(
        "--fashion-dir", default=FASHION_DIR, help="Fashion-MNIST's files (default: %(default)s)"
    )
    p.add_argument(
        "--subset", type=int, default=10_000, help="test images of each set (default: all)"
    )
    p.add_argument(
        "--grid", type=int, default=ood.EXACT_GRID, help="quadrature cells a side (default: 400)"
    )
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    args = p.parse_args(argv)
    try:
        fashion = describe(args.fashion_dir)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tests = {d: load_split(d, "test").images for d in (None, args.fashion_dir)}
    names = {None: "MNIST", args.fashion_dir: fashion.name}
    rows, results, notes = [], {}, []
    for name, model, data in models(args.fashion_dir):
        other_data = args.fashion_dir if data is None else None
        own, other = tests[data], tests[other_data]
        own = own[ood.subset(len(own), args.subset)]
        other = other[ood.subset(len(other), args.subset)]
        mine, theirs, seconds = scored(model, own, other, args.grid)
        aurocs = ood.aurocs(mine, theirs)
        direction = f"{name} → {names[other_data]}"
        for score in ood.SCORES:
            rows.append(
                (
                    direction,
                    NAMES[score],
                    f"**{aurocs[score]:.3f}**",
                    f"{mine[score].mean():.1f}",
                    f"{theirs[score].mean():.1f}",
                )
            )
        simplicity = ood.auroc(-mine["complexity"], -theirs["complexity"])
        rows.append(
            (
                direction,
                "L(x), the PNG size (AUROC of −L(x) alone)",
                f"{simplicity:.3f}",
                f"{mine['complexity'].mean():.1f}",
                f"{theirs['complexity'].mean():.1f}",
            )
        )
        results[direction] = {
            "auroc": {**aurocs, "simplicity": simplicity},
            "own_mean": {k: float(v.mean()) for k, v in mine.items()},
            "other_mean": {k: float(v.mean()) for k, v in theirs.items()},
            "seconds": seconds,
        }
        notes.append(f"{direction}: {len(own):,} + {len(other):,} images scored in {seconds:.0f} s")
    shipped = load_model()
    mnist, other = tests[None], tests[args.fashion_dir]
    page = (
        mnist[ood.subset(len(mnist), PAGE_SUBSET)],
        other[ood.subset(len(other), PAGE_SUBSET)],
    )
    _, _, page_seconds = scored(shipped, *page, ood.EXACT_GRID)
    results["page_seconds"] = page_seconds
    notes.append(
        f"The Outliers tab's computation for the shipped model ({PAGE_SUBSET} + {PAGE_SUBSET} "
        f"images, grid {ood.EXACT_GRID}): {page_seconds:.1f} s"
    )
    header = ("model → other test set", "score", "AUROC", "mean, own test set", "mean, other")
    title = (
        f"Out of distribution: each model's own test images against the other set's, "
        f"{args.subset:,} of each at most, grid {args.grid}×{args.grid}, in nats"
    )
    return report(results, header, rows, notes, title=title, right=(2, 3, 4), out=args.out)


if __name__ == "__main__":
    sys.exit(main())
