"""A variational autoencoder for 28x28 images with Bernoulli pixels.

Kingma & Welling, "Auto-Encoding Variational Bayes" (2014), https://arxiv.org/abs/1312.6114:
the encoder gives the mean and log-variance of a diagonal Gaussian q(z|x), z is drawn with the
reparameterization trick, the decoder gives Bernoulli logits for each pixel, and training
maximizes the evidence lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)) <= log p(x).

The KL weight `beta` follows Higgins et al., "beta-VAE" (2017); beta = 1 is the true ELBO.

A conditional VAE (Sohn, Lee & Yan, "Learning Structured Output Representation using Deep
Conditional Generative Models", NeurIPS 2015) also gives the encoder
and the decoder the class y, one-hot: q(z|x, y) and p(x|z, y), with the prior p(z) = N(0, I)
left free of y, so that z keeps the style and y the digit. Its bound is on log p(x|y).

The semi-supervised VAE, model M2 of Kingma, Rezende, Mohamed & Welling, "Semi-supervised
Learning with Deep Generative Models" (NeurIPS 2014), is that conditional VAE with the class
made a latent variable: a classifier q(y|x) beside q(z|x, y) and p(x|y, z), the prior p(y)
uniform. A labelled image's loss is its bound on -log p(x, y) (their eq. 6),

    L(x, y) = -E_q(z|x,y)[log p(x|y, z)] + KL(q(z|x, y) || p(z)) - log p(y),

an unlabelled image's sums it over the classes its classifier gives (eq. 7),

    U(x) = sum_y q(y|x) L(x, y) - H(q(y|x)) = E_q(y|x)[L(x, y) + log p(y)] + KL(q(y|x) || p(y)),

and the labelled images also train the classifier directly (eq. 9): alpha * -log q(y|x).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_SHAPE = (1, 28, 28)
PIXELS = 28 * 28


@dataclass(frozen=True)
class VAEConfig:
    latent_dim: int = 2  # size of z; the explorer's plane needs 2
    # Encoder layer widths, 784 -> ...; the decoder mirrors them. 256: on a 2-core CPU, the
    # best test ELBO that trains in two minutes (README, "Training speed").
    hidden: tuple[int, ...] = (256, 256)
    beta: float = 1.0  # weight of the KL term in the loss; 1 gives the true negative ELBO
    conditional: bool = False  # the one-hot class enters the encoder and the decoder (Sohn 2015)
    classes: int = 10  # width of that one-hot; read only when conditional
    # Kingma 2014's M2: a classifier q(y|x) beside the conditional encoder and decoder, trained
    # on `labelled` labelled images and the rest of the training set unlabelled.
    semi_supervised: bool = False
    # Labelled training images of an M2, labelled / classes of each class drawn by the seed
    # (vae_core.few_labels.labelled_subset); read only when semi_supervised.
    labelled: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.conditional, bool):
            raise ValueError(f"conditional must be True or False, got {self.conditional!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be at least 1, got {self.latent_dim}")
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden must be one or more positive widths, got {self.hidden}")
        if not self.beta >= 0:
            raise ValueError(f"beta must be >= 0, got {self.beta}")
        if self.conditional and self.classes < 2:
            raise ValueError(f"a conditional model needs at least 2 classes, got {self.classes}")
        if not isinstance(self.semi_supervised, bool):
            raise ValueError(f"semi_supervised must be True or False, got {self.semi_supervised!r}")
        if self.semi_supervised and not self.conditional:
            raise ValueError(
                "a semi-supervised VAE (M2) gives its encoder and decoder the class: "
                "make it conditional too (VAEConfig(conditional=True, semi_supervised=True))"
            )
        if self.semi_supervised and (self.labelled < self.classes or self.labelled % self.classes):
            raise ValueError(
                f"a semi-supervised VAE needs the same number of labelled images of each of its "
                f"{self.classes} classes: labelled must be a multiple of {self.classes}, got "
                f"{self.labelled}"
            )

    def to_dict(self) -> dict:
        return {**asdict(self), "hidden": list(self.hidden)}

    @classmethod
    def from_dict(cls, d: dict) -> VAEConfig:
        """The inverse of to_dict; a dict written before conditional (or semi-supervised)
        models existed is plain (not semi-supervised)."""
        return cls(
            latent_dim=int(d["latent_dim"]),
            hidden=tuple(d["hidden"]),
            beta=float(d["beta"]),
            conditional=bool(d.get("conditional", False)),
            classes=int(d.get("classes", cls.classes)),
            semi_supervised=bool(d.get("semi_supervised", False)),
            labelled=int(d.get("labelled", 0)),
        )


class ELBOTerms(NamedTuple):
    """Per-image terms in nats, each (N,)."""

    loss: torch.Tensor  # reconstruction + beta * kl: what training minimizes
    reconstruction: torch.Tensor  # -log p(x|z) for the sampled z, summed over the 784 pixels
    kl: torch.Tensor  # KL(q(z|x) || N(0, I)), analytic
    mu: torch.Tensor | None = None  # (N, D) the means of q(z|x): the codes, for whoever wants them


class SemiSupervisedTerms(NamedTuple):
    """M2's objective on one batch of labelled and one of unlabelled images (Kingma 2014,
    eq. 9, as means per image), and its parts, in nats."""

    loss: torch.Tensor  # labelled + unlabelled + alpha * classification: what training minimizes
    labelled: torch.Tensor  # mean L(x, y) over the labelled batch
    unlabelled: ELBOTerms  # U(x) of each unlabelled image (N,) and its terms (unlabelled_terms)
    classification: torch.Tensor  # mean -log q(y|x) over the labelled batch


def _mlp(widths: list[int], activate_last: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(w_in, w_out))
        if activate_last or i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the latent axis: (N, D) -> (N,).

    Kingma & Welling (2014), appendix B: -1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2).
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) for pixel intensities x in [0, 1] under Bernoulli(sigmoid(logits)): (N, 784) -> (N,).

    For grey pixels this is the continuous-target cross-entropy used by pytorch/examples' VAE.
    """
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


class VAE(nn.Module):
    """The VAE, or with `config.conditional` the conditional VAE of Sohn et al. (2015).

    A conditional model's first encoder layer reads [pixels, one-hot y] and its first decoder
    layer [z, one-hot y]; its other layers are those of a plain model. Its methods then need
    y, the class of each image or point as int64 indices (N,); a plain model's refuse one.
    """

    def __init__(self, config: VAEConfig | None = None) -> None:
        super().__init__()
        self.config = config or VAEConfig()
        # Only the first layers' inputs widen, so a plain model keeps the parameter names and
        # shapes of checkpoints written before conditional models existed.
        label_width = self.config.classes if self.config.conditional else 0
        hidden, latent_dim = self.config.hidden, self.config.latent_dim
        self.encoder = _mlp([PIXELS + label_width, *hidden], activate_last=True)
        self.to_mu = nn.Linear(hidden[-1], latent_dim)
        self.to_logvar = nn.Linear(hidden[-1], latent_dim)
        self.decoder = _mlp(
            [latent_dim + label_width, *reversed(hidden), PIXELS], activate_last=False
        )
        if self.config.semi_supervised:
            self.classifier = _mlp([PIXELS, *hidden, self.config.classes], activate_last=False)

    def check_labels_given(self, given: bool) -> None:
        """Raise a ValueError that says what to do unless labels come exactly when they must."""
        if given and not self.config.conditional:
            raise ValueError(
                "this VAE is not conditional: it takes no class labels. Leave the labels out, "
                "or train a conditional one (VAEConfig(conditional=True))."
            )
        if not given and self.config.conditional:
            raise ValueError(
                "this VAE is conditional: it needs the class of every image or latent point "
                f"(labels: class indices in 0..{self.config.classes - 1}, or one for all)."
            )

    def with_labels(self, inputs: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """What the first encoder or decoder layer reads: inputs (..., W) as they are for a plain
        model, (..., W + classes) with the one-hot of y (...,) appended for a conditional one.
        """
        self.check_labels_given(y is not None)
        if y is None:
            return inputs
        one_hot = F.one_hot(y.long(), self.config.classes).to(inputs.dtype)  # (...,) -> (..., C)
        return torch.cat([inputs, one_hot], dim=-1)

    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Parameters of q(z|x) (q(z|x, y) if conditional) for pixels in [0, 1]; x is
        (N, 1, 28, 28) or (N, 784), y (N,) class indices for a conditional model."""
        x = self.with_labels(x.reshape(len(x), PIXELS), y)  # (N, 784) -> (N, 784 [+ C])
        h = self.encoder(x)  # -> (N, H)
        return self.to_mu(h), self.to_logvar(h)  # (N, H) -> (N, D) each

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Bernoulli logits of p(x|z) (p(x|z, y) if conditional): (N, D) -> (N, 1, 28, 28)."""
        return self.decoder(self.with_labels(z, y)).reshape(len(z), *IMAGE_SHAPE)

    def pixel_probs(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Pixel probabilities of p(x|z) (p(x|z, y)), the Bernoulli means: (N, D) -> (N, 1, 28, 28).

        A tensor in, a tensor out, gradients kept; `vae_core.decode` is the numpy front door.
        """
        return torch.sigmoid(self.decode_logits(z, y))

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I), so gradients reach mu and logvar."""
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + torch.exp(0.5 * logvar) * eps

    def loss_terms(
        self,
        x: torch.Tensor,
        generator: torch.Generator | None = None,
        y: torch.Tensor | None = None,
    ) -> ELBOTerms:
        """The training loss for one draw of z per image, and its two terms.

        A one-sample estimate of the negative ELBO (beta = 1) with gradients, what training
        minimizes; `vae_core.elbo_terms` averages many draws, without gradients, for reporting.
        A conditional model needs the images' classes y (N,) and bounds log p(x|y).
        """
        x = x.reshape(len(x), PIXELS)
        # Under bfloat16 autocast the layers compute in bfloat16; the draw of z and the loss
        # stay float32 (a no-op for a float32 model), so the objective is summed as precisely.
        mu, logvar = (t.float() for t in self.encode(x, y))
        z = self.reparameterize(mu, logvar, generator)
        logits = self.decoder(self.with_labels(z, y)).float()  # (N, D [+ C]) -> (N, 784)
        reconstruction = -bernoulli_log_likelihood(logits, x)
        kl = gaussian_kl(mu, logvar)
        return ELBOTerms(reconstruction + self.config.beta * kl, reconstruction, kl, mu)

    def class_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of an M2's q(y|x) for pixels in [0, 1]: (N, 1, 28, 28) or (N, 784) -> (N, C).

        `vae_core.classify` is the numpy front door, with probabilities.
        """
        if not self.config.semi_supervised:
            raise ValueError(
                "this VAE has no classifier q(y|x): only a semi-supervised one (M2, "
                "VAEConfig(semi_supervised=True)) learns one."
            )
        return self.classifier(x.reshape(len(x), PIXELS))

    def unlabelled_terms(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> ELBOTerms:
        """An M2's loss U(x) for images without labels (Kingma 2014, eq. 7), one draw of z for
        each class: the conditional loss under each class, weighted by q(y|x), plus
        KL(q(y|x) || p(y)) for the uniform p(y). Its `kl` holds both KLs, its `mu` is None.
        """
        n, classes = len(x), self.config.classes
        x = x.reshape(n, PIXELS)
        log_q = F.log_softmax(self.class_logits(x).float(), dim=-1)  # (N, 784) -> (N, C)
        every_class = torch.arange(classes, device=x.device).repeat_interleave(n)  # (C * N,)
        terms = self.loss_terms(x.repeat(classes, 1), generator, every_class)  # (C * N,) each
        q = log_q.exp()
        kl_y = (q * (log_q + math.log(classes))).sum(-1)  # KL(q(y|x) || uniform): (N,)

        def expected(t: torch.Tensor) -> torch.Tensor:
            return (q * t.reshape(classes, n).T).sum(-1)  # (C * N,) -> (N, C) -> (N,)

        return ELBOTerms(
            expected(terms.loss) + kl_y,
            expected(terms.reconstruction),
            expected(terms.kl) + kl_y,
        )

    def semi_supervised_terms(
        self,
        x_labelled: torch.Tensor,
        y: torch.Tensor,
        x_unlabelled: torch.Tensor,
        alpha: float,
        generator: torch.Generator | None = None,
    ) -> SemiSupervisedTerms:
        """M2's objective (Kingma 2014, eq. 9) as means per image: L over a labelled batch
        (x_labelled (B, 784), its classes y (B,)), U over an unlabelled batch (x_unlabelled
        (U, 784)), and alpha times the labelled batch's cross-entropy of q(y|x)."""
        log_prior = math.log(self.config.classes)  # -log p(y) for the uniform prior
        labelled = self.loss_terms(x_labelled, generator, y).loss.mean() + log_prior
        unlabelled = self.unlabelled_terms(x_unlabelled, generator)
        classification = F.cross_entropy(self.class_logits(x_labelled).float(), y)
        loss = labelled + unlabelled.loss.mean() + alpha * classification
        return SemiSupervisedTerms(loss, labelled, unlabelled, classification)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> ELBOTerms:
        return self.loss_terms(x, y=y)
