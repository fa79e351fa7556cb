"""Another dataset through the model: AUROC, complexity, the scores (vae_core/ood.py), and the
Outliers tab's part that shows them (explorer/ood_lens.py) through AppTest."""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer import model_view, ood_lens, server
from explorer.model_view import ModelSettings
from tests.test_app import run_app
from training import TrainingRequest, get_or_train
from vae_core import VAE, VAEConfig, elbo_terms, exact_log_px, load_split, ood


def pairwise_auroc(inliers, outliers) -> float:
    """Every (inlier, outlier) pair compared: the outlier above counts 1, a tie 1/2."""
    wins = sum((o > i) + 0.5 * (o == i) for i in inliers for o in outliers)
    return wins / (len(inliers) * len(outliers))


def test_auroc_is_the_share_of_pairs_the_outlier_wins_ties_counting_half():
    rng = np.random.default_rng(0)
    for n_in, n_out in ((1, 1), (7, 3), (40, 55)):
        # Small integers: many ties within and across the two sets.
        inliers, outliers = rng.integers(0, 6, n_in), rng.integers(1, 8, n_out)
        assert ood.auroc(inliers, outliers) == pytest.approx(pairwise_auroc(inliers, outliers))
    inliers, outliers = rng.normal(size=300), rng.normal(0.5, 1, 200)
    assert ood.auroc(inliers, outliers) == pytest.approx(pairwise_auroc(inliers, outliers))


def test_auroc_known_cases():
    assert ood.auroc([1, 2, 3], [4, 5]) == 1.0  # every outlier above every inlier
    assert ood.auroc([4, 5], [1, 2, 3]) == 0.0  # the paradox at its worst
    assert ood.auroc([2, 2, 2], [2, 2]) == 0.5  # all tied
    assert ood.auroc([1, 3], [2, 4]) == 0.75
    assert ood.auroc([1.0, 2.0], [2.0]) == 0.75  # one win, one tie
    # Only the order counts: a monotone map of both leaves it.
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=50), rng.normal(size=60)
    assert ood.auroc(np.exp(a), np.exp(b)) == ood.auroc(a, b)


@pytest.mark.parametrize(
    ("inliers", "outliers", "says"),
    [
        ([], [1.0], "inlier_scores is empty"),
        ([1.0], [], "outlier_scores is empty"),
        ([1.0, np.nan], [2.0], "inlier_scores holds 1 non-finite"),
        ([1.0], [np.inf, -np.inf], "outlier_scores holds 2 non-finite"),
    ],
)
def test_auroc_refuses_empty_or_non_finite_scores(inliers, outliers, says):
    with pytest.raises(ValueError, match=says):
        ood.auroc(inliers, outliers)


def png_nats(image: np.ndarray) -> float:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=9)
    return len(buffer.getvalue()) * 8 * math.log(2)


def test_complexity_is_the_png_size_in_nats_and_a_blank_image_is_simpler_than_noise():
    rng = np.random.default_rng(0)
    blank = np.zeros((28, 28), np.uint8)
    noise = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    digit = load_split(None, "test").images[0]
    found = ood.complexity_nats(np.stack([blank, noise, digit]))
    assert found.shape == (3,) and found.dtype == np.float64
    assert found[0] < found[2] < found[1]
    # Noise does not compress: at least its 784 bytes.
    assert found[1] >= 784 * 8 * math.log(2)
    np.testing.assert_allclose(found, [png_nats(blank), png_nats(noise), png_nats(digit)])
    # Floats in [0, 1] are quantised to the same bytes; flat rows are the same images.
    np.testing.assert_allclose(ood.complexity_nats(np.stack([digit / 255.0])), found[2:])
    np.testing.assert_allclose(ood.complexity_nats(digit.reshape(1, 784)), found[2:])


@pytest.mark.parametrize(
    ("images", "says"),
    [
        (np.zeros((28, 28), np.uint8), r"shape \(N, 28, 28\) or \(N, 784\)"),
        (np.zeros((2, 32, 32), np.uint8), "not \\(2, 32, 32\\)"),
        (np.zeros((1, 28, 28), np.int32), "not int32 values"),
        (np.full((1, 28, 28), 1.5), "in \\[0, 1\\]"),
        (np.full((1, 28, 28), -0.1), "in \\[0, 1\\]"),
        (np.full((1, 28, 28), np.nan), "finite"),
    ],
)
def test_complexity_refuses_what_is_not_a_batch_of_28x28_pixels(images, says):
    with pytest.raises(ValueError, match=says):
        ood.complexity_nats(images)


def test_the_corrected_score_subtracts_the_complexity():
    np.testing.assert_array_equal(ood.corrected_score([100.0, 50.0], [30.0, 60.0]), [70.0, -10.0])
    with pytest.raises(ValueError, match="one score per image"):
        ood.corrected_score([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        ood.corrected_score([np.nan], [1.0])


def test_a_subset_is_the_same_rows_each_time_ascending_and_distinct():
    rows = ood.subset(10_000, 500)
    assert len(set(rows)) == 500 and (np.diff(rows) > 0).all() and rows.max() < 10_000
    np.testing.assert_array_equal(rows, ood.subset(10_000, 500))
    assert not np.array_equal(rows, ood.subset(10_000, 500, seed=1))
    np.testing.assert_array_equal(ood.subset(60, 500), np.arange(60))
    with pytest.raises(ValueError, match="at least one row"):
        ood.subset(0, 5)


def small(conditional: bool) -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(hidden=(32,), conditional=conditional, classes=3)).eval()


GRID = 60  # the quadrature's cells a side: coarse, since only its agreement is tested


def test_a_plain_models_scores_are_its_bound_and_exact_likelihood():
    model, x = small(False), load_split(None, "test").images[:12]
    scores = ood.model_scores(model, x, grid=GRID, samples=2, seed=3)
    np.testing.assert_allclose(
        scores["neg_elbo"], elbo_terms(model, x, samples=2, seed=3)["neg_elbo"], rtol=1e-6
    )
    np.testing.assert_allclose(scores["neg_log_px"], -exact_log_px(model, x, n=GRID))
    np.testing.assert_allclose(scores["complexity"], ood.complexity_nats(x))
    np.testing.assert_allclose(scores["corrected"], scores["neg_log_px"] - scores["complexity"])


def test_a_conditional_model_scores_under_a_uniform_prior_over_its_classes():
    model, x = small(True), load_split(None, "test").images[:8]
    scores = ood.model_scores(model, x, grid=GRID, samples=1)
    per_class = np.stack([exact_log_px(model, x, np.full(8, c), n=GRID) for c in range(3)])
    expected = -np.log(np.exp(per_class).mean(axis=0))  # -log (1/K) sum_y p(x|y)
    np.testing.assert_allclose(scores["neg_log_px"], expected, rtol=1e-9)
    # -log p(x) lies between min_y -log p(x|y) and that + log K.
    lowest = (-per_class).min(axis=0)
    assert (scores["neg_log_px"] >= lowest - 1e-9).all()
    assert (scores["neg_log_px"] <= lowest + math.log(3) + 1e-9).all()
    # The bound, from each class's ELBO, stays above the exact likelihood.
    assert (scores["neg_elbo"] >= scores["neg_log_px"] - 0.5).all()


def test_aurocs_of_two_score_sets():
    inliers = {name: np.array([1.0, 2.0]) for name in ood.SCORES}
    outliers = {name: np.array([3.0]) for name in ood.SCORES}
    assert ood.aurocs(inliers, outliers) == dict.fromkeys(ood.SCORES, 1.0)


# ---------------------------------------------------------------- the Outliers tab (AppTest)


@pytest.fixture
def offered(three_classes, monkeypatch):
    """The server offers the three-class directory (MNIST's 0s, 1s and 2s) beside MNIST; the
    part scores few images on a coarse grid, for the test's time."""
    monkeypatch.setenv("VAE_EXPLORER_DATA", str(three_classes))
    monkeypatch.setattr(server, "_datasets", None)
    monkeypatch.setattr(ood_lens, "SUBSET", 40)
    monkeypatch.setattr(ood_lens, "CONDITIONAL_SUBSET", 20)
    monkeypatch.setattr(ood_lens, "EXACT_GRID", 100)
    yield server.datasets()
    server._datasets = None


def outliers_tab(settings: ModelSettings, cache) -> tuple[AppTest, VAE]:
    """The Outliers tab of a page showing the model of `settings`, trained first."""
    get_or_train(TrainingRequest(*settings.configs(), cache_dir=cache))
    link = {"data": settings.data, "width": str(settings.width), "epochs": str(settings.epochs)}
    at = run_app({**link, **({"cvae": "1"} if settings.conditional else {})})
    at.session_state["tab"] = "Outliers"
    at.run()
    assert not at.exception, at.exception
    return at, model_view.load_model(settings.key, settings.configs())[0]


@pytest.mark.parametrize("conditional", [False, True])
def test_the_outliers_tab_puts_another_dataset_through_the_model(
    offered, isolated_cache, conditional
):
    mnist, three = offered
    settings = ModelSettings(
        beta=1.0, width=64, epochs=1, seed=0, data=three.key, conditional=conditional
    )
    at, model = outliers_tab(settings, isolated_cache)
    assert any(s.value == "Another dataset through the model" for s in at.main.subheader)
    chooser = at.selectbox(key="ood_data")
    assert chooser.value == mnist.key and chooser.options == [mnist.name]
    lines = at.get_by_key("ood_table").markdown[0].value.splitlines()
    assert lines[0] == f"| score | AUROC | mean, {three.name} | mean, {mnist.name} |"
    assert len(lines) == 2 + len(ood.SCORES)
    # The AUROCs are those of the scores computed here on the same rows.
    size = 20 if conditional else 40
    own, other = load_split(three.directory, "test").images, load_split(None, "test").images
    own_rows, other_rows = ood.subset(len(own), size), ood.subset(len(other), size)
    both = np.concatenate([own[own_rows], other[other_rows]])
    scores = ood.model_scores(model, both, grid=100)
    mine = {k: v[: len(own_rows)] for k, v in scores.items()}
    theirs = {k: v[len(own_rows) :] for k, v in scores.items()}
    for line, (name, value) in zip(lines[2:], ood.aurocs(mine, theirs).items(), strict=True):
        assert line.startswith(f"| {ood_lens.SCORE_NAMES[name]} | **{value:.3f}** |"), line
    assert at.get_by_key("ood_histogram") is not None
    text = " ".join(m.value for m in at.main.markdown)
    assert "What to take from it" in text and "AUROC" in text
    assert f"The {mnist.name} images this model finds likeliest" in text
    captions = " ".join(c.value for c in at.main.caption)
    assert f"{size} test images of each" in captions
    assert ("uniform prior over the 3 classes" in captions) == conditional
    at.radio(key="ood_score").set_value("corrected").run()
    assert not at.exception, at.exception


@pytest.mark.slow  # trains a small model on MNIST's 60,000 training digits
def test_the_part_says_plainly_when_the_server_offers_no_other_dataset(isolated_cache, monkeypatch):
    monkeypatch.delenv("VAE_EXPLORER_DATA", raising=False)
    monkeypatch.setattr(server, "_datasets", None)
    at, _ = outliers_tab(ModelSettings(beta=1.0, width=64, epochs=1, seed=0), isolated_cache)
    assert any("offers no other dataset" in i.value for i in at.main.info)
    assert not [s for s in at.selectbox if s.key == "ood_data"]
