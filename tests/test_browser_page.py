"""The page around the latent view in headless Chromium, from a phone to a projector: the title
on screen below Streamlit's header bar, no sideways scrolling on a phone, focus never under the
header, the tabs reachable by touch, presentation mode, the pictures' text alternatives, and a
replay that stops."""

import pytest

from benchmarks import latent_page as lp
from tests.test_browser import chromium, open_page, server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PHONE = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
SIZES = [
    (390, 844, PHONE),
    (768, 1024, {}),
    (1024, 768, {}),
    (1280, 720, {}),
    (1400, 1000, {}),
    (1920, 1080, {}),
]

# The page's title and Streamlit's header bar, as rectangles in the window.
PLACES = """() => {
  const r = (e) => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const title = [...document.querySelectorAll('h4')].find((h) => h.textContent.includes('VAE'));
  const header = document.querySelector('[data-testid=stHeader]');
  return {title: r(title), header: r(header), width: innerWidth, height: innerHeight};
}"""

# The element that has the keyboard's focus, followed into shadow roots, and whether what the
# window shows at its centre is that element (or its label, or the component holding it) rather
# than something over it, such as Streamlit's header bar.
FOCUSED = """() => {
  let e = document.activeElement, outer = e;
  while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
  const b = e.getBoundingClientRect();
  const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
  const seen = !!hit && (outer.contains(hit) || hit.contains(outer));
  return {seen, tag: e.tagName, text: (e.textContent || '').slice(0, 30), top: b.top,
          inSidebar: !!e.closest('[data-testid=stSidebar]')};
}"""

MAIN_SCROLL = "() => document.querySelector('[data-testid=stMain]').scrollTop"
PLOT_PX = f"() => Number({lp.VIEW_DATA}.plotPx || 0)"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("page_cache")


@pytest.mark.parametrize("width, height, options", SIZES, ids=[f"{w}x{h}" for w, h, _ in SIZES])
def test_the_title_is_on_screen_below_the_header(server, chromium, width, height, options):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en", width, height, **options)
    try:
        at = page.evaluate(PLACES)
        left, top, right, bottom = at["title"]
        assert top >= at["header"][3], at
        assert 0 <= left and right <= at["width"] and bottom <= at["height"], at
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [390, 320])
def test_a_phone_never_scrolls_sideways_and_reaches_every_tab(server, chromium, width):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en", width, 844, **PHONE)
    try:
        wide = page.evaluate(
            "() => [document.documentElement.scrollWidth, innerWidth,"
            " document.querySelector('[data-testid=stMain]').scrollWidth,"
            " document.querySelector('[data-testid=stMain]').clientWidth]"
        )
        assert wide[0] <= wide[1] and wide[2] <= wide[3], wide
        # The tab row scrolls sideways on its own: the last tab is a tap away.
        last = page.get_by_role("tab", name="What am I looking at?")
        last.tap()
        page.wait_for_function(
            "() => [...document.querySelectorAll('[role=tab]')].at(-1)"
            ".getAttribute('aria-selected') === 'true'",
            timeout=30_000,
        )
    finally:
        page.context.close()


def test_the_focused_control_is_never_under_the_header(server, chromium):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en", 390, 844, **PHONE)
    try:
        # From the page's last control back up: each one scrolled into view from above.
        page.evaluate(
            """() => { const main = document.querySelector('[data-testid=stMain]');
              main.scrollTo(0, main.scrollHeight);
              [...main.querySelectorAll('button')].filter((e) => e.offsetParent).at(-1).focus(); }"""
        )
        scrolled = set()
        for _ in range(80):
            page.keyboard.press("Shift+Tab")
            focused = page.evaluate(FOCUSED)
            scrolled.add(page.evaluate(MAIN_SCROLL))
            if focused["tag"] == "MAIN":
                break  # the main area's top; then the header's controls
            assert not focused["inSidebar"], "the collapsed sidebar is out of the keyboard's way"
            assert focused["seen"], focused
        assert len(scrolled) > 2  # the page did scroll under the header on the way up
    finally:
        page.context.close()


@pytest.mark.parametrize("width, height", [(1024, 768), (1280, 720)])
def test_presentation_mode_gives_the_plane_the_screen_and_exits_as_it_came(
    server,  # noqa: F811
    chromium,  # noqa: F811
    width,
    height,
):
    page = open_page(chromium, f"{server}/?lang=en", width, height)
    try:
        before = page.evaluate(PLOT_PX)
        sidebar = page.locator("[data-testid=stSidebar]")
        assert sidebar.is_visible()
        page.locator(".st-key-present label").click()
        page.wait_for_function(f"() => ({PLOT_PX})() > {before} + 60", timeout=30_000)
        page.wait_for_function("() => location.search.includes('present=1')", timeout=20_000)
        assert not sidebar.is_visible()
        scale = page.evaluate(
            "() => getComputedStyle(document.querySelector('.stApp'))"
            ".getPropertyValue('--lv-scale').trim()"
        )
        assert scale == "1.5"
        # The selection sits under the plane, not beside it.
        plane = page.locator(lp.MARKS).bounding_box()
        picture = page.locator(".st-key-selection img").first.bounding_box()
        assert picture["y"] >= plane["y"] + plane["height"]
        page.locator(".st-key-present label").click()
        page.wait_for_function(f"() => ({PLOT_PX})() === {before}", timeout=30_000)
        page.wait_for_function("() => !location.search.includes('present')", timeout=20_000)
        assert sidebar.is_visible()
    finally:
        page.context.close()


def test_a_present_link_opens_the_page_presenting(server, chromium):  # noqa: F811
    plain = open_page(chromium, f"{server}/?lang=en", 1280, 720)
    try:
        plain_px = plain.evaluate(PLOT_PX)
    finally:
        plain.context.close()
    page = open_page(chromium, f"{server}/?lang=en&present=1", 1280, 720)
    try:
        assert page.evaluate(PLOT_PX) > plain_px
        assert not page.locator("[data-testid=stSidebar]").is_visible()
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_picture_has_a_text_alternative_in_the_pages_language(server, chromium, lang):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang={lang}")
    try:
        alts = page.evaluate(
            "() => [...document.querySelectorAll('.stApp img')].map((i) => i.getAttribute('alt'))"
        )
        assert len(alts) >= 3 and all(alts), alts
        chinese = [any("\u4e00" <= c <= "\u9fff" for c in alt) for alt in alts]
        assert all(chinese) if lang == "zh" else not any(chinese), alts
        if lang == "en":
            assert "test image #0, a 7" in alts
    finally:
        page.context.close()


def test_the_training_replay_plays_only_when_asked_and_stops(server, chromium):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en")
    try:
        page.get_by_role("tab", name="Training", exact=True).click()
        page.locator(".st-key-replay_plane img").wait_for(timeout=60_000)
        moving = page.locator("img[alt^='animation']")
        assert moving.count() == 0  # nothing moves on arrival
        play = page.get_by_text("Play every epoch")
        play.click()
        moving.wait_for(timeout=120_000)
        play.click()
        moving.wait_for(state="detached", timeout=30_000)
        page.locator(".st-key-replay_plane img").wait_for()  # the still frame stays
    finally:
        page.context.close()
