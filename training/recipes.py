"""Recipes: how a model is trained, by name, so that models are compared like for like.

A recipe fixes the depth of the network and the optimizer's settings; the width, β, the
epochs and the seed stay the learner's, each recipe suggesting a width and a length:

- "quick": two hidden layers, 25 epochs at width 256, batch 256, peak rate 3e-3. A new
  setting asked for from a page finishes in about 100 s on 2 AVX2 cores (issue 15) and can be
  explored from its first epoch. The command line's default.
- "full": three hidden layers, 100 epochs at width 512, batch 256, peak rate 3e-3. The shipped
  model's recipe: this family's best test ELBO that a 2-core CPU makes in about 11 minutes
  (docs/benchmarks.md, "Quality of the shipped model"); Davidson et al., "Hyperspherical
  Variational Auto-Encoders" (UAI 2018), report −ELBO 137.08 and −log p(x) 135.73 for a
  Gaussian VAE with a 2-D latent on MNIST.

The quick recipe's models keep the cache keys they had before recipes had names.
"""

from __future__ import annotations

from dataclasses import dataclass

from vae_core.model import VAEConfig

from .request import TrainConfig


@dataclass(frozen=True)
class Recipe:
    name: str  # the link's and the sidebar's word for it
    layers: int  # hidden layers of the chosen width in the encoder; the decoder mirrors them
    width: int  # the width the recipe suggests (the shipped model's, for "full")
    epochs: int  # the length it suggests
    batch_size: int  # images per Adam step
    lr: float  # the one-cycle schedule's peak learning rate

    def model_config(self, width: int, **fields) -> VAEConfig:
        """The model: `layers` hidden layers of `width`; `fields` are VAEConfig's others."""
        return VAEConfig(hidden=(width,) * self.layers, **fields)

    def train_config(self, epochs: int, seed: int) -> TrainConfig:
        return TrainConfig(epochs=epochs, batch_size=self.batch_size, lr=self.lr, seed=seed)


QUICK = Recipe("quick", layers=2, width=256, epochs=25, batch_size=256, lr=3e-3)
FULL = Recipe("full", layers=3, width=512, epochs=100, batch_size=256, lr=3e-3)
RECIPES = {r.name: r for r in (QUICK, FULL)}


def recipe_of(model_config: VAEConfig, train_config: TrainConfig) -> Recipe | None:
    """The recipe a model was trained by, if any: equal hidden widths, as many as its layers,
    and its batch and learning rate."""
    hidden = model_config.hidden
    for recipe in RECIPES.values():
        if (
            len(hidden) == recipe.layers
            and len(set(hidden)) == 1
            and train_config.batch_size == recipe.batch_size
            and train_config.lr == recipe.lr
        ):
            return recipe
    return None
