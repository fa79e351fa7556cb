"""Quality and speed of a trained model on the 10k MNIST test set (default: the shipped model).

    python -m benchmarks.quality [--checkpoint PATH]

Negative ELBO averaged over several draws of z, the importance-weighted bound, and the exact
log-likelihood by quadrature at two grid sizes (their agreement shows the grid is fine enough);
then the times the app depends on: encoding the test set and decoding a 20x20 grid.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from vae_core import (
    elbo_terms,
    encode,
    exact_log_px,
    grid_axis,
    iwae_log_px,
    load_checkpoint,
    manifold,
)
from vae_core.checkpoint import DEFAULT_CHECKPOINT
from vae_core.data import load_split


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.quality", description=__doc__.split("\n")[0]
    )
    p.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help="default: %(default)s")
    p.add_argument(
        "--samples",
        type=int,
        default=10,
        help="draws of z per image for the ELBO (default: %(default)s)",
    )
    p.add_argument(
        "--iwae-k", type=int, default=100, help="importance samples (default: %(default)s)"
    )
    p.add_argument(
        "--grids",
        type=int,
        nargs="+",
        default=[400, 1000],
        help="quadrature grid sizes (default: %(default)s)",
    )
    args = p.parse_args(argv)

    model, checkpoint = load_checkpoint(args.checkpoint)
    images = load_split(None, "test").images
    print(
        f"model: {args.checkpoint}: config {checkpoint['config']}, training {checkpoint['extra'].get('train_config')}"
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    start = time.perf_counter()
    terms = elbo_terms(model, images, samples=args.samples)
    print(
        f"test -ELBO          {terms['neg_elbo'].mean():8.2f} nats  (reconstruction {terms['reconstruction'].mean():.2f}, "
        f"KL {terms['kl'].mean():.2f}; {args.samples} draws of z, {time.perf_counter() - start:.1f} s)"
    )
    start = time.perf_counter()
    iwae = iwae_log_px(model, images, k=args.iwae_k)
    print(
        f"IWAE -log p(x), k={args.iwae_k} {-iwae.mean():7.2f} nats  ({time.perf_counter() - start:.1f} s)"
    )
    for n in args.grids:
        start = time.perf_counter()
        exact = exact_log_px(model, images, n=n)
        print(
            f"exact -log p(x), {n}x{n} grid {-exact.mean():7.2f} nats  ({time.perf_counter() - start:.1f} s)"
        )

    encode_ms = _median_ms(lambda: encode(model, images), repeats=10)
    axis = grid_axis(20)
    grid_ms = _median_ms(lambda: manifold(model, axis), repeats=50)
    print(f"encode 10k test digits: {encode_ms:.1f} ms (median of 10)")
    print(f"decode a 20x20 manifold grid: {grid_ms:.2f} ms (median of 50)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
