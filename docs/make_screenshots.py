"""Take the README's screenshots in headless Chromium: `python -m docs.make_screenshots [mode]`.

Opens the app at 1400x1000 in the light or dark theme, selects a test digit, hovers the plane
so the decoded digit shows the point under the pointer, and saves the latent view, each lens
(the plane coloured by −ELBO and a drawn digit among them) and the manifold as PNGs in docs/.

`python -m docs.make_screenshots zh` takes the main views in Chinese for README.zh-CN.md, with
Debian's fonts-noto-cjk (installed first where it is missing, as root).

`python -m docs.make_screenshots tour` takes the guided tour's first step, its guess revealed,
in the light and the dark theme.

`python -m docs.make_screenshots board` takes a teacher's class board, light, dark and in Chinese: one
drawing sent by a student's page in the browser, and a class's worth more (test images sent
as drawings at their q(z|x), guesses at the tour's first step) put in the board's store.

`python -m docs.make_screenshots devices` takes the phone view (390x844 at 3 device pixels per
CSS pixel, touch, the page scrolled to the plane) and the presentation mode (`?present=1` at
1280x720, a projector's size).

`python -m docs.make_screenshots own` uploads a zip of drawn shapes: its preview (a laptop, a
phone, Chinese) and the plane of the quick model trained on it (about two minutes).

`python -m docs.make_screenshots data` takes those of a conditional VAE and of Fashion-MNIST
(Debian's dataset-fashion-mnist package), training their models into the app's own cache
first if they are not there (about half an hour on 2 cores), so that a rerun reuses them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
from playwright.sync_api import sync_playwright

import i18n
from benchmarks import latent_page as lp
from deploy import launch
from explorer import state
from explorer.board_store import BoardStore
from explorer.model_view import ModelSettings, model_id
from training import TrainingRequest, default_cache_dir, get_or_train
from vae_core import encode, load_model, load_split
from vae_core.datasets import describe
from vae_core.inference import elbo_terms

HERE = Path(__file__).resolve().parent
COMPARED = ModelSettings(beta=4.0, width=256, epochs=10, seed=0)
FASHION = Path("/usr/share/datasets/fashion-mnist")
CONDITIONAL = ModelSettings(beta=1.0, width=512, epochs=10, seed=0, conditional=True)


def other_data() -> None:
    """A conditional VAE's plane with its class chooser and its "same style, every class"
    grid; the plane of a Fashion-MNIST model."""
    os.environ["VAE_EXPLORER_DATA"] = str(FASHION)  # as the server below is told
    fashion = describe(FASHION)
    on_fashion = ModelSettings(beta=1.0, width=512, epochs=20, seed=0, data=fashion.key)
    cache = default_cache_dir()
    for settings in (CONDITIONAL, on_fashion):
        get_or_train(TrainingRequest(*settings.configs(), cache))
    env = {"VAE_EXPLORER_CACHE": str(cache)}
    with launch.streamlit_server(env) as (url, _), sync_playwright() as pw:
        chromium = launch.chromium(pw)
        page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/?data=mnist&cvae=1&epochs=10&class=4&z1=-0.6&z2=0.8&digit=21")
        lp.wait_until_ready(page)
        page.mouse.move(*lp.pixel(page, 1.2, -0.7))
        page.wait_for_timeout(1200)
        page.screenshot(path=str(HERE / "screenshot_cvae.png"))
        page.set_viewport_size({"width": 1400, "height": 1150})  # the manifold and the styles
        page.get_by_role("tab", name="Manifold").click()
        page.locator(".st-key-manifold .js-plotly-plot").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(HERE / "screenshot_cvae_styles.png"))
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"{url}/?data={fashion.key}&epochs=20&z1=0.5&z2=-0.4&digit=12")
        lp.wait_until_ready(page)
        page.mouse.move(*lp.pixel(page, -1.0, 0.6))
        page.wait_for_timeout(1200)
        page.screenshot(path=str(HERE / "screenshot_fashion.png"))
        chromium.close()


def own_images() -> None:
    """Your own images: a zip of five drawn shapes uploaded, its preview in the dialog (on a
    laptop, on a phone and in Chinese), and the plane of the model trained on it."""
    from benchmarks.own_images import shapes_zip

    zipped = shapes_zip(300, extras=True)
    files = [{"name": "shapes.zip", "mimeType": "application/zip", "buffer": zipped}]
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as pw:
        chromium = launch.chromium(pw)
        with launch.streamlit_server({"VAE_EXPLORER_CACHE": cache}) as (url, _):
            for lang, suffix, viewport in (
                ("en", "_phone", {"width": 390, "height": 844}),
                ("zh", "_zh", {"width": 1400, "height": 1000}),
                ("en", "", {"width": 1400, "height": 1000}),  # last: it trains and explores
            ):
                phone = suffix == "_phone"
                context = chromium.new_context(
                    viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=2
                )
                page = context.new_page()
                page.goto(f"{url}/?lang={lang}&width=256&epochs=25")
                lp.wait_until_ready(page)
                lp.wait_run_finished(page)
                if phone:
                    page.get_by_test_id("stExpandSidebarButton").click()
                page.locator(".st-key-own_open button").click()
                dialog = page.get_by_role("dialog")
                dialog.locator("input[type=file]").set_input_files(files=files)
                dialog.locator("[data-testid=stTable]").first.wait_for(timeout=120_000)
                page.wait_for_timeout(800)
                page.screenshot(path=str(HERE / f"screenshot_own_preview{suffix}.png"))
                if suffix:
                    context.close()
                    continue
                dialog.locator(".st-key-own_train button").click()
                page.locator(f"{lp.VIEW} .legend").filter(has_text="wedge").wait_for(
                    timeout=600_000
                )
                page.wait_for_function(
                    f"() => !({lp.VIEW_DATA}.modelId || '@').includes('@')", timeout=600_000
                )
                lp.wait_run_finished(page)
                page.mouse.move(*lp.pixel(page, 0.6, -0.5))
                page.wait_for_timeout(6000)  # the toast saying the model is shown has gone
                page.screenshot(path=str(HERE / "screenshot_own_plane.png"))
                context.close()
        chromium.close()


def cjk_fonts() -> None:
    """Chromium draws Chinese with whatever CJK font fontconfig has: Noto's, or install it."""
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if "Noto" in listed:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit("No Noto CJK font: `apt-get install -y fonts-noto-cjk`, then rerun.")
    subprocess.run(["apt-get", "install", "-y", "-qq", "fonts-noto-cjk"], check=True)


def chinese() -> None:
    """The latent view with a selected digit, the Posterior tab and a drawn digit, in Chinese."""
    cjk_fonts()
    zh = i18n.translations("zh").gettext
    mu = encode(load_model(), load_split(None, "test").images)[0]
    with sync_playwright() as pw, launch.streamlit_server() as (url, _):
        chromium = launch.chromium(pw)
        page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        row = lp.isolated_points(mu, 40)[-1]
        page.goto(f"{url}/?lang=zh&z1=-1.2&z2=0.4&digit={row}")
        lp.wait_until_ready(page)
        page.mouse.move(*lp.pixel(page, 0.9, 1.1))
        page.wait_for_timeout(1200)
        page.screenshot(path=str(HERE / "screenshot_explorer_zh.png"))
        page.get_by_role("tab", name=zh("Posterior")).click()
        page.locator(".st-key-posterior_lens .heatmaplayer").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(HERE / "screenshot_posterior_zh.png"))
        page.get_by_role("tab", name=zh("Latent plane")).click()
        lp.wait_until_ready(page)
        page.locator(".st-key-drawing label").first.click()
        page.locator(".st-key-draw .pad[data-model-id]").wait_for(timeout=60_000)
        lp.draw_stroke(page, [(0.25, 0.22), (0.72, 0.2), (0.55, 0.5), (0.42, 0.85)])  # a 7
        page.locator(".st-key-draw_result .js-plotly-plot").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(HERE / "screenshot_drawing_zh.png"), full_page=True)
        chromium.close()


def tour() -> None:
    """The guided tour's first step, a guess revealed beside the true code, light and dark."""
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as pw:
        chromium = launch.chromium(pw)
        with launch.streamlit_server({"VAE_EXPLORER_CACHE": cache}) as (url, _):
            for theme in ("light", "dark"):
                context = chromium.new_context(
                    viewport={"width": 1400, "height": 1000}, color_scheme=theme
                )
                page = context.new_page()
                page.goto(f"{url}/?lang=en&tour=1")
                lp.wait_until_ready(page)
                page.mouse.click(*lp.pixel(page, -1.8, -0.6))  # the learner's guess
                page.wait_for_timeout(800)
                page.locator(".st-key-tour").get_by_role("button", name="Reveal").click()
                page.get_by_text("Your guess was").wait_for(timeout=30_000)
                page.wait_for_timeout(1500)
                suffix = "" if theme == "light" else f"_{theme}"
                page.screenshot(path=str(HERE / f"screenshot_tour{suffix}.png"))
                context.close()
        chromium.close()


def devices() -> None:
    """A student's phone, the page scrolled to the plane with a digit selected; the teacher's
    projector in presentation mode."""
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as pw:
        chromium = launch.chromium(pw)
        with launch.streamlit_server({"VAE_EXPLORER_CACHE": cache}) as (url, _):
            context = chromium.new_context(
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
                device_scale_factor=3,
            )
            page = context.new_page()
            page.goto(f"{url}/?lang=en&z1=-1.2&z2=0.4&digit=0")
            lp.wait_until_ready(page)
            lp.wait_run_finished(page)
            page.locator(lp.MARKS).evaluate("c => c.scrollIntoView({block: 'center'})")
            page.wait_for_timeout(1200)
            page.screenshot(path=str(HERE / "screenshot_phone.png"))
            context.close()
            context = chromium.new_context(viewport={"width": 1280, "height": 720})
            page = context.new_page()
            page.goto(f"{url}/?lang=en&present=1&z1=-1.2&z2=0.4&digit=0")
            lp.wait_until_ready(page)
            lp.wait_run_finished(page)
            page.mouse.move(*lp.pixel(page, 0.9, 1.1))
            page.wait_for_timeout(1200)
            page.screenshot(path=str(HERE / "screenshot_present.png"))
            context.close()
        chromium.close()


def _class_on_board(store: BoardStore, code: str) -> None:
    """A class's sends: 18 test images as drawings, where the shipped model puts them and how
    unusual it finds them, and 6 guesses at the tour's first step beside the 7's true code."""
    model = load_model()
    test = load_split(None, "test")
    mu, _sigma = encode(model, test.images)
    scores = elbo_terms(model, test.images)["neg_elbo"]
    name = model_id(*state.DEFAULT_SETTINGS.configs())
    rng = np.random.default_rng(0)
    rows = rng.choice(len(test.images), 18, replace=False)
    for k, row in enumerate(rows):
        store.send(
            code,
            f"drawing {k}",
            kind="drawing",
            z=mu[row],
            name=f"Student {k + 1}",
            percentile=100.0 * float(np.mean(scores < scores[row])),
            pixels=test.images[row].tobytes(),
            model_id=name,
        )
    for k in range(6):
        guess = mu[0] + rng.normal(0, 1.0, 2)
        store.send(
            code,
            f"guess {k}",
            kind="prediction",
            z=guess,
            truth=mu[0],
            step=1,
            name=f"Student {k + 20}",
            model_id=name,
        )


def board() -> None:
    """A teacher's class board with a student's drawing sent from the browser and a class's
    worth more, an item hovered: light, dark, and in Chinese for README.zh-CN."""
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as pw:
        chromium = launch.chromium(pw)
        with launch.streamlit_server({"VAE_EXPLORER_CACHE": cache}) as (url, _):
            viewport = {"width": 1400, "height": 1000}
            teacher = chromium.new_context(viewport=viewport).new_page()
            teacher.goto(f"{url}/?lang=en")
            lp.wait_until_ready(teacher)
            teacher.get_by_role("button", name="🧑‍🏫 Open a class board").click()
            teacher.locator(".st-key-board_plane .board").wait_for(timeout=60_000)
            link = teacher.locator(".st-key-board [data-testid=stCode]").first.inner_text()
            own = teacher.url.split("?", 1)[1]
            student = chromium.new_context(viewport=viewport).new_page()
            student.goto(f"{link.strip()}&lang=en")
            lp.wait_until_ready(student)
            student.locator(".st-key-board_name input").fill("Ada")
            student.locator(".st-key-board_name input").press("Enter")
            student.locator(".st-key-drawing label").first.click()
            student.locator(".st-key-draw .pad[data-model-id]").wait_for(timeout=60_000)
            lp.draw_stroke(student, [(0.25, 0.22), (0.72, 0.2), (0.55, 0.5), (0.42, 0.85)])
            student.get_by_role("button", name="📤 Send to the board").click()
            student.get_by_text("Sent: #1 on the board.").wait_for(timeout=30_000)
            student.screenshot(path=str(HERE / "screenshot_board_student.png"))
            code = parse_qs(own)["board"][0]
            _class_on_board(BoardStore(Path(cache) / "boards"), code)
            cjk_fonts()
            for theme, lang, suffix in (
                ("light", "en", ""),
                ("dark", "en", "_dark"),
                ("light", "zh", "_zh"),
            ):
                context = chromium.new_context(viewport=viewport, color_scheme=theme)
                page = context.new_page()
                page.goto(f"{url}/?{own.replace('lang=en', f'lang={lang}')}")
                lp.wait_until_ready(page)
                page.locator(".st-key-board_plane [data-item='25']").wait_for(timeout=30_000)
                page.locator(".st-key-board_plane [data-item='1']").hover()
                page.locator(".st-key-board_plane .tip").wait_for(state="visible")
                page.wait_for_timeout(500)
                page.screenshot(path=str(HERE / f"screenshot_board{suffix}.png"))
                context.close()
        chromium.close()


def few_labels(page, suffix: str) -> None:
    """The Few labels tab (at a taller window, to hold the misread digits), then the labelled
    images marked on the plane."""
    page.set_viewport_size({"width": 1400, "height": 1300})
    page.get_by_role("tab", name="Few labels").click()
    page.locator(".st-key-few_labels_errors .main-svg").first.wait_for(timeout=120_000)
    mosaic = page.locator(".st-key-few_labels_errors .main-svg").first.bounding_box()
    page.mouse.move(mosaic["x"] + mosaic["width"] * 0.45, mosaic["y"] + mosaic["height"] * 0.25)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(HERE / f"screenshot_few_labels{suffix}.png"))
    page.get_by_role("button", name="Mark the labelled images on the plane").click()
    page.get_by_text("Marked on the latent plane: labelled images").wait_for(timeout=30_000)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_role("tab", name="Latent plane").click()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(HERE / f"screenshot_few_labels_marks{suffix}.png"))


def compare_and_replay(page, suffix: str) -> None:
    """The Compare tab with a point hovered on the left plane; the Training tab's replay."""
    page.get_by_role("tab", name="Compare").click()
    for key in "ab":
        page.locator(f".st-key-compare_{key} .lv[data-model-id][data-area]").wait_for(
            timeout=60_000
        )
    box = page.locator(".st-key-compare_a canvas.marks").bounding_box()
    page.mouse.move(box["x"] + 0.62 * box["width"], box["y"] + 0.35 * box["height"])
    page.wait_for_timeout(1500)
    page.screenshot(path=str(HERE / f"screenshot_compare{suffix}.png"), full_page=True)
    page.get_by_role("tab", name="Training").click()
    page.locator(".st-key-replay_epoch").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(HERE / f"screenshot_replay{suffix}.png"))


def screenshots(theme: str = "light") -> None:
    mu = encode(load_model(), load_split(None, "test").images)[0]
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as pw:
        # A second model to compare the default with: β = 4, trained into this run's cache.
        get_or_train(TrainingRequest(*COMPARED.configs(), cache_dir=cache))
        chromium = launch.chromium(pw)
        with launch.streamlit_server({"VAE_EXPLORER_CACHE": cache}) as (url, _):
            context = chromium.new_context(
                viewport={"width": 1400, "height": 1000}, color_scheme=theme
            )
            page = context.new_page()
            row = lp.isolated_points(mu, 40)[-1]
            page.goto(f"{url}/?z1=-1.2&z2=0.4&digit={row}")
            lp.wait_until_ready(page)
            page.mouse.move(*lp.pixel(page, 0.9, 1.1))
            page.wait_for_timeout(1200)
            suffix = "" if theme == "light" else f"_{theme}"
            page.screenshot(path=str(HERE / f"screenshot_explorer{suffix}.png"))
            page.get_by_role("tab", name="Manifold").click()
            page.locator(".st-key-manifold .js-plotly-plot").wait_for()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(HERE / f"screenshot_manifold{suffix}.png"))
            page.get_by_role("tab", name="Posterior").click()
            page.locator(".st-key-posterior_lens .heatmaplayer").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(HERE / f"screenshot_posterior{suffix}.png"))
            page.get_by_role("tab", name="Sample").click()
            page.locator(".st-key-prior_samples img").wait_for(timeout=60_000)
            page.get_by_role("button", name="Mark their z on the plane").click()
            page.get_by_text("Marked on the latent plane").wait_for(timeout=30_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(HERE / f"screenshot_sample{suffix}.png"))
            page.get_by_role("tab", name="Latent plane").click()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(HERE / f"screenshot_sample_marks{suffix}.png"))
            page.get_by_role("button", name="Set as B").click()
            page.wait_for_timeout(800)
            page.get_by_role("tab", name="Interpolate").click()
            page.locator(".st-key-path_pixels img").wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(HERE / f"screenshot_interpolate{suffix}.png"))
            page.get_by_role("tab", name="Outliers").click()
            page.locator(".st-key-outlier_histogram .main-svg").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(HERE / f"screenshot_outliers{suffix}.png"), full_page=True)
            page.get_by_role("tab", name="Latent plane").click()
            lp.wait_until_ready(page)
            page.wait_for_timeout(1000)
            page.locator(f"{lp.VIEW} .colour-by button[data-colour=elbo]").click()
            page.locator(f"{lp.VIEW}[data-colour-by=elbo]").wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(HERE / f"screenshot_outlier_colours{suffix}.png"))
            page.locator(f"{lp.VIEW} .colour-by button[data-colour=digit]").click()
            page.get_by_text("Draw a digit").first.click()
            page.locator(".st-key-draw .pad[data-model-id]").wait_for(timeout=60_000)
            lp.draw_stroke(page, [(0.25, 0.22), (0.72, 0.2), (0.55, 0.5), (0.42, 0.85)])  # a 7
            page.locator(".st-key-draw_result .js-plotly-plot").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(HERE / f"screenshot_drawing{suffix}.png"), full_page=True)
            few_labels(page, suffix)
            compare_and_replay(page, suffix)
            context.close()
        chromium.close()


MODES = {
    "data": other_data,
    "zh": chinese,
    "tour": tour,
    "board": board,
    "devices": devices,
    "own": own_images,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m docs.make_screenshots", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "mode",
        nargs="?",
        default="light",
        choices=["light", "dark", *MODES],
        help="the main views in the light or dark theme (default: light), or another set",
    )
    mode = parser.parse_args(argv).mode
    if mode in MODES:
        MODES[mode]()
    else:
        screenshots(mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
