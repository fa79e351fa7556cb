"""Training replay: where the test digits lie, and what a small manifold decodes, epoch by epoch.

A frame is what one epoch leaves: the posterior means of the test set as float16 (three
significant digits, far finer than a pixel of the plane; 40 kB for 10k digits) and an 8×8
manifold decoded at fixed latent points as uint8. Recording a frame draws no random numbers,
so a training that records one trains the same weights as one that does not. A checkpoint
keeps the frames as `checkpoint["replay"]`; one written before replays were recorded has none.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import torch

from .inference import encode, grid_axis, manifold

REPLAY_GRID = 8  # decoded digits along each axis of the replay's manifold
REPLAY_AXIS = grid_axis(REPLAY_GRID)  # normal quantiles: every cell holds the same prior mass
# A conditional model's z holds the style and not the class, so one class's manifold shows
# what the plane learnt; the frames keep one picture an epoch whatever the model.
REPLAY_CLASS = 0


@dataclass(frozen=True)
class ReplayFrame:
    """One epoch: codes (N, 2) float16, manifold (28n, 28n) uint8 with z2 rising upwards."""

    epoch: int
    codes: np.ndarray
    manifold: np.ndarray

    def to_message(self) -> dict:
        """As JSON values: the arrays' little-endian bytes in base64."""
        return {
            "epoch": self.epoch,
            "codes": base64.b64encode(self.codes.astype("<f2").tobytes()).decode(),
            "manifold": base64.b64encode(self.manifold.tobytes()).decode(),
        }

    @classmethod
    def from_message(cls, message: dict) -> ReplayFrame:
        codes = np.frombuffer(base64.b64decode(message["codes"]), dtype="<f2").reshape(-1, 2)
        pixels = np.frombuffer(base64.b64decode(message["manifold"]), dtype=np.uint8)
        side = int(round(np.sqrt(pixels.size)))
        if side * side != pixels.size:
            raise ValueError(f"a replay frame's manifold of {pixels.size} pixels is not square")
        return cls(int(message["epoch"]), codes, pixels.reshape(side, side))


@dataclass(frozen=True)
class Replay:
    """Every frame of a training: epochs (E,), codes (E, N, 2), manifold (E, 28n, 28n), and
    the manifold's grid axis (n,), the same along z1 and z2."""

    epochs: np.ndarray
    codes: np.ndarray
    manifold: np.ndarray
    axis: np.ndarray

    def __len__(self) -> int:
        return len(self.epochs)

    @classmethod
    def from_frames(cls, frames: list[ReplayFrame], axis: np.ndarray = REPLAY_AXIS) -> Replay:
        return cls(
            np.array([f.epoch for f in frames], dtype=np.int64),
            np.stack([f.codes for f in frames]),
            np.stack([f.manifold for f in frames]),
            np.asarray(axis, dtype=np.float32),
        )

    def to_checkpoint(self) -> dict:
        """The checkpoint's "replay" entry: plain values and tensors, as torch.load(weights_only) reads."""
        return {
            "epochs": [int(e) for e in self.epochs],
            "axis": [float(a) for a in self.axis],
            "codes": torch.from_numpy(np.ascontiguousarray(self.codes, dtype=np.float16)),
            "manifold": torch.from_numpy(np.ascontiguousarray(self.manifold, dtype=np.uint8)),
        }


def replay_of(checkpoint: dict) -> Replay | None:
    """The replay a checkpoint holds; None for one written before replays were recorded."""
    entry = checkpoint.get("replay")
    if entry is None:
        return None
    return Replay(
        np.array(entry["epochs"], dtype=np.int64),
        entry["codes"].numpy(),
        entry["manifold"].numpy(),
        np.array(entry["axis"], dtype=np.float32),
    )


def record_frame(
    model, x, epoch: int, axis: np.ndarray = REPLAY_AXIS, labels=None, codes=None
) -> ReplayFrame:
    """The frame of a model as it stands: codes of images `x` and the manifold at axis × axis.

    A conditional model encodes the images with their `labels` and draws class REPLAY_CLASS's
    manifold. Encodes means only (no draw of z) and decodes fixed points, so no random number
    is used. `codes`, the images' posterior means (N, 2) if the caller has them, saves encoding
    them again.
    """
    mu = encode(model, x, labels)[0] if codes is None else np.asarray(codes)
    grid = manifold(model, axis, REPLAY_CLASS if model.config.conditional else None)
    return ReplayFrame(
        epoch,
        mu.astype(np.float16),
        np.clip(np.rint(grid * 255), 0, 255).astype(np.uint8),
    )
