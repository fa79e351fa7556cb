"""What a person waits for in the explorer, measured in headless Chromium on a real server.

    python -m benchmarks.app_latency [--repeats 10] [--starts 5]

Four figures: server up (health check answers) to a fully drawn page with the default model,
over several fresh server starts (the first visit pays for Python's imports);
slider key press to the new decoded image; pad pointer move to the redrawn digit (decode and
draw, timed in the page); click on a scatter point to its reconstruction shown. Times between
a browser event and the page change are read off the page's own clock.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
from playwright.sync_api import sync_playwright

from tests import browser
from vae_core import encode, load_model, load_split

# Sets window.__changedAt to the page-clock time at which the predicate `done` first holds.
WATCH_JS = """
(done) => {
  window.__changedAt = null;
  const check = new Function("return (" + done + ")()");
  const observer = new MutationObserver(() => {
    if (check()) { observer.disconnect(); window.__changedAt = performance.now(); }
  });
  observer.observe(document.body,
                   {subtree: true, childList: true, attributes: true, characterData: true});
}
"""

# Sets window.__eventAt to the page-clock time of the next event of a type.
MARK_EVENT_JS = """
(type) => {
  window.__eventAt = null;
  window.addEventListener(type, () => {
    if (window.__eventAt === null) window.__eventAt = performance.now();
  }, {capture: true, once: true});
}
"""


def timed(page, event: str, done_js: str, action) -> float:
    """Milliseconds from the `event` that `action` causes to the page state `done_js`."""
    page.evaluate(MARK_EVENT_JS, event)
    page.evaluate(WATCH_JS, done_js)
    action()
    page.wait_for_function(
        "() => window.__changedAt !== null && window.__eventAt !== null", timeout=30_000
    )
    return page.evaluate("() => window.__changedAt - window.__eventAt")


def slider_to_image(page, repeats: int) -> list[float]:
    handle = page.locator(".st-key-z1 input[type=range]")
    handle.focus()
    times = []
    for i in range(repeats):
        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
        before = page.locator(".st-key-decoded img").get_attribute("src")
        done = (
            "() => { const i = document.querySelector('.st-key-decoded img');"
            f" return i && i.getAttribute('src') !== '{before}'; }}"
        )
        times.append(timed(page, "keydown", done, lambda key=key: handle.press(key)))
        page.wait_for_timeout(300)
    return times


def pad_redraw(page, moves: int) -> list[float]:
    root = page.locator(".st-key-latent_pad .pad")
    box = page.locator(".st-key-latent_pad canvas.map").bounding_box()
    rng = np.random.default_rng(0)
    times = []
    for fx, fy in rng.uniform(0.05, 0.95, size=(moves, 2)):
        draws = int(root.get_attribute("data-draws"))
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.wait_for_function(
            "([el, n]) => Number(el.dataset.draws) > n", arg=[root.element_handle(), draws]
        )
        times.append(float(root.get_attribute("data-decode-ms")))
    return times


def click_to_reconstruction(page, mu: np.ndarray, repeats: int) -> list[float]:
    times = []
    for row in browser.isolated_points(mu, repeats):
        x, y = browser.point_pixel(page, *map(float, mu[row]))
        page.mouse.move(x, y)
        page.wait_for_timeout(200)
        done = (
            "() => { const s = document.querySelector('.st-key-selection');"
            f" return !!s && s.innerText.includes('Test image #{row}:')"
            " && s.querySelectorAll('img').length === 3; }"
        )
        times.append(timed(page, "mousedown", done, lambda x=x, y=y: page.mouse.click(x, y)))
        page.wait_for_timeout(500)
    return times


def summary(name: str, values: list[float], unit: str = "ms") -> None:
    print(
        f"{name}: median {statistics.median(values):.2f} {unit}, "
        f"min {min(values):.2f}, max {max(values):.2f} (n={len(values)})",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.app_latency", description=__doc__.split("\n")[0]
    )
    p.add_argument("--repeats", type=int, default=10, help="per interaction (default: %(default)s)")
    p.add_argument(
        "--starts",
        type=int,
        default=5,
        help="server starts for the page loads (default: %(default)s)",
    )
    args = p.parse_args(argv)
    mu = encode(load_model(), load_split(None, "test").images)[0]
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as pw:
        chromium = browser.launch(pw)
        healthy, first, later = [], [], []
        for server_start in range(args.starts):
            with browser.streamlit_server({"VAE_EXPLORER_CACHE": cache}) as (url, healthy_after):
                healthy.append(healthy_after)
                for visits in (first, later):
                    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
                    page = context.new_page()
                    start = time.perf_counter()
                    page.goto(url)
                    browser.wait_until_ready(page)
                    visits.append(time.perf_counter() - start)
                    if server_start < args.starts - 1:
                        context.close()
                if server_start == args.starts - 1:
                    summary("server process start to healthy", healthy, "s")
                    summary("healthy to fully drawn page, first visit", first, "s")
                    summary("fully drawn page, a later visit", later, "s")
                    summary(
                        "slider key press to new decoded image", slider_to_image(page, args.repeats)
                    )
                    summary(
                        "pad pointer move to redrawn digit", pad_redraw(page, 10 * args.repeats)
                    )
                    summary(
                        "scatter click to reconstruction shown",
                        click_to_reconstruction(page, mu, args.repeats),
                    )
        chromium.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
