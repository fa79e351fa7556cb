"""End to end in headless Chromium: what a person does with the explorer, on a real server."""

import numpy as np
import pytest

from tests import browser

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    cache = tmp_path_factory.mktemp("browser_cache")
    with browser.streamlit_server({"VAE_EXPLORER_CACHE": str(cache)}) as (url, _):
        yield url


@pytest.fixture(scope="module")
def chromium():
    with playwright_api.sync_playwright() as p:
        b = browser.launch(p)
        yield b
        b.close()


@pytest.fixture
def page(server, chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    # Every message the page sends to the server, recorded from the first connection on.
    page.sent_frames = []
    page.on(
        "websocket", lambda ws: ws.on("framesent", lambda frame: page.sent_frames.append(frame))
    )
    page.goto(server)
    browser.wait_until_ready(page)
    yield page
    context.close()


@pytest.fixture(scope="module")
def default_codes():
    from vae_core import encode, load_model, load_split

    return encode(load_model(), load_split(None, "test").images)[0]


def slider_value(page, key: str) -> float:
    return float(page.locator(f".st-key-{key} input[type=range]").evaluate("el => el.value"))


def test_click_a_scatter_point_and_see_its_reconstruction(page, default_codes):
    row = browser.isolated_points(default_codes)[0]
    x, y = browser.point_pixel(page, *map(float, default_codes[row]))
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    selection = page.locator(".st-key-selection")
    selection.get_by_text(f"Test image #{row}:").wait_for(timeout=20_000)
    # Input, reconstruction and difference.
    page.wait_for_function("() => document.querySelectorAll('.st-key-selection img').length === 3")
    assert "−ELBO" in selection.inner_text()
    # The posterior ellipses are drawn on the scatter around the clicked digit's mean.
    overlay = page.locator(f"{browser.SCATTER} svg.latent-overlay")
    for name in ("1 sigma", "2 sigma", "selected mean", "current point"):
        overlay.locator(f"path[data-name='{name}']").first.wait_for(state="attached")
    mu = [float(v) for v in overlay.get_attribute("data-selected").split(",")]
    assert mu == pytest.approx(default_codes[row].tolist(), abs=1e-5)


def test_keyboard_on_a_slider_changes_the_decoded_digit(page):
    image = page.locator(".st-key-decoded img")
    before = image.get_attribute("src")
    handle = page.locator(".st-key-z1 input[type=range]")
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    page.wait_for_function(
        "(before) => { const i = document.querySelector('.st-key-decoded img');"
        " return i && i.getAttribute('src') !== before; }",
        arg=before,
        timeout=20_000,
    )
    page.wait_for_timeout(500)
    assert slider_value(page, "z1") == pytest.approx(0.05, abs=1e-6)
    page.wait_for_function(
        f"() => document.querySelector('{browser.SCATTER} svg.latent-overlay')"
        ".dataset.z === '0.05,0'"
    )


def digit_pixels(page) -> np.ndarray:
    """The pad's drawn digit as 28x28 values in [0, 1], read off its canvas."""
    data = page.locator(".st-key-latent_pad canvas.digit").evaluate(
        "c => { const s = c.width / 28; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " const out = []; for (let r = 0; r < 28; r++) for (let q = 0; q < 28; q++)"
        " out.push(d[4 * ((Math.floor(r * s + s / 2)) * c.width + Math.floor(q * s + s / 2))]);"
        " return out; }"
    )
    return np.array(data, dtype=np.float32).reshape(28, 28) / 255.0


def test_pad_decodes_under_the_pointer_in_the_browser_then_release_moves_the_sliders(page):
    from vae_core import decode, load_model

    model = load_model()
    sent = page.sent_frames
    pad_root = page.locator(".st-key-latent_pad .pad")
    box = page.locator(".st-key-latent_pad canvas.map").bounding_box()
    page.wait_for_timeout(500)
    sent.clear()
    frames = []
    for fx, fy in [(0.3, 0.3), (0.5, 0.6), (0.7, 0.4), (0.62, 0.71)]:
        draws = int(pad_root.get_attribute("data-draws"))
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.wait_for_function(
            "([el, n]) => Number(el.dataset.draws) > n", arg=[pad_root.element_handle(), draws]
        )
        z = [float(v) for v in pad_root.get_attribute("data-z").split(",")]
        pixels = digit_pixels(page)
        # The browser's decoding is the torch decoder's, to the canvas's 8-bit precision.
        np.testing.assert_allclose(pixels, decode(model, [z])[0], atol=1 / 255 + 1e-4)
        frames.append((tuple(z), pixels))
        assert float(pad_root.get_attribute("data-decode-ms")) >= 0
    assert not sent, "moving over the pad must not talk to the server"
    assert len({z for z, _ in frames}) == len(frames)
    assert all(np.abs(a[1] - b[1]).max() > 0.05 for a, b in zip(frames, frames[1:], strict=False))

    page.mouse.down()
    page.mouse.up()
    z1, z2 = (float(v) for v in pad_root.get_attribute("data-z").split(","))
    page.wait_for_function(
        "(z) => { const s = document.querySelector('.st-key-z1 input[type=range]');"
        " return s && Math.abs(Number(s.value) - z) < 0.011; }",
        arg=z1,
        timeout=20_000,
    )
    assert slider_value(page, "z2") == pytest.approx(z2, abs=0.011)
    assert sent, "the release is sent to Python"
    page.wait_for_function(
        f"(z) => {{ const o = document.querySelector('{browser.SCATTER} svg.latent-overlay');"
        " const [a, b] = o.dataset.z.split(',').map(Number);"
        " return Math.abs(a - z[0]) < 0.011 && Math.abs(b - z[1]) < 0.011; }",
        arg=[z1, z2],
        timeout=20_000,
    )


def test_legend_clicks_and_zoom_survive_slider_moves_and_the_marker_follows_the_zoom(page):
    visibility = (
        f"() => document.querySelector('{browser.SCATTER}')._fullData.map(t => String(t.visible))"
    )
    assert page.evaluate(visibility) == ["true"] * 10
    page.locator(f"{browser.SCATTER} .legend .traces").nth(3).locator(".legendtoggle").click()
    page.wait_for_function(f"() => ({visibility})()[3] === 'legendonly'", timeout=20_000)
    overlay = page.locator(f"{browser.SCATTER} svg.latent-overlay")
    pixel_before = overlay.get_attribute("data-pixel")
    page.locator(f"{browser.SCATTER} .modebar-btn[data-title='Zoom in']").click()
    page.wait_for_function(
        "(p) => document.querySelector('.st-key-latent_scatter svg.latent-overlay')"
        ".dataset.pixel !== p",
        arg=pixel_before,
    )
    zoomed = page.evaluate(
        f"() => document.querySelector('{browser.SCATTER}')._fullLayout.xaxis.range"
    )
    before = page.locator(".st-key-decoded img").get_attribute("src")
    handle = page.locator(".st-key-z2 input[type=range]")
    handle.focus()
    handle.press("ArrowUp")  # reruns the explorer
    page.wait_for_function(
        "(before) => document.querySelector('.st-key-decoded img').getAttribute('src') !== before",
        arg=before,
    )
    page.wait_for_function(
        f"() => document.querySelector('{browser.SCATTER} svg.latent-overlay').dataset.z === '0,0.01'"
    )
    page.wait_for_timeout(500)
    assert page.evaluate(visibility) == ["true"] * 3 + ["legendonly"] + ["true"] * 6
    after = page.evaluate(
        f"() => document.querySelector('{browser.SCATTER}')._fullLayout.xaxis.range"
    )
    assert after == pytest.approx(zoomed)
    # The marker sits where plotly maps z = (0, 0.01) in the zoomed axes.
    expected = page.evaluate(
        f"() => {{ const g = document.querySelector('{browser.SCATTER}');"
        " const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;"
        " return [xa._offset + xa.d2p(0), ya._offset + ya.d2p(0.01)]; }"
    )
    pixel = [float(v) for v in overlay.get_attribute("data-pixel").split(",")]
    assert pixel == pytest.approx(expected, abs=0.2)
