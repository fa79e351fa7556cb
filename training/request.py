"""What a training is asked for and whom it tells as it goes: one TrainingRequest and one
TrainingCallbacks travel together from a page or the command line through the training line,
the cluster, the worker process and the cache down to the loop."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

from vae_core.model import VAEConfig
from vae_core.replay import ReplayFrame
from vae_core.snapshot import Snapshot

PRECISIONS = ("auto", "bf16", "float32")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10  # passes over the 60k training images
    # Images per Adam step, and the one-cycle schedule's peak learning rate: of the batches
    # tried on a 2-core CPU (128 to 512), 256 reached a given test ELBO soonest.
    batch_size: int = 256
    lr: float = 3e-3
    seed: int = 0  # seeds the weights, the shuffling and the sampled z
    # "auto": bfloat16 matrix products where the device multiplies them in hardware (see
    # `fast_bf16`), float32 elsewhere; "bf16" or "float32" to insist. The loss, the optimizer's
    # state and every evaluation stay float32 either way.
    precision: str = "auto"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"learning rate must be positive, got {self.lr}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainingRequest:
    """One model to train: what (the two configs and the data, which make its cache key), where
    it lands (the cache) and what it runs on (the device, the threads).

    Sent as `to_dict()` to a worker process (training.worker reads it as JSON) and to a task of
    the cluster (training.cluster); `from_dict` reads it back.
    """

    model_config: VAEConfig
    train_config: TrainConfig
    data_dir: str | os.PathLike | None = None  # MNIST-format files; None: the bundled MNIST
    cache_dir: str | os.PathLike | None = None  # the model cache; None: the default one
    device: str | None = None  # a torch device; None: cuda if present, else cpu
    # The most torch threads a training in a worker process uses; 0: the cores of the machine
    # it runs on, shared among the trainings running there at once.
    threads: int = 0

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise ValueError(f"threads must be 0 (automatic) or more, got {self.threads}")

    def configs(self) -> tuple[VAEConfig, TrainConfig, str | os.PathLike | None]:
        """What picks the model: the arguments of training.cache's cache_key and cached_path."""
        return self.model_config, self.train_config, self.data_dir

    def to_dict(self) -> dict:
        return {
            "model_config": self.model_config.to_dict(),
            "train_config": self.train_config.to_dict(),
            "data_dir": None if self.data_dir is None else str(self.data_dir),
            "cache_dir": None if self.cache_dir is None else str(self.cache_dir),
            "device": self.device,
            "threads": self.threads,
        }

    @classmethod
    def from_dict(cls, d: dict) -> TrainingRequest:
        """The inverse of to_dict."""
        return cls(
            VAEConfig.from_dict(d["model_config"]),
            TrainConfig(**d["train_config"]),
            d["data_dir"],
            d["cache_dir"],
            d["device"],
            int(d["threads"]),
        )


@dataclass(frozen=True)
class EpochReport:
    """Per-image means in nats after one epoch; what `on_epoch` receives."""

    epoch: int
    epochs: int
    train_loss: float  # the objective: reconstruction + beta * KL
    train_reconstruction: float
    train_kl: float
    test_neg_elbo: float  # reconstruction + KL (beta = 1), one sample of z
    test_reconstruction: float
    test_kl: float
    seconds: float  # since training began
    test_accuracy: float | None = None  # a semi-supervised model's q(y|x) on the test set

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainingCallbacks:
    """Whom a training tells as it goes (training.loop's `train` says when each is called).

    Any of them may raise to stop the training; none changes its result. A cached model, or
    one another process trained meanwhile, calls none of them.
    """

    on_epoch: Callable[[EpochReport], None] | None = None  # after every epoch, its report
    # After every optimizer step: (steps done in the whole run, the run's total steps).
    on_batch: Callable[[int, int], None] | None = None
    on_replay: Callable[[ReplayFrame], None] | None = None  # each epoch's replay frame (2-D)
    on_snapshot: Callable[[Snapshot], None] | None = None  # each epoch's weights, last
