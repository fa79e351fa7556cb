"""A training snapshot: a model's weights as one epoch of its training left them.

A page that asked for a new model explores it while it trains: after each epoch the worker
sends its weights, and the page rebuilds the model from them, so every view decodes and
encodes with the latest weights. They travel as float16 (half the bytes; a weight's relative
error is at most 2^-11, far below what a decoded pixel shows), as JSON values: each tensor's
little-endian bytes in base64, with its name and shape.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import torch

from .model import VAE, VAEConfig


@dataclass(frozen=True)
class Snapshot:
    """The weights after `epoch` of `epochs`: parameter name -> float16 array."""

    epoch: int
    epochs: int
    weights: dict[str, np.ndarray]

    @classmethod
    def of(cls, model: VAE, epoch: int, epochs: int) -> Snapshot:
        weights = {
            name: tensor.detach().cpu().numpy().astype(np.float16)
            for name, tensor in model.state_dict().items()
        }
        return cls(epoch, epochs, weights)

    @property
    def nbytes(self) -> int:
        return sum(w.nbytes for w in self.weights.values())

    def to_message(self) -> dict:
        return {
            "epoch": self.epoch,
            "epochs": self.epochs,
            "weights": {
                name: {
                    "shape": list(w.shape),
                    "data": base64.b64encode(w.astype("<f2").tobytes()).decode(),
                }
                for name, w in self.weights.items()
            },
        }

    @classmethod
    def from_message(cls, message: dict) -> Snapshot:
        weights = {}
        for name, entry in message["weights"].items():
            shape = tuple(int(s) for s in entry["shape"])
            data = np.frombuffer(base64.b64decode(entry["data"]), dtype="<f2")
            weights[str(name)] = data.reshape(shape)  # raises if the sizes disagree
        return cls(int(message["epoch"]), int(message["epochs"]), weights)

    def model(self, config: VAEConfig) -> VAE:
        """The model these weights make, in float32 and eval mode.

        Raises ValueError if they are not the weights of a model of `config`.
        """
        model = VAE(config)
        state = {name: torch.from_numpy(w.astype(np.float32)) for name, w in self.weights.items()}
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise ValueError(f"the snapshot's weights do not fit this model: {exc}") from exc
        return model.eval()
