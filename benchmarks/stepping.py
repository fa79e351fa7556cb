"""Browser pages that step the latent view's z1 slider with the keyboard, as a student does,
and time each step to the server's confirmation (benchmarks.class_load, training_load).

A Session is one browser context on one page: the explorer ("app": the view's
data-committed) or the bare fragment of benchmarks/bare_fragment_app.py ("bare": its caption).
Both watchers log on the page's own clock, so a latency is two timestamps of one clock however
late Playwright gets to look.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from benchmarks.harness import VIEWPORT, percentile
from benchmarks.latent_page import MARKS, VIEW

READY_TIMEOUT_MS = 180_000  # 16 pages loading at once on 2 cores take a while
CONFIRM_TIMEOUT_MS = 30_000
MATCH = 0.005  # a slider step is 0.01: a confirmed z1 within half a step is that step


# Both watchers log (z1 the server confirmed, page time) on every change of the confirmed
# state, and the page time of every keydown, so a latency is two timestamps of the page's own
# clock however late Playwright gets to look. A pending waiter is woken by each new entry.
COMMON_WATCH_JS = """
window.__watch = { log: [], keys: [], sent: [], waiter: null };
const w = window.__watch;
window.addEventListener("keydown", () => {
  w.keys.push(performance.now());
  if (w.keys.length > 256) w.keys.shift();
}, true);
const note = (z1) => {
  w.log.push({ z1, at: performance.now() });
  if (w.log.length > 256) w.log.shift();
  if (w.waiter) w.waiter();
};
"""

# The latent view sits in a shadow root: watch data-committed on the .lv inside it.
APP_WATCH_JS = (
    "(lv) => {"
    + COMMON_WATCH_JS
    + """
  const root = lv.getRootNode();
  const read = () => {
    const el = root.querySelector(".lv");
    const c = el && el.dataset.committed;
    return c ? Number(c.split(",")[0]) : NaN;
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.attributeName === "data-commits") {
        w.sent.push(performance.now());
        if (w.sent.length > 256) w.sent.shift();
      } else {
        note(read());
      }
    }
  }).observe(root, {
    subtree: true, attributes: true, attributeFilter: ["data-committed", "data-commits"],
  });
}"""
)

# The bare app's caption "z = (a, b)" shows what the server holds.
BARE_WATCH_JS = (
    "() => {"
    + COMMON_WATCH_JS
    + """
  let last = null;
  const read = () => {
    const el = document.querySelector('[data-testid="stCaptionContainer"]');
    const m = el && /z = \\((-?[0-9.]+),/.exec(el.textContent);
    return m ? Number(m[1]) : NaN;
  };
  new MutationObserver(() => {
    const z1 = read();
    if (z1 !== last) { last = z1; note(z1); }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""
)

# Resolves with the first confirmation of z1 = want at or after page time `since`, with the
# time the last commit before it was sent (the app's data-commits; none on the bare app), or
# with null.
WAIT_CONFIRMED_JS = """
([want, since, timeoutMs, match]) => new Promise((resolve) => {
  const w = window.__watch;
  const find = () => {
    const hit = w.log.find((e) => e.at >= since && Math.abs(e.z1 - want) < match);
    if (!hit) return null;
    const sent = w.sent.filter((t) => t >= since && t <= hit.at);
    return { at: hit.at, sent: sent.length ? sent[sent.length - 1] : null };
  };
  const hit = find();
  if (hit) return resolve(hit);
  const timer = setTimeout(() => { w.waiter = null; resolve(null); }, timeoutMs);
  w.waiter = () => {
    const h = find();
    if (h) { clearTimeout(timer); w.waiter = null; resolve(h); }
  };
})
"""

AFTER_BURST_JS = """
([slider, k]) => {
  const keys = window.__watch.keys.slice(-k);
  return [Number(slider.value), keys.length ? keys : [performance.now()]];
}
"""


@dataclass
class Burst:
    latency_ms: float | None  # None: unconfirmed, or the slider did not move at all
    round_trip_ms: float | None  # from the commit that was confirmed (app only)
    commit_after_ms: float | None  # from the last key to that commit leaving (app only)
    gaps_ms: list[float]  # between the burst's keydowns, on the page's clock
    moved: bool  # the slider moved by exactly the keys pressed
    unconfirmed: bool = False  # it moved, and no confirmation came in CONFIRM_TIMEOUT_MS


@dataclass
class Session:
    """One browser context on one page, stepping z1 with the keyboard."""

    kind: str  # "app" or "bare"
    context: object
    page: object
    slider: object  # element handle of the z1 range input
    state: object | None  # the app's .lv element handle
    lo: float
    hi: float
    value: float
    direction: int = 1
    presses: int = 0
    bursts: list[Burst] = field(default_factory=list)

    @classmethod
    async def open(cls, chromium, url: str, kind: str) -> tuple[Session, float]:
        """A fresh context on the page, ready and watched; and seconds from goto to ready."""
        context = await chromium.new_context(viewport=VIEWPORT)
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(url)
        if kind == "app":
            lv = page.locator(f"{VIEW}[data-model-id]")
            await lv.wait_for(timeout=READY_TIMEOUT_MS)
            state = await lv.element_handle()
            await page.wait_for_function(
                "(el) => Number(el.dataset.draws) > 0", arg=state, timeout=READY_TIMEOUT_MS
            )
            ready = time.perf_counter() - start
            slider = await page.locator(
                ".st-key-latent_scatter .st-key-z1 input[type=range]"
            ).element_handle()
            await page.evaluate(APP_WATCH_JS, state)
        else:
            await page.locator('[data-testid="stCaptionContainer"]').wait_for(
                timeout=READY_TIMEOUT_MS
            )
            ready = time.perf_counter() - start
            state = None
            slider = await page.locator(".st-key-a input[type=range]").element_handle()
            await page.evaluate(BARE_WATCH_JS)
        lo, hi, value = await slider.evaluate("(s) => [s.min, s.max, s.value].map(Number)")
        await slider.focus()
        return cls(kind, context, page, slider, state, lo, hi, value), ready

    async def commits(self) -> int:
        """Commits this page sent; on the bare app every key press is one."""
        if self.kind == "bare":
            return self.presses
        return int(await self.state.get_attribute("data-commits"))

    async def burst(self, keys: int, gap: float) -> Burst:
        """`keys` presses `gap` seconds apart, then wait for the server's confirmation."""
        # Walk to one end of the slider and back, so consecutive values never repeat.
        if not self.lo + 0.05 < self.value + 0.01 * keys * self.direction < self.hi - 0.05:
            self.direction = -self.direction
        key = "ArrowRight" if self.direction > 0 else "ArrowLeft"
        loop = asyncio.get_running_loop()
        for i in range(keys):
            t = loop.time()
            await self.page.keyboard.press(key)
            self.presses += 1
            if i < keys - 1:
                await asyncio.sleep(max(0.0, t + gap - loop.time()))
        want, times = await self.page.evaluate(AFTER_BURST_JS, [self.slider, keys])
        moved = abs(want - (self.value + 0.01 * keys * self.direction)) < MATCH
        still = abs(want - self.value) < MATCH
        self.value = want
        if not moved:
            # Focus went elsewhere, or a press was lost: take it back for the next burst.
            await self.slider.focus()
        hit = None
        if not still:  # a slider that did not move sends nothing to confirm
            hit = await self.page.evaluate(
                WAIT_CONFIRMED_JS, [want, times[-1], CONFIRM_TIMEOUT_MS, MATCH]
            )
        burst = Burst(
            latency_ms=None if hit is None else hit["at"] - times[-1],
            round_trip_ms=None if hit is None or hit["sent"] is None else hit["at"] - hit["sent"],
            commit_after_ms=None if hit is None or hit["sent"] is None else hit["sent"] - times[-1],
            gaps_ms=[b - a for a, b in zip(times, times[1:], strict=False)],
            moved=moved,
            unconfirmed=hit is None and not still,
        )
        self.bursts.append(burst)
        return burst

    async def hover(self, moves: int) -> dict:
        """Hover `moves` random points of the app's plane; the page's own decode + draw time of
        each frame, and the commits sent meanwhile (none: the plane decodes in the browser)."""
        page, lv = self.page, self.state
        box = await page.locator(MARKS).bounding_box()
        commits = await self.commits()
        times = []
        # Inside the plot's margins: the axes' ticks take the outer 50 px.
        for fx, fy in np.random.default_rng(0).uniform(0.15, 0.9, size=(moves, 2)):
            draws = int(await lv.get_attribute("data-draws"))
            await page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            await page.wait_for_function(
                "([el, n]) => Number(el.dataset.draws) > n", arg=[lv, draws], timeout=10_000
            )
            times.append(float(await lv.get_attribute("data-decode-ms")))
        await page.mouse.move(2, 2)  # leave the plane: the view shows the committed z again
        await self.slider.focus()
        return {
            "frames": len(times),
            "median_ms": statistics.median(times),
            "p95_ms": percentile(times, 95),
            "max_ms": max(times),
            "commits_sent": await self.commits() - commits,
        }

    async def close(self) -> None:
        await self.context.close()
