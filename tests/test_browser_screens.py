"""Every screen (issue 28) in headless Chromium: the latent view's parts at phone, tablet,
projector and desktop sizes, in English and Chinese, light and dark; then a finger at 390×844.

At each size: the view's parts (the plane, the decoded digit, its readout, the z sliders, the
hint) do not overlap; nothing runs past the window's right edge; the page's title is on screen
and not under Streamlit's sticky header; the plane (its canvas's CSS width, `data-plot-px`) is
as large as the issue asks; the selected digit's posterior inset covers at most a ninth of it.
Presentation mode (`?present=1`) at a projector's size enlarges the view's text and plane.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import latent_page as lp
from tests.test_browser import chromium, playwright_api  # noqa: F401 (fixture)
from tests.test_browser_access import open_page, phone, server, window  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# (width, height): the least plane in CSS px the issue asks for there.
SIZES = {
    (390, 844): 330,
    (768, 1024): 400,
    (1024, 768): 400,
    (1280, 720): 400,
    (1400, 1000): 600,
    (1920, 1080): 800,  # "growing with the window as today" (tests/test_browser.py)
}
CASES = [(w, h, "en", "light") for w, h in SIZES] + [
    (390, 844, "zh", "dark"),
    (1024, 768, "zh", "dark"),
]


def case_id(case) -> str:
    w, h, lang, theme = case
    return f"{w}x{h}-{lang}-{theme}"


# The view's parts, in its shadow root, by what a person calls them.
PARTS = {
    "plane": ".plot canvas.marks",
    "decoded digit": "canvas.digit",
    "readout": ".readout",
    "z1 slider": ".st-key-z1",
    "z2 slider": ".st-key-z2",
    "hint": ".hint",
}

MEASURE_JS = f"""() => {{
  const lv = {lp.LV_JS};
  const W = window.innerWidth, H = window.innerHeight;
  const box = (el) => {{
    if (!el) return null;
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (s.display === 'none' || s.visibility === 'hidden' || r.width === 0 || r.height === 0)
      return null;
    return [r.left, r.top, r.right, r.bottom];
  }};
  const parts = {{}};
  for (const [name, selector] of Object.entries({PARTS!r}))
    parts[name] = box(lv.querySelector(selector));

  // What runs past the right edge, unless a box that scrolls or clips it ends inside the window.
  const past = [];
  const clipped = (el) => {{
    for (let a = el.parentElement || el.getRootNode().host; a;
         a = a.parentElement || a.getRootNode().host) {{
      if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= W + 1)
        return true;
    }}
    return false;
  }};
  const visit = (root) => {{
    for (const el of root.querySelectorAll('*')) {{
      if (el.shadowRoot) visit(el.shadowRoot);
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.right <= W + 1) continue;
      const s = getComputedStyle(el);
      if (s.visibility === 'hidden' || s.display === 'contents') continue;
      if (clipped(el)) continue;
      const key = el.closest('[class*=st-key-]') || el.getRootNode().host?.closest('[class*=st-key-]');
      const keyName = key ? [...key.classList].find(c => c.startsWith('st-key-')) : '';
      past.push(`${{el.tagName.toLowerCase()}}`
        + (el.getAttribute('data-testid') ? `[${{el.getAttribute('data-testid')}}]` : '')
        + (typeof el.className === 'string' && el.className && !el.className.includes('emotion')
           ? '.' + el.className.trim().split(/\\s+/)[0] : '')
        + (keyName ? ` in .${{keyName}}` : '') + ` to ${{Math.round(r.right)}} px`);
    }}
  }};
  visit(document);

  // The page's title: its h1, or (today's page) the first heading of the main area.
  const shown = (h) => h.getBoundingClientRect().width > 0;
  const title = [...document.querySelectorAll('h1')].find(shown)
    || [...document.querySelectorAll('[data-testid=stMain] :is(h1, h2, h3, h4)')].find(shown);
  const header = document.querySelector('header[data-testid=stHeader]');
  const inset = lv.dataset.insetBox;
  return {{
    W, H, parts, past,
    plotPx: Number(lv.dataset.plotPx),
    canvasPx: lv.querySelector('canvas.marks').getBoundingClientRect().width,
    layout: lv.dataset.layout || null,
    title: box(title), titleText: title ? `${{title.tagName.toLowerCase()}} ${{title.innerText}}` : null,
    painted: header ? [header, ...header.querySelectorAll('*')].filter(part => {{
        const s = getComputedStyle(part);
        return s.backgroundImage !== 'none' || !/rgba\\(.*, 0\\)$|transparent/.test(s.backgroundColor)
          || part.matches('button, a, svg, img');
      }}).map(box).filter(Boolean) : [],
    inset: inset ? inset.split(',').map(Number) : null,
    area: lv.dataset.area.split(',').map(Number),
  }};
}}"""


@pytest.fixture(scope="module")
def measured(server, chromium):  # noqa: F811
    """Each case's page opened once, its measures shared by the tests of that case."""
    done = {}

    def measure(case):
        if case not in done:
            width, height, lang, theme = case
            context = phone(width, height) if width < 600 else window(width, height)
            page = open_page(
                chromium, f"{server}/?lang={lang}&digit=0", context, color_scheme=theme
            )
            try:
                page.locator(f"{lp.VIEW}[data-inset]").wait_for(timeout=30_000)
                done[case] = page.evaluate(MEASURE_JS)
            finally:
                page.context.close()
        return done[case]

    return measure


def overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def rect_text(r) -> str:
    return f"({r[0]:.0f}, {r[1]:.0f})–({r[2]:.0f}, {r[3]:.0f})"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_views_parts_do_not_overlap(measured, case):
    m = measured(case)
    shown = {name: r for name, r in m["parts"].items() if r}
    assert "plane" in shown and "decoded digit" in shown, f"parts not shown: {m['parts']}"
    names = list(shown)
    found = [
        f"  {a} {rect_text(shown[a])} and {b} {rect_text(shown[b])}: {overlap(shown[a], shown[b]):.0f} px²"
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if overlap(shown[a], shown[b]) > 1.0
    ]
    assert not found, f"at {case_id(case)} the latent view's parts overlap\n" + "\n".join(found)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_nothing_runs_past_the_windows_right_edge(measured, case):
    m = measured(case)
    assert not m["past"], (
        f"at {case_id(case)} ({m['W']} px wide) elements end past the right edge:\n  "
        + "\n  ".join(m["past"][:12])
        + (f"\n  … {len(m['past']) - 12} more" if len(m["past"]) > 12 else "")
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_title_is_on_screen_below_the_header(measured, case):
    m = measured(case)
    title = m["title"]
    assert title, f"at {case_id(case)} no page title (h1, or a heading in the main area) is shown"
    where = f"title {m['titleText']!r} at {rect_text(title)}"
    assert title[0] >= 0 and title[2] <= m["W"] + 1 and title[3] <= m["H"], (
        f"at {case_id(case)} the {where} is not inside the {m['W']}×{m['H']} window"
    )
    # Streamlit's header is transparent: what hides is what it paints (its toolbar, a
    # background where it has one).
    points = [
        (title[0] + (title[2] - title[0]) * (i + 0.5) / 8, title[1] + (title[3] - title[1]) * j / 4)
        for i in range(8)
        for j in (1, 2, 3)
    ]
    covered = [
        (x, y) for x, y in points if any(a <= x <= c and b <= y <= d for a, b, c, d in m["painted"])
    ]
    assert not covered, (
        f"at {case_id(case)} {len(covered)} of {len(points)} points of the {where} are under the"
        f" header's painted parts {[rect_text(r) for r in m['painted']]}"
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_plane_is_as_large_as_the_screen_allows(measured, case):
    m = measured(case)
    least = SIZES[case[:2]]
    assert m["plotPx"] >= least, (
        f"at {case_id(case)} the plane is {m['plotPx']} px wide (canvas {m['canvasPx']:.0f} px,"
        f" layout {m['layout']}), at least {least} px asked"
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_inset_covers_at_most_a_ninth_of_the_plane(measured, case):
    m = measured(case)
    if m["inset"] is None:
        pytest.skip(
            "the view publishes no data-inset-box (the inset's left,top,width,height in the "
            "plane's CSS px): the inset is drawn on the canvas and cannot be measured"
        )
    left, top, width, height = m["inset"]
    a_left, a_top, side = m["area"]
    assert width * height <= side * side / 9 + 1, (
        f"at {case_id(case)} the inset is {width:.0f}×{height:.0f} px on a {side:.0f} px plane:"
        f" {width * height / (side * side):.2f} of it, at most 1/9 asked"
    )
    plane = m["parts"]["plane"]
    assert 0 <= left and left + width <= plane[2] - plane[0] + 1, (
        f"at {case_id(case)} the inset runs past the plane"
    )
    assert 0 <= top and top + height <= plane[3] - plane[1] + 1, (
        f"at {case_id(case)} the inset runs past the plane"
    )


PRESENT_JS = f"""() => {{
  const lv = {lp.LV_JS};
  return {{
    presenting: !!document.querySelector('.st-key-present input:checked'),
    scale: parseFloat(getComputedStyle(lv).getPropertyValue('--lv-scale')) || 1,
    plotPx: Number(lv.dataset.plotPx),
  }};
}}"""


def test_presentation_mode_gives_the_plane_the_screen_and_enlarges_text(server, chromium, measured):  # noqa: F811
    """`?present=1` at a projector's 1280×720: the Present switch is on, the view's
    `--lv-scale` is above 1, and the plane is larger than without it."""
    page = open_page(chromium, f"{server}/?lang=en&digit=0&present=1", window(1280, 720))
    try:
        shown = page.evaluate(PRESENT_JS)
    finally:
        page.context.close()
    usual = measured((1280, 720, "en", "light"))["plotPx"]
    assert shown["presenting"], "?present=1 leaves the Present switch off"
    assert shown["scale"] >= 1.25, f"--lv-scale is {shown['scale']} when presenting"
    assert shown["plotPx"] > usual, (
        f"presenting at 1280×720 the plane is {shown['plotPx']} px, {usual} px without"
    )


# ------------------------------------------------------------------ a finger at 390×844


@pytest.fixture
def phone_page(server, chromium):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en", phone(390, 844))
    yield page
    page.context.close()


def emptiest_point() -> tuple[float, float]:
    """The grid point inside the plane farthest from any test digit's code: a tap there lands
    on no digit."""
    from vae_core import encode, load_model, load_split

    codes = encode(load_model(), load_split(None, "test").images)[0]
    grid = np.stack(np.meshgrid(np.linspace(-2.5, 2.5, 21), np.linspace(-2.5, 2.5, 21)), -1)
    grid = grid.reshape(-1, 2)
    gaps = np.linalg.norm(grid[:, None] - codes[None], axis=-1).min(axis=1)
    return tuple(float(v) for v in grid[np.argmax(gaps)])


def test_a_tap_on_empty_plane_commits_that_point(phone_page):
    page = phone_page
    z = emptiest_point()
    page.locator(lp.MARKS).scroll_into_view_if_needed()
    page.touchscreen.tap(*lp.pixel(page, *z))
    lp.wait_committed(page, z, tolerance=0.03)


def touch_stroke(page, points) -> None:
    """One finger through `points` (page CSS px), as the DevTools protocol sends touches."""
    cdp = page.context.new_cdp_session(page)
    x, y = points[0]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        for f in np.linspace(0, 1, 7)[1:]:
            point = {"x": x0 + f * (x1 - x0), "y": y0 + f * (y1 - y0)}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


PLANE_TOP_JS = f"() => {lp.LV_JS}.querySelector('canvas.marks').getBoundingClientRect().top"


def test_a_swipe_across_the_plane_scrolls_the_page(phone_page):
    page = phone_page
    plane = page.locator(lp.MARKS)
    plane.scroll_into_view_if_needed()
    box = plane.bounding_box()
    x = box["x"] + box["width"] / 2
    start, end = box["y"] + box["height"] * 0.85, box["y"] + box["height"] * 0.15
    before = page.evaluate(PLANE_TOP_JS)
    touch_stroke(page, [(x, start), (x, end)])
    try:  # the page follows the finger, at least half of its way
        page.wait_for_function(
            f"() => ({PLANE_TOP_JS})() < {before - 0.5 * (start - end)}", timeout=10_000
        )
    except playwright_api.TimeoutError:
        pytest.fail(
            f"a swipe up of {start - end:.0f} px across the plane moved the page by"
            f" {before - page.evaluate(PLANE_TOP_JS):.0f} px: the plane traps the finger"
        )


def test_a_finger_draws_on_the_drawing_pad(phone_page):
    page = phone_page
    toggle = page.locator(".st-key-drawing label").first
    toggle.scroll_into_view_if_needed()
    toggle.tap()
    pad = page.locator(".st-key-draw .pad[data-model-id]")
    pad.wait_for(timeout=60_000)
    ink = page.locator(".st-key-draw canvas.ink")
    ink.scroll_into_view_if_needed()
    box = ink.bounding_box()
    at = [(0.25, 0.22), (0.72, 0.2), (0.55, 0.5), (0.42, 0.85)]  # a 7
    touch_stroke(
        page, [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in at]
    )
    page.locator(".st-key-draw .pad[data-strokes='1']").wait_for(timeout=10_000)
