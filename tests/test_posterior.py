"""The exact posterior by quadrature: normalised, consistent with exact_log_px and the ELBO."""

import math

import numpy as np
import pytest
import torch

from vae_core import encode, exact_log_px, exact_posterior, gaussian_kl, load_model, load_split
from vae_core.model import VAE, VAEConfig

ROWS = [0, 1, 2, 3]


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def digits():
    return load_split(None, "test").images[ROWS]


@pytest.fixture(scope="module")
def posteriors(model, digits):
    return [exact_posterior(model, image) for image in digits]


def test_the_density_is_normalised_over_its_ascending_grid(posteriors):
    for p in posteriors:
        n = len(p.z1)
        assert p.log_density.shape == (n, n) and len(p.z2) == n
        assert np.all(np.diff(p.z1) > 0) and np.all(np.diff(p.z2) > 0)
        assert np.exp(p.log_density).sum() * p.cell_area == pytest.approx(1.0, abs=1e-6)


def test_log_px_agrees_with_the_whole_plane_quadrature(model, digits, posteriors):
    whole_plane = exact_log_px(model, digits)
    np.testing.assert_allclose([p.log_px for p in posteriors], whole_plane, atol=0.05)


def test_kl_to_the_posterior_is_the_elbo_gap(model, digits, posteriors):
    """KL(q(z|x) || p(z|x)) = log p(x) - ELBO, both expectations over q by quadrature."""
    mu, sigma = encode(model, digits)
    for p, m, s in zip(posteriors, mu, sigma, strict=True):
        z1, z2 = np.meshgrid(p.z1.astype(np.float64), p.z2.astype(np.float64))  # [j, i]
        log_q = -0.5 * (((z1 - m[0]) / s[0]) ** 2 + ((z2 - m[1]) / s[1]) ** 2)
        log_q -= math.log(2 * math.pi * s[0] * s[1])
        w = np.exp(log_q) * p.cell_area
        assert w.sum() == pytest.approx(1.0, abs=1e-3)  # the window holds q's mass too
        log_prior = -0.5 * (z1**2 + z2**2) - math.log(2 * math.pi)
        log_likelihood = p.log_density + p.log_px - log_prior  # log p(x|z) on the grid
        logvar = torch.tensor(2 * np.log(s, dtype=np.float64))[None]
        kl_prior = float(gaussian_kl(torch.tensor(m, dtype=torch.float64)[None], logvar)[0])
        elbo = float((w * log_likelihood).sum()) - kl_prior
        kl_posterior = float((w * (log_q - p.log_density)).sum())
        assert kl_posterior >= 0
        assert kl_posterior == pytest.approx(p.log_px - elbo, abs=0.05)


def test_a_window_given_is_used_and_bad_input_is_refused(model, digits):
    p = exact_posterior(model, digits[0], n=20, window=(-1.0, 1.0, 0.0, 4.0))
    assert p.z1[0] == pytest.approx(-0.95) and p.z2[-1] == pytest.approx(3.9)
    assert p.log_density.shape == (20, 20)
    with pytest.raises(ValueError, match="one image"):
        exact_posterior(model, digits[:2])
    with pytest.raises(ValueError, match="ascending"):
        exact_posterior(model, digits[0], window=(1.0, -1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="at least 2"):
        exact_posterior(model, digits[0], n=1)
    with pytest.raises(ValueError, match="2-D latent"):
        exact_posterior(VAE(VAEConfig(latent_dim=3, hidden=(8,))), digits[0])
