"""Time from an action to a lens shown, in Chromium against `streamlit run app.py`.

    python -m benchmarks.lens_timing [--digits 5]

The posterior lens (issue 7): a digit is clicked on the latent plane, then the Posterior tab;
the time from that tab's click to its heatmap drawn, for digits the server has not computed
yet, on the page's first opening of the tab (which also loads plotly in the browser) and on
later ones; and reopening the tab on a digit already computed. The server's share of a new
digit is timed in-process too, once the browser is closed: the lens's compute for each digit,
and the decoded plane it shares (made once per model). Then the interpolation lens:
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

from explorer import posterior_lens
from tests import browser
from tests import latent_page as lp
from vae_core import encode, load_model, load_split
from vae_core.posterior import decode_plane


def open_tab(page, name: str, *shown: str) -> float:
    """Click tab `name`; seconds until every one of `shown` (text, or a CSS selector after
    "css=") is on the page."""
    start = time.perf_counter()
    page.get_by_role("tab", name=name).click()
    for what in shown:
        target = page.locator(what[4:]) if what.startswith("css=") else page.get_by_text(what)
        target.first.wait_for(timeout=60_000)
    return time.perf_counter() - start


def open_lens(page, row: int) -> float:
    return open_tab(
        page,
        "Posterior",
        f"The true posterior of test image #{row}:",
        "css=.st-key-posterior_lens .heatmaplayer",
    )


def back_to_plane(page) -> None:
    page.get_by_role("tab", name="Latent plane").click()
    lp.wait_until_ready(page)
    page.wait_for_timeout(300)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lens_timing", description=__doc__)
    parser.add_argument("--digits", type=int, default=5, help="digits opened, one page each")
    args = parser.parse_args(argv)
    first, later, again, paths, outliers = [], [], [], [], []
    model = load_model()
    images = load_split(None, "test").images
    codes = encode(model, images)[0]
    rows = browser.isolated_points(codes, args.digits)
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
        for i, row in enumerate(rows):
            page.mouse.click(*lp.pixel(page, *codes[row]))
            page.locator(".st-key-selection").get_by_text(f"Test image #{row}:").wait_for(
                timeout=20_000
            )
            took = open_lens(page, row)
            (first if i == 0 else later).append(took)
            back_to_plane(page)
            again.append(open_lens(page, row))
            back_to_plane(page)
            page.get_by_role("button", name="Set as B").click()
            page.wait_for_timeout(500)
            paths.append(
                open_tab(
                    page, "Interpolate", f"to test image #{row} (", "css=.st-key-path_latent img"
                )
            )
            back_to_plane(page)
        for _ in range(3):
            outliers.append(
                open_tab(
                    page,
                    "Outliers",
                    "css=[class*='st-key-select_outlier_'] button",
                    "css=.st-key-outlier_histogram .main-svg",
                )
            )
            back_to_plane(page)
        chromium.close()
    start = time.perf_counter()
    plane = decode_plane(model)
    plane_took = time.perf_counter() - start
    compute = []
    for row in rows:
        start = time.perf_counter()
        posterior_lens.compute(model, plane, images[row])
        compute.append(time.perf_counter() - start)

    def ms(values: list[float]) -> str:
        return f"median {1000 * statistics.median(values):.0f} ms (n = {len(values)})"

    print("## Posterior lens: click on the tab to the heatmap drawn")
    print(f"- first opening on the page (plotly loads): {ms(first)}")
    print(f"- a new digit, plotly loaded: {ms(later)}")
    print(f"- the tab reopened on a digit already computed: {ms(again)}")
    print("## Posterior lens: the server's compute, in-process")
    print(f"- a new digit: {ms(compute)}")
    print(f"- the decoded plane, once per model: {1000 * plane_took:.0f} ms")
    print("## Interpolation: click on the tab to the strip drawn, a new endpoint B each time")
    print(f"- {ms(paths)}")
    print("## Outliers: click on the tab to the gallery and histogram drawn")
    print(f"- the first time for the model (scores the 10,000 digits): {1000 * outliers[0]:.0f} ms")
    print(f"- again: {ms(outliers[1:])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
