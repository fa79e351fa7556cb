"""The VAE vs PCA tab in headless Chromium: the three maps and their table, and a click on a
map's empty space and on a digit, each decoded where the map can."""

import re

import numpy as np
import pytest

from benchmarks import latent_page as lp
from deploy import launch
from explorer.sections.maps import GRID
from tests.test_browser import chromium, playwright_api  # noqa: F401 (fixture)
from vae_core import load_split

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Data coordinates of map `key` to the window's pixels.
PIXEL = """([key, x, y]) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const box = gd.getBoundingClientRect(), L = gd._fullLayout;
  return [box.left + L.xaxis._offset + L.xaxis.d2p(x), box.top + L.yaxis._offset + L.yaxis.d2p(y)];
}"""
# Point i of map `key`'s trace (0: the grid of empty points, then one trace a class).
POINT = """([key, trace, i]) => {
  const t = document.querySelector(`.st-key-${key} .js-plotly-plot`)._fullData[trace];
  return [t.x.at(i), t.y.at(i), t.customdata.at(i)];
}"""
# The rightmost test image of map `key`, far from the crowd, so a click there picks it alone.
RIGHTMOST = """(key) => {
  const traces = document.querySelector(`.st-key-${key} .js-plotly-plot`)._fullData.slice(1);
  let best = null;
  for (const t of traces) t.x.forEach((x, i) => {
    if (!best || x > best[0]) best = [x, t.y[i], t.customdata[i]];
  });
  return best;
}"""
# Where on the window map `key` draws test image `row`.
PIXEL_OF_ROW = """([key, row]) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const box = gd.getBoundingClientRect(), L = gd._fullLayout;
  for (const t of gd._fullData.slice(1)) {
    const i = Array.from(t.customdata).indexOf(row);
    if (i >= 0) return [box.left + L.xaxis._offset + L.xaxis.d2p(t.x[i]),
                        box.top + L.yaxis._offset + L.yaxis.d2p(t.y[i])];
  }
  return null;
}"""
PICKED = re.compile(r"test #(\d+), a (\d)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # The shipped model alone: nothing to train first.
    cache = tmp_path_factory.mktemp("maps_cache")
    with launch.streamlit_server({"VAE_EXPLORER_CACHE": str(cache)}) as (url, _):
        yield url


def click(page, key: str, x: float, y: float, expect: str) -> str:
    """Click map `key` at data point (x, y) once the page is still, until what it shows under
    the map says `expect` (a click while Plotly redraws after a rerun may be lost: once more
    then); all it says."""
    shown = (
        "([key, expect]) => document.querySelector(`.st-key-${key}`).innerText"
        ".replaceAll('\\n', ' ').includes(expect)"
    )
    for attempt in range(3):
        lp.wait_run_finished(page, timeout_ms=120_000)
        page.wait_for_timeout(1000)
        at = page.evaluate(PIXEL, [key, x, y])
        page.mouse.move(*at)  # Plotly picks the point under the pointer on hover first
        page.wait_for_timeout(300)
        page.mouse.click(*at)
        try:
            page.wait_for_function(shown, arg=[key, expect], timeout=60_000)
            break
        except playwright_api.TimeoutError:
            if attempt == 2:
                raise
    return page.locator(f".st-key-{key}").inner_text().replace("\n", " ")


def test_the_tab_shows_three_maps_and_decodes_a_click_where_a_map_can(server, chromium):  # noqa: F811
    labels = load_split(None, "test").labels
    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        # PCA, t-SNE and the VAE's kNN run when the tab first opens: about 30 s of CPU, and
        # minutes on a small machine's shared cores.
        page.goto(f"{server}/?lang=en&tab=maps")
        page.locator(".st-key-map_tsne .js-plotly-plot").wait_for(timeout=600_000)
        for key, title in (("map_vae", "VAE"), ("map_pca", "PCA"), ("map_tsne", "t-SNE")):
            text = page.locator(f".st-key-{key}").inner_text()
            assert text.startswith(title) and "kNN" in text, text
        table = page.locator("table").filter(has_text="reconstruction MSE").inner_text()
        assert "VAE (2-D codes)" in table and "PCA (2 components)" in table
        assert "cannot decode" in table
        page.locator(".st-key-map_vae").scroll_into_view_if_needed()
        # Empty space on the VAE's plane, its top left corner: the grid's point there is decoded.
        x, y, row = page.evaluate(POINT, ["map_vae", 0, GRID * (GRID - 1)])
        assert row == -1
        decoded = f"the decoder at z = ({x:.2f}, {y:.2f})"
        click(page, "map_vae", x, y, decoded)
        assert page.locator(".st-key-map_vae img").count() == 1
        # A digit on each of the other maps, the rightmost, away from the crowd: the digit
        # there is shown (two may overlap within a pixel), and PCA's way back from its point;
        # t-SNE has none.
        for key, more in (("map_pca", "PCA decoded at"), ("map_tsne", "t-SNE cannot decode")):
            x, y, _ = page.evaluate(RIGHTMOST, key)
            shown = click(page, key, x, y, more)
            row, digit = map(int, PICKED.search(shown).groups())
            assert digit == labels[row]
            near = np.subtract(
                page.evaluate(PIXEL_OF_ROW, [key, row]), page.evaluate(PIXEL, [key, x, y])
            )
            assert np.hypot(*near) < 3
            assert page.locator(f".st-key-{key} img").count() == (2 if key == "map_pca" else 1)
        # The VAE's pick is kept while the others are clicked.
        kept = page.locator(".st-key-map_vae").inner_text().replace("\n", " ")
        assert decoded in kept
    finally:
        page.context.close()
