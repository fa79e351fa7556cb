"""End to end in headless Chromium: what a person does with the explorer, on a real server.

Without Chromium or Playwright these tests are skipped, with the reason; set
VAE_EXPLORER_REQUIRE_BROWSER=1 (as .ci/run does) to make that an error instead.
"""

import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from benchmarks import latent_page as lp
from deploy import launch

REQUIRED = os.environ.get("VAE_EXPLORER_REQUIRE_BROWSER") == "1"
HOW = "to run them, `pip install playwright` and `apt-get install -y chromium` (or set CHROMIUM)"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        raise RuntimeError(f"{reason}, and VAE_EXPLORER_REQUIRE_BROWSER=1 requires it: {HOW}")
    pytest.skip(f"{reason}: browser tests skipped; {HOW}", allow_module_level=True)


try:
    from playwright import sync_api as playwright_api
except ImportError:
    _unavailable("Playwright is not installed")
if not Path(launch.CHROMIUM).exists():
    _unavailable(f"no Chromium at {launch.CHROMIUM}")

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SMALL_WIDTH, SMALL_EPOCHS = 64, 2  # the second model, trained into the server's cache up front


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    from training import DEFAULT_TRAIN_CONFIG, TrainConfig, TrainingRequest, get_or_train
    from vae_core import VAEConfig

    directory = tmp_path_factory.mktemp("browser_cache")
    train = TrainConfig(
        epochs=SMALL_EPOCHS, batch_size=DEFAULT_TRAIN_CONFIG.batch_size, lr=DEFAULT_TRAIN_CONFIG.lr
    )
    get_or_train(
        TrainingRequest(VAEConfig(hidden=(SMALL_WIDTH, SMALL_WIDTH)), train, cache_dir=directory)
    )
    return directory


@pytest.fixture(scope="module")
def server(cache):
    with launch.streamlit_server({"VAE_EXPLORER_CACHE": str(cache)}) as (url, _):
        yield url


@pytest.fixture(scope="module")
def chromium():
    with playwright_api.sync_playwright() as p:
        b = launch.chromium(p)
        yield b
        b.close()


def open_page(chromium, url, width=1400, height=1000, **options):
    context = chromium.new_context(viewport={"width": width, "height": height}, **options)
    page = context.new_page()
    # Every message the page sends to the server, recorded from the first connection on.
    page.sent_frames = []
    page.on(
        "websocket", lambda ws: ws.on("framesent", lambda frame: page.sent_frames.append(frame))
    )
    page.goto(url)
    lp.wait_until_ready(page)
    lp.wait_run_finished(page)
    return page


def choose(page, box, option: str, timeout_ms: int = 60_000) -> None:
    """Open the select box inside `box` and pick `option`. A rerun that lands between the
    click and the list's drawing can shift or close the list (a tab's first run adds elements
    above), so the box is opened again until the option shows."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        box.get_by_role("combobox").click()
        item = page.get_by_role("option", name=option, exact=True)
        try:
            item.click(timeout=5_000)
            return
        except playwright_api.TimeoutError:
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")


@pytest.fixture
def page(server, chromium):
    page = open_page(chromium, server)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def model_and_codes():
    from vae_core import encode, load_model, load_split

    model = load_model()
    return model, encode(model, load_split(None, "test").images)[0]


def commits_sent(page) -> int:
    """Commit messages among the frames sent: the trigger's name travels in its JSON."""
    return sum(b'"commit"' in (f if isinstance(f, bytes) else f.encode()) for f in page.sent_frames)


def digit_pixels(page) -> np.ndarray:
    """The decoded digit as drawn, mapped back from ink-on-paper to values in [0, 1]."""
    data = page.locator(".st-key-latent_scatter canvas.digit").evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data)"
    )
    red = np.array(data, dtype=np.float32).reshape(28, 28, 4)[..., 0]
    ink = float(lp.attribute(page, "ink").split(",")[0])
    paper = float(lp.attribute(page, "paper").split(",")[0])
    return (red - paper) / (ink - paper)


def slider_value(page, name: str) -> float:
    return float(page.locator(lp.SLIDER.format(name)).evaluate("el => el.value"))


def test_hover_decodes_in_the_browser_as_torch_does_and_sends_nothing(page, model_and_codes):
    from vae_core import decode

    model, _ = model_and_codes
    page.sent_frames.clear()
    seen = []
    for z in [(-1.0, 1.5), (0.4, -0.8), (2.0, 0.3), (-0.2, -2.2)]:
        draws = int(lp.attribute(page, "draws"))
        page.mouse.move(*lp.pixel(page, *z))
        page.wait_for_function(f"() => Number({lp.VIEW_DATA}.draws) > {draws}")
        shown = lp.point(page, "z")
        assert shown == pytest.approx(z, abs=0.02)  # the point under the pointer
        # The browser's decoding is the torch decoder's, to the canvas's 8-bit precision,
        # and the sliders show the same z.
        expected = decode(model, [shown])[0]
        np.testing.assert_allclose(digit_pixels(page), expected, atol=1.5 / 200)
        assert slider_value(page, "z1") == pytest.approx(shown[0], abs=0.006)
        assert slider_value(page, "z2") == pytest.approx(shown[1], abs=0.006)
        assert "under the pointer" in page.locator(".st-key-decoded").inner_text()
        seen.append(expected)
    assert not page.sent_frames, "hovering must not talk to the server"
    assert all(np.abs(a - b).max() > 0.05 for a, b in zip(seen, seen[1:], strict=False))
    assert float(lp.attribute(page, "decode-ms")) >= 0
    # Leaving the plane shows the committed point again.
    page.mouse.move(5, 5)
    page.wait_for_function(f"() => {lp.VIEW_DATA}.z === '0,0'")


def test_a_burst_of_key_presses_is_one_commit_that_the_server_confirms(page):
    handle = page.locator(lp.SLIDER.format("z1"))
    handle.focus()
    page.sent_frames.clear()
    # The page's clock stands still while the keys are pressed: a burst, however slowly a busy
    # machine delivers the presses (more than the commit's delay apart, they were two commits).
    page.clock.install()
    page.clock.pause_at(time.time() + 1)
    for _ in range(5):
        handle.press("ArrowRight")
    page.clock.resume()
    # The digit follows the key presses in the next frame, before the server hears of them.
    page.wait_for_function(f"() => {lp.VIEW_DATA}.z === '0.05,0'")
    lp.wait_committed(page, (0.05, 0.0))
    lp.wait_run_finished(page)
    assert commits_sent(page) == 1
    assert lp.point(page, "z") == pytest.approx((0.05, 0.0), abs=1e-9)
    assert page.locator(".st-key-decoded .readout").inner_text() == "z = (0.05, 0.00)"


def test_dragging_a_slider_morphs_the_digit_live_and_commits_once_on_release(page):
    track = page.locator(lp.SLIDER.format("z2")).bounding_box()
    y = track["y"] + track["height"] / 2
    page.mouse.move(track["x"] + track["width"] / 2, y)
    page.mouse.down()
    page.sent_frames.clear()
    shown = []
    for f in (0.55, 0.62, 0.7, 0.78):
        draws = int(lp.attribute(page, "draws"))
        page.mouse.move(track["x"] + f * track["width"], y, steps=3)
        page.wait_for_function(f"() => Number({lp.VIEW_DATA}.draws) > {draws}")
        shown.append(lp.point(page, "z")[1])
    assert shown == sorted(shown) and len(set(shown)) == len(shown)
    assert not page.sent_frames, "dragging must not talk to the server until release"
    page.mouse.up()
    z2 = slider_value(page, "z2")
    assert z2 == pytest.approx(shown[-1], abs=1e-9)
    lp.wait_committed(page, (0.0, z2))
    lp.wait_run_finished(page)
    assert commits_sent(page) == 1


def test_a_click_on_empty_plane_commits_that_point(page, model_and_codes):
    _, codes = model_and_codes
    # The emptiest spot of a grid inside the plane.
    grid = np.stack(np.meshgrid(np.linspace(-3, 3, 25), np.linspace(-3, 3, 25)), -1).reshape(-1, 2)
    gaps = np.linalg.norm(grid[:, None] - codes[None], axis=-1).min(axis=1)
    z = grid[np.argmax(gaps)]
    page.mouse.click(*lp.pixel(page, *z))
    lp.wait_committed(page, tuple(z), tolerance=0.02)
    committed = lp.point(page, "committed")
    page.mouse.move(5, 5)  # leave the plane: the view shows the committed point
    page.wait_for_function(
        f"() => {lp.VIEW_DATA}.committed && {lp.VIEW_DATA}.z === {lp.VIEW_DATA}.committed"
    )
    assert slider_value(page, "z1") == pytest.approx(committed[0], abs=0.006)
    link = parse_qs(urlparse(page.url).query)
    assert float(link["z1"][0]) == pytest.approx(committed[0], abs=5e-4)
    assert float(link["z2"][0]) == pytest.approx(committed[1], abs=5e-4)


def test_a_click_on_a_digit_selects_it_and_move_here_brings_z_to_it(page, model_and_codes):
    _, codes = model_and_codes
    row = lp.isolated_points(codes)[0]
    page.mouse.click(*lp.pixel(page, *codes[row]))
    page.locator(".st-key-selection").get_by_text(f"Test image #{row}:").wait_for(timeout=20_000)
    page.wait_for_function(f"() => ({lp.VIEW_DATA}.inset || '').startsWith('{row},')")
    assert lp.point(page, "committed") == (0.0, 0.0)  # selecting does not move z
    assert "−ELBO" in page.locator(".st-key-selection").inner_text()
    page.get_by_role("button", name="Move the latent point here").click()
    lp.wait_committed(page, tuple(codes[row]), tolerance=1e-5)
    page.mouse.move(5, 5)
    page.wait_for_function(
        f"() => {lp.VIEW_DATA}.committed && {lp.VIEW_DATA}.z === {lp.VIEW_DATA}.committed"
    )
    assert slider_value(page, "z1") == pytest.approx(codes[row][0], abs=0.006)
    assert slider_value(page, "z2") == pytest.approx(codes[row][1], abs=0.006)


def test_legend_toggles_and_zoom_survive_a_commit(page):
    everything = int(lp.attribute(page, "points-drawn"))
    page.locator(".st-key-latent_scatter .chip[data-label='3']").click()
    page.wait_for_function(f"() => {lp.VIEW_DATA}.hidden === '3'")
    assert int(lp.attribute(page, "points-drawn")) < everything - 500
    whole = lp.attribute(page, "range")
    page.locator(".st-key-latent_scatter .tools button[data-act='in']").click()
    page.wait_for_function(f"() => {lp.VIEW_DATA}.range !== '{whole}'")
    zoomed = lp.attribute(page, "range")
    handle = page.locator(lp.SLIDER.format("z2"))
    handle.focus()
    handle.press("ArrowUp")
    lp.wait_committed(page, (0.0, 0.01))
    lp.wait_run_finished(page)
    assert lp.attribute(page, "range") == zoomed
    assert lp.attribute(page, "hidden") == "3"
    # The marker sits where the zoomed view maps z.
    box = page.locator(lp.MARKS).bounding_box()
    x, y = lp.pixel(page, 0.0, 0.01)
    mark = [float(v) for v in lp.attribute(page, "mark-px").split(",")]
    assert mark == pytest.approx([x - box["x"], y - box["y"]], abs=0.2)


def test_a_model_switch_keeps_z_and_redraws_the_plane(server, chromium):
    page = open_page(chromium, f"{server}/?z1=0.5&z2=-0.3")
    try:
        first = lp.attribute(page, "model-id")
        assert lp.point(page, "committed") == (0.5, -0.3)
        sidebar = page.locator("[data-testid=stSidebar]")
        choose(page, sidebar.locator(".st-key-width"), str(SMALL_WIDTH))
        epochs = sidebar.get_by_role("spinbutton", name="Epochs")
        epochs.fill(str(SMALL_EPOCHS))
        epochs.press("Tab")
        sidebar.get_by_role("button", name="Load or train").click()
        page.wait_for_function(
            f"() => {lp.VIEW_DATA}.modelId && {lp.VIEW_DATA}.modelId !== '{first}'",
            timeout=60_000,
        )
        lp.wait_run_finished(page)
        assert lp.point(page, "committed") == (0.5, -0.3)
        assert lp.point(page, "z") == (0.5, -0.3)
        assert slider_value(page, "z1") == 0.5 and slider_value(page, "z2") == -0.3
        assert f"hidden [{SMALL_WIDTH}, {SMALL_WIDTH}]" in sidebar.inner_text()
        page.wait_for_function(
            f"() => location.search.includes('width={SMALL_WIDTH}')"
            " && location.search.includes('z1=0.5')"
        )
    finally:
        page.context.close()


def test_a_link_restores_the_point_and_the_selected_digit(server, chromium):
    page = open_page(chromium, f"{server}/?z1=1.5&z2=-0.5&digit=42")
    try:
        assert lp.point(page, "committed") == (1.5, -0.5)
        assert lp.point(page, "z") == (1.5, -0.5)
        assert slider_value(page, "z1") == 1.5 and slider_value(page, "z2") == -0.5
        page.locator(".st-key-selection").get_by_text("Test image #42: a 4").wait_for()
        assert lp.attribute(page, "inset").startswith("42,")
    finally:
        page.context.close()


@pytest.mark.parametrize(
    "width, height, least", [(1280, 800, 480), (1400, 1000, 600), (1920, 1080, 800)]
)
def test_the_plane_is_square_and_sized_to_the_window(server, chromium, width, height, least):
    page = open_page(chromium, server, width, height)
    try:
        box = page.locator(lp.MARKS).bounding_box()
        assert box["width"] == box["height"] >= least
        # The whole latent view, plane, decoded digit and sliders, is above the fold.
        for selector in (lp.MARKS, ".st-key-latent_scatter canvas.digit", lp.SLIDER.format("z2")):
            part = page.locator(selector).bounding_box()
            assert part["y"] + part["height"] <= height, selector
    finally:
        page.context.close()


SELECTION_PICTURE = ".st-key-selection img"


def selection_picture_corner(page, server) -> tuple:
    """The top-left pixel of the selection's first picture, as the server serves it. A rerun
    may replace the picture, and its file, between reading its address and fetching it: then
    the one that took its place is read."""
    import io
    import urllib.error
    import urllib.request

    from PIL import Image

    while True:
        src = page.locator(SELECTION_PICTURE).first.get_attribute("src")
        try:
            with urllib.request.urlopen(server + src if src.startswith("/") else src) as response:
                return Image.open(io.BytesIO(response.read())).convert("RGB").getpixel((0, 0))
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
        page.wait_for_function(
            f"(src) => document.querySelector('{SELECTION_PICTURE}')?.getAttribute('src') !== src",
            arg=src,
        )


def plane_corner(page) -> list[int]:
    """A background pixel of the plane, inside its frame."""
    return page.locator(lp.MARKS).evaluate(
        "c => { const b = c.previousElementSibling; const s = b.width / c.clientWidth;"
        " return Array.from(b.getContext('2d').getImageData(60 * s, 20 * s, 1, 1).data); }"
    )


def test_a_switch_to_the_dark_theme_reaches_every_canvas_and_picture(server, chromium):
    page = open_page(chromium, server, color_scheme="light")
    try:
        assert (
            min(plane_corner(page)[:3]) > 200 and min(selection_picture_corner(page, server)) > 200
        )
        page.emulate_media(color_scheme="dark")  # Streamlit follows the system's theme
        page.wait_for_function(f"() => {lp.VIEW_DATA}.paper !== '255,255,255'")
        paper = [int(v) for v in lp.attribute(page, "paper").split(",")]
        assert max(paper) < 60  # the decoded digit's paper is the dark background
        assert max(plane_corner(page)[:3]) < 80  # and so is the plane's
        # The pictures drawn on the server follow after a rerun: until the page shows a dark one.
        page.wait_for_function(
            f"""() => {{
              const img = document.querySelector('{SELECTION_PICTURE}');
              if (!img || !img.complete || !img.naturalWidth) return false;
              const corner = document.createElement('canvas').getContext('2d');
              corner.drawImage(img, 0, 0, 1, 1, 0, 0, 1, 1);
              return Math.max(...corner.getImageData(0, 0, 1, 1).data.slice(0, 3)) < 60;
            }}""",
            timeout=60_000,
        )
        assert max(selection_picture_corner(page, server)) < 60
    finally:
        page.context.close()


def test_with_one_training_at_a_time_a_second_request_waits_its_turn_then_switches(
    chromium, tmp_path_factory
):
    cache = tmp_path_factory.mktemp("queue_cache")
    env = {"VAE_EXPLORER_CACHE": str(cache), "VAE_EXPLORER_MAX_TRAININGS": "1"}
    with launch.streamlit_server(env) as (url, _):
        first = open_page(chromium, f"{url}/?width=256&epochs=2&seed=1")
        second = None
        try:
            first_bar = first.locator("[data-testid=stSidebar]")
            first_bar.get_by_text("Training MNIST VAE, hidden [256, 256]").wait_for(timeout=60_000)
            second = open_page(chromium, f"{url}/?width=64&epochs=1&seed=1")
            second_bar = second.locator("[data-testid=stSidebar]")
            second_bar.get_by_text("Waiting: 1st in line").wait_for(timeout=30_000)
            assert "Starts in about" in second_bar.inner_text()
            assert "hidden [512, 512, 512]" in second_bar.inner_text()  # the default meanwhile
            default_id = lp.attribute(second, "model-id")
            # The first model is ready and shown; then the second trains and is shown too. The
            # second's one epoch may be over before the first page has shown its model: its
            # training is waited for from the start, as it begins when the first's ends.
            second_bar.get_by_text("Training MNIST VAE, hidden [64, 64]").wait_for(timeout=180_000)
            first_bar.get_by_text("Showing: 2-D latent, MNIST VAE, hidden [256, 256]").wait_for(
                timeout=120_000
            )
            second_bar.get_by_text("Showing: 2-D latent, MNIST VAE, hidden [64, 64]").wait_for(
                timeout=120_000
            )
            second.wait_for_function(
                f"() => {lp.VIEW_DATA}.modelId && {lp.VIEW_DATA}.modelId !== '{default_id}'",
                timeout=30_000,
            )
            assert "Waiting" not in second_bar.inner_text()
        finally:
            first.context.close()
            if second is not None:
                second.context.close()


def test_the_posterior_tab_shows_the_selected_digits_exact_posterior(server, chromium):
    page = open_page(chromium, f"{server}/?digit=42")
    try:
        page.get_by_role("tab", name="Posterior").click()
        page.locator(".st-key-posterior_lens .heatmaplayer").first.wait_for(timeout=30_000)
        text = page.locator("[data-testid=stMainBlockContainer]").inner_text()
        assert "The true posterior of test image #42: a 4" in text
        for label in ("exact log p(x)", "IWAE, k = 100", "ELBO", "gap = KL(q ‖ p(z|x))"):
            assert label in text
        # The encoder's guess is drawn over the heatmap: two ellipses and its mean.
        assert page.locator(".st-key-posterior_lens .scatterlayer .trace").count() == 3
    finally:
        page.context.close()


def test_prior_samples_resample_and_their_z_are_marked_on_the_plane(server, chromium):
    page = open_page(chromium, server)
    try:
        page.get_by_role("tab", name="Sample").click()
        grid = page.locator(".st-key-prior_samples img")
        grid.wait_for(timeout=30_000)
        first = grid.get_attribute("src")
        page.get_by_role("button", name="Resample").click()
        page.wait_for_function(
            "(src) => document.querySelector('.st-key-prior_samples img').src !== src",
            arg=first,
            timeout=20_000,
        )
        page.get_by_role("button", name="Mark their z on the plane").click()
        page.get_by_text("Marked on the latent plane: 16 prior samples.").wait_for(timeout=20_000)
        page.get_by_role("tab", name="Latent plane").click()
        page.wait_for_function(
            f"() => {lp.VIEW_DATA}.overlay === '16 prior samples:16'", timeout=20_000
        )
    finally:
        page.context.close()


def test_the_path_between_two_set_digits_is_decoded_and_marked_on_the_plane(server, chromium):
    page = open_page(chromium, f"{server}/?digit=42")
    try:
        page.get_by_role("button", name="Set as B").click()
        page.get_by_role("tab", name="Interpolate").click()
        page.get_by_text("From test image #0 (a 7) to test image #42 (a 4)").wait_for(
            timeout=30_000
        )
        page.locator(".st-key-path_latent img").wait_for(timeout=30_000)
        page.locator(".st-key-path_pixels img").wait_for(timeout=30_000)
        # The click's run marks the plane before the tab's run, or in it: Streamlit keeps a
        # button's click when another request arrives before the click's run is done.
        page.get_by_role("button", name="Mark the path on the plane").click()
        page.get_by_role("tab", name="Latent plane").click()
        page.wait_for_function(
            f"() => {lp.VIEW_DATA}.overlay === 'path A→B, 9 steps:9'", timeout=60_000
        )
    finally:
        page.context.close()


def test_the_outliers_gallery_selects_a_digit(server, chromium):
    page = open_page(chromium, server)
    try:
        page.get_by_role("tab", name="Outliers").click()
        page.get_by_text("Digits the model finds unusual").wait_for(timeout=60_000)
        caption = page.get_by_text("nats", exact=False).filter(has_text="#").first
        caption.wait_for(timeout=60_000)
        row = int(caption.inner_text().split(",")[0][1:])
        page.locator(f".st-key-select_outlier_{row} button").click()
        page.get_by_text(f"The selected test image #{row}").wait_for(timeout=30_000)
        page.get_by_role("tab", name="Latent plane").click()
        page.locator(".st-key-selection").get_by_text(f"Test image #{row}:").wait_for(
            timeout=20_000
        )
    finally:
        page.context.close()


def test_draws_from_q_are_marked_in_the_selected_digits_inset(server, chromium):
    page = open_page(chromium, f"{server}/?digit=42")
    try:
        page.get_by_role("tab", name="Sample").click()
        page.get_by_role("button", name="Mark these z on the plane").click()
        page.get_by_text("Marked on the latent plane: draws from q(z|x) of #42.").wait_for(
            timeout=20_000
        )
        page.get_by_role("tab", name="Latent plane").click()
        # Six draws within 4σ of μ, all but never-seen outliers inside the inset.
        page.wait_for_function(f"() => Number({lp.VIEW_DATA}.overlayInInset) >= 5", timeout=20_000)
    finally:
        page.context.close()


def base_pixel(page, z1: float, z2: float) -> list[int]:
    """The plane's points layer at the latent point (z1, z2)."""
    x, y = lp.pixel(page, z1, z2)
    box = page.locator(lp.MARKS).bounding_box()
    return page.locator(lp.MARKS).evaluate(
        "(c, [x, y]) => { const b = c.previousElementSibling; const s = b.width / c.clientWidth;"
        " return Array.from(b.getContext('2d').getImageData(Math.round(x * s),"
        " Math.round(y * s), 1, 1).data); }",
        [x - box["x"], y - box["y"]],
    )


def test_colouring_by_elbo_paints_the_most_unusual_digit_on_top_with_a_colour_bar(
    server, chromium, model_and_codes
):
    from explorer.lenses import SAMPLES
    from vae_core import elbo_terms, load_split

    model, mu = model_and_codes
    scores = elbo_terms(model, load_split(None, "test").images, samples=SAMPLES)["neg_elbo"]
    top = int(np.argmax(scores))
    page = open_page(chromium, server)
    try:
        page.locator(f"{lp.VIEW} .colour-by button[data-colour=elbo]").click()
        # The server scores the 10,000 digits once per model (a few seconds).
        page.locator(f"{lp.VIEW}[data-colour-by=elbo]").wait_for(timeout=120_000)
        low, high = np.percentile(scores, [1, 99])
        bar = page.locator(f"{lp.VIEW} .colour-bar").inner_text()
        assert f"{low:.0f}" in bar and f"{high:.0f}+" in bar and "−ELBO" in bar
        # The least likely digit is drawn last, in viridis's yellow end.
        r, g, b, _ = base_pixel(page, *mu[top])
        assert r > 180 and g > 160 and b < 110, (r, g, b)
        # A commit reruns the view's fragment: the colouring stays.
        page.mouse.click(*lp.pixel(page, 3.9, -3.9))
        lp.wait_committed(page, (3.9, -3.9), tolerance=0.02)
        assert lp.attribute(page, "colour-by") == "elbo"
        page.locator(f"{lp.VIEW} .colour-by button[data-colour=digit]").click()
        page.locator(f"{lp.VIEW}[data-colour-by=digit]").wait_for(timeout=20_000)
        assert not page.locator(f"{lp.VIEW} .colour-bar").is_visible()
    finally:
        page.context.close()


def test_a_drawn_digit_is_encoded_live_on_the_plane_and_judged_on_release(server, chromium):
    page = open_page(chromium, server)
    pad = page.locator(".st-key-draw .pad")
    try:
        page.get_by_text("Draw a digit").first.click()
        page.locator(".st-key-draw .pad[data-model-id]").wait_for(timeout=60_000)
        lp.draw_stroke(page, [(0.55, 0.15), (0.5, 0.4), (0.47, 0.6), (0.45, 0.85)])  # a 1
        pad.and_(page.locator("[data-sent='1']")).wait_for(timeout=10_000)
        # The browser's own encoding, drawn on the plane at once.
        mu = [float(v) for v in pad.get_attribute("data-mu").split(",")]
        page.wait_for_function(
            f"() => {lp.PAD_JS}?.dataset.mu && {lp.VIEW_DATA}.drawing === {lp.PAD_JS}.dataset.mu"
        )
        # The server's result for the same prepared pixels: the same q(z|x), to its 2 decimals.
        result = page.locator(".st-key-draw_result")
        result.get_by_text("more unusual than").wait_for(timeout=60_000)
        assert f"μ = ({mu[0]:.2f}, {mu[1]:.2f})" in result.inner_text()
        result.locator("img").nth(3 + 6 - 1).wait_for(timeout=60_000)  # sent after the text
        assert len(result.locator("img").all()) == 3 + 6  # pictures and nearest digits
        result.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # its posterior
        # A second stroke moves the code; undo brings the first one back.
        lp.draw_stroke(page, [(0.3, 0.5), (0.7, 0.5)])
        pad.and_(page.locator("[data-strokes='2']")).wait_for(timeout=10_000)
        assert [float(v) for v in pad.get_attribute("data-mu").split(",")] != mu
        pad.get_by_role("button", name="undo").click()
        pad.and_(page.locator("[data-strokes='1']")).wait_for(timeout=10_000)
        np.testing.assert_allclose(
            [float(v) for v in pad.get_attribute("data-mu").split(",")], mu, atol=1e-9
        )
        pad.get_by_role("button", name="clear").click()
        page.wait_for_function(f"() => {lp.LV_JS} && !('drawing' in {lp.VIEW_DATA})")
        result.get_by_text("Draw a digit above").wait_for(timeout=20_000)
    finally:
        page.context.close()


def test_moving_the_training_replay_slider_changes_the_picture(server, chromium):
    page = open_page(chromium, server)
    try:
        page.get_by_role("tab", name="Training", exact=True).click()
        plane = page.locator(".st-key-replay_plane img")
        plane.wait_for(timeout=60_000)
        first = plane.get_attribute("src")
        assert "after epoch 1," in page.locator("[data-testid=stMainBlockContainer]").inner_text()
        slider = page.locator(".st-key-replay_epoch input[type=range]")
        slider.focus()
        slider.press("End")
        page.wait_for_function(
            "(src) => document.querySelector('.st-key-replay_plane img').src !== src",
            arg=first,
            timeout=30_000,
        )
        page.get_by_text("after epoch 100,", exact=False).wait_for(timeout=10_000)
    finally:
        page.context.close()


def test_the_few_labels_tab_charts_accuracy_and_marks_the_labelled_images(server, chromium):
    page = open_page(chromium, server)
    try:
        page.get_by_role("tab", name="Few labels").click()
        page.locator(".st-key-few_labels_chart .main-svg").first.wait_for(timeout=120_000)
        mosaic = page.locator(".st-key-few_labels_errors .main-svg").first
        mosaic.wait_for(timeout=30_000)
        box = mosaic.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.3)
        page.get_by_text(", read as ").first.wait_for(timeout=10_000)
        page.get_by_role("button", name="Mark the labelled images on the plane").click()
        page.get_by_text("Marked on the latent plane: labelled images, k = 10.").wait_for(
            timeout=20_000
        )
        page.get_by_role("tab", name="Latent plane").click()
        page.wait_for_function(
            f"() => {lp.VIEW_DATA}.overlay === 'labelled images, k = 10:100'", timeout=20_000
        )
    finally:
        page.context.close()


def test_two_models_side_by_side_decode_the_z_hovered_on_either(server, chromium):
    page = open_page(chromium, server)
    a, b = (f".st-key-compare_{k} .lv" for k in "ab")
    try:
        page.get_by_role("tab", name="Compare").click()
        for view in (a, b):
            page.locator(f"{view}[data-model-id][data-area]").wait_for(timeout=60_000)
        assert page.locator(a).get_attribute("data-model-id") != page.locator(b).get_attribute(
            "data-model-id"
        )
        box = page.locator(f"{a} canvas.marks").bounding_box()
        page.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.3 * box["height"])
        page.wait_for_function(
            "([a, b]) => { const z = (s) => document.querySelector"
            "('.st-key-compare_' + s + ' [data-testid=stBidiComponentIsolated]')"
            "?.shadowRoot?.querySelector('.lv')?.dataset.z;"
            " return z(a) && z(a) === z(b) && z(a) !== '0,0'; }",
            arg=["a", "b"],
            timeout=30_000,
        )
        # Each plane decoded that z with its own model: the two digits differ.
        digits = [
            page.locator(f"{view} canvas.digit").evaluate(
                "c => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data)"
            )
            for view in (a, b)
        ]
        assert digits[0] != digits[1]
    finally:
        page.context.close()


def test_colouring_by_elbo_arrives_with_a_lens_marking_the_plane(server, chromium):
    """With marks on the plane the scores' mount may run after the view has drawn."""
    page = open_page(chromium, server)
    try:
        page.get_by_role("tab", name="Sample").click()
        page.get_by_role("button", name="Mark their z on the plane").click()
        page.get_by_text("Marked on the latent plane").wait_for(timeout=30_000)
        page.get_by_role("tab", name="Latent plane").click()
        lp.wait_until_ready(page)
        page.locator(f"{lp.VIEW} .colour-by button[data-colour=elbo]").click()
        page.locator(f"{lp.VIEW}[data-colour-by=elbo]").wait_for(timeout=120_000)
        assert lp.attribute(page, "overlay").endswith(":16")
    finally:
        page.context.close()


def test_a_model_asked_for_is_explored_from_its_first_epoch_then_replaced_with_z_kept(
    chromium, tmp_path_factory
):
    cache = tmp_path_factory.mktemp("snapshot_cache")
    with launch.streamlit_server({"VAE_EXPLORER_CACHE": str(cache)}) as (url, _):
        page = open_page(chromium, f"{url}/?z1=0.5&z2=-0.25")
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            default_id = lp.attribute(page, "model-id")
            bar = page.locator("[data-testid=stSidebar]")
            choose(page, bar.locator(".st-key-width"), "64")
            epochs = bar.locator(".st-key-epochs input")
            epochs.fill("8")
            epochs.press("Enter")
            bar.get_by_role("button", name="Load or train").click()
            # The plane shows the model training, its snapshot marked on the plane itself.
            page.wait_for_function(
                f"() => ({lp.VIEW_DATA}.modelId || '').includes('@epoch')", timeout=90_000
            )
            snapshot_id = lp.attribute(page, "model-id")
            assert snapshot_id.split("@")[0] != default_id
            badge = page.locator(".st-key-latent_scatter .training")
            assert badge.is_visible() and "training: epoch" in badge.inner_text()
            assert " of 8" in badge.inner_text()
            assert "Training: epoch" in page.locator(".st-key-preview").inner_text()
            assert lp.point(page, "committed") == (0.5, -0.25)
            # Hover decodes the snapshot's weights in the browser.
            box = page.locator(lp.MARKS).bounding_box()
            draws = int(lp.attribute(page, "draws"))
            page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.6)
            page.wait_for_function(f"() => Number({lp.VIEW_DATA}.draws) > {draws}")
            # Then the finished model takes its place: its own id, unmarked, z kept.
            key = snapshot_id.split("@")[0]
            page.wait_for_function(f"() => {lp.VIEW_DATA}.modelId === '{key}'", timeout=180_000)
            assert not badge.is_visible()
            assert page.locator(".st-key-preview").count() == 0
            assert lp.point(page, "committed") == (0.5, -0.25)
            assert "hidden [64, 64]" in bar.inner_text()
            assert page.locator("[data-testid=stException]").count() == 0 and not errors
        finally:
            page.context.close()


GREETING = {"You can now view your Streamlit app in your browser."}


def test_the_server_starts_and_serves_a_first_visit_without_a_warning(cache, chromium):
    """What `streamlit run app.py` prints, up to a first visitor's page drawn: Streamlit's
    greeting and its address, nothing a user could read as a warning."""
    with launch.streamlit_process({"VAE_EXPLORER_CACHE": str(cache)}) as server:
        page = open_page(chromium, server.url)
        page.context.close()
        lines = [line.strip() for line in server.log_text().splitlines() if line.strip()]
    assert [line for line in lines if line not in GREETING and not line.startswith("URL: ")] == []
    assert lines[0] in GREETING
