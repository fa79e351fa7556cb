"""`python -m training.pack`: make trained checkpoints into shipped models, small enough for
the repository.

    python -m training.pack CHECKPOINT [CHECKPOINT ...] [--default] [--out DIR]

Each checkpoint (written by `python -m training --output`) is stored with float16 weights and
a replay thinned to the epochs a learner steps through (every one of the first five, then
every fifth to the 25th, then every tenth, and the last), under its cache key in the lesson
pack (assets/pack/), or as the shipped default with `--default`. Its test metrics are
measured again on the float16 weights, as the page will use them, beside the float32 ones;
a model whose test −ELBO moves by MAX_SHIFT nats or more is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from vae_core.checkpoint import (
    DEFAULT_CHECKPOINT,
    PACK_DIR,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from vae_core.model import VAE
from vae_core.replay import Replay, replay_of

from .cache import test_metrics

MAX_SHIFT = 0.05  # nats of test −ELBO that float16 weights may cost (issue 30)


def kept_epochs(epochs: np.ndarray) -> np.ndarray:
    """Which of a replay's epochs a shipped model keeps: 1-5, every 5th to 25, every 10th
    after, and the last."""
    e = np.asarray(epochs)
    keep = (e <= 5) | ((e <= 25) & (e % 5 == 0)) | (e % 10 == 0) | (e == e.max())
    return e[keep]


def thinned(replay: Replay) -> Replay:
    rows = np.isin(replay.epochs, kept_epochs(replay.epochs))
    return Replay(replay.epochs[rows], replay.codes[rows], replay.manifold[rows], replay.axis)


def half_weights(model: VAE) -> VAE:
    """A copy of the model whose weights are rounded to float16 (computed in float32)."""
    copy = VAE(model.config)
    copy.load_state_dict({k: v.half() for k, v in model.state_dict().items()})
    return copy.eval()


def pack(source: Path, target: Path) -> dict:
    """Write `source`'s model to `target` as a shipped model; returns its test −ELBO before
    and after the rounding."""
    model, checkpoint = load_checkpoint(source)
    data_dir = checkpoint["extra"].get("data")
    data_dir = None if data_dir in (None, "bundled MNIST") else data_dir
    rounded = half_weights(model)
    # The float32 weights' figure is the checkpoint's own: the same test_metrics, seeded.
    before = checkpoint["metrics"]["test_neg_elbo"]
    metrics = {**checkpoint["metrics"], **test_metrics(rounded, data_dir)}
    shift = metrics["test_neg_elbo"] - before
    if abs(shift) >= MAX_SHIFT:
        raise CheckpointError(
            f"{source}: float16 weights move its test −ELBO by {shift:+.3f} nats "
            f"(at most ±{MAX_SHIFT} allowed); keep it in float32."
        )
    metrics["float32_test_neg_elbo"] = before
    replay = replay_of(checkpoint)
    save_checkpoint(
        rounded,
        target,
        metrics,
        checkpoint["extra"],
        None if replay is None else thinned(replay),
        weights=torch.float16,
    )
    return {"float32": before, "float16": metrics["test_neg_elbo"], "bytes": target.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.pack", description=__doc__.split("\n")[0])
    p.add_argument("checkpoints", nargs="+", type=Path, help="checkpoints to ship")
    p.add_argument(
        "--default",
        action="store_true",
        help=f"write the one checkpoint given as the shipped default ({DEFAULT_CHECKPOINT})",
    )
    p.add_argument("--out", type=Path, default=PACK_DIR, help="the pack (default: %(default)s)")
    args = p.parse_args(argv)
    if args.default and len(args.checkpoints) != 1:
        p.error("--default takes exactly one checkpoint")
    for source in args.checkpoints:
        try:
            key = load_checkpoint(source)[1]["extra"]["cache_key"]
            target = DEFAULT_CHECKPOINT if args.default else args.out / f"{key}.pt"
            found = pack(source, target)
        except (CheckpointError, KeyError) as exc:
            print(f"error: {source}: {exc}", file=sys.stderr)
            return 1
        print(
            f"{target}: test −ELBO {found['float16']:.3f} nats with float16 weights "
            f"({found['float32']:.3f} in float32), {found['bytes'] / 1e6:.2f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
