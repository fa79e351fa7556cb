"""The VAE, its ELBO, the MNIST loader and the inference helpers; no UI code."""

from .checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint
from .data import DataError, load_split
from .inference import decode, elbo_terms, encode, exact_log_px, grid_axis, iwae_log_px, manifold
from .model import VAE, ELBOTerms, VAEConfig, gaussian_kl

__all__ = [
    "VAE",
    "CheckpointError",
    "DataError",
    "ELBOTerms",
    "VAEConfig",
    "decode",
    "elbo_terms",
    "encode",
    "exact_log_px",
    "gaussian_kl",
    "grid_axis",
    "iwae_log_px",
    "load_checkpoint",
    "load_model",
    "load_split",
    "manifold",
    "save_checkpoint",
]
