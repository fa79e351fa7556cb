"""End to end in headless Chromium: a conditional model's class chooser, and a server that
offers other data than MNIST (issue 8, parts 1 and 3). The helpers are test_browser's."""

import numpy as np
import pytest

from benchmarks import latent_page as lp
from deploy import launch
from tests.conftest import THREE_CLASSES as NAMES
from tests.test_browser import chromium, digit_pixels, open_page  # noqa: F401 (a fixture)
from training import DEFAULT_TRAIN_CONFIG, TrainConfig, TrainingRequest, get_or_train
from vae_core import VAEConfig, decode, encode, load_split
from vae_core.datasets import describe

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TRAIN = TrainConfig(
    epochs=1, batch_size=DEFAULT_TRAIN_CONFIG.batch_size, lr=DEFAULT_TRAIN_CONFIG.lr
)


@pytest.fixture(scope="module")
def setup(three_classes, tmp_path_factory):
    """The server's cache holding a plain model of three named classes and a conditional model
    of MNIST, and the server offering the three classes' directory."""
    three = three_classes
    cache = tmp_path_factory.mktemp("data_cache")
    plain, _ = get_or_train(TrainingRequest(VAEConfig(hidden=(64, 64)), TRAIN, three, cache))
    test = load_split(three, "test")
    codes = encode(plain, test.images)[0]
    cvae, _ = get_or_train(
        TrainingRequest(VAEConfig(hidden=(64, 64), conditional=True), TRAIN, None, cache)
    )
    env = {"VAE_EXPLORER_CACHE": str(cache), "VAE_EXPLORER_DATA": str(three)}
    with launch.streamlit_server(env) as (url, _):
        yield url, describe(three), cvae, (codes, test.labels)


def test_a_conditional_model_draws_the_class_chosen_on_hover(setup, chromium):  # noqa: F811
    url, _, model, _ = setup
    page = open_page(chromium, f"{url}/?data=mnist&cvae=1&width=64&epochs=1&class=2")
    try:
        assert lp.attribute(page, "cls") == "2"
        draws = int(lp.attribute(page, "draws"))
        page.mouse.move(*lp.pixel(page, 0.6, -0.4))
        page.wait_for_function(f"() => Number({lp.VIEW_DATA}.draws) > {draws}")
        shown = lp.point(page, "z")
        assert shown == pytest.approx((0.6, -0.4), abs=0.02)
        np.testing.assert_allclose(digit_pixels(page), decode(model, [shown], 2)[0], atol=1.5 / 200)
        page.mouse.move(5, 5)
        page.get_by_text("no longer cluster by class").wait_for()
        page.locator(".st-key-class_choice").get_by_text("7", exact=True).click()
        page.wait_for_function(f"() => {lp.VIEW_DATA}.cls === '7'", timeout=30_000)
        committed = lp.point(page, "z")
        np.testing.assert_allclose(
            digit_pixels(page), decode(model, [committed], 7)[0], atol=1.5 / 200
        )
    finally:
        page.context.close()


def test_other_data_show_their_class_names_in_the_legend_and_on_hover(setup, chromium):  # noqa: F811
    url, three, _, (codes, labels) = setup
    page = open_page(chromium, f"{url}/?data={three.key}&width=64&epochs=1")
    try:
        legend = page.locator(f"{lp.VIEW} .legend").inner_text()
        assert all(name in legend for name in NAMES) and "class" in legend
        page.get_by_text(f"{len(labels)} {three.name} test images").wait_for()
        for row in lp.isolated_points(codes, 3):
            page.mouse.move(*lp.pixel(page, *codes[row]))
            page.wait_for_function(
                f"() => ({lp.LV_JS}?.querySelector('.tip')?.textContent || '').startsWith('test image #{row}:')",
                timeout=10_000,
            )
            tip = page.locator(f"{lp.VIEW} .tip").inner_text()
            assert tip == f"test image #{row}: {NAMES[labels[row]]}"
    finally:
        page.context.close()


def test_data_without_a_model_train_one_with_progress_then_the_page_shows_them(setup, chromium):  # noqa: F811
    url, three, _, _ = setup
    page = open_page(chromium, f"{url}/?data={three.key}&width=64&epochs=2&seed=7")
    try:
        sidebar = page.locator("[data-testid=stSidebar]")
        # Meanwhile the bundled MNIST's model is shown, and the request's progress beside it.
        assert "10,000 MNIST test digits" in page.locator("h4").first.inner_text()
        sidebar.get_by_text(f"{three.name} VAE, hidden [64, 64]").first.wait_for(timeout=30_000)
        sidebar.get_by_text(f"Showing: 2-D latent, {three.name} VAE, hidden [64, 64]").wait_for(
            timeout=120_000
        )
        page.wait_for_function(
            # The view may be between two elements while the page switches data.
            f"() => {lp.LV_JS}?.querySelector('.legend')?.textContent.includes('two')",
            timeout=30_000,
        )
        assert f"{three.name} test images" in page.locator("h4").first.inner_text()
    finally:
        page.context.close()
