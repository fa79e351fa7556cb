"""The exact posterior p(z|x) of a 2-D latent, by quadrature, to set beside q(z|x).

With two latent dimensions, p(z|x) = p(x|z) p(z) / p(x) can be evaluated on a grid: the
decoder gives log p(x|z) at every grid point in one batch. Its gap to q(z|x) is the ELBO's:
KL(q(z|x) || p(z|x)) = log p(x) - ELBO(x) (Kingma & Welling 2014, eq. 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .inference import LOG_2PI, _as_pixels, _device
from .model import VAE, bernoulli_log_likelihood

SEARCH_EXTENT = 6.0  # the plane searched for the posterior's mass; the prior has < 1e-8 beyond
SEARCH_CELLS = 120  # the coarse grid (cells of 0.1) that finds that mass
MASS_NATS = 25.0  # cells this far below the peak of log p(x, z) hold under e^-25 of the mass
Q_SIGMAS = 6.0  # the default window also holds q(z|x) out to this many standard deviations


@dataclass(frozen=True)
class Posterior:
    """p(z|x) on an n x n grid of cell centres, normalised over its window."""

    z1: np.ndarray  # (n,) ascending cell centres along z1
    z2: np.ndarray  # (n,) ascending cell centres along z2
    log_density: np.ndarray  # (n, n): log p(z|x) at (z1[i], z2[j]) in [j, i]
    log_px: float  # log p(x): the window holds all but e^-25 of its mass, as exact_log_px would

    @property
    def cell_area(self) -> float:
        return float((self.z1[1] - self.z1[0]) * (self.z2[1] - self.z2[0]))


@torch.no_grad()
def _log_joint(model: VAE, x: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """log p(x|z) + log p(z) on the grid z1 x z2: (784,), (n1,), (n2,) -> (n2, n1)."""
    z = torch.stack(torch.meshgrid(z2, z1, indexing="ij")[::-1], dim=-1).reshape(-1, 2)
    out = []
    for chunk in z.split(16384):
        logits = model.decoder(chunk)  # (G, 784)
        log_px_z = bernoulli_log_likelihood(logits, x.expand(len(chunk), -1))
        out.append(log_px_z - 0.5 * chunk.pow(2).sum(1) - LOG_2PI)
    return torch.cat(out).reshape(len(z2), len(z1))


def _default_window(model: VAE, x: torch.Tensor) -> tuple[float, float, float, float]:
    """A box holding the posterior's mass (found on a coarse grid) and q(z|x)'s."""
    device = _device(model)
    step = 2 * SEARCH_EXTENT / SEARCH_CELLS
    axis = torch.linspace(-SEARCH_EXTENT + step / 2, SEARCH_EXTENT - step / 2, SEARCH_CELLS)
    axis = axis.to(device)
    joint = _log_joint(model, x, axis, axis)
    rows, cols = torch.nonzero(joint > joint.max() - MASS_NATS, as_tuple=True)
    lo1, hi1 = axis[cols.min()].item() - 2 * step, axis[cols.max()].item() + 2 * step
    lo2, hi2 = axis[rows.min()].item() - 2 * step, axis[rows.max()].item() + 2 * step
    mu, logvar = model.encode(x[None])
    mu, sigma = mu[0].tolist(), torch.exp(0.5 * logvar[0]).tolist()
    return (
        min(lo1, mu[0] - Q_SIGMAS * sigma[0]),
        max(hi1, mu[0] + Q_SIGMAS * sigma[0]),
        min(lo2, mu[1] - Q_SIGMAS * sigma[1]),
        max(hi2, mu[1] + Q_SIGMAS * sigma[1]),
    )


@torch.no_grad()
def exact_posterior(
    model: VAE, x, n: int = 192, window: tuple[float, float, float, float] | None = None
) -> Posterior:
    """p(z|x) for one image x (uint8 or floats in [0, 1], 28x28 or 784) on an n x n grid.

    `window` is (z1_lo, z1_hi, z2_lo, z2_hi); by default a box that holds both the
    posterior's mass and q(z|x)'s. The midpoint rule over it: sum(exp(log_density)) times
    the cell area is 1, and log p(x) is the log of the sum of p(x, z) times the cell area.
    """
    if model.config.latent_dim != 2:
        raise ValueError("exact_posterior needs a 2-D latent plane")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    pixels = _as_pixels(x)
    if len(pixels) != 1:
        raise ValueError(f"exact_posterior takes one image, got {len(pixels)}")
    x1 = pixels[0].to(_device(model))
    lo1, hi1, lo2, hi2 = window if window is not None else _default_window(model, x1)
    if not (hi1 > lo1 and hi2 > lo2):
        raise ValueError(f"window must be (z1_lo, z1_hi, z2_lo, z2_hi), ascending; got {window}")
    d1, d2 = (hi1 - lo1) / n, (hi2 - lo2) / n
    z1 = torch.linspace(lo1 + d1 / 2, hi1 - d1 / 2, n, dtype=torch.float64)
    z2 = torch.linspace(lo2 + d2 / 2, hi2 - d2 / 2, n, dtype=torch.float64)
    grid = (z1.float().to(x1.device), z2.float().to(x1.device))
    joint = _log_joint(model, x1, *grid).double().cpu()
    log_px = torch.logsumexp(joint.flatten(), 0) + math.log(d1 * d2)  # the midpoint rule
    return Posterior(
        z1=z1.numpy(),
        z2=z2.numpy(),
        log_density=(joint - log_px).numpy(),
        log_px=float(log_px),
    )
