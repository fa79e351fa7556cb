"""Take the README's screenshots in headless Chromium: `python -m docs.make_screenshots`.

Opens the app at 1400x1000, clicks a scatter point, moves over the pad, then saves the
explorer view and the manifold section as PNGs in docs/.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests import browser
from vae_core import encode, load_model, load_split

HERE = Path(__file__).resolve().parent


def main(theme: str = "light") -> None:
    mu = encode(load_model(), load_split(None, "test").images)[0]
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as pw:
        chromium = browser.launch(pw)
        with browser.streamlit_server(
            {"VAE_EXPLORER_CACHE": cache, "STREAMLIT_THEME_BASE": theme}
        ) as (url, _):
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            browser.wait_until_ready(page)
            row = browser.isolated_points(mu, 40)[-1]
            x, y = browser.point_pixel(page, *map(float, mu[row]))
            page.mouse.move(x, y)
            page.wait_for_timeout(300)
            page.mouse.click(x, y)
            page.locator(".st-key-selection").get_by_text(f"Test image #{row}:").wait_for()
            box = page.locator(".st-key-latent_pad canvas.map").bounding_box()
            page.mouse.move(box["x"] + 0.62 * box["width"], box["y"] + 0.35 * box["height"])
            page.wait_for_timeout(1500)
            suffix = "" if theme == "light" else f"_{theme}"
            page.screenshot(path=str(HERE / f"screenshot_explorer{suffix}.png"))
            page.locator(".st-key-manifold").scroll_into_view_if_needed()
            page.wait_for_timeout(800)
            section = page.locator(".st-key-manifold").locator("xpath=../../..")
            section.screenshot(path=str(HERE / f"screenshot_manifold{suffix}.png"))
        chromium.close()


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "light")
