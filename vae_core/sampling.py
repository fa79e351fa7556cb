"""New digits from the prior, and the reparameterization trick made visible.

A VAE generates by drawing z ~ p(z) = N(0, I) and decoding it. Training can back-propagate
through a draw from q(z|x) = N(mu, sigma^2) because the draw is written z = mu + sigma * eps
with eps ~ N(0, I) drawn apart (Kingma & Welling 2014, section 2.4): the randomness is in eps,
and z is a differentiable function of mu and sigma.
"""

from __future__ import annotations

import numpy as np


def sample_prior(k: int, latent_dim: int = 2, seed: int = 0) -> np.ndarray:
    """k draws of z from the prior N(0, I): (k, latent_dim), the same for the same seed."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return np.random.default_rng(seed).standard_normal((k, latent_dim)).astype(np.float32)


def reparameterized_draws(mu, sigma, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """k draws from q(z|x) = N(mu, diag(sigma^2)) by the reparameterization trick.

    Returns (eps, z), each (k, D): eps ~ N(0, I) and z = mu + sigma * eps.
    """
    mu = np.asarray(mu, dtype=np.float32).reshape(-1)
    sigma = np.asarray(sigma, dtype=np.float32).reshape(-1)
    if mu.shape != sigma.shape:
        raise ValueError(f"mu and sigma must have one shape, got {mu.shape} and {sigma.shape}")
    if not (sigma > 0).all():
        raise ValueError("sigma must be positive")
    eps = sample_prior(k, len(mu), seed)
    return eps, mu + sigma * eps
