"""The page's language in headless Chromium: the sidebar's switch keeps the view, a link's
`lang=zh` and a Chinese browser open the page in Chinese, the components' own words too."""

import pytest

import i18n
from benchmarks import latent_page as lp
from tests.test_browser import chromium, open_page, server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ZH = i18n.translations("zh").gettext


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("language_cache")


def view_text(page) -> dict:
    """The latent view's own words: the hint, the legend's title, the zoom buttons' titles."""
    return page.locator(lp.VIEW).evaluate(
        """lv => ({
          hint: lv.querySelector('.hint').textContent,
          reset: lv.querySelector('[data-act=reset]').textContent,
          zoom: lv.querySelector('[data-act=in]').title,
        })"""
    )


def open_tab(page) -> str:
    return page.get_by_role("tab", selected=True).inner_text()


def test_the_switch_keeps_the_view_and_the_components_speak_chinese(server, chromium):  # noqa: F811
    page = open_page(chromium, f"{server}/?z1=1.5&z2=-0.5&digit=42")
    try:
        assert view_text(page)["zoom"] == "Zoom in"
        whole = lp.attribute(page, "range")
        page.locator(f"{lp.VIEW} .tools button[data-act='in']").click()
        page.wait_for_function(f"() => {lp.VIEW_DATA}.range !== '{whole}'")
        zoomed = lp.attribute(page, "range")
        page.get_by_role("tab", name="Posterior").click()
        page.locator(".st-key-posterior_lens .heatmaplayer").first.wait_for(timeout=60_000)
        page.locator(".st-key-lang").get_by_text("中文").click()
        page.get_by_role("tab", name=ZH("Posterior"), selected=True).wait_for(timeout=30_000)
        page.wait_for_function("() => location.search.includes('lang=zh')")
        assert "digit=42" in page.url and "z1=1.5" in page.url
        page.get_by_role("tab", name=ZH("Latent plane")).click()
        page.wait_for_function(
            f"() => {lp.LV_JS}?.querySelector('[data-act=in]')?.title === {ZH('Zoom in')!r}"
        )
        words = view_text(page)
        hint = ZH(
            "Hover the plane to decode any point. Click empty space or release a slider to set "
            "the point; click {a_noun} to inspect it. Scroll to zoom, drag to pan. On a touch "
            "screen: tap to set or choose, touch and hold to decode under your finger, two "
            "fingers to pan and zoom."
        ).format(a_noun=ZH("a digit"))
        assert words["reset"] == ZH("reset") and words["hint"] == hint
        assert lp.attribute(page, "range") == zoomed  # the zoom survived the switch
        assert lp.point(page, "committed") == (1.5, -0.5)
        assert lp.attribute(page, "inset").startswith("42,")
        selection = page.locator(".st-key-selection").inner_text()
        assert "Test image" not in selection and "#42" in selection
        page.locator(".st-key-lang").get_by_text("English").click()
        page.wait_for_function(
            f"() => {lp.LV_JS}?.querySelector('[data-act=in]')?.title === 'Zoom in'"
        )
        assert open_tab(page) == "Latent plane" and lp.attribute(page, "range") == zoomed
    finally:
        page.context.close()


def test_a_link_with_lang_zh_opens_the_page_and_the_drawing_pad_in_chinese(server, chromium):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=zh")
    try:
        assert open_tab(page) == ZH("Latent plane")
        assert view_text(page)["zoom"] == ZH("Zoom in")
        page.locator(".st-key-drawing label").first.click()
        pad = page.locator(".st-key-draw .pad[data-model-id]")
        pad.wait_for(timeout=60_000)
        buttons = pad.locator("button").all_inner_texts()
        assert buttons and not any(b in ("undo", "clear") for b in buttons), buttons
        assert pad.locator("[data-act=undo]").inner_text() == ZH("undo")
    finally:
        page.context.close()


def test_the_switch_keeps_a_drawing(server, chromium):  # noqa: F811
    page = open_page(chromium, server)
    try:
        page.locator(".st-key-drawing label").first.click()
        page.locator(".st-key-draw .pad[data-model-id]").wait_for(timeout=60_000)
        lp.draw_stroke(page, [(0.25, 0.22), (0.72, 0.2), (0.55, 0.5), (0.42, 0.85)])  # a 7
        page.locator(".st-key-draw_result .js-plotly-plot").first.wait_for(timeout=60_000)
        page.locator(".st-key-lang").get_by_text("中文").click()
        page.wait_for_function(
            "() => { const p = document.querySelector('.st-key-draw [data-testid=stBidiComponentIsolated]')"
            "?.shadowRoot?.querySelector('.pad [data-act=undo]'); return p && p.textContent === "
            f"{ZH('undo')!r}; }}",
            timeout=30_000,
        )
        # Read through a locator, which finds the pad again if the switch's run replaced it.
        assert page.locator(".st-key-draw .pad").get_attribute("data-strokes") == "1"
        page.locator(".st-key-draw_result .js-plotly-plot").first.wait_for(timeout=30_000)
    finally:
        page.context.close()


def test_a_first_visit_from_a_chinese_browser_is_in_chinese(server, chromium):  # noqa: F811
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(server)
        lp.wait_until_ready(page)
        assert open_tab(page) == ZH("Latent plane")
        page.wait_for_function("() => location.search.includes('lang=zh')")
    finally:
        context.close()


def test_the_english_page_has_no_chinese(server, chromium):  # noqa: F811
    page = open_page(chromium, server)
    try:
        text = page.locator("[data-testid=stMain]").inner_text() + str(view_text(page))
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in text)
        assert open_tab(page) == "Latent plane"
    finally:
        page.context.close()
