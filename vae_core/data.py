"""MNIST-format IDX files: read, validate, and turn into training tensors.

The IDX format (LeCun et al.) is a big-endian header (magic number, dimension sizes) followed
by raw uint8 values. MNIST, Fashion-MNIST and KMNIST all ship the same four file names, so
any directory holding them, gzip-compressed or not, can be loaded.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

BUNDLED_MNIST = Path(__file__).resolve().parent.parent / "assets" / "mnist"

# The magic number's third byte says the values are unsigned bytes, the fourth how many
# dimensions follow.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
IMAGE_SIDE = 28

SPLIT_PREFIX = {"train": "train", "test": "t10k"}


class DataError(ValueError):
    """A data file is missing or not a valid MNIST-format IDX file."""


@dataclass(frozen=True)
class Split:
    """One split of a dataset, as loaded from disk."""

    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) uint8


def _directory(directory: str | Path | None) -> Path:
    directory = Path(directory) if directory is not None else BUNDLED_MNIST
    if not directory.is_dir():
        raise DataError(f"data directory {directory} does not exist or is not a directory.")
    return directory


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise DataError(
        f"missing data file: neither {directory / stem} nor {directory / (stem + '.gz')} exists. "
        "Give a directory holding the four MNIST-format IDX files "
        "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte, each optionally .gz)."
    )


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path}: cannot read it ({exc}); the file is damaged or truncated."
        ) from exc


def read_idx(path: str | Path, expected_magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes into an array shaped as its header says."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"{path}: only {len(raw)} bytes, too short for an IDX header.")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise DataError(
            f"{path}: wrong magic number 0x{magic:08x} (expected 0x{expected_magic:08x}); "
            "this is not the IDX file its name says."
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes, need {header}).")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise DataError(
            f"{path}: {what}: header gives shape {shape}, so {expected} bytes, "
            f"but the file holds {len(raw)}."
        )
    return np.frombuffer(bytearray(raw), dtype=np.uint8, offset=header).reshape(shape)


def load_split(directory: str | Path | None = None, split: str = "train") -> Split:
    """Load the `train` or `test` split from a directory of MNIST-format files.

    `directory` defaults to the MNIST bundled in assets/.
    """
    if split not in SPLIT_PREFIX:
        raise DataError(f"unknown split {split!r}: use 'train' or 'test'.")
    directory = _directory(directory)
    prefix = SPLIT_PREFIX[split]
    images_path = _find(directory, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(directory, f"{prefix}-labels-idx1-ubyte")
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(
            f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, "
            f"expected {IMAGE_SIDE}x{IMAGE_SIDE}."
        )
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; the two files must be of the same split."
        )
    if len(images) == 0:
        raise DataError(f"{images_path}: holds no images.")
    return Split(images=images, labels=labels)


def fingerprint(directory: str | Path | None = None) -> str:
    """A short hash of the four files as stored: it keys cached models to their data.

    The bytes on disk, not decompressed: ten times faster on gzip files, and the app computes
    it at start-up. The same data stored gzip-compressed and plain gets two keys, so at worst a
    model is trained twice, never a model of other data reused.
    """
    directory = _directory(directory)
    digest = hashlib.sha256()
    for split in ("train", "test"):
        for kind in ("images", "labels"):
            stem = f"{SPLIT_PREFIX[split]}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
            path = _find(directory, stem)
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N, 28, 28) -> float pixels in [0, 1], flattened: (N, 784)."""
    return torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
