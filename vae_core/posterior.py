"""The exact posterior p(z|x) of a 2-D latent, by quadrature, to set beside q(z|x).

With two latent dimensions, p(z|x) = p(x|z) p(z) / p(x) can be evaluated on a grid: the
decoder gives log p(x|z) at every grid point in one batch. Its gap to q(z|x) is the ELBO's:
KL(q(z|x) || p(z|x)) = log p(x) - ELBO(x) (Kingma & Welling 2014, eq. 1).

Under Bernoulli pixels, log p(x|z) = x . l(z) - sum softplus(l(z)) for the decoder's logits
l(z) = W h(z) + b, so x . l(z) = (W^T x) . h(z) + b . x: on a grid fixed in advance, h(z) and
the softplus sum do not depend on x, and a new image costs one matrix-vector product there
(DecodedPlane). Only the window zoomed on an image's posterior needs the decoder run for it.

For a conditional model (Sohn et al. 2015) everything is given the image's class y: p(z|x, y)
against q(z|x, y), log p(x|y), and a plane decoded for that class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .inference import LOG_2PI, _as_labels, _as_pixels, _device
from .model import VAE

SEARCH_EXTENT = 6.0  # the plane searched for the posterior's mass; the prior has < 1e-8 beyond
SEARCH_CELLS = 120  # the coarse grid (cells of 0.1) that finds that mass
MASS_NATS = 25.0  # cells this far below the peak of log p(x, z) hold under e^-25 of the mass
Q_SIGMAS = 6.0  # the default window also holds q(z|x) out to this many standard deviations
CHUNK = 16384  # grid points decoded at once: a few large matrix products beat many small ones


@dataclass(frozen=True)
class Posterior:
    """p(z|x) on an n x n grid of cell centres, normalised over its window."""

    z1: np.ndarray  # (n,) ascending cell centres along z1
    z2: np.ndarray  # (n,) ascending cell centres along z2
    log_density: np.ndarray  # (n, n): log p(z|x) at (z1[i], z2[j]) in [j, i]
    log_px: float  # log p(x) over the whole plane, as exact_log_px: the window's grid plus
    # the coarse plane's cells outside the window
    held: float  # the share of p(z|x) inside the window: its grid's mass over log_px's

    @property
    def cell_area(self) -> float:
        return float((self.z1[1] - self.z1[0]) * (self.z2[1] - self.z2[0]))


def _softplus_sum(logits: torch.Tensor) -> torch.Tensor:
    """sum over the last axis of softplus(l) = max(l, 0) + log(1 + e^-|l|): (G, 784) -> (G,).

    Written with exp and log because torch's softplus and log1p kernels run several times
    slower than those on CPU; log(1 + e) for tiny e loses at most 1e-7 a pixel."""
    return logits.clamp(min=0).sum(1) + logits.abs().neg_().exp_().add_(1).log_().sum(1)


def _hidden_and_logits(
    model: VAE, z: torch.Tensor, label: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The decoder's last hidden layer h(z) and its logits l(z) = W h(z) + b, for class `label`
    (None for a plain model): (G, 2) -> (G, H), (G, 784)."""
    y = None if label is None else torch.full((len(z),), label, device=z.device)
    hidden = model.decoder[:-1](model.with_labels(z, y))
    return hidden, model.decoder[-1](hidden)


def _log_prior(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * z.pow(2).sum(1) - LOG_2PI


def _grid(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """The points (z1[i], z2[j]) in row j * len(z1) + i: (n1,), (n2,) -> (n1 * n2, 2)."""
    return torch.stack(torch.meshgrid(z2, z1, indexing="ij")[::-1], dim=-1).reshape(-1, 2)


def _one_label(model: VAE, label) -> int | None:
    """One image's class as an int, checked against the model; None for a plain model."""
    y = _as_labels(model, label, 1)
    return None if y is None else int(y[0])


def _log_joint(
    model: VAE, x: torch.Tensor, label: int | None, z1: torch.Tensor, z2: torch.Tensor
) -> torch.Tensor:
    """log p(x|z) + log p(z) on the grid z1 x z2: (784,), (n1,), (n2,) -> (n2, n1)."""
    out = []
    for chunk in _grid(z1, z2).split(CHUNK):
        _, logits = _hidden_and_logits(model, chunk, label)
        out.append(logits @ x - _softplus_sum(logits) + _log_prior(chunk))
    return torch.cat(out).reshape(len(z2), len(z1))


@dataclass(frozen=True)
class DecodedPlane:
    """What log p(x, z) on a fixed grid over the plane needs that does not depend on x.

    Made once per model by decode_plane; then log_joint(x) is a matrix-vector product."""

    axis: torch.Tensor  # (m,) cell centres along either axis over [-extent, extent]
    hidden: torch.Tensor  # (m * m, H): the decoder's last hidden layer at _grid(axis, axis)
    weight: torch.Tensor  # (784, H): its output layer
    bias: torch.Tensor  # (784,)
    rest: torch.Tensor  # (m * m,): log p(z) - sum softplus(l(z)), the part free of x
    label: int | None  # the class a conditional model's decoder was given; None for a plain one

    @property
    def cell_area(self) -> float:
        return float(self.axis[1] - self.axis[0]) ** 2

    def log_joint(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) + log p(z) on the plane's grid for pixels x (784,): (m, m), [j, i]."""
        x_dot_logits = self.hidden @ (self.weight.T @ x) + self.bias @ x
        return (x_dot_logits + self.rest).reshape(len(self.axis), len(self.axis))


@torch.inference_mode()
def decode_plane(
    model: VAE, label: int | None = None, cells: int = SEARCH_CELLS, extent: float = SEARCH_EXTENT
) -> DecodedPlane:
    """The decoder on a cells x cells grid of cell centres over [-extent, extent]^2, for
    exact_posterior to share between images (about 30 MB for the defaults and H = 512).

    A conditional model needs `label`: the plane serves the images of that class."""
    label = _one_label(model, label)
    step = 2 * extent / cells
    axis = torch.linspace(-extent + step / 2, extent - step / 2, cells, device=_device(model))
    hidden, rest = [], []
    for chunk in _grid(axis, axis).split(CHUNK):
        h, logits = _hidden_and_logits(model, chunk, label)
        hidden.append(h)
        rest.append(_log_prior(chunk) - _softplus_sum(logits))
    last = model.decoder[-1]
    return DecodedPlane(
        axis=axis,
        hidden=torch.cat(hidden),
        weight=last.weight.detach().clone(),
        bias=last.bias.detach().clone(),
        rest=torch.cat(rest),
        label=label,
    )


def _mass_window(
    model: VAE, x: torch.Tensor, label: int | None, plane: DecodedPlane, joint: torch.Tensor
) -> tuple[float, float, float, float]:
    """A box holding the posterior's mass (its plane cells within MASS_NATS of the peak, and
    two cells more) and q(z|x)'s out to Q_SIGMAS."""
    axis, step = plane.axis, float(plane.axis[1] - plane.axis[0])
    rows, cols = torch.nonzero(joint > joint.max() - MASS_NATS, as_tuple=True)
    lo1, hi1 = axis[cols.min()].item() - 2 * step, axis[cols.max()].item() + 2 * step
    lo2, hi2 = axis[rows.min()].item() - 2 * step, axis[rows.max()].item() + 2 * step
    y = None if label is None else torch.tensor([label], device=x.device)
    mu, logvar = model.encode(x[None], y)
    mu, sigma = mu[0].tolist(), torch.exp(0.5 * logvar[0]).tolist()
    return (
        min(lo1, mu[0] - Q_SIGMAS * sigma[0]),
        max(hi1, mu[0] + Q_SIGMAS * sigma[0]),
        min(lo2, mu[1] - Q_SIGMAS * sigma[1]),
        max(hi2, mu[1] + Q_SIGMAS * sigma[1]),
    )


@torch.inference_mode()
def exact_posterior(
    model: VAE,
    x,
    label: int | None = None,
    n: int = 192,
    window: tuple[float, float, float, float] | None = None,
    plane: DecodedPlane | None = None,
) -> Posterior:
    """p(z|x) for one image x (uint8 or floats in [0, 1], 28x28 or 784) on an n x n grid.

    `window` is (z1_lo, z1_hi, z2_lo, z2_hi); by default a box that holds both the
    posterior's mass and q(z|x)'s. The midpoint rule over it: sum(exp(log_density)) times
    the cell area is 1. log p(x) adds to the window's sum of p(x, z) times the cell area the
    same sum over the cells of `plane` (decode_plane(model) unless given) whose centres lie
    outside the window, so it covers the whole plane however tight the window.

    A conditional model needs the image's class `label`, and gives p(z|x, y) and log p(x|y);
    a `plane` given must have been decoded for that class.
    """
    if model.config.latent_dim != 2:
        raise ValueError("exact_posterior needs a 2-D latent plane")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    pixels = _as_pixels(x)
    if len(pixels) != 1:
        raise ValueError(f"exact_posterior takes one image, got {len(pixels)}")
    label = _one_label(model, label)
    x1 = pixels[0].to(_device(model))
    plane = plane if plane is not None else decode_plane(model, label)
    if plane.label != label:
        raise ValueError(f"the plane was decoded for class {plane.label}, not {label}")
    coarse = plane.log_joint(x1)
    if window is None:
        window = _mass_window(model, x1, label, plane, coarse)
    lo1, hi1, lo2, hi2 = window
    if not (hi1 > lo1 and hi2 > lo2):
        raise ValueError(f"window must be (z1_lo, z1_hi, z2_lo, z2_hi), ascending; got {window}")
    d1, d2 = (hi1 - lo1) / n, (hi2 - lo2) / n
    z1 = torch.linspace(lo1 + d1 / 2, hi1 - d1 / 2, n, dtype=torch.float64)
    z2 = torch.linspace(lo2 + d2 / 2, hi2 - d2 / 2, n, dtype=torch.float64)
    grid = (z1.float().to(x1.device), z2.float().to(x1.device))
    joint = _log_joint(model, x1, label, *grid).double().cpu()
    log_window = torch.logsumexp(joint.flatten(), 0) + math.log(d1 * d2)  # the midpoint rule
    axis = plane.axis.cpu()
    out1, out2 = (axis < lo1) | (axis > hi1), (axis < lo2) | (axis > hi2)
    outside = coarse.double().cpu()[out2[:, None] | out1[None, :]]
    log_rest = torch.logsumexp(outside, 0) + math.log(plane.cell_area)  # -inf if none
    log_px = torch.logaddexp(log_window, log_rest)
    return Posterior(
        z1=z1.numpy(),
        z2=z2.numpy(),
        log_density=(joint - log_window).numpy(),
        log_px=float(log_px),
        held=float(torch.exp(log_window - log_px)),
    )
