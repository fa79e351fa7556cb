"""MNIST-format IDX files: read, validate, and turn into training tensors.

The IDX format (LeCun et al.) is a big-endian header (magic number, dimension sizes) followed
by raw uint8 values. MNIST, Fashion-MNIST and KMNIST all ship the same four file names, so
any directory holding them, gzip-compressed or not, can be loaded.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from i18n import N_, lazy

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
        raise DataError(
            lazy(
                "data directory {directory} does not exist or is not a directory.",
                directory=directory,
            )
        )
    return directory


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise DataError(
        lazy(
            "missing data file: neither {plain} nor {gzipped} exists. "
            "Give a directory holding the four MNIST-format IDX files "
            "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
            "t10k-labels-idx1-ubyte, each optionally .gz).",
            plain=directory / stem,
            gzipped=directory / (stem + ".gz"),
        )
    )


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        # One call for the whole file rather than gzip.open's reads of a few kB at a time.
        return gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            lazy(
                "{path}: cannot read it ({error}); the file is damaged or truncated.",
                path=path,
                error=str(exc),
            )
        ) from exc


def read_idx(path: str | Path, expected_magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes into an array shaped as its header says."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(
            lazy(
                "{path}: only {size} bytes, too short for an IDX header.", path=path, size=len(raw)
            )
        )
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise DataError(
            lazy(
                "{path}: wrong magic number 0x{magic:08x} (expected 0x{expected:08x}); "
                "this is not the IDX file its name says.",
                path=path,
                magic=magic,
                expected=expected_magic,
            )
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(
            lazy(
                "{path}: truncated header ({size} bytes, need {header}).",
                path=path,
                size=len(raw),
                header=header,
            )
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        if len(raw) < expected:
            message = N_(
                "{path}: truncated: header gives shape {shape}, so {expected} bytes, "
                "but the file holds {size}."
            )
        else:
            message = N_(
                "{path}: longer than its header says: header gives shape {shape}, so {expected} "
                "bytes, but the file holds {size}."
            )
        raise DataError(lazy(message, path=path, shape=shape, expected=expected, size=len(raw)))
    return np.frombuffer(bytearray(raw), dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an uncompressed IDX file, atomically: a reader sees the whole
    file or none (it is written beside, then renamed over `path`)."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = 0x00000800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(header)
            out.write(array.tobytes())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return path


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
            lazy(
                "{path}: images are {height}x{width}, expected {side}x{side}.",
                path=images_path,
                height=images.shape[1],
                width=images.shape[2],
                side=IMAGE_SIDE,
            )
        )
    if len(images) != len(labels):
        raise DataError(
            lazy(
                "{images_path} holds {images} images but {labels_path} holds {labels} labels; "
                "the two files must be of the same split.",
                images_path=images_path,
                images=len(images),
                labels_path=labels_path,
                labels=len(labels),
            )
        )
    if len(images) == 0:
        raise DataError(lazy("{path}: holds no images.", path=images_path))
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
    # The same float32 quotients as `astype(np.float32) / 255.0`, written straight into memory
    # of torch's: no second array as large (188 MB for MNIST's training set), and none of
    # numpy's huge-page requests for large arrays, which made its first write cost 0.5 to 1.2 s
    # of CPU at a training's start on the development machine (a VM), against 0.13 s.
    flat = images.reshape(len(images), -1)
    pixels = torch.empty(flat.shape, dtype=torch.float32)
    np.divide(flat, np.float32(255.0), out=pixels.numpy())
    return pixels
