"""The lenses on other data than MNIST and with a conditional VAE: they name the data's own
images and classes, and a conditional model is given a class wherever it encodes or decodes
(a test image's own, or the class chosen on the page for what it generates and for a drawing).

The models have random weights: what is tested is which class reaches the model, not what it
has learned. Their class inputs are scaled up so that a wrong class changes every figure.
"""

import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import images, lenses, posterior_lens
from explorer.model_view import Shown, build_view
from explorer.sections import interpolation, outliers
from explorer.sections.latent_plane import drawing
from vae_core import (
    Dataset,
    decode,
    elbo_terms,
    encode,
    exact_log_px,
    latent_path,
    load_split,
    sample_prior,
)
from vae_core.datasets import FASHION_MNIST_CLASSES
from vae_core.model import PIXELS, VAE, VAEConfig

FASHION = Dataset(name="Fashion-MNIST", directory=None, classes=FASHION_MNIST_CLASSES, noun="image")
ROW = 3
THEME = "light"
GRID = 300  # cells a side of exact_log_px's quadrature: a random model's posteriors are broad


def conditional_model(classes: int = 10, seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    model = VAE(VAEConfig(hidden=(32, 32), conditional=True, classes=classes)).eval()
    with torch.no_grad():
        model.encoder[0].weight[:, PIXELS:].mul_(30)
        model.decoder[0].weight[:, model.config.latent_dim :].mul_(30)
    return model


@pytest.fixture(scope="module")
def test_data(tiny_mnist):
    split = load_split(tiny_mnist, "test")
    return split.images, split.labels


@pytest.fixture(scope="module")
def cvae(test_data):
    model = conditional_model()
    return model, build_view(model, *test_data, "lenses-cvae", FASHION)


@pytest.fixture(scope="module")
def plain(test_data):
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=(32, 32))).eval()
    return model, build_view(model, *test_data, "lenses-plain")


def other(label) -> int:
    return (int(label) + 1) % 10


def test_the_view_names_the_images_and_classes_of_its_data(cvae, plain):
    _, fashion = cvae
    _, mnist = plain
    assert images.called(mnist, 7) == "a 7" and images.called(fashion, 9) == "Ankle boot"
    assert images.a(mnist.noun) == "a digit" and images.a(fashion.noun) == "an image"
    row = int(np.argmax(fashion.labels == 0))
    assert interpolation.endpoint_of(fashion, {"row": row})[1] == f"test image #{row} (T-shirt/top)"
    label = int(mnist.labels[0])
    assert interpolation.endpoint_of(mnist, {"row": 0})[1] == f"test image #0 (a {label})"
    assert outliers.rankings(fashion) == {
        "elbo": f"−ELBO, all {len(fashion.labels)} test images",
        "exact": f"exact −log p(x|y), among the {outliers.CANDIDATES} least likely by −ELBO",
    }
    assert outliers.rankings(mnist)["exact"].startswith("exact −log p(x),")


def test_the_selection_judges_a_test_image_given_its_own_class(cvae, plain, test_data):
    x, labels = test_data
    model, view = cvae
    d = lenses.details(Shown(model, view, {}), ROW, THEME)
    y = int(labels[ROW])
    terms = elbo_terms(model, x[ROW][None], [y], samples=lenses.SELECTION_SAMPLES, seed=ROW)
    for name, value in terms.items():
        assert d[name] == pytest.approx(float(value[0]), rel=1e-6)
    wrong = elbo_terms(model, x[ROW][None], [other(y)], samples=lenses.SELECTION_SAMPLES)
    assert abs(wrong["neg_elbo"][0] - d["neg_elbo"]) > 1.0
    reconstruction = decode(model, view.mu[ROW][None], y)[0]
    assert d["pictures"]["reconstruction"] == images.png(images.themed(reconstruction), scale=4)
    # A plain model's judge is given no class.
    model, view = plain
    d = lenses.details(Shown(model, view, {}), ROW, THEME)
    terms = elbo_terms(model, x[ROW][None], samples=lenses.SELECTION_SAMPLES, seed=ROW)
    assert d["neg_elbo"] == pytest.approx(float(terms["neg_elbo"][0]), rel=1e-6)


def test_the_posterior_lens_is_given_the_images_class_or_the_drawings(cvae, test_data):
    x, labels = test_data
    model, view = cvae
    y = int(labels[ROW])
    lens = posterior_lens.lens(Shown(model, view, {}), ROW)
    assert lens["log_px"] == pytest.approx(
        exact_log_px(model, x[ROW][None], [y], n=GRID)[0], abs=0.05
    )
    mu, sigma = encode(model, x[ROW][None], [y])
    np.testing.assert_allclose(lens["mu"], mu[0], rtol=1e-6)
    np.testing.assert_allclose(lens["sigma"], sigma[0], rtol=1e-6)
    assert posterior_lens.decoded_plane(model, view.model_id, y).label == y
    # A drawing of the same pixels, read as the same class, has the same lens; as another
    # class, another one.
    pixels = x[ROW].tobytes()
    drawn = posterior_lens.lens_of_image(model, view.model_id, pixels, y)
    np.testing.assert_allclose(drawn["log_density"], lens["log_density"], rtol=1e-9, atol=1e-9)
    as_other = posterior_lens.lens_of_image(model, view.model_id, pixels, other(y))
    expected = exact_log_px(model, x[ROW][None], [other(y)], n=GRID)[0]
    assert as_other["log_px"] == pytest.approx(expected, abs=0.05)
    assert abs(as_other["log_px"] - lens["log_px"]) > 1.0


def test_the_outliers_score_each_test_image_given_its_own_class(cvae, test_data, monkeypatch):
    monkeypatch.setattr(outliers, "CANDIDATES", 20)  # the quadrature's share of the test's time
    monkeypatch.setattr(outliers, "EXACT_GRID", 200)
    x, labels = test_data
    model, view = cvae
    scores = lenses.neg_elbo(Shown(model, view, {}))
    expected = elbo_terms(model, x, labels, samples=lenses.SAMPLES)["neg_elbo"]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    found = outliers.least_likely(Shown(model, view, {}), "exact", k=5)
    rows = [r for r, _ in found]
    exact = -exact_log_px(model, x[rows], labels[rows], n=outliers.EXACT_GRID)
    np.testing.assert_allclose([s for _, s in found], exact, rtol=1e-6)
    assert [r for r, _ in outliers.least_likely(Shown(model, view, {}), "elbo", k=3)] == list(
        np.argsort(-expected)[:3]
    )


def test_prior_samples_are_decoded_as_the_class_chosen(cvae):
    model, view = cvae
    k, seed = 9, 4
    z = sample_prior(k, seed=seed)
    for label in (2, 7):
        samples = lenses.prior_samples(model, view.model_id, k, seed, THEME, label)
        expected = images.tile(decode(model, z, label))
        assert samples["png"] == images.png(images.themed(expected, THEME), scale=3)
    assert (
        lenses.prior_samples(model, view.model_id, k, seed, THEME, 2)["png"]
        != (lenses.prior_samples(model, view.model_id, k, seed, THEME, 7)["png"])
    )


def test_draws_from_q_are_decoded_with_the_images_own_class(cvae):
    model, view = cvae
    draws = lenses.trick(Shown(model, view, {}), ROW, 0, THEME)
    pictures = decode(model, np.array(draws["z"]), int(view.labels[ROW]))
    assert draws["pngs"] == [images.png(images.themed(p, THEME), scale=3) for p in pictures]


def test_the_path_is_decoded_as_the_class_chosen_between_test_images(cvae):
    model, view = cvae
    a, b, n = (("row", 0),), (("row", ROW),), 5
    data = interpolation.path_pictures(Shown(model, view, {}), a, b, n, THEME, 4)
    z = latent_path(view.mu[0], view.mu[ROW], n)
    np.testing.assert_allclose(data["z"], z, rtol=1e-6)
    steps = images.tile(decode(model, z, 4), cols=n)
    assert data["latent"] == images.png(images.themed(steps, THEME), scale=3)
    # The cross-fade is of the test images themselves: from one to itself, that image.
    first = interpolation.path_pictures(Shown(model, view, {}), a, a, 2, THEME, 4)
    still = images.tile(np.stack([view.images[0] / 255.0] * 2), cols=2)
    assert first["pixels"] == images.png(images.themed(still, THEME), scale=3)


def test_a_drawing_is_encoded_and_judged_as_the_class_chosen(cvae, test_data):
    x, _ = test_data
    model, view = cvae
    pixels = x[ROW].tobytes()
    label = 6
    d = lenses.drawing(Shown(model, view, {}), pixels, label, THEME)
    mu, sigma = encode(model, x[ROW][None], [label])
    np.testing.assert_allclose(d["mu"], mu[0], rtol=1e-6)
    np.testing.assert_allclose(d["sigma"], sigma[0], rtol=1e-6)
    terms = elbo_terms(model, x[ROW][None], [label], samples=lenses.SELECTION_SAMPLES)
    assert d["neg_elbo"] == pytest.approx(float(terms["neg_elbo"][0]), rel=1e-6)
    scores = lenses.neg_elbo(Shown(model, view, {}))
    assert d["percentile"] == lenses.percentile(scores, d["neg_elbo"])
    assert [name for _, name, _ in d["nearest"]] == [
        FASHION_MNIST_CLASSES[view.labels[r]] for r, _, _ in d["nearest"]
    ]
    # The pad's data carry the class to the browser's encoder, a plain model's none, and the
    # pad's words for these images, read with a class.
    data = json.loads(drawing.pad_data(view, label))
    assert (data["model_id"], data["cls"]) == (view.model_id, label)
    assert "draw an image" in data["words"]["pad"] and "q(z|x, y)" in data["words"]["empty"]


def test_a_plain_models_drawing_is_read_without_a_class(plain, test_data):
    x, _ = test_data
    model, view = plain
    d = lenses.drawing(Shown(model, view, {}), x[ROW].tobytes(), None, THEME)
    np.testing.assert_allclose(d["mu"], encode(model, x[ROW][None])[0][0], rtol=1e-6)
    assert json.loads(drawing.pad_data(view, None))["cls"] is None
    assert [name for _, name, _ in d["nearest"]] == [
        str(view.labels[r]) for r, _, _ in d["nearest"]
    ]


def lens_page(data_dir: str, conditional: bool) -> None:
    """Every lens of this module, on a random model over the tiny data named as Fashion-MNIST."""
    import torch

    from explorer.model_view import Shown, build_view
    from explorer.sections import interpolation, outliers, posterior, sampling
    from explorer.sections.latent_plane import drawing, selection
    from tests.test_lenses_classes import FASHION, conditional_model
    from vae_core import VAE, VAEConfig, load_split

    split = load_split(data_dir, "test")
    if conditional:
        model = conditional_model()
    else:
        torch.manual_seed(0)
        model = VAE(VAEConfig(hidden=(32, 32))).eval()
    name = f"lenses-page-{conditional}"
    view = build_view(model, split.images, split.labels, name, FASHION)
    shown = Shown(model, view, {})
    selection.panel(shown)
    posterior.section(shown)
    sampling.section(shown)
    interpolation.section(shown)
    outliers.section(shown)
    drawing.panel(shown)


def page_text(at: AppTest) -> str:
    """Everything the page says in words: text, captions, headings, labels and options."""
    parts = [e.value for kind in ("markdown", "caption", "subheader") for e in at.get(kind)]
    parts += [m.label for m in at.metric] + [b.label for b in at.button]
    parts += [o for r in at.radio for o in r.options]
    parts += [i.proto.imgs[0].caption for i in at.get("image")]
    return "\n".join(parts)


@pytest.mark.parametrize("conditional", [True, False])
def test_the_lenses_say_the_datas_images_and_class_names(tiny_mnist, test_data, conditional):
    _, labels = test_data
    at = AppTest.from_function(lens_page, args=(str(tiny_mnist), conditional), default_timeout=120)
    at.session_state["selected_row"] = ROW
    at.session_state["cls"] = 8
    at.session_state["z1"], at.session_state["z2"] = 0.5, -0.5
    at.session_state["drawn"] = test_data[0][ROW].tobytes()
    at.run()
    assert not at.exception, at.exception
    text = page_text(at)
    assert "digit" not in text.lower()
    own = FASHION_MNIST_CLASSES[labels[ROW]]
    assert f"Test image #{ROW}: {own}" in text
    assert f"The true posterior of test image #{ROW}: {own}" in text
    assert "Images the model finds unusual" in text and "New images from the prior" in text
    assert "Another dataset through the model" in text
    chosen = FASHION_MNIST_CLASSES[8]
    # The pad in the browser reads the drawing with the class chosen, as the server does.
    assert json.loads(at.get_by_key("draw").proto.bytes)["cls"] == (8 if conditional else None)
    if conditional:
        assert "exact log p(x|y)" in text and "−log p(x|y)" in text
        assert f"here **{chosen}**, the class chosen" in text
        assert f"the style morphs, the class stays {chosen}" in text
        assert f"Read as class **{chosen}**" in text
        assert f"y = {own}" in text
    else:
        assert "p(x|y)" not in text and "the class chosen" not in text


def test_an_endpoint_set_on_other_data_past_this_test_sets_end_is_replaced():
    from explorer.sections.interpolation import stored_endpoint

    default = {"row": 0}
    assert stored_endpoint({"row": 9000}, default, 300) == default
    assert stored_endpoint({"row": 299}, default, 300) == {"row": 299}
    assert stored_endpoint({"z": [1.0, 2.0]}, default, 300) == {"z": [1.0, 2.0]}
    assert stored_endpoint(None, default, 300) == default
