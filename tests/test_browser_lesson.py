"""A lesson link in headless Chromium: the student's page opens on the lesson's tab, in its
language, with the controls the teacher hid out of sight."""

import pytest

from benchmarks import latent_page as lp
from explorer.model_view import ModelSettings
from tests.test_browser import chromium, open_page, server  # noqa: F401 (fixtures)
from training.cache import shipped_path
from vae_core import load_checkpoint

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("lesson_cache")


def test_a_lesson_link_opens_its_tab_with_the_sidebar_and_the_tabs_hidden(server, chromium):  # noqa: F811
    page = open_page(chromium, f"{server}/?tab=plane&colour=elbo&hide=sidebar,tabs&digit=42")
    try:
        page.locator(f"{lp.VIEW}[data-colour-by=elbo]").wait_for(timeout=60_000)
        assert not page.locator("[data-testid=stSidebar]").is_visible()
        assert not page.get_by_role("tab", name="Posterior").is_visible()
        assert page.locator(lp.MARKS).is_visible()
    finally:
        page.context.close()
    # The latent view is out of sight behind the lesson's tab: no waiting for it to draw.
    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{server}/?lang=zh&tab=sample&digit=42")
    try:
        page.locator(".st-key-prior_samples img").wait_for(timeout=60_000)
        assert page.get_by_role("tab", name="采样", selected=True).is_visible()
        assert page.locator("[data-testid=stSidebar]").is_visible()
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("link", "shown"),
    [
        ("?beta=4", "MNIST VAE, hidden [512, 512, 512], β = 4, 100 epochs, seed 0, full recipe"),
        ("?cvae=1", "MNIST conditional VAE, hidden [512, 512, 512], β = 1, 100 epochs"),
        ("?width=256&epochs=25&seed=0", "MNIST VAE, hidden [256, 256], β = 1, 25 epochs"),
        (
            "?labels=100&recipe=quick",
            "MNIST semi-supervised VAE (M2, 100 labels), hidden [256, 256], β = 1, 25 epochs",
        ),
    ],
)
def test_a_lesson_models_link_shows_a_shipped_model_on_a_fresh_server(
    server,  # noqa: F811
    chromium,  # noqa: F811
    cache,
    link,
    shown,
):
    page = open_page(chromium, f"{server}/{link}")
    try:
        bar = page.locator("[data-testid=stSidebar]")
        bar.get_by_text(f"Showing: 2-D latent, {shown}").wait_for(timeout=60_000)
        lp.wait_run_finished(page)
        text = bar.inner_text()
        assert "nothing was trained for this page" in text and "Training MNIST" not in text
        assert shipped_path(lp.attribute(page, "model-id")) is not None
        assert not list(cache.glob("*.pt"))  # the server's cache is as empty as it began
    finally:
        page.context.close()


def test_the_few_labels_tab_scores_the_shipped_m2(server, chromium):  # noqa: F811
    key = ModelSettings(beta=1.0, width=256, epochs=25, seed=0, recipe="quick", labelled=100).key
    accuracy = load_checkpoint(shipped_path(key))[1]["metrics"]["test_accuracy"]
    # The latent view is out of sight behind the tab: no waiting for it to draw.
    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{server}/?labels=100&recipe=quick&tab=few_labels")
    try:
        metric = page.locator("[data-testid=stMetric]", has_text="q(y|x) on the 10,000 test")
        metric.wait_for(timeout=120_000)
        assert f"{100 * accuracy:.1f} %" in metric.inner_text()
        table = page.locator("table", has_text="M2, Kingma et al.")
        table.wait_for(timeout=120_000)
        assert "88.0 %" in table.inner_text()
    finally:
        page.context.close()
