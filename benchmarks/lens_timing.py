"""Time from an action to a lens shown, in Chromium against `streamlit run app.py`.

    python -m benchmarks.lens_timing [--digits 5] [--out FILE]

The posterior lens (issue 7): a digit is clicked on the latent plane, then the Posterior tab;
the time from that tab's click to its heatmap drawn, for digits the server has not computed
yet, on the page's first opening of the tab (which also loads plotly in the browser) and on
later ones; and reopening the tab on a digit already computed. The server's share of a new
digit is timed in-process too, once the browser is closed: the lens's compute for each digit,
and the decoded plane it shares (made once per model). Then the interpolation lens:
each digit set as B, the Interpolate tab's click to the decoded strip drawn. Then the
Outliers tab, three times, to its gallery and histogram drawn. Then the drawing pad: five
strokes, each release to its result shown (the server's CPU for each measured from /proc).
Target: under 500 ms after the action.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

from benchmarks import latent_page as lp
from benchmarks.harness import cpu_seconds, parser, report
from deploy import launch
from explorer import posterior_lens
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


# Until plotly has drawn the lens of this μ: the heatmap of a digit shown before stays in the
# page meanwhile, so its mere presence proves nothing.
LENS_DRAWN = """([key, mu]) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const mean = gd && gd._fullData && gd._fullData.find((t) => t.name === "q(z|x): mean μ");
  return Boolean(mean && gd.querySelector(".heatmaplayer image")
    && Math.abs(mean.x[0] - mu[0]) < 1e-3 && Math.abs(mean.y[0] - mu[1]) < 1e-3);
}"""


def wait_lens_drawn(page, key: str, mu) -> None:
    page.wait_for_function(LENS_DRAWN, arg=[key, [float(v) for v in mu]], timeout=60_000)


def open_lens(page, row: int, mu) -> float:
    start = time.perf_counter()
    page.get_by_role("tab", name="Posterior").click()
    page.get_by_text(f"The true posterior of test image #{row}:").wait_for(timeout=60_000)
    wait_lens_drawn(page, "posterior_lens", mu)
    return time.perf_counter() - start


def back_to_plane(page) -> None:
    page.get_by_role("tab", name="Latent plane").click()
    lp.wait_until_ready(page)
    page.wait_for_timeout(300)


# Strokes drawn one after another on the pad, each a fraction of its width and height: a 7,
# then its bar, then marks that change it again.
STROKES = [
    [(0.25, 0.22), (0.72, 0.2), (0.55, 0.5), (0.42, 0.85)],
    [(0.4, 0.52), (0.68, 0.52)],
    [(0.2, 0.85), (0.8, 0.86)],
    [(0.3, 0.4), (0.35, 0.7)],
    [(0.75, 0.6), (0.7, 0.8)],
]


def draw_digits(page, pid: int) -> tuple[list[float], list[float]]:
    """Open the drawing pad, then time each stroke's release to its result (reconstruction,
    percentile and posterior lens, for this drawing's μ) shown; and the server's CPU for it."""
    page.get_by_text("Draw a digit").first.click()
    page.locator(".st-key-draw .pad[data-model-id]").wait_for(timeout=60_000)
    page.locator(".st-key-draw_result").get_by_text("Draw a digit above").wait_for(timeout=60_000)
    took, cpu = [], []
    for stroke in STROKES:
        page.wait_for_timeout(1500)  # the server idle again
        before = cpu_seconds(pid)
        lp.draw_stroke(page, stroke)
        start = time.perf_counter()  # the release: draw_stroke's last act
        mu = [float(v) for v in page.evaluate(f"() => {lp.PAD_JS}.dataset.mu").split(",")]
        result = page.locator(".st-key-draw_result")
        result.get_by_text(f"μ = ({mu[0]:.2f}, {mu[1]:.2f})").wait_for(timeout=60_000)
        wait_lens_drawn(page, "draw_posterior_lens", mu)
        took.append(time.perf_counter() - start)
        page.wait_for_timeout(1500)
        cpu.append(cpu_seconds(pid) - before)
    return took, cpu


def main(argv: list[str] | None = None) -> int:
    options = {"--digits": (int, 5, "digits opened, one page each")}
    args = parser("python -m benchmarks.lens_timing", __doc__, options).parse_args(argv)
    first, later, again, paths, outliers = [], [], [], [], []
    model = load_model()
    images = load_split(None, "test").images
    codes = encode(model, images)[0]
    rows = lp.isolated_points(codes, args.digits)
    with (
        tempfile.TemporaryDirectory() as cache,
        launch.streamlit_process({"VAE_EXPLORER_CACHE": cache}) as server,
        sync_playwright() as p,
    ):
        url = server.url
        chromium = launch.chromium(p)
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url)
        lp.wait_until_ready(page)
        for i, row in enumerate(rows):
            page.mouse.click(*lp.pixel(page, *codes[row]))
            page.locator(".st-key-selection").get_by_text(f"Test image #{row}:").wait_for(
                timeout=20_000
            )
            took = open_lens(page, row, codes[row])
            (first if i == 0 else later).append(took)
            back_to_plane(page)
            again.append(open_lens(page, row, codes[row]))
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
        releases, release_cpu = draw_digits(page, server.pid)
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

    opening = "posterior lens: click on the tab to the heatmap drawn"
    figures = [
        (f"{opening}, first opening on the page (plotly loads)", ms(first)),
        (f"{opening}, a new digit, plotly loaded", ms(later)),
        (f"{opening}, the tab reopened on a digit already computed", ms(again)),
        ("posterior lens: the server's compute, in-process, a new digit", ms(compute)),
        ("the decoded plane, once per model", f"{1000 * plane_took:.0f} ms"),
        (
            "interpolation: click on the tab to the strip drawn, a new endpoint B each time",
            ms(paths),
        ),
        (
            "outliers: click on the tab to the gallery and histogram drawn, the first time for the "
            "model (scores the 10,000 digits)",
            f"{1000 * outliers[0]:.0f} ms",
        ),
        ("outliers: the same, again", ms(outliers[1:])),
        (
            "drawing: a stroke's release to the result shown, its posterior lens included",
            ms(releases),
        ),
        ("drawing: the server's CPU per release", ms(release_cpu)),
    ]
    seconds = {
        "first": first,
        "later": later,
        "again": again,
        "compute": compute,
        "plane": plane_took,
        "paths": paths,
        "outliers": outliers,
        "releases": releases,
        "release_cpu": release_cpu,
    }
    return report(seconds, ("from the action to it shown", "time"), figures, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
