"""Quality and speed of a trained model on the 10k MNIST test set (default: the shipped model).

    python -m benchmarks.quality [--checkpoint PATH] [--samples 10] [--iwae-k 100]
        [--grids 400 1000] [--extent 6] [--every 1] [--out FILE]

Negative ELBO averaged over several draws of z, the importance-weighted bound, and the exact
log-likelihood by quadrature at two grid sizes (their agreement shows the grid is fine enough);
then the times the app depends on: encoding the test set and decoding a 20x20 grid. A model
whose posteriors are narrower than the grid's cells needs a smaller extent or a larger grid;
`--every k` measures every k-th test image, so that a fine grid takes minutes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from benchmarks.harness import progress, report
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


HEADER = ("measure", "value", "how", "took")


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
    p.add_argument(
        "--extent",
        type=float,
        default=6.0,
        help="the quadrature covers [-extent, extent] on both axes (default: %(default)s)",
    )
    p.add_argument(
        "--every", type=int, default=1, help="every k-th test image only (default: %(default)s)"
    )
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    args = p.parse_args(argv)

    model, checkpoint = load_checkpoint(args.checkpoint)
    images = load_split(None, "test").images[:: args.every]
    rows = []

    def row(measure: str, nats: float, started: float, how: str = "") -> None:
        rows.append((measure, f"{nats:.2f} nats", how, f"{time.perf_counter() - started:.1f} s"))
        progress(f"{measure}: {nats:.2f} nats")

    start = time.perf_counter()
    terms = elbo_terms(model, images, samples=args.samples)
    reconstruction, kl = terms["reconstruction"].mean(), terms["kl"].mean()
    how = f"reconstruction {reconstruction:.2f}, KL {kl:.2f}; {args.samples} draws of z"
    row("test -ELBO", float(terms["neg_elbo"].mean()), start, how)
    start = time.perf_counter()
    row(
        f"IWAE -log p(x), k={args.iwae_k}",
        float(-iwae_log_px(model, images, k=args.iwae_k).mean()),
        start,
    )
    for n in args.grids:
        start = time.perf_counter()
        row(
            f"exact -log p(x), {n}x{n} grid over ±{args.extent:g}",
            float(-exact_log_px(model, images, n=n, extent=args.extent).mean()),
            start,
        )
    encode_ms = _median_ms(lambda: encode(model, images), repeats=10)
    axis = grid_axis(20)
    grid_ms = _median_ms(lambda: manifold(model, axis), repeats=50)
    rows.append((f"encode {len(images):,} test digits", f"{encode_ms:.1f} ms", "median of 10", ""))
    rows.append(("decode a 20x20 manifold grid", f"{grid_ms:.2f} ms", "median of 50", ""))
    title = (
        f"{args.checkpoint}: config {checkpoint['config']}, training "
        f"{checkpoint['extra'].get('train_config')}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    results = {
        "torch": torch.__version__,
        "figures": [dict(zip(HEADER, r, strict=True)) for r in rows],
    }
    return report(results, HEADER, rows, title=title, out=args.out)


if __name__ == "__main__":
    raise SystemExit(main())
