"""vae_core.sampling: draws from the prior, and z = mu + sigma * eps."""

import numpy as np
import pytest

from vae_core import reparameterized_draws, sample_prior


def test_prior_draws_are_standard_normal_and_repeat_for_a_seed():
    z = sample_prior(20_000, seed=3)
    assert z.shape == (20_000, 2) and z.dtype == np.float32
    assert np.abs(z.mean(0)).max() < 0.03 and np.abs(z.std(0) - 1).max() < 0.03
    assert abs(np.corrcoef(z.T)[0, 1]) < 0.03
    assert np.array_equal(sample_prior(5, seed=3), z[:5])
    assert not np.array_equal(sample_prior(5, seed=4), z[:5])
    with pytest.raises(ValueError, match="at least 1"):
        sample_prior(0)


def test_reparameterized_draws_are_mu_plus_sigma_times_eps_and_follow_q():
    mu, sigma = [1.5, -0.5], [0.2, 0.05]
    eps, z = reparameterized_draws(mu, sigma, 6, seed=1)
    assert np.array_equal(eps, sample_prior(6, seed=1))
    assert np.allclose(z, np.array(mu) + np.array(sigma) * eps)
    _, many = reparameterized_draws(mu, sigma, 50_000, seed=2)
    assert many.mean(0) == pytest.approx(mu, abs=0.005)
    assert many.std(0) == pytest.approx(sigma, rel=0.02)
    with pytest.raises(ValueError, match="positive"):
        reparameterized_draws(mu, [0.2, 0.0], 3)
    with pytest.raises(ValueError, match="one shape"):
        reparameterized_draws(mu, [0.2], 3)
