"""What the app and the benchmarks ask of a trained VAE: codes, decodings, likelihoods.

Every function takes and returns plain numpy arrays at its edges (or tensors where noted), runs
without gradients, and works in batches so that the 10k test set fits any machine.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import torch

from .model import PIXELS, VAE, bernoulli_log_likelihood, gaussian_kl

LOG_2PI = math.log(2 * math.pi)


def _as_pixels(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images or float pixels, any leading shape -> float (N, 784) in [0, 1]."""
    t = torch.as_tensor(x)
    if t.dtype == torch.uint8:
        t = t.float() / 255.0
    return t.float().reshape(-1, PIXELS)


def _device(model: VAE) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def encode(model: VAE, x, batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and standard deviations of q(z|x): (N, 28, 28) -> (N, D), (N, D)."""
    x = _as_pixels(x)
    mus, sigmas = [], []
    for i in range(0, len(x), batch_size):
        mu, logvar = model.encode(x[i : i + batch_size].to(_device(model)))
        mus.append(mu.cpu())
        sigmas.append(torch.exp(0.5 * logvar).cpu())
    return torch.cat(mus).numpy(), torch.cat(sigmas).numpy()


@torch.no_grad()
def decode(model: VAE, z) -> np.ndarray:
    """Pixel probabilities for latent points: (N, D) -> (N, 28, 28) floats in [0, 1]."""
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, model.config.latent_dim)
    return model.pixel_probs(z.to(_device(model))).squeeze(1).cpu().numpy()


def grid_axis(n: int, spacing: str = "normal", extent: float = 3.0) -> np.ndarray:
    """n latent coordinates along one axis, ascending.

    "normal": the quantiles (i + 1/2) / n of N(0, 1), as in Kingma & Welling (2014), figure 4,
    so each cell holds the same prior mass. "linear": evenly spaced over [-extent, extent].
    """
    if n < 1:
        raise ValueError(f"grid size must be at least 1, got {n}")
    if spacing == "normal":
        dist = NormalDist()
        return np.array([dist.inv_cdf((i + 0.5) / n) for i in range(n)], dtype=np.float32)
    if spacing == "linear":
        if not extent > 0:
            raise ValueError(f"extent must be positive, got {extent}")
        return np.linspace(-extent, extent, n, dtype=np.float32)
    raise ValueError(f"unknown spacing {spacing!r}: use 'normal' or 'linear'")


def manifold(model: VAE, axis: np.ndarray) -> np.ndarray:
    """Decode the grid axis x axis into one picture: (n,) -> (28n, 28n), z2 rising upwards."""
    n = len(axis)
    z1, z2 = np.meshgrid(axis, axis[::-1])  # row 0 is the top of the picture: the largest z2
    digits = decode(model, np.stack([z1.ravel(), z2.ravel()], axis=1))  # (n*n, 28, 28)
    return digits.reshape(n, n, 28, 28).transpose(0, 2, 1, 3).reshape(28 * n, 28 * n)


@torch.no_grad()
def elbo_terms(
    model: VAE, x, samples: int = 1, seed: int = 0, batch_size: int = 2048
) -> dict[str, np.ndarray]:
    """Per-image negative ELBO (beta = 1) and its terms in nats, averaged over `samples` draws of z.

    Returns arrays of shape (N,): "reconstruction" (E_q[-log p(x|z)]), "kl" (analytic) and
    "neg_elbo" (their sum), whatever beta the model was trained with.
    """
    x = _as_pixels(x)
    generator = torch.Generator(device=_device(model)).manual_seed(seed)
    rec, kl = [], []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(_device(model))
        mu, logvar = model.encode(xb)
        total = torch.zeros(len(xb), device=xb.device)
        for _ in range(samples):
            z = model.reparameterize(mu, logvar, generator)
            total -= bernoulli_log_likelihood(model.decoder(z), xb)
        rec.append((total / samples).cpu())
        kl.append(gaussian_kl(mu, logvar).cpu())
    rec_a, kl_a = torch.cat(rec).numpy(), torch.cat(kl).numpy()
    return {"reconstruction": rec_a, "kl": kl_a, "neg_elbo": rec_a + kl_a}


def _log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)


@torch.no_grad()
def iwae_log_px(model: VAE, x, k: int = 100, seed: int = 0, batch_size: int = 256) -> np.ndarray:
    """Importance-weighted estimate of log p(x) with k samples from q(z|x), per image (N,).

    Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders" (2016): the bound
    log 1/k sum_i p(x, z_i) / q(z_i|x) rises with k towards log p(x); k = 1 is the ELBO.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    x = _as_pixels(x)
    generator = torch.Generator(device=_device(model)).manual_seed(seed)
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(_device(model))
        mu, logvar = model.encode(xb)
        mu_k, logvar_k = mu.expand(k, *mu.shape), logvar.expand(k, *logvar.shape)  # (k, B, D)
        z = model.reparameterize(mu_k, logvar_k, generator)
        logits = model.decoder(z.reshape(-1, z.shape[-1])).reshape(k, len(xb), PIXELS)
        log_px_z = bernoulli_log_likelihood(logits, xb.expand(k, *xb.shape))  # (k, B)
        log_pz = _log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        log_w = log_px_z + log_pz - _log_normal(z, mu_k, logvar_k)
        out.append((torch.logsumexp(log_w, dim=0) - math.log(k)).cpu())
    return torch.cat(out).numpy()


@torch.no_grad()
def exact_log_px(
    model: VAE, x, n: int = 1000, extent: float = 6.0, batch_size: int = 1024, chunk: int = 8192
) -> np.ndarray:
    """log p(x) = log of the integral of p(x|z) p(z) over a 2-D latent plane, by quadrature.

    The midpoint rule on an n x n grid over [-extent, extent]^2. Since log p(x|z) is a dot
    product of x with the decoder's logits, all images share one decoding of the grid and the
    sum is a matrix product. The grid misses prior mass beyond `extent` (< 1e-8 at 6) and the
    posterior's detail finer than 2 * extent / n. On MNIST some posteriors are only ~0.01 wide:
    n = 400 (cells of 0.03) is then off by up to a quarter of a nat, n = 1000 agrees with a
    grid 1.5 times finer to 0.01 nats (the tests and the benchmark compare grid sizes).
    """
    if model.config.latent_dim != 2:
        raise ValueError("exact_log_px integrates over a 2-D latent plane only")
    x = _as_pixels(x)
    device = _device(model)
    axis = torch.linspace(-extent, extent, n + 1, device=device)
    mids = (axis[1:] + axis[:-1]) / 2
    z = torch.cartesian_prod(mids, mids)  # (n*n, 2)
    log_cell = 2 * math.log(2 * extent / n)
    result = torch.full((len(x),), -math.inf, dtype=torch.float64)
    for j in range(0, len(z), chunk):
        zc = z[j : j + chunk]
        logits = model.decoder(zc)  # (G, 784)
        # log p(x|z) = x . logits - sum softplus(logits), for every (image, grid point) pair.
        const = -torch.nn.functional.softplus(logits).sum(dim=1) - 0.5 * zc.pow(2).sum(1) - LOG_2PI
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size].to(device)
            log_joint = xb @ logits.T + const  # (B, G)
            part = torch.logsumexp(log_joint.double(), dim=1).cpu()
            result[i : i + batch_size] = torch.logaddexp(result[i : i + batch_size], part)
    return (result + log_cell).numpy()


def encoder_layers(model: VAE) -> list[tuple[np.ndarray, np.ndarray]]:
    """The encoder's (weight (out, in), bias (out,)) float32 pairs, ReLU between them, in order;
    the last one stacks the mean's head over the log-variance's: (2 * latent_dim, hidden).

    What a client needs to encode an image itself (the browser's drawing pad).
    """
    linears = [m for m in model.encoder if isinstance(m, torch.nn.Linear)]
    pairs = [(m.weight, m.bias) for m in linears]
    pairs.append(
        (
            torch.cat([model.to_mu.weight, model.to_logvar.weight]),
            torch.cat([model.to_mu.bias, model.to_logvar.bias]),
        )
    )
    return [(w.detach().cpu().float().numpy(), b.detach().cpu().float().numpy()) for w, b in pairs]


def decoder_layers(model: VAE) -> list[tuple[np.ndarray, np.ndarray]]:
    """The decoder's (weight (out, in), bias (out,)) float32 pairs, ReLU between them, in order.

    What a client needs to run the decoder itself (the browser's latent pad).
    """
    linears = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    return [
        (m.weight.detach().cpu().float().numpy(), m.bias.detach().cpu().float().numpy())
        for m in linears
    ]
