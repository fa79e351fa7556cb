"""What the app and the benchmarks ask of a trained VAE: codes, decodings, likelihoods.

Every function takes and returns plain numpy arrays at its edges (or tensors where noted), runs
without gradients, and works in batches so that the 10k test set fits any machine.

A conditional model (VAEConfig(conditional=True), Sohn et al. 2015) needs the class of what it
encodes or decodes: `labels` is one class for all, or one per image or point; its likelihoods
are then log p(x|y). A plain model refuses labels. Either mistake raises a ValueError saying so.
A semi-supervised model (M2, Kingma et al. 2014) is conditional too, and `classify` gives its
q(y|x).
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


def _as_labels(model: VAE, labels, n: int) -> torch.Tensor | None:
    """The classes of n images or points as int64 (n,); None for a plain model.

    `labels` is one class for all or a sequence of n; a mismatch with the model (labels for a
    plain one, none for a conditional one), a wrong length or a class out of range raises.
    """
    model.check_labels_given(labels is not None)
    if labels is None:
        return None
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, got {y.dtype} values")
    if y.ndim == 0:
        y = np.full(n, y)
    if y.shape != (n,):
        raise ValueError(
            f"labels must be one class for all or one per point ({n} of them), not of shape "
            f"{y.shape}"
        )
    classes = model.config.classes
    if n and not (0 <= y.min() and y.max() < classes):
        raise ValueError(f"labels must lie in 0..{classes - 1}, got {y.min()}..{y.max()}")
    return torch.from_numpy(y.astype(np.int64))


def _device(model: VAE) -> torch.device:
    return next(model.parameters()).device


def _rows(y: torch.Tensor | None, i: int, j: int, device: torch.device) -> torch.Tensor | None:
    """Labels i:j on the model's device, for the batch of images or points i:j."""
    return None if y is None else y[i:j].to(device)


@torch.no_grad()
def encode(model: VAE, x, labels=None, batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and standard deviations of q(z|x) (q(z|x, y) for a conditional model,
    which needs `labels`): (N, 28, 28) -> (N, D), (N, D)."""
    x = _as_pixels(x)
    y = _as_labels(model, labels, len(x))
    device = _device(model)
    mus, sigmas = [], []
    for i in range(0, len(x), batch_size):
        mu, logvar = model.encode(
            x[i : i + batch_size].to(device), _rows(y, i, i + batch_size, device)
        )
        mus.append(mu.cpu())
        sigmas.append(torch.exp(0.5 * logvar).cpu())
    return torch.cat(mus).numpy(), torch.cat(sigmas).numpy()


@torch.no_grad()
def decode(model: VAE, z, labels=None) -> np.ndarray:
    """Pixel probabilities for latent points: (N, D) -> (N, 28, 28) floats in [0, 1].

    A conditional model draws the digit of class `labels` (one for all, or one per point)."""
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, model.config.latent_dim)
    y = _as_labels(model, labels, len(z))
    device = _device(model)
    return model.pixel_probs(z.to(device), _rows(y, 0, len(z), device)).squeeze(1).cpu().numpy()


@torch.no_grad()
def classify(model: VAE, images, batch_size: int = 4096):
    """A semi-supervised model's (M2, Kingma et al. 2014) q(y|x): class probabilities (N, C).

    `images` are N 28x28 images, (N, 28, 28), (N, 1, 28, 28) or (N, 784), as floats in [0, 1]
    or uint8, numpy or torch; the probabilities come back as the same kind, float32, on the
    CPU. Anything else raises a ValueError saying what was wrong.
    """
    if not model.config.semi_supervised:
        raise ValueError(
            "this VAE has no classifier q(y|x): only a semi-supervised one (M2, trained with "
            "`python -m training --labels N`) learns one."
        )
    as_torch = isinstance(images, torch.Tensor)
    x = images.detach().cpu() if as_torch else np.asarray(images)
    if x.ndim not in (2, 3, 4) or tuple(x.shape[1:]) not in ((PIXELS,), (28, 28), (1, 28, 28)):
        raise ValueError(
            "images must be N pictures of 28x28 pixels, shaped (N, 28, 28), (N, 1, 28, 28) or "
            f"(N, 784); got shape {tuple(x.shape)}"
        )
    x = _as_pixels(x)
    if len(x) and not (torch.isfinite(x).all() and x.min() >= 0 and x.max() <= 1):
        raise ValueError(
            "pixels must lie in [0, 1] (or be uint8 0..255); divide 8-bit images by 255 first"
        )
    device = _device(model)
    probs = [
        torch.softmax(model.class_logits(x[i : i + batch_size].to(device)).float(), -1).cpu()
        for i in range(0, len(x), batch_size)
    ]
    out = torch.cat(probs) if probs else torch.zeros(0, model.config.classes)
    return out if as_torch else out.numpy()


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


def manifold(model: VAE, axis: np.ndarray, label: int | None = None) -> np.ndarray:
    """Decode the grid axis x axis into one picture: (n,) -> (28n, 28n), z2 rising upwards.

    A conditional model needs `label`, the one class the whole picture shows."""
    n = len(axis)
    z1, z2 = np.meshgrid(axis, axis[::-1])  # row 0 is the top of the picture: the largest z2
    digits = decode(model, np.stack([z1.ravel(), z2.ravel()], axis=1), label)  # (n*n, 28, 28)
    return digits.reshape(n, n, 28, 28).transpose(0, 2, 1, 3).reshape(28 * n, 28 * n)


@torch.no_grad()
def elbo_terms(
    model: VAE, x, labels=None, samples: int = 1, seed: int = 0, batch_size: int = 2048
) -> dict[str, np.ndarray]:
    """Per-image negative ELBO (beta = 1) and its terms in nats, averaged over `samples` draws of z.

    Returns arrays of shape (N,): "reconstruction" (E_q[-log p(x|z)]), "kl" (analytic) and
    "neg_elbo" (their sum), whatever beta the model was trained with. A conditional model
    needs the images' `labels` and bounds log p(x|y).
    """
    x = _as_pixels(x)
    y = _as_labels(model, labels, len(x))
    device = _device(model)
    generator = torch.Generator(device=device).manual_seed(seed)
    rec, kl = [], []
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size].to(device), _rows(y, i, i + batch_size, device)
        mu, logvar = model.encode(xb, yb)
        total = torch.zeros(len(xb), device=xb.device)
        for _ in range(samples):
            z = model.reparameterize(mu, logvar, generator)
            total -= bernoulli_log_likelihood(model.decoder(model.with_labels(z, yb)), xb)
        rec.append((total / samples).cpu())
        kl.append(gaussian_kl(mu, logvar).cpu())
    rec_a, kl_a = torch.cat(rec).numpy(), torch.cat(kl).numpy()
    return {"reconstruction": rec_a, "kl": kl_a, "neg_elbo": rec_a + kl_a}


def _log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)


@torch.no_grad()
def iwae_log_px(
    model: VAE, x, labels=None, k: int = 100, seed: int = 0, batch_size: int = 256
) -> np.ndarray:
    """Importance-weighted estimate of log p(x) with k samples from q(z|x), per image (N,).

    Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders" (2016): the bound
    log 1/k sum_i p(x, z_i) / q(z_i|x) rises with k towards log p(x); k = 1 is the ELBO.
    A conditional model needs the images' `labels` and estimates log p(x|y).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    x = _as_pixels(x)
    y = _as_labels(model, labels, len(x))
    device = _device(model)
    generator = torch.Generator(device=device).manual_seed(seed)
    out = []
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size].to(device), _rows(y, i, i + batch_size, device)
        mu, logvar = model.encode(xb, yb)
        mu_k, logvar_k = mu.expand(k, *mu.shape), logvar.expand(k, *logvar.shape)  # (k, B, D)
        z = model.reparameterize(mu_k, logvar_k, generator)
        y_k = None if yb is None else yb.repeat(k)  # (B,) -> (k * B,), as z's rows
        z_in = model.with_labels(z.reshape(-1, z.shape[-1]), y_k)  # (k * B, D [+ C])
        logits = model.decoder(z_in).reshape(k, len(xb), PIXELS)
        log_px_z = bernoulli_log_likelihood(logits, xb.expand(k, *xb.shape))  # (k, B)
        log_pz = _log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        log_w = log_px_z + log_pz - _log_normal(z, mu_k, logvar_k)
        out.append((torch.logsumexp(log_w, dim=0) - math.log(k)).cpu())
    return torch.cat(out).numpy()


@torch.no_grad()
def exact_log_px(
    model: VAE,
    x,
    labels=None,
    n: int = 1000,
    extent: float = 6.0,
    batch_size: int = 1024,
    chunk: int = 8192,
) -> np.ndarray:
    """log p(x) = log of the integral of p(x|z) p(z) over a 2-D latent plane, by quadrature.

    The midpoint rule on an n x n grid over [-extent, extent]^2. Since log p(x|z) is a dot
    product of x with the decoder's logits, all images share one decoding of the grid and the
    sum is a matrix product. The grid misses prior mass beyond `extent` (< 1e-8 at 6) and the
    posterior's detail finer than 2 * extent / n. On MNIST some posteriors are only ~0.01 wide:
    n = 400 (cells of 0.03) is then off by up to a quarter of a nat, n = 1000 agrees with a
    grid 1.5 times finer to 0.01 nats (the tests and the benchmark compare grid sizes).
    A conditional model needs the images' `labels` and gives log p(x|y): the images of each
    class share that class's decoding of the grid.
    """
    if model.config.latent_dim != 2:
        raise ValueError("exact_log_px integrates over a 2-D latent plane only")
    x = _as_pixels(x)
    y = _as_labels(model, labels, len(x))
    if y is None:
        return _plane_log_px(model, x, None, n, extent, batch_size, chunk)
    out = np.empty(len(x))
    for label in y.unique().tolist():
        rows = y == label
        out[rows.numpy()] = _plane_log_px(model, x[rows], label, n, extent, batch_size, chunk)
    return out


def _plane_log_px(
    model: VAE,
    x: torch.Tensor,
    label: int | None,
    n: int,
    extent: float,
    batch_size: int,
    chunk: int,
) -> np.ndarray:
    """exact_log_px for images x (N, 784) all of one class `label` (None for a plain model)."""
    device = _device(model)
    axis = torch.linspace(-extent, extent, n + 1, device=device)
    mids = (axis[1:] + axis[:-1]) / 2
    z = torch.cartesian_prod(mids, mids)  # (n*n, 2)
    log_cell = 2 * math.log(2 * extent / n)
    result = torch.full((len(x),), -math.inf, dtype=torch.float64)
    for j in range(0, len(z), chunk):
        zc = z[j : j + chunk]
        yc = None if label is None else torch.full((len(zc),), label, device=device)
        logits = model.decoder(model.with_labels(zc, yc))  # (G, 784)
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

    What a client needs to encode an image itself (the browser's drawing pad). A conditional
    model's first layer reads [pixels, one-hot class]: (hidden, 784 + classes).
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

    What a client needs to run the decoder itself (the browser's latent pad). A conditional
    model's first layer reads [z, one-hot class]: (hidden, latent_dim + classes).
    """
    linears = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    return [
        (m.weight.detach().cpu().float().numpy(), m.bias.detach().cpu().float().numpy())
        for m in linears
    ]
