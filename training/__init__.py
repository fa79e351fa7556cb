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
from .loop import EpochReport, TrainConfig, train

__all__ = [
    "DEFAULT_MODEL_CONFIG",
    "DEFAULT_TRAIN_CONFIG",
    "EpochReport",
    "TrainConfig",
    "cache_key",
    "default_cache_dir",
    "get_or_train",
    "is_cached",
    "train",
    "train_and_save",
]
