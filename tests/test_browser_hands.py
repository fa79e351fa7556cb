"""The latent view in headless Chromium, by every hand and on every screen: the keyboard and
the live region, a finger on a phone, and the view's layout from a phone to a wide monitor.

Skipped, with the reason, without Chromium or Playwright (tests/test_browser.py's rules).
"""

import time

import pytest

from benchmarks import latent_page as lp
from tests.test_browser import chromium, open_page, server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("hands_cache")  # the bundled model is all these tests need


PHONE = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}

# The element that has the focus, followed into shadow roots.
FOCUSED = """() => { let e = document.activeElement;
  while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
  return e ? {cls: e.className, role: e.getAttribute('role'), label: e.getAttribute('aria-label')} : null; }"""

# How far the page has scrolled: Streamlit scrolls its main section, not the window.
SCROLLED = (
    "() => Math.max(window.scrollY, document.querySelector('[data-testid=stMain]')?.scrollTop ?? 0)"
)

LIVE = f"{lp.LV_JS}?.querySelector('.live')?.textContent ?? ''"


@pytest.fixture
def page(server, chromium):  # noqa: F811
    page = open_page(chromium, server)
    yield page
    page.context.close()


@pytest.fixture
def phone(server, chromium):  # noqa: F811
    page = open_page(chromium, server, 390, 844, **PHONE)
    yield page
    page.context.close()


def focus_plane(page) -> dict:
    """Tab from the top of the page until the plane has the focus; what has it then."""
    page.locator("body").focus()
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused and "plot" in focused["cls"].split():
            return focused
    raise AssertionError("Tab never reached the latent plane")


def shown(page) -> tuple[float, float]:
    return lp.point(page, "z")


def test_tab_reaches_the_plane_and_arrows_decode_then_commit(page):
    focused = focus_plane(page)
    assert focused["role"] == "application"
    assert "arrow keys" in focused["label"]
    committed = lp.point(page, "committed")
    draws = int(lp.attribute(page, "draws"))
    x0, x1, _, _ = (float(v) for v in lp.attribute(page, "range").split(","))
    span = x1 - x0
    # A fiftieth of the span right, a tenth up (Shift), decoded at once: waited for as a point,
    # not as a draw, which the first key alone would already give.
    expected = (committed[0] + span / 50, committed[1] + span / 10)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    page.wait_for_function(
        f"() => {{ const [a, b] = ({lp.VIEW_DATA}.z || '').split(',').map(Number);"
        f" return Math.abs(a - {expected[0]}) < 1e-6 && Math.abs(b - {expected[1]}) < 1e-6; }}"
    )
    assert int(lp.attribute(page, "draws")) > draws
    z = shown(page)
    assert z == pytest.approx(expected, abs=1e-6)
    assert page.locator(".st-key-decoded canvas.digit").get_attribute("role") == "img"
    lp.wait_committed(page, (round(z[0], 3), round(z[1], 3)), tolerance=1e-6)
    label = page.locator(".st-key-decoded canvas.digit").get_attribute("aria-label")
    assert label == f"decoded at z = ({z[0]:.2f}, {z[1]:.2f})".replace("-", "\u2212")
    page.wait_for_function(f"() => ({LIVE}).startsWith('z = (') && ({LIVE}).includes('nearest: ')")


def test_enter_selects_the_nearest_test_image_and_says_so(page):
    focus_plane(page)
    selects = int(lp.attribute(page, "selects") or 0)
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => Number({lp.VIEW_DATA}.selects) === {selects + 1}")
    page.wait_for_function(f"() => ({LIVE}).startsWith('selected test image #')")
    row = int(page.evaluate(LIVE).split("#")[1].split(",")[0])
    # The server shows the chosen image beside the plane, and the plane its posterior.
    page.wait_for_function(f"() => ({lp.VIEW_DATA}.inset ?? '').startsWith('{row},')")


def test_escape_returns_to_the_committed_point_and_zoom_keys_zoom(page):
    focus_plane(page)
    committed = lp.attribute(page, "committed")
    commits = lp.attribute(page, "commits")
    # The clock stands still: the arrow's commit cannot fire before Escape, however slowly a
    # busy machine delivers the keys.
    page.clock.install()
    page.clock.pause_at(time.time() + 1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    page.clock.resume()
    page.wait_for_function(f"() => {lp.VIEW_DATA}.z === '{committed}'")
    assert lp.attribute(page, "commits") == commits
    whole = lp.attribute(page, "range")
    page.keyboard.press("+")
    page.wait_for_function(f"() => {lp.VIEW_DATA}.range !== '{whole}'")
    x0, x1, _, _ = (float(v) for v in lp.attribute(page, "range").split(","))
    w0, w1, _, _ = (float(v) for v in whole.split(","))
    assert x1 - x0 == pytest.approx((w1 - w0) / 1.5)


def test_every_button_of_the_view_has_a_name_and_a_target_of_24_px(page):
    buttons = page.evaluate(
        f"""() => [...{lp.LV_JS}.querySelectorAll('button')].filter((b) => b.offsetParent)
          .map((b) => {{ const r = b.getBoundingClientRect();
            return {{name: b.getAttribute('aria-label') || b.textContent.trim(), w: r.width, h: r.height}}; }})"""
    )
    assert len(buttons) >= 15  # colouring, ten chips, three zoom tools
    for b in buttons:
        assert b["name"], b
        assert b["w"] >= 24 and b["h"] >= 24, b


# ---------------------------------------------------------------- touch


def touch(cdp, kind: str, points=()) -> None:
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": kind, "touchPoints": [{"x": float(x), "y": float(y)} for x, y in points]},
    )


def empty_spot(page) -> tuple[float, float]:
    """A latent point near the plane's upper right corner, where no test image lies."""
    x0, x1, y0, y1 = (float(v) for v in lp.attribute(page, "range").split(","))
    return x0 + 0.93 * (x1 - x0), y0 + 0.93 * (y1 - y0)


def test_a_tap_on_the_phone_sets_the_point(phone):
    assert lp.attribute(phone, "layout") == "stacked"
    phone.locator(lp.MARKS).scroll_into_view_if_needed()
    z = empty_spot(phone)
    phone.touchscreen.tap(*lp.pixel(phone, *z))
    lp.wait_committed(phone, z, tolerance=0.05)


def test_a_swipe_over_the_plane_scrolls_the_page_and_sets_nothing(phone):
    box = phone.locator(lp.MARKS).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8
    commits = lp.attribute(phone, "commits")
    before = phone.evaluate(SCROLLED)
    cdp = phone.context.new_cdp_session(phone)
    touch(cdp, "touchStart", [(x, y)])
    for k in range(1, 11):
        touch(cdp, "touchMove", [(x, y - 25 * k)])
    touch(cdp, "touchEnd")
    phone.wait_for_function(f"() => ({SCROLLED})() > {before + 50}")
    assert lp.attribute(phone, "commits") == commits


def test_touch_and_hold_decodes_under_the_finger_and_commits_where_it_lifts(phone):
    phone.locator(lp.MARKS).scroll_into_view_if_needed()
    commits = int(lp.attribute(phone, "commits"))
    start = lp.pixel(phone, -1.0, 1.0)
    cdp = phone.context.new_cdp_session(phone)
    touch(cdp, "touchStart", [start])
    phone.wait_for_function(f"() => {lp.VIEW_DATA}.touch === 'hold'")
    before = phone.evaluate(SCROLLED)
    target = (1.0, -1.0)
    end = lp.pixel(phone, *target)
    for k in range(1, 9):
        f = k / 8
        touch(
            cdp,
            "touchMove",
            [(start[0] + f * (end[0] - start[0]), start[1] + f * (end[1] - start[1]))],
        )
    # The finger decodes as it moves, and the page stays put under it.
    phone.wait_for_function(
        f"() => {{ const [a, b] = ({lp.VIEW_DATA}.z ?? '9,9').split(',').map(Number);"
        f" return Math.abs(a - {target[0]}) < 0.05 && Math.abs(b - {target[1]}) < 0.05; }}"
    )
    assert int(lp.attribute(phone, "commits")) == commits
    assert phone.evaluate(SCROLLED) == before
    touch(cdp, "touchEnd")
    lp.wait_committed(phone, target, tolerance=0.05)


def test_two_fingers_pinch_zoom_the_plane(phone):
    phone.locator(lp.MARKS).scroll_into_view_if_needed()
    box = phone.locator(lp.MARKS).bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    whole = lp.attribute(phone, "range")
    cdp = phone.context.new_cdp_session(phone)
    touch(cdp, "touchStart", [(cx - 30, cy), (cx + 30, cy)])
    for k in range(1, 7):
        touch(cdp, "touchMove", [(cx - 30 - 10 * k, cy), (cx + 30 + 10 * k, cy)])
    touch(cdp, "touchEnd")
    phone.wait_for_function(f"() => {lp.VIEW_DATA}.range !== '{whole}'")
    x0, x1, _, _ = (float(v) for v in lp.attribute(phone, "range").split(","))
    w0, w1, _, _ = (float(v) for v in whole.split(","))
    # Fingers 60 px apart, then 180: a third of the span.
    assert x1 - x0 == pytest.approx((w1 - w0) * 60 / 180, rel=0.02)


# ---------------------------------------------------------------- layout

PARTS = {
    "plane": "canvas.marks",
    "digit": ".decoded",
    "z1": ".st-key-z1",
    "z2": ".st-key-z2",
    "hint": ".hint",
    "bar": ".bar",
}
RECTS = f"""() => {{ const lv = {lp.LV_JS}; const out = {{}};
  for (const [name, sel] of Object.entries({PARTS!r})) {{
    const r = lv.querySelector(sel).getBoundingClientRect();
    out[name] = [r.left, r.top, r.right, r.bottom]; }}
  return {{parts: out, scroll: document.documentElement.scrollWidth, width: innerWidth}}; }}"""


def overlapping(parts: dict) -> list[tuple[str, str]]:
    names = list(parts)
    return [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if parts[a][0] < parts[b][2] - 0.5
        and parts[b][0] < parts[a][2] - 0.5
        and parts[a][1] < parts[b][3] - 0.5
        and parts[b][1] < parts[a][3] - 0.5
    ]


# (width, height, phone, the layout, the least plane in CSS px)
SCREENS = [
    (390, 844, True, "stacked", 330),
    (768, 1024, False, None, 400),
    (1024, 768, False, None, 400),
    (1280, 720, False, None, 400),
    (1400, 1000, False, "row", 600),
    (1920, 1080, False, "row", 600),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("width", "height", "mobile", "layout", "least"), SCREENS)
def test_the_view_fits_every_screen_without_overlaps(
    server,  # noqa: F811
    chromium,  # noqa: F811
    width,
    height,
    mobile,
    layout,
    least,
    lang,
):
    page = open_page(
        chromium,
        f"{server}?lang={lang}",
        width,
        height,
        **(PHONE if mobile else {}),
        color_scheme="dark" if lang == "zh" else "light",
    )
    try:
        page.wait_for_function(f"() => {lp.VIEW_DATA}.insetBox")
        size = int(lp.attribute(page, "plot-px"))
        assert size >= least
        assert lp.attribute(page, "layout") == (layout or lp.attribute(page, "layout"))
        measured = page.evaluate(RECTS)
        assert not overlapping(measured["parts"]), measured["parts"]
        assert measured["scroll"] <= measured["width"]  # nothing past the window's right edge
        assert measured["parts"]["plane"][2] <= measured["width"]
        # The posterior inset covers a ninth of the plane at most, its captions inside it.
        box = int(lp.attribute(page, "inset-box").split(",")[2])  # left,top,width,height
        side = float(lp.attribute(page, "area").split(",")[2])
        assert box <= side / 3
        assert int(lp.attribute(page, "inset-text-px")) <= box - 8
    finally:
        page.context.close()


# ---------------------------------------------------------------- colour is not the only cue


def test_class_names_on_the_plane_and_a_colour_blind_palette_kept_in_the_link(page):
    assert lp.attribute(page, "class-names") == ",".join(str(k) for k in range(10))
    assert lp.attribute(page, "palette") == "default"
    swatch = f"{lp.VIEW} .chip[data-label='0'] i"
    page.locator(f"{lp.VIEW} button.palette").click()
    page.wait_for_function(f"() => {lp.VIEW_DATA}.palette === 'safe'")
    assert page.locator(swatch).evaluate("i => i.style.background") == "rgb(0, 107, 164)"
    assert page.locator(f"{lp.VIEW} button.palette").get_attribute("aria-pressed") == "true"
    lp.wait_run_finished(page)
    page.wait_for_function("() => location.search.includes('palette=safe')")
    # The link opens the page in the same colours.
    again = page.context.new_page()
    again.goto(page.url)
    lp.wait_until_ready(again)
    again.wait_for_function(f"() => {lp.VIEW_DATA}.palette === 'safe'")


def test_a_presentation_scale_enlarges_the_views_text(page):
    hint = f"{lp.LV_JS}.querySelector('.hint')"
    size = f"() => parseFloat(getComputedStyle({hint}).fontSize)"
    before = page.evaluate(size)
    side = page.evaluate(f"() => {lp.LV_JS}.querySelector('.side').getBoundingClientRect().width")
    # As the page's presentation mode does: --lv-scale on an ancestor of the component.
    page.evaluate(
        "() => document.querySelector('.st-key-latent_scatter').style.setProperty('--lv-scale', '1.5')"
    )
    # A relayout, as a toggle's rerun, in a window wide enough that the enlarged panel still
    # leaves the plane most of its side beside it.
    page.set_viewport_size({"width": 1920, "height": 1000})
    page.wait_for_function(f"() => ({size})() > {before * 1.4}")
    assert page.evaluate(size) == pytest.approx(1.5 * before)
    page.wait_for_function(
        f"() => {lp.LV_JS}.querySelector('.side').getBoundingClientRect().width > {side * 1.4}"
    )
    assert lp.attribute(page, "layout") == "row"
