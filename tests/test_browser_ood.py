"""End to end in headless Chromium: the Outliers tab puts another dataset through the model
(issue 31). The helpers are test_browser's."""

import pytest

from deploy import launch
from tests.test_browser import choose, chromium, open_page  # noqa: F401 (a fixture)
from training import DEFAULT_TRAIN_CONFIG, TrainConfig, TrainingRequest, get_or_train
from vae_core import VAEConfig
from vae_core.datasets import describe

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def setup(three_classes, tmp_path_factory):
    """A server offering the three-class directory, its cache holding a small model of it
    (its few test images keep the exact likelihood's quadrature short)."""
    cache = tmp_path_factory.mktemp("ood_cache")
    train = TrainConfig(
        epochs=1, batch_size=DEFAULT_TRAIN_CONFIG.batch_size, lr=DEFAULT_TRAIN_CONFIG.lr
    )
    get_or_train(TrainingRequest(VAEConfig(hidden=(64, 64)), train, three_classes, cache))
    env = {"VAE_EXPLORER_CACHE": str(cache), "VAE_EXPLORER_DATA": str(three_classes)}
    with launch.streamlit_server(env) as (url, _):
        yield url, describe(three_classes)


def test_the_outliers_tab_scores_another_dataset_and_shows_the_aurocs(setup, chromium):  # noqa: F811
    url, three = setup
    page = open_page(chromium, f"{url}/?data={three.key}&width=64&epochs=1")
    try:
        page.get_by_role("tab", name="Outliers").click()
        page.get_by_text("Another dataset through the model").wait_for(timeout=60_000)
        choose(page, page.locator(".st-key-ood_data"), "MNIST")
        table = page.locator(".st-key-ood_table table")
        table.wait_for(timeout=180_000)
        text = table.inner_text()
        assert "AUROC" in text and "exact −log p(x)" in text and "corrected for complexity" in text
        assert f"mean, {three.name}" in text and "mean, MNIST" in text
        page.get_by_text("The MNIST images this model finds likeliest").wait_for()
    finally:
        page.context.close()
