"""`--data-dir` for the benchmarks that also run on other data than the bundled MNIST."""

from __future__ import annotations

import argparse
import sys

from vae_core import DataError, Dataset, describe


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    """The option of the benchmarks that run on other data than the bundled MNIST."""
    parser.add_argument(
        "--data-dir", default=None, help="MNIST-format data (default: the bundled MNIST)"
    )


def described(data_dir: str | None) -> Dataset | None:
    """The dataset in `data_dir`, or None once stderr says why it cannot be used."""
    try:
        return describe(data_dir)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
