"""Training, the on-disk model cache, and the `python -m training` command."""

from .cache import (
    DEFAULT_MODEL_CONFIG,
    DEFAULT_TRAIN_CONFIG,
    cache_key,
    default_cache_dir,
    get_or_train,
    is_cached,
    train_and_save,
)
from .loop import train
from .request import EpochReport, TrainConfig, TrainingCallbacks, TrainingRequest

__all__ = [
    "DEFAULT_MODEL_CONFIG",
    "DEFAULT_TRAIN_CONFIG",
    "EpochReport",
    "TrainConfig",
    "TrainingCallbacks",
    "TrainingRequest",
    "cache_key",
    "default_cache_dir",
    "get_or_train",
    "is_cached",
    "train",
    "train_and_save",
]
