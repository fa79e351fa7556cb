import math

import pytest
import torch

from vae_core.model import VAE, VAEConfig, bernoulli_log_likelihood, gaussian_kl


@pytest.fixture
def model():
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=2, hidden=(64, 32)))


def test_shapes_for_both_input_layouts(model):
    x = torch.rand(5, 1, 28, 28)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 2)
    mu_flat, _ = model.encode(x.reshape(5, 784))
    torch.testing.assert_close(mu, mu_flat)
    z = torch.randn(7, 2)
    assert model.decode_logits(z).shape == (7, 1, 28, 28)
    p = model.pixel_probs(z)
    torch.testing.assert_close(p, torch.sigmoid(model.decode_logits(z)))
    assert ((p > 0) & (p < 1)).all()


def test_decoder_mirrors_encoder_widths():
    model = VAE(VAEConfig(latent_dim=3, hidden=(100, 50)))
    enc = [m.out_features for m in model.encoder if isinstance(m, torch.nn.Linear)]
    dec = [m.out_features for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert enc == [100, 50] and dec == [50, 100, 784]
    assert model.to_mu.out_features == model.to_logvar.out_features == 3


def test_analytic_kl_matches_monte_carlo():
    torch.manual_seed(1)
    mu = torch.tensor([[0.5, -1.0], [2.0, 0.1]])
    logvar = torch.tensor([[-1.0, 0.3], [-2.5, 0.0]])
    analytic = gaussian_kl(mu, logvar)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(0.0, 1.0)
    z = q.sample((200_000,))
    monte_carlo = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    torch.testing.assert_close(analytic, monte_carlo, atol=0.02, rtol=0.01)
    # And against torch's own closed form.
    torch.testing.assert_close(
        analytic, torch.distributions.kl_divergence(q, p).sum(-1), atol=1e-5, rtol=1e-5
    )


def test_kl_is_zero_at_the_prior():
    assert gaussian_kl(torch.zeros(3, 2), torch.zeros(3, 2)).abs().max() == 0


def test_bernoulli_log_likelihood_matches_the_formula():
    logits = torch.tensor([[2.0, -1.0, 0.0]])
    x = torch.tensor([[1.0, 0.25, 0.5]])
    p = torch.sigmoid(logits)
    expected = (x * p.log() + (1 - x) * (1 - p).log()).sum(-1)
    torch.testing.assert_close(bernoulli_log_likelihood(logits, x), expected)


def test_loss_is_reconstruction_plus_beta_kl(model):
    x = torch.rand(4, 784)
    for beta in (1.0, 4.0):
        m = VAE(VAEConfig(hidden=(64, 32), beta=beta))
        m.load_state_dict(model.state_dict())
        terms = m.loss_terms(x, torch.Generator().manual_seed(0))
        assert terms.loss.shape == terms.reconstruction.shape == terms.kl.shape == (4,)
        torch.testing.assert_close(terms.loss, terms.reconstruction + beta * terms.kl)
        # The reconstruction term is the Bernoulli cross-entropy summed over all 784 pixels.
        mu, logvar = m.encode(x)
        z = m.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
        bce = torch.nn.functional.binary_cross_entropy(
            m.pixel_probs(z).reshape(4, 784), x, reduction="none"
        )
        torch.testing.assert_close(terms.reconstruction, bce.sum(-1), atol=1e-3, rtol=1e-4)
        torch.testing.assert_close(terms.kl, gaussian_kl(mu, logvar))


def test_gradients_flow_through_the_sample(model):
    mu = torch.zeros(3, 2, requires_grad=True)
    logvar = torch.zeros(3, 2, requires_grad=True)
    z = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones(3, 2))
    assert logvar.grad.abs().sum() > 0
    # Through the whole loss, the reconstruction term reaches the encoder via z.
    x = torch.rand(8, 784)
    model.zero_grad()
    model.loss_terms(x).reconstruction.sum().backward()
    assert model.to_mu.weight.grad.abs().sum() > 0
    assert model.to_logvar.weight.grad.abs().sum() > 0


def test_sampling_has_the_posterior_moments():
    mu, logvar = torch.tensor([[1.0, -2.0]]), torch.tensor([[math.log(0.25), 0.0]])
    z = VAE.reparameterize(mu.expand(100_000, 2), logvar.expand(100_000, 2))
    torch.testing.assert_close(z.mean(0), mu[0], atol=0.01, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([0.5, 1.0]), atol=0.01, rtol=0)


@pytest.mark.parametrize(
    "kwargs", [{"latent_dim": 0}, {"hidden": ()}, {"hidden": (0,)}, {"beta": -1.0}]
)
def test_bad_config_is_refused(kwargs):
    with pytest.raises(ValueError):
        VAEConfig(**kwargs)


def test_config_round_trips_through_a_plain_dict():
    c = VAEConfig(latent_dim=3, hidden=(128, 64), beta=0.5)
    assert VAEConfig.from_dict(c.to_dict()) == c
    assert c.to_dict() == {
        "latent_dim": 3,
        "hidden": [128, 64],
        "beta": 0.5,
        "conditional": False,
        "classes": 10,
        "semi_supervised": False,
        "labelled": 0,
    }


def test_one_name_per_concept(model):
    """The numpy helpers vae_core.decode and vae_core.elbo_terms own those names; the model's
    tensor methods are pixel_probs and loss_terms, and forward is the training loss."""
    assert not hasattr(model, "decode") and not hasattr(model, "elbo_terms")
    x = torch.rand(3, 784)
    torch.manual_seed(5)
    by_forward = model(x)
    torch.manual_seed(5)
    torch.testing.assert_close(by_forward, model.loss_terms(x))
