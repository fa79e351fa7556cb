"""One trained model as the page sees it, computed once per model and shared by every session.

A ModelView holds the test set's codes, the square window of the latent plane that every view
uses, and the compact payload the browser decodes with. The cached loaders here are the roots
of the page's small DAG: model -> view -> sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import streamlit as st

from i18n import N_, Deferred, _
from training import TrainConfig, cache_key
from training.cache import load_cached
from training.recipes import FULL, RECIPES
from vae_core import Dataset, describe, encode, load_split
from vae_core.datasets import MNIST_CLASSES
from vae_core.inference import decoder_layers
from vae_core.model import VAE, VAEConfig

from . import payload
from .server import dataset_of


def plane_window(
    mu: np.ndarray, quantile: float = 0.999, minimum: float = 3.0
) -> tuple[float, float]:
    """A square window on the latent plane holding nearly every code and the prior's bulk."""
    r = float(np.quantile(np.abs(mu), quantile)) * 1.05
    r = max(minimum, np.ceil(r * 2) / 2)
    return -r, r


@dataclass(frozen=True)
class ModelSettings:
    """What picks a model: the same fields the sidebar and a shared link name."""

    beta: float
    width: int
    epochs: int
    seed: int
    data: str = "mnist"  # the dataset's key, one of `datasets()`
    conditional: bool = False  # a conditional VAE (Sohn et al. 2015), given the class
    # How it is trained, a key of training.recipes.RECIPES: its depth, batch and learning
    # rate. "quick" is what every model was before recipes had names.
    recipe: str = "quick"
    # A semi-supervised VAE (M2, Kingma et al. 2014) trained with this many labelled images,
    # conditional too; 0: not semi-supervised.
    labelled: int = 0

    def __post_init__(self) -> None:
        if self.labelled:  # M2 gives its encoder and decoder the class: one name for one model
            object.__setattr__(self, "conditional", True)

    def configs(self) -> tuple[VAEConfig, TrainConfig, Path | None]:
        """The model and training configs and the data directory (None: the bundled MNIST)."""
        dataset = dataset_of(self.data)
        recipe = RECIPES[self.recipe]
        model_config = recipe.model_config(
            self.width,
            latent_dim=2,
            beta=self.beta,
            conditional=self.conditional,
            **({"classes": len(dataset.classes)} if self.conditional else {}),
            **({"semi_supervised": True, "labelled": self.labelled} if self.labelled else {}),
        )
        return model_config, recipe.train_config(self.epochs, self.seed), dataset.directory

    @property
    def hidden(self) -> list[int]:
        """The encoder's hidden widths (the decoder mirrors them), as the page writes them."""
        return [self.width] * RECIPES[self.recipe].layers

    @cached_property
    def key(self) -> str:
        """The model's id (its cache key), computed once per settings: the key reads the
        data directory's files, which a page's every poll would otherwise do again."""
        return model_id(*self.configs())

    def describe(self) -> str:
        """The settings in words, for the sidebar and the Training tab (in the language of the
        page's run)."""
        if self.labelled:
            # TRANSLATORS: a model's settings: its data's name, how many of its training
            # images kept their labels, its hidden layers' widths ([512, 512, 512]), β, how many
            # epochs it trains for, its random seed and its recipe's name (quick or full).
            words = _(
                "{data} semi-supervised VAE (M2, {labelled} labels), hidden {hidden}, "
                "β = {beta:g}, {epochs} epochs, seed {seed}, {recipe} recipe"
            )
        elif self.conditional:
            # TRANSLATORS: a model's settings: its data's name, its hidden layers' widths
            # ([512, 512, 512]), β, how many epochs it trains for, its random seed and its
            # recipe's name (quick or full).
            words = _(
                "{data} conditional VAE, hidden {hidden}, β = {beta:g}, {epochs} epochs, "
                "seed {seed}, {recipe} recipe"
            )
        else:
            # TRANSLATORS: a model's settings: its data's name, its hidden layers' widths
            # ([512, 512, 512]), β, how many epochs it trains for, its random seed and its
            # recipe's name (quick or full).
            words = _(
                "{data} VAE, hidden {hidden}, β = {beta:g}, {epochs} epochs, seed {seed}, "
                "{recipe} recipe"
            )
        return words.format(
            data=dataset_of(self.data).name,
            recipe=_(RECIPE_NAMES[self.recipe]),
            hidden=f"[{', '.join(str(w) for w in self.hidden)}]",
            beta=self.beta,
            epochs=self.epochs,
            seed=self.seed,
            labelled=f"{self.labelled:,}",
        )


# Each recipe's name on the page.
RECIPE_NAMES = {"quick": N_("quick"), "full": N_("full")}

# The shipped model's settings: what a new page shows first.
DEFAULT_SETTINGS = ModelSettings(
    beta=1.0, width=FULL.width, epochs=FULL.epochs, seed=0, recipe=FULL.name
)


def model_id(model_config: VAEConfig, train_config: TrainConfig, data_dir=None) -> str:
    """The model's name across the page, the cache and the browser: its cache key."""
    return cache_key(model_config, train_config, data_dir)


@dataclass(frozen=True)
class ModelView:
    model_id: str
    mu: np.ndarray  # (N, 2) posterior means of the test images (a conditional model's q(z|x, y))
    sigma: np.ndarray  # (N, 2) posterior standard deviations
    labels: np.ndarray  # (N,) uint8 test labels
    window: tuple[float, float]  # the square [lo, hi] shown on both latent axes
    payload: bytes  # what the browser draws and decodes with (explorer.payload)
    images: np.ndarray | None = None  # (N, 28, 28) uint8 test images the codes are of
    classes: tuple[str, ...] = MNIST_CLASSES  # each label's name, in label order
    noun: str = "digit"  # what one image is called on the page: "digit" (MNIST) or "image"
    conditional: bool = False  # a conditional VAE: encoding and decoding take the class
    data: str = "mnist"  # the dataset's key (explorer.server.dataset_of)
    snapshot: tuple[int, int] | None = None  # (epoch, epochs) of a model still training


def build_view(
    model: VAE,
    images: np.ndarray,
    labels: np.ndarray,
    name: str,
    dataset: Dataset | None = None,
    snapshot: tuple[int, int] | None = None,
) -> ModelView:
    """The view of `model` over these test images of `dataset` (None: the bundled MNIST);
    `snapshot` (epoch, epochs) for a model still training (explorer.preview)."""
    dataset = dataset or describe(None)
    conditional = model.config.conditional
    mu, sigma = encode(model, images, labels if conditional else None)
    window = plane_window(mu)
    classes = dataset.classes
    packed = payload.pack(
        name, decoder_layers(model), mu, labels, window, classes, dataset.noun, snapshot
    )
    return ModelView(
        name,
        mu,
        sigma,
        labels,
        window,
        packed,
        images=images,
        classes=classes,
        noun=dataset.noun,
        conditional=conditional,
        data=dataset.key,
        snapshot=snapshot,
    )


# ---------------------------------------------------------------- cached roots, shared by sessions


@st.cache_resource(show_spinner=False)
def test_set(data: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """The test images and labels of the dataset with key `data`."""
    split = load_split(dataset_of(data).directory, "test")
    return split.images, split.labels


@st.cache_resource(show_spinner=Deferred(N_("Loading the model…")), max_entries=8)
def load_model(name: str, _configs: tuple[VAEConfig, TrainConfig]) -> tuple[VAE, dict]:
    """The model from the cache; never trains (the training line does): raises NotCached."""
    return load_cached(*_configs)


@st.cache_resource(show_spinner=Deferred(N_("Encoding the test images…")), max_entries=8)
def model_view(_model: VAE, name: str, data: str = "mnist") -> ModelView:
    return build_view(_model, *test_set(data), name, dataset_of(data))


def load_settings(settings: ModelSettings) -> tuple[VAE, dict]:
    """The model of these settings from the cache; never trains: raises NotCached."""
    return load_model(settings.key, settings.configs())


@dataclass(frozen=True, eq=False)
class Shown:
    """The model a page shows, as every section reads it: the model, its view and its
    checkpoint (a training's latest snapshot while the page previews one)."""

    model: VAE
    view: ModelView
    checkpoint: dict

    @property
    def model_id(self) -> str:
        return self.view.model_id
