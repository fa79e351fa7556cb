"""Time from an action to a lens shown, in Chromium against `streamlit run app.py`.

    python -m benchmarks.lens_timing [--digits 5]

The posterior lens (issue 7): a digit is clicked on the latent plane, then the Posterior tab;
the time from that tab's click to its heatmap drawn, for digits the server has not computed
yet, on the page's first opening of the tab (which also loads plotly in the browser) and on
later ones; and reopening the tab on a digit already computed. Then the interpolation lens:
each digit set as B, the Interpolate tab's click to the decoded strip drawn. Then the
Outliers tab, three times, to its gallery and histogram drawn.
Target: under 500 ms after the action.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

from tests import browser
from tests import latent_page as lp
from vae_core import encode, load_model, load_split

HEATMAP = ".st-key-posterior_lens .heatmaplayer"


def open_lens(page, subheading: str) -> float:
    """Click the Posterior tab; seconds until the heatmap of `subheading`'s digit is drawn."""
    start = time.perf_counter()
    page.get_by_role("tab", name="Posterior").click()
    page.get_by_text(subheading).wait_for(timeout=60_000)
    page.locator(HEATMAP).first.wait_for(timeout=60_000)
    return time.perf_counter() - start


def open_path(page, subheading: str) -> float:
    """Click the Interpolate tab; seconds until the path to `subheading`'s digit is drawn."""
    start = time.perf_counter()
    page.get_by_role("tab", name="Interpolate").click()
    page.get_by_text(subheading).wait_for(timeout=60_000)
    page.locator(".st-key-path_latent img").wait_for(timeout=60_000)
    return time.perf_counter() - start


def open_outliers(page) -> float:
    """Click the Outliers tab; seconds until its gallery and histogram are drawn."""
    start = time.perf_counter()
    page.get_by_role("tab", name="Outliers").click()
    page.locator("[class*='st-key-select_outlier_'] button").first.wait_for(timeout=60_000)
    page.locator(".st-key-outlier_histogram .main-svg").first.wait_for(timeout=60_000)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lens_timing", description=__doc__)
    parser.add_argument("--digits", type=int, default=5, help="digits opened, one page each")
    args = parser.parse_args(argv)
    first, later, again, paths, outliers = [], [], [], [], []
    with (
        tempfile.TemporaryDirectory() as cache,
        browser.streamlit_server({"VAE_EXPLORER_CACHE": cache}) as (url, _),
        sync_playwright() as p,
    ):
        chromium = browser.launch(p)
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url)
        lp.wait_until_ready(page)
        model = load_model()
        codes = encode(model, load_split(None, "test").images)[0]
        for i, row in enumerate(browser.isolated_points(codes, args.digits)):
            page.mouse.click(*lp.pixel(page, *codes[row]))
            page.locator(".st-key-selection").get_by_text(f"Test image #{row}:").wait_for(
                timeout=20_000
            )
            took = open_lens(page, f"The true posterior of test image #{row}:")
            (first if i == 0 else later).append(took)
            page.get_by_role("tab", name="Latent plane").click()
            page.wait_for_timeout(300)
            again.append(open_lens(page, f"The true posterior of test image #{row}:"))
            page.get_by_role("tab", name="Latent plane").click()
            lp.wait_until_ready(page)
            page.wait_for_timeout(300)
            page.get_by_role("button", name="Set as B").click()
            page.wait_for_timeout(500)
            paths.append(open_path(page, f"to test image #{row} ("))
            page.get_by_role("tab", name="Latent plane").click()
            lp.wait_until_ready(page)
            page.wait_for_timeout(300)
        for _ in range(3):
            outliers.append(open_outliers(page))
            page.get_by_role("tab", name="Latent plane").click()
            lp.wait_until_ready(page)
            page.wait_for_timeout(300)
        chromium.close()

    def ms(values: list[float]) -> str:
        return f"median {1000 * statistics.median(values):.0f} ms (n = {len(values)})"

    print("## Posterior lens: click on the tab to the heatmap drawn")
    print(f"- first opening on the page (plotly loads): {ms(first)}")
    print(f"- a new digit, plotly loaded: {ms(later)}")
    print(f"- the tab reopened on a digit already computed: {ms(again)}")
    print("## Interpolation: click on the tab to the strip drawn, a new endpoint B each time")
    print(f"- {ms(paths)}")
    print("## Outliers: click on the tab to the gallery and histogram drawn")
    print(f"- the first time for the model (scores the 10,000 digits): {1000 * outliers[0]:.0f} ms")
    print(f"- again: {ms(outliers[1:])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
