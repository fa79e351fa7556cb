"""WCAG 2.2 AA in headless Chromium (issue 28): axe-core's rules on the pages a teacher and a
student open, at a desktop and a phone size, then the criteria axe cannot judge: reflow at
320 px (1.4.10), focus not hidden under the sticky header (2.4.11), targets of 24 px (2.5.8)
and a visible focus (2.4.7).

axe-core is the npm package (`.ci/run` installs it under .cache/axe; $AXE_CORE_JS names another
axe.min.js). Without it, or without Chromium, these tests skip with the reason, and
VAE_EXPLORER_REQUIRE_BROWSER=1 (as .ci/run sets) makes that an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from benchmarks import latent_page as lp
from deploy import launch
from tests.test_browser import REQUIRED, _unavailable, chromium  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = Path(os.environ.get("AXE_CORE_JS") or ROOT / ".cache/axe/node_modules/axe-core/axe.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
HOW_AXE = "`npm install --no-save --prefix .cache/axe axe-core@4` (or set AXE_CORE_JS)"

DESKTOP = {"viewport": {"width": 1400, "height": 1000}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
SIZES = {"desktop": DESKTOP, "phone": PHONE}


def phone(width: int, height: int) -> dict:
    return {**PHONE, "viewport": {"width": width, "height": height}}


def window(width: int, height: int) -> dict:
    return {"viewport": {"width": width, "height": height}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app with the shipped model, on a cache of its own (boards are written there)."""
    cache = tmp_path_factory.mktemp("access_cache")
    with launch.streamlit_server({"VAE_EXPLORER_CACHE": str(cache)}) as (url, _):
        yield url


def wait_plane(page) -> None:
    lp.wait_until_ready(page)
    lp.wait_run_finished(page)


def open_page(chromium, url: str, context: dict, ready=wait_plane, **options):  # noqa: F811
    """A page of its own context (size, touch, theme), once `ready` holds and its run ended."""
    page = chromium.new_context(**context, **options).new_page()
    page.goto(url)
    ready(page)
    lp.wait_run_finished(page)
    page.evaluate(DESCRIBE_JS)
    return page


# ------------------------------------------------------------------ the pages axe checks

BOARD_ITEMS = ".st-key-board_plane .board"


@pytest.fixture(scope="module")
def board_links(server, chromium):  # noqa: F811
    """A class board opened once: the teacher's link's query and the students' join query."""
    page = open_page(chromium, f"{server}/?lang=en", DESKTOP)
    try:
        page.get_by_role("button", name="🧑‍🏫 Open a class board").click()
        page.locator(BOARD_ITEMS).wait_for(timeout=60_000)
        join = page.locator(".st-key-board [data-testid=stCode]").first.inner_text()
        page.wait_for_function("() => location.search.includes('key=')")
        return urlsplit(page.url).query, urlsplit(join.strip()).query
    finally:
        page.context.close()


def wait_tour(page) -> None:
    wait_plane(page)
    page.locator(".st-key-tour").wait_for(timeout=30_000)


def wait_posterior(page) -> None:
    page.locator(".st-key-posterior_lens .heatmaplayer").first.wait_for(timeout=60_000)


def wait_teacher(page) -> None:
    wait_plane(page)
    page.locator(BOARD_ITEMS).wait_for(timeout=60_000)


def wait_student(page) -> None:
    wait_plane(page)
    page.locator(".st-key-board_name input").wait_for(timeout=60_000)


def address(server: str, board_links, name: str) -> tuple[str, object]:
    """The link to a page axe checks, and what tells that it is shown."""
    if name == "default":
        return f"{server}/?lang=en", wait_plane
    if name == "tour":
        return f"{server}/?lang=en&tour=1", wait_tour
    if name == "posterior":
        return f"{server}/?lang=en&tab=posterior&digit=42", wait_posterior
    teacher, join = board_links
    if name == "teacher":
        return f"{server}/?{teacher}", wait_teacher
    return f"{server}/?{join}&lang=en", wait_student


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_JS.exists():
        reason = f"no axe-core at {AXE_JS}"
        if REQUIRED:
            raise RuntimeError(
                f"{reason}, and VAE_EXPLORER_REQUIRE_BROWSER=1 requires it: {HOW_AXE}"
            )
        pytest.skip(f"{reason}: axe tests skipped; {HOW_AXE}")
    return AXE_JS.read_text()


# A page element as a person would find it: its tag, Streamlit's test id, the keyed container
# it is in (st-key-...), and its first words. Defined once per page, used by the checks below.
DESCRIBE_JS = """() => { window.__describe = (el) => {
  const key = el.closest('[class*=st-key-]')
    || el.getRootNode().host?.closest('[class*=st-key-]');
  const keyName = key ? [...key.classList].find(c => c.startsWith('st-key-')) : '';
  const testid = el.getAttribute('data-testid');
  const role = el.getAttribute('role');
  const cls = typeof el.className === 'string'
    ? el.className.split(/\\s+/).filter(c => c && !/^(st-emotion-cache-.*|e[a-z0-9]{6,}[0-9])$/.test(c))
    : [];
  const words = (el.getAttribute('aria-label') || el.getAttribute('alt') || el.innerText
    || el.value || '').trim().replace(/\\s+/g, ' ');
  return el.tagName.toLowerCase() + (cls.length ? '.' + cls.slice(0, 2).join('.') : '')
    + (testid ? `[${testid}]` : '') + (role ? `[role=${role}]` : '')
    + (words ? ` "${words.slice(0, 30)}"` : '')
    + (keyName ? ` in .${keyName}` : '')
    + (el.getRootNode() instanceof ShadowRoot ? ' (shadow root)' : '');
}; }"""


def axe_violations(page, source: str) -> list[dict]:
    """axe-core's WCAG 2.0-2.2 A and AA violations on the page as it stands (shadow roots
    too), each node described as DESCRIBE_JS does, with its contrast where that is the rule."""
    page.add_script_tag(content=source)
    page.evaluate(DESCRIBE_JS)
    return page.evaluate(
        """async (tags) => {
          const find = (target) => {
            let root = document, el = null;
            for (const selector of target.flat()) {
              el = root.querySelector(selector);
              if (!el) return null;
              root = el.shadowRoot || el;
            }
            return el;
          };
          const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
          return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map(n => {
              const el = find(n.target);
              const contrast = (n.any.find(c => c.data && c.data.contrastRatio) || {}).data;
              return (el ? window.__describe(el) : n.target.flat().join(' >>> '))
                + (contrast ? ` ${contrast.fgColor} on ${contrast.bgColor}`
                   + ` ${contrast.contrastRatio}:1 (${contrast.expectedContrastRatio} asked)` : '');
            })}));
        }""",
        AXE_TAGS,
    )


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in ("critical", "serious")]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}, {len(v['targets'])}×: {v['help']})")
        lines += [f"      {target}" for target in v["targets"]]
    return "\n".join(lines)


def assert_no_serious_violation(page, source: str, what: str) -> None:
    found = serious(axe_violations(page, source))
    assert not found, f"axe-core on {what}: critical or serious violations\n" + (
        describe_violations(found)
    )


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", ["default", "tour", "teacher", "student", "posterior"])
def test_axe_finds_no_serious_violation(axe_source, server, chromium, board_links, name, size):  # noqa: F811
    url, ready = address(server, board_links, name)
    page = open_page(chromium, url, SIZES[size], ready)
    try:
        viewport = SIZES[size]["viewport"]
        assert_no_serious_violation(
            page, axe_source, f"the {name} page at {viewport['width']}×{viewport['height']}"
        )
    finally:
        page.context.close()


@pytest.mark.parametrize(
    "query, scheme", [("lang=zh", "light"), ("lang=en", "dark")], ids=["chinese", "dark"]
)
def test_axe_finds_no_serious_violation_in_chinese_and_the_dark_theme(
    axe_source,
    server,
    chromium,  # noqa: F811
    query,
    scheme,
):
    page = open_page(chromium, f"{server}/?{query}", DESKTOP, color_scheme=scheme)
    try:
        if scheme == "dark":  # the view has taken the dark theme's colours
            page.wait_for_function(f"() => {lp.VIEW_DATA}.paper !== '255,255,255'")
        assert_no_serious_violation(page, axe_source, f"the default page, {query}, {scheme} theme")
    finally:
        page.context.close()


# ------------------------------------------------------------------ what axe cannot judge

# The page's own scrolling boxes: Streamlit scrolls its main area, not the document.
SCROLLERS_JS = """() => {
  const W = window.innerWidth;
  const wide = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > W) wide.push(`document ${doc.scrollWidth} px`);
  for (const id of ['stApp', 'stAppViewContainer', 'stMain', 'stMainBlockContainer']) {
    const el = document.querySelector(`[data-testid=${id}]`);
    if (el && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'hidden')
      wide.push(`${id} ${el.scrollWidth} px in ${el.clientWidth}`);
  }
  return {width: W, wide};
}"""


@pytest.mark.parametrize(
    "context", [window(320, 640), phone(390, 844)], ids=["320x640", "phone-390x844"]
)
def test_the_page_reflows_without_horizontal_scrolling(server, chromium, context):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en&digit=0", context)
    try:
        found = page.evaluate(SCROLLERS_JS)
        assert not found["wide"], (
            f"1.4.10 reflow at {found['width']} px wide: horizontal scrolling in "
            + "; ".join(found["wide"])
        )
    finally:
        page.context.close()


# The element that has the focus, down through shadow roots: where it is, and the boxes of
# Streamlit's sticky header that are painted (the header itself is transparent and lets the
# pointer through; its toolbar and anything with a background are not).
FOCUSED_JS = """() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el || el === document.body) return null;
  const r = el.getBoundingClientRect();
  const header = document.querySelector('header[data-testid=stHeader]');
  const painted = [];
  if (header && !header.contains(el)) {
    for (const part of [header, ...header.querySelectorAll('*')]) {
      const s = getComputedStyle(part);
      const b = part.getBoundingClientRect();
      if (s.visibility === 'hidden' || s.display === 'none' || !b.width || !b.height) continue;
      const background = s.backgroundImage !== 'none'
        || !/rgba\\(.*, 0\\)$|transparent/.test(s.backgroundColor);
      if (background || part.matches('button, a, svg, img'))
        painted.push([b.left, b.top, b.right, b.bottom]);
    }
  }
  return {what: window.__describe(el), rect: [r.left, r.top, r.right, r.bottom], painted,
          W: window.innerWidth, H: window.innerHeight};
}"""

FOCUS_STOPS = 40


def focus_stops(page, count: int = FOCUS_STOPS):
    """Tab from the top of the page: each focus stop as FOCUSED_JS sees it, once settled."""
    page.locator("body").focus()
    for _ in range(count):
        page.keyboard.press("Tab")
        # Focusing scrolls the element into view: read it once two frames agree.
        page.wait_for_function(
            f"""() => new Promise(done => requestAnimationFrame(() => {{
              const a = JSON.stringify(({FOCUSED_JS})());
              requestAnimationFrame(() => done(a === JSON.stringify(({FOCUSED_JS})())));
            }}))"""
        )
        yield page.evaluate(FOCUSED_JS)


def hidden_how(stop: dict) -> str | None:
    """Why a focused element cannot be seen at all: off-screen, or every point of it under a
    painted part of the sticky header (2.4.11 asks that it be not entirely hidden)."""
    left, top, right, bottom = stop["rect"]
    if right <= 0 or bottom <= 0 or left >= stop["W"] or top >= stop["H"]:
        return "off-screen"
    left, top = max(left, 0.0), max(top, 0.0)
    right, bottom = min(right, stop["W"]), min(bottom, stop["H"])
    points = [
        (left + (right - left) * (i + 0.5) / 5, top + (bottom - top) * (j + 0.5) / 5)
        for i in range(5)
        for j in range(5)
    ]
    if stop["painted"] and all(
        any(a <= x <= c and b <= y <= d for a, b, c, d in stop["painted"]) for x, y in points
    ):
        return "under the header"
    return None


def clip_around(stop: dict, margin: float) -> dict | None:
    """The focused element's box and `margin` around it, inside the window."""
    left, top, right, bottom = stop["rect"]
    x, y = max(left - margin, 0), max(top - margin, 0)
    width, height = min(right + margin, stop["W"]) - x, min(bottom + margin, stop["H"]) - y
    return {"x": x, "y": y, "width": width, "height": height} if width > 0 < height else None


DEEP_FOCUS_JS = (
    "() => { let el = document.activeElement;"
    " while (el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;"
    " return el; }"
)


def shows_itself(page, stop: dict) -> bool:
    """Whether any pixel on screen changes when the focused element is made invisible: if
    none does, something covers it all."""
    clip = clip_around(stop, 2)
    if clip is None:
        return False
    focused = page.evaluate_handle(DEEP_FOCUS_JS)
    shown = page.screenshot(clip=clip, animations="disabled")
    focused.evaluate("el => { el.style.visibility = 'hidden'; }")
    unshown = page.screenshot(clip=clip, animations="disabled")
    focused.evaluate("el => { el.style.visibility = ''; el.focus(); }")
    return shown != unshown


@pytest.mark.parametrize(
    "context", [window(1024, 768), phone(390, 844)], ids=["1024x768", "phone-390x844"]
)
def test_no_focus_stop_is_hidden_under_the_header_or_off_screen(server, chromium, context):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en&digit=0", context)
    try:
        hidden, seen = [], 0
        for stop in focus_stops(page):
            if stop is None:
                continue
            seen += 1
            how = hidden_how(stop)
            if how == "under the header" and shows_itself(page, stop):
                how = None  # painted above the header (Streamlit's skip link is)
            if how:
                rect = ", ".join(f"{v:.0f}" for v in stop["rect"])
                hidden.append(f"  {stop['what']}: {how} (at {rect})")
        size = f"{context['viewport']['width']}×{context['viewport']['height']}"
        assert seen, f"no focus stop reached by Tab at {size}"
        assert not hidden, f"2.4.11 at {size}: focused elements not seen\n" + "\n".join(hidden)
    finally:
        page.context.close()


# Every visible target (document and shadow roots) with its box, and whether it is a link
# inside a sentence: 2.5.8 exempts those ("inline" targets).
TARGETS_JS = """() => {
  const SELECTOR = 'button, a[href], input:not([type=hidden]), select, textarea, '
    + '[role=button], [role=link], [role=tab], [role=checkbox], [role=radio], [role=switch], '
    + '[role=slider], [role=option], [role=menuitem]';
  const found = [];
  const visit = (root, where) => {
    for (const el of root.querySelectorAll(SELECTOR)) {
      if (el.closest('[aria-hidden=true]') || el.disabled) continue;
      let box = el;
      // A visually hidden check box or radio button is hit through its label.
      if (el.matches('input[type=checkbox], input[type=radio]') && el.closest('label'))
        box = el.closest('label');
      const s = getComputedStyle(box);
      const r = box.getBoundingClientRect();
      if (s.visibility === 'hidden' || s.display === 'none' || r.width === 0 || r.height === 0)
        continue;
      if (r.right <= 0 || r.bottom <= 0 || r.left >= innerWidth) continue;
      const block = el.parentElement;
      const inline = el.tagName === 'A' && getComputedStyle(el).display === 'inline'
        && block && block.innerText.trim().length > el.innerText.trim().length;
      const name = (el.getAttribute('aria-label') || el.innerText || el.value || '').trim();
      found.push({
        what: `${where}${el.tagName.toLowerCase()}`
          + `${el.getAttribute('role') ? '[role=' + el.getAttribute('role') + ']' : ''}`
          + `${el.getAttribute('data-testid') ? '[' + el.getAttribute('data-testid') + ']' : ''}`
          + ` "${name.slice(0, 24)}"`,
        rect: [r.left, r.top + scrollY, r.right, r.bottom + scrollY],
        inline,
      });
    }
    for (const el of root.querySelectorAll('*'))
      if (el.shadowRoot) visit(el.shadowRoot, `${where}${el.tagName.toLowerCase()} >>> `);
  };
  visit(document, '');
  return found;
}"""

TARGET = 24.0


def distance_to_rect(x: float, y: float, rect) -> float:
    left, top, right, bottom = rect
    dx = max(left - x, 0.0, x - right)
    dy = max(top - y, 0.0, y - bottom)
    return (dx * dx + dy * dy) ** 0.5


def small_targets(targets: list[dict]) -> list[str]:
    """2.5.8: a target under 24×24 passes only if a 24 px circle on its centre touches no other
    target and no other small target's circle (links inside a sentence are exempt)."""
    small = [
        t
        for t in targets
        if not t["inline"]
        and min(t["rect"][2] - t["rect"][0], t["rect"][3] - t["rect"][1]) < TARGET - 0.5
    ]
    failing = []
    for t in small:
        cx, cy = (t["rect"][0] + t["rect"][2]) / 2, (t["rect"][1] + t["rect"][3]) / 2
        crowded = []
        for other in targets:
            if other is t or other["rect"] == t["rect"]:
                continue
            if distance_to_rect(cx, cy, other["rect"]) < TARGET / 2:
                crowded.append(other["what"])
            elif other in small:
                ox = (other["rect"][0] + other["rect"][2]) / 2
                oy = (other["rect"][1] + other["rect"][3]) / 2
                if ((cx - ox) ** 2 + (cy - oy) ** 2) ** 0.5 < TARGET:
                    crowded.append(other["what"])
        if crowded:
            w, h = t["rect"][2] - t["rect"][0], t["rect"][3] - t["rect"][1]
            failing.append(f"  {t['what']} {w:.0f}×{h:.0f} px, beside {crowded[0]}")
    return failing


@pytest.mark.parametrize("context", [DESKTOP, phone(390, 844)], ids=["1400x1000", "phone-390x844"])
def test_every_target_is_24_px_or_spaced_apart(server, chromium, context):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en&digit=0", context)
    try:
        failing = small_targets(page.evaluate(TARGETS_JS))
        size = f"{context['viewport']['width']}×{context['viewport']['height']}"
        assert not failing, f"2.5.8 at {size}: targets under 24×24 px, too close to others\n" + (
            "\n".join(failing)
        )
    finally:
        page.context.close()


# Identical pixels around an element, focused and not: the focus does not show.
FOCUS_VISIBLE_STOPS = 30


def test_the_focus_is_always_visible(server, chromium):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en&digit=0", window(1024, 768))
    try:
        unseen, seen = [], 0
        for stop in focus_stops(page, FOCUS_VISIBLE_STOPS):
            if stop is None or hidden_how(stop):
                continue
            seen += 1
            clip = clip_around(stop, 6)
            if clip is None:
                continue
            element = page.evaluate_handle(DEEP_FOCUS_JS)
            focused = page.screenshot(clip=clip, animations="disabled")
            element.evaluate("el => el.blur()")
            blurred = page.screenshot(clip=clip, animations="disabled")
            element.evaluate("el => el.focus()")
            if focused == blurred:
                unseen.append(f"  {stop['what']}")
        assert seen, "no focus stop reached by Tab at 1024×768"
        assert not unseen, "2.4.7 at 1024×768: focus looks the same as no focus on\n" + (
            "\n".join(unseen)
        )
    finally:
        page.context.close()
