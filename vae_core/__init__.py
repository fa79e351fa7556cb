"""The VAE, its ELBO, the MNIST loader and the inference helpers; no UI code."""

from .checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint
from .data import DataError, load_split
from .datasets import Dataset, datasets_from, describe
from .inference import (
    classify,
    decode,
    elbo_terms,
    encode,
    exact_log_px,
    grid_axis,
    iwae_log_px,
    manifold,
)
from .model import VAE, ELBOTerms, VAEConfig, gaussian_kl
from .paths import cross_fade, latent_path
from .posterior import Posterior, exact_posterior
from .replay import Replay, ReplayFrame, record_frame, replay_of
from .sampling import reparameterized_draws, sample_prior

__all__ = [
    "VAE",
    "CheckpointError",
    "DataError",
    "Dataset",
    "ELBOTerms",
    "Posterior",
    "Replay",
    "ReplayFrame",
    "VAEConfig",
    "classify",
    "cross_fade",
    "datasets_from",
    "decode",
    "describe",
    "elbo_terms",
    "encode",
    "exact_log_px",
    "exact_posterior",
    "gaussian_kl",
    "grid_axis",
    "iwae_log_px",
    "latent_path",
    "load_checkpoint",
    "load_model",
    "load_split",
    "manifold",
    "record_frame",
    "replay_of",
    "reparameterized_draws",
    "sample_prior",
    "save_checkpoint",
]
