"""A conditional model's Manifold tab: the grid of the chosen class, the "same style, every
class" grid, and the page's words for data other than MNIST.

Random weights suffice: these tests check what is decoded with which class, not how well. The
helpers here (a model stored in the cache as the sidebar would find it, a three-class dataset
offered by the server) serve the other tests of conditional models and other data too.
"""

import base64
import json

import numpy as np
import pytest
import torch

from explorer import images, model_view, server
from explorer.lenses import manifold_pictures, themed_png
from explorer.model_view import ModelSettings, model_id
from explorer.sections.manifold import style_grid
from tests.conftest import THREE_CLASSES
from training.cache import cached_path
from vae_core import (
    VAE,
    Replay,
    VAEConfig,
    decode,
    grid_axis,
    load_split,
    manifold,
    record_frame,
    save_checkpoint,
)

CLASSES = THREE_CLASSES


def random_cvae(classes: int = 10, seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(VAEConfig(hidden=(32, 32), conditional=True, classes=classes)).eval()


def store_model(settings: ModelSettings, seed: int = 0, epochs: int = 0) -> VAE:
    """A model with random weights in the test's cache, where the page looks for `settings`,
    with a replay of `epochs` frames (all of these weights) if asked."""
    model_config, train_config, data_dir = settings.configs()
    torch.manual_seed(seed)
    model = VAE(model_config).eval()
    test = load_split(data_dir, "test")
    labels = test.labels if settings.conditional else None
    frames = [record_frame(model, test.images, e, labels=labels) for e in range(1, epochs + 1)]
    history = {
        "epoch": 1,
        "train_loss": 200.0,
        "test_neg_elbo": 190.0,
        "test_reconstruction": 180.0,
        "test_kl": 10.0,
    }
    metrics = {
        "test_neg_elbo": 190.0,
        "test_reconstruction": 180.0,
        "test_kl": 10.0,
        "eval_samples": 1,
        "train_seconds": 1.0,
        "history": [history],
    }
    extra = {
        "train_config": train_config.to_dict(),
        "cache_key": model_id(*settings.configs()),
        "data": str(data_dir) if data_dir is not None else "bundled MNIST",
    }
    path = cached_path(model_config, train_config, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(model, path, metrics, extra, Replay.from_frames(frames) if frames else None)
    return model


def link_of(settings: ModelSettings) -> dict:
    return {
        "data": settings.data,
        "cvae": str(int(settings.conditional)),
        "beta": f"{settings.beta:g}",
        "width": str(settings.width),
        "epochs": str(settings.epochs),
        "seed": str(settings.seed),
    }


@pytest.fixture
def offered(three_classes, monkeypatch):
    """The server offers the three-class data beside the bundled MNIST; its dataset."""
    monkeypatch.setenv("VAE_EXPLORER_DATA", str(three_classes))
    monkeypatch.setattr(server, "_datasets", None)
    [_, dataset] = server.datasets()
    assert dataset.classes == CLASSES and dataset.noun == "image"
    return dataset


def open_tab(settings: ModelSettings, tab: str, **link):
    from tests.test_app import run_app

    at = run_app({**link_of(settings), **link})
    assert at.session_state["settings"] == settings
    at.session_state["tab"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def picture_of(spec: dict) -> bytes:
    """The PNG a plotly figure shows: its image trace's, else its layout's image."""
    sources = [t["source"] for t in spec["data"] if t["type"] == "image"]
    source = (sources or [i["source"] for i in spec["layout"].get("images", [])])[0]
    return base64.b64decode(source.split(",", 1)[1])


# ---------------------------------------------------------------- the pure parts


def test_the_style_grid_decodes_each_z_as_every_class():
    model = random_cvae()
    zs = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    grid = style_grid(model, zs)
    assert grid.shape == (2, 10, 28, 28)
    for r, z in enumerate(zs):
        for c in range(10):
            np.testing.assert_allclose(grid[r, c], decode(model, z[None], c)[0], atol=1e-6)
    # The class changes the picture: the decoder is given it.
    assert not np.allclose(grid[0, 0], grid[0, 1])


def test_the_style_grid_has_a_column_for_each_of_the_models_classes():
    model = random_cvae(classes=3)
    assert style_grid(model, np.zeros((1, 2))).shape == (1, 3, 28, 28)


def test_a_conditional_models_manifold_is_that_of_the_class_asked_for():
    model = random_cvae()
    axis = grid_axis(6)
    shown = {}
    for c in (0, 7):
        grid_png, picture = manifold_pictures(
            model, "cvae-test", 6, "normal", 3.0, None, "light", c
        )
        assert grid_png == picture == themed_png(manifold(model, axis, c), "light")
        shown[c] = picture
    assert shown[0] != shown[7]
    # A plain model has no class to be given.
    plain = VAE(VAEConfig(hidden=(32, 32))).eval()
    grid_png, _ = manifold_pictures(plain, "plain-test", 6, "normal", 3.0, None, "light")
    assert grid_png == themed_png(manifold(plain, axis), "light")


# ---------------------------------------------------------------- the tab


CVAE = ModelSettings(beta=1.0, width=64, epochs=1, seed=5, conditional=True)


def test_the_tab_draws_the_chosen_class_and_one_style_in_every_class():
    model = store_model(CVAE)
    at = open_tab(CVAE, "Manifold", z1="0.5", z2="-1", digit="3", **{"class": "4"})
    captions = " ".join(c.value for c in at.main.caption)
    assert "the style varies over the plane; the class stays 4" in captions
    assert "The class is given to the decoder" in captions
    # The manifold is class 4's.
    spec = json.loads(at.get_by_key("manifold_plot").proto.spec)
    axis = grid_axis(at.slider(key="manifold_n").value)
    assert picture_of(spec) == themed_png(manifold(model, axis, 4), "light")
    # The style grid: the latent point and test digit 3's code, each decoded as every class.
    view = model_view.build_view(model, *model_view.test_set(), model_id(*CVAE.configs()))
    spec = json.loads(at.get_by_key("style_grid").proto.spec)
    assert spec["layout"]["xaxis"]["ticktext"] == [str(d) for d in range(10)]
    assert len(spec["layout"]["yaxis"]["ticktext"]) == 2
    zs = np.array([[0.5, -1.0], view.mu[3]], dtype=np.float32)
    expected = images.themed(images.tile(style_grid(model, zs).reshape(-1, 28, 28), cols=10))
    assert picture_of(spec) == images.png(expected)


def test_a_plain_model_has_no_style_grid():
    from tests.test_app import run_app

    at = run_app()
    at.session_state["tab"] = "Manifold"
    at.run()
    assert not at.exception, at.exception
    assert at.get_by_key("manifold_plot") is not None
    with pytest.raises(KeyError):
        at.get_by_key("style_grid")
    assert "the class stays" not in " ".join(c.value for c in at.main.caption)


def test_other_data_are_named_by_their_noun_and_classes(offered):
    settings = ModelSettings(1.0, 64, 1, 5, data=offered.key, conditional=True)
    store_model(settings)
    at = open_tab(settings, "Manifold", **{"class": "2"})
    captions = " ".join(c.value for c in at.main.caption)
    assert "Each image is the decoder's output" in captions
    assert "the class stays two" in captions
    assert "the selected test image, #0 (two)" in captions
    spec = json.loads(at.get_by_key("style_grid").proto.spec)
    assert spec["layout"]["xaxis"]["ticktext"] == list(CLASSES)
