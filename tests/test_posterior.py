"""The exact posterior by quadrature: normalised, consistent with exact_log_px and the ELBO;
and the posterior lens built on it, for a test digit or any image."""

import math

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import posterior_lens
from explorer.model_view import Shown, build_view
from vae_core import encode, exact_log_px, exact_posterior, gaussian_kl, load_model, load_split
from vae_core.model import VAE, VAEConfig, bernoulli_log_likelihood
from vae_core.posterior import decode_plane

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


def whole_plane_log_px(model, digits):
    """The reference: the whole-plane quadrature on a grid fine enough for these digits. Their
    codes lie within |z| < 2.5 and the sharpest posterior's σ is 0.009, narrower than the
    default grid's cells (0.012 over [-6, 6]); cells of 0.006 over [-3, 3] resolve it."""
    return exact_log_px(model, digits, n=1000, extent=3.0)


def test_log_px_agrees_with_the_whole_plane_quadrature(model, digits, posteriors):
    whole_plane = whole_plane_log_px(model, digits)
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


def test_the_decoded_plane_gives_the_decoders_log_joint(model, digits):
    plane = decode_plane(model, cells=30)
    z = torch.cartesian_prod(plane.axis, plane.axis)[:, [1, 0]]  # row j * 30 + i is (z1[i], z2[j])
    x = torch.as_tensor(digits[0]).float().reshape(784) / 255
    with torch.no_grad():
        direct = bernoulli_log_likelihood(model.decoder(z), x.expand(len(z), -1))
    direct = direct - 0.5 * z.pow(2).sum(1) - math.log(2 * math.pi)
    np.testing.assert_allclose(plane.log_joint(x).reshape(-1), direct, rtol=1e-5, atol=1e-3)


def test_log_px_covers_the_whole_plane_through_a_window_zoomed_on_the_bulk(model, digits):
    """A window holding p(z|x) down to e^-12 of its peak, as the lens's picture: the rest of
    the plane, from the coarse grid, still brings log p(x) to the whole plane's."""
    plane = decode_plane(model)
    whole_plane = whole_plane_log_px(model, digits)
    for image, expected in zip(digits, whole_plane, strict=True):
        p = exact_posterior(model, image, n=96, plane=plane)
        j, i = np.nonzero(p.log_density > p.log_density.max() - 12)
        window = (p.z1[i.min()], p.z1[i.max()], p.z2[j.min()], p.z2[j.max()])
        zoomed = exact_posterior(model, image, n=96, window=window, plane=plane)
        assert zoomed.log_px == pytest.approx(expected, abs=0.05)


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


@pytest.fixture(scope="module")
def digit_lens(model):
    test = load_split(None, "test")
    view = build_view(model, test.images[:10], test.labels[:10], "shipped")
    return posterior_lens.lens(Shown(model, view, {}), ROWS[0])


def test_the_lens_of_a_test_digit_is_its_exact_posterior_and_bounds(model, digits, digit_lens):
    d = digit_lens
    z1, z2, log_density = d["z1"], d["z2"], d["log_density"]
    assert log_density.shape == (posterior_lens.GRID, posterior_lens.GRID)
    area = (z1[1] - z1[0]) * (z2[1] - z2[0])
    assert np.exp(log_density).sum() * area == pytest.approx(1.0, abs=1e-6)
    assert d["log_px"] == pytest.approx(exact_log_px(model, digits[:1])[0], abs=0.05)
    assert d["iwae"] < d["log_px"] + 3 * d["iwae_spread"]
    mu, sigma = encode(model, digits[:1])
    np.testing.assert_allclose(d["mu"], mu[0], rtol=1e-6)
    np.testing.assert_allclose(d["sigma"], sigma[0], rtol=1e-6)
    # The picture holds q(z|x)'s 2σ ellipse, drawn over it.
    for k, axis in enumerate((z1, z2)):
        assert axis[0] < mu[0, k] - 2 * sigma[0, k] and mu[0, k] + 2 * sigma[0, k] < axis[-1]


@pytest.mark.slow
def test_the_lens_picture_holds_nearly_all_of_the_posterior(model):
    """What the picture shows is what log p(x) counts, to 1 %, on every digit the lens tests
    and the class tests use."""
    test = load_split(None, "test")
    plane = posterior_lens.decoded_plane(model, "shipped", None)
    held = [posterior_lens.compute(model, plane, image)["held"] for image in test.images[:200]]
    assert min(held) >= posterior_lens.HELD


def test_the_lens_of_an_image_is_the_test_digits_for_its_pixels(model, digits, digit_lens):
    drawn = posterior_lens.lens_of_image(model, "shipped", digits[0].tobytes())
    assert drawn.keys() == digit_lens.keys()
    for name, value in digit_lens.items():
        np.testing.assert_allclose(drawn[name], value, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="784 pixel bytes"):
        posterior_lens.lens_of_image(model, "shipped", bytes(783))


def test_a_blank_image_has_a_lens_too(model):
    blank = posterior_lens.lens_of_image(model, "shipped", bytes(784))
    area = (blank["z1"][1] - blank["z1"][0]) * (blank["z2"][1] - blank["z2"][0])
    assert np.exp(blank["log_density"]).sum() * area == pytest.approx(1.0, abs=1e-6)
    assert np.isfinite(blank["log_px"]) and blank["iwae"] < blank["log_px"] + 0.5


def compact_lens_page():
    import streamlit as st

    from explorer import posterior_lens
    from vae_core import load_model, load_split

    image = load_split(None, "test").images[0]
    data = posterior_lens.lens_of_image(load_model(), "shipped", image.tobytes())
    _, side = st.columns([3, 1])
    with side:
        posterior_lens.show(data, data["log_px"] - 2.0, key="drawn", compact=True)


def test_a_compact_lens_draws_its_figures_and_numbers_under_its_own_keys():
    at = AppTest.from_function(compact_lens_page, default_timeout=120).run()
    assert not at.exception, at.exception
    for name in ("drawn_lens", "drawn_bounds", "drawn_scale"):
        assert at.get_by_key(name) is not None
    numbers = {m.label: float(m.value) for m in at.main.metric}
    assert set(numbers) == {"exact log p(x)", "IWAE, k = 100", "ELBO", "gap = KL(q ‖ p(z|x))"}
    assert numbers["gap = KL(q ‖ p(z|x))"] == pytest.approx(2.0, abs=0.011)
    assert not at.main.markdown  # no explanation in a side column
    at.radio(key="drawn_scale").set_value("log").run()
    assert not at.exception, at.exception
