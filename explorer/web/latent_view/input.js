// Input and commits: pointer, touch, wheel and keys move z, zoom and pan in the browser; a
// click, a tap, a released slider or finger, or a burst of keys sends one settled value to the
// server.

// What the base layer depends on: it is redrawn only when one of these changes, not when z
// or the selection does (a commit, a hover frame).
function baseKey(view) {
  const background = cssColour(view.el.lv, "--st-background-color", "");
  const colouring = scoresOf(view) ? "elbo" : "digit";
  return [view.model && view.model.id, view.size, view.range, [...view.hidden], background, colouring, view.colours, scaleOf(view.el.lv)].join("|");
}

// Everything that shows z, in one frame.
function render(view, { base = false, sliders = true } = {}) {
  const key = baseKey(view);
  if (base || key !== view.baseDrawn) {
    drawBase(view);
    view.baseDrawn = key;
  }
  drawDigit(view);
  drawMarks(view);
  if (sliders) showSliders(view);
}

function schedule(view, options) {
  view.nextOptions = {
    base: (view.nextOptions && view.nextOptions.base) || (options && options.base),
    sliders: !(options && options.sliders === false),
  };
  if (view.frame) return;
  view.frame = requestAnimationFrame(() => {
    view.frame = 0;
    const o = view.nextOptions;
    view.nextOptions = null;
    render(view, o);
  });
}

function commit(view) {
  clearTimeout(view.pendingTimer);
  view.pendingTimer = 0;
  const z = [round(view.shown[0], 3), round(view.shown[1], 3)];
  view.committed = z;
  view.el.lv.dataset.commits = String(Number(view.el.lv.dataset.commits) + 1);
  if (view.send) view.send("commit", z);
}

// Views in one sync group (two models side by side) show one z: what one previews, slides to
// or commits, the others decode at once.
function announce(view) {
  if (!view.data || !view.data.sync) return;
  const detail = { group: view.data.sync, z: view.shown.slice(), previewing: view.previewing, source: view };
  window.dispatchEvent(new CustomEvent(SYNC_EVENT, { detail }));
}

function commitSoon(view) {
  clearTimeout(view.pendingTimer);
  view.pendingTimer = setTimeout(() => commit(view), COMMIT_DELAY_MS);
}

function nearest(view, px, py, reach = HIT_PX) {
  const { model } = view;
  const [zx, zy] = toLatent(view, px, py);
  const perPx = (view.range[1] - view.range[0]) / area(view).side;
  const r = reach * perPx;
  const { cells, cellOf, buckets } = model.grid;
  let best = -1;
  let bestD = r * r;
  for (let cy = cellOf(zy - r); cy <= cellOf(zy + r); cy++) {
    for (let cx = cellOf(zx - r); cx <= cellOf(zx + r); cx++) {
      for (const i of buckets[cy * cells + cx]) {
        if (view.hidden.has(model.labels[i])) continue;
        const d = (model.x[i] - zx) ** 2 + (model.y[i] - zy) ** 2;
        if (d <= bestD) {
          bestD = d;
          best = i;
        }
      }
    }
  }
  return best;
}

// The visible test images nearest (zx, zy), nearest first: `k` rows of `model`.
export function nearestRows(model, hidden, zx, zy, k) {
  const rows = [];
  const dist = [];
  for (let i = 0; i < model.count; i++) {
    if (hidden.has(model.labels[i])) continue;
    const d = (model.x[i] - zx) ** 2 + (model.y[i] - zy) ** 2;
    if (rows.length === k && d >= dist[k - 1]) continue;
    let j = Math.min(rows.length, k - 1);
    while (j > 0 && dist[j - 1] > d) {
      rows[j] = rows[j - 1];
      dist[j] = dist[j - 1];
      j--;
    }
    rows[j] = i;
    dist[j] = d;
  }
  return rows;
}

// What a key does on the focused plane, or null for a key it leaves alone. Arrows move the
// point by a fiftieth of the span shown (with Shift a tenth), up is +z2.
export function keyAction(key, shift) {
  const step = shift ? 0.1 : 0.02;
  const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
  if (moves[key]) return { move: moves[key] };
  if (key === "+" || key === "=") return { zoom: 1 / 1.5 };
  if (key === "-" || key === "_") return { zoom: 1.5 };
  if (key === "Enter" || key === " ") return { select: true };
  if (key === "Escape") return { escape: true };
  return null;
}

// A number as a screen reader should say it: a true minus sign.
const spoken = (v) => v.toFixed(2).replace("-", "\u2212");

// The polite live region: at most one message a second, so a held key does not queue a
// sentence per step; the last one is said once the second has passed.
function speak(view, text) {
  const said = view.said;
  clearTimeout(said.timer);
  const wait = said.at + SPEAK_EVERY_MS - performance.now();
  const say = () => {
    said.at = performance.now();
    view.el.live.textContent = text;
    view.el.lv.dataset.spoken = String(Number(view.el.lv.dataset.spoken || 0) + 1);
  };
  if (wait <= 0) say();
  else said.timer = setTimeout(say, wait);
}

function speakPoint(view) {
  const [zx, zy] = view.shown;
  const { model } = view;
  const names = [];
  for (const i of nearestRows(model, view.hidden, zx, zy, 5)) {
    const name = model.classes[model.labels[i]];
    if (!names.includes(name)) names.push(name);
  }
  speak(view, fill(view.words.live_point, { z1: spoken(zx), z2: spoken(zy), nearest: names.slice(0, 3).join(", ") }));
}

// A test image chosen (a click, a tap, Enter): the server selects it and shows it beside the plane.
function select(view, i) {
  view.el.lv.dataset.selects = String(Number(view.el.lv.dataset.selects || 0) + 1);
  if (view.send) view.send("select", i);
  speak(view, fill(view.words.live_selected, { what: hoverText(view, i) }));
}

// The point moved by keys (a fraction of the span shown per axis), kept inside the model's
// window; the view pans to keep it in sight. It decodes at once and commits after a pause.
function keyMove(view, [fx, fy]) {
  const [x0, x1, y0, y1] = view.range;
  const span = x1 - x0;
  const [lo, hi] = view.model.window;
  const clamp = (v) => Math.min(hi, Math.max(lo, v));
  const z = [clamp(view.shown[0] + fx * span), clamp(view.shown[1] + fy * span)];
  const dx = z[0] < x0 ? z[0] - x0 : z[0] > x1 ? z[0] - x1 : 0;
  const dy = z[1] < y0 ? z[1] - y0 : z[1] > y1 ? z[1] - y1 : 0;
  if (dx || dy) view.range = [x0 + dx, x1 + dx, y0 + dy, y1 + dy];
  view.previewing = false;
  view.keyed = true;
  view.shown = z;
  view.hover = nearestRows(view.model, view.hidden, z[0], z[1], 1)[0] ?? -1;
  view.el.tip.textContent = view.hover >= 0 ? hoverText(view, view.hover) : "";
  commitSoon(view);
  schedule(view, { base: Boolean(dx || dy) });
  announce(view);
  speakPoint(view);
}

function onKey(view, event) {
  if (!view.model || event.altKey || event.ctrlKey || event.metaKey) return;
  const action = keyAction(event.key, event.shiftKey);
  if (!action) return;
  event.preventDefault();
  if (action.move) keyMove(view, action.move);
  else if (action.zoom) zoom(view, action.zoom, view.shown[0], view.shown[1]);
  else if (action.select) {
    const [i] = nearestRows(view.model, view.hidden, view.shown[0], view.shown[1], 1);
    if (i !== undefined) select(view, i);
  } else if (action.escape) {
    clearTimeout(view.pendingTimer);
    view.pendingTimer = 0;
    view.keyed = false;
    view.hover = -1;
    view.el.tip.textContent = "";
    view.shown = view.committed.slice();
    schedule(view);
    announce(view);
    speakPoint(view);
  }
}

function zoom(view, factor, cx, cy) {
  const [x0, x1, y0, y1] = view.range;
  const [lo, hi] = view.model.window;
  const span = Math.min((x1 - x0) * factor, (hi - lo) * 1.5);
  const fx = (cx - x0) / (x1 - x0);
  const fy = (cy - y0) / (y1 - y0);
  const nx0 = cx - fx * span;
  const ny0 = cy - fy * span;
  view.range = [nx0, nx0 + span, ny0, ny0 + span];
  schedule(view, { base: true });
}

// A click or a tap at (px, py): the test image within `reach` px is selected, else the point
// there is set.
function tapAt(view, px, py, reach) {
  const hit = nearest(view, px, py, reach);
  if (hit >= 0) {
    select(view, hit);
    return;
  }
  view.keyed = false;
  view.shown = toLatent(view, px, py);
  commit(view);
  schedule(view);
  announce(view);
  speakPoint(view);
}

// Touch: a swipe is the browser's (the page scrolls: CSS touch-action lets it); a tap selects
// or sets the point; a finger held still HOLD_MS decodes under it as it moves, and commits
// where it lifts; two fingers pan and pinch-zoom the plane. Touch events, not pointer events:
// only a cancelled touchmove stops the page from scrolling, on WebKit as on Chromium.
function wireTouch(view, local, leave) {
  const { el } = view;
  let touch = null; // {mode: "wait" | "hold" | "scroll" | "two", ...}
  const pointOf = (t) => local(t);
  const preview = (px, py) => {
    if (!inside(view, px, py)) return;
    view.previewing = true;
    view.shown = toLatent(view, px, py);
    view.hover = nearest(view, px, py, TOUCH_HIT_PX);
    el.tip.textContent = view.hover >= 0 ? hoverText(view, view.hover) : "";
    schedule(view);
    announce(view);
  };
  const two = (event) => {
    const [a, b] = [pointOf(event.touches[0]), pointOf(event.touches[1])];
    return { mid: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], gap: Math.hypot(a[0] - b[0], a[1] - b[1]) };
  };
  el.marks.addEventListener(
    "touchstart",
    (event) => {
      if (!view.model) return;
      clearTimeout(touch && touch.timer);
      if (event.touches.length >= 2) {
        event.preventDefault();
        if (touch && touch.mode === "hold") leave();
        touch = { mode: "two", ...two(event), range: view.range.slice() };
        return;
      }
      const [px, py] = pointOf(event.touches[0]);
      touch = { mode: "wait", px, py, at: [px, py] };
      touch.timer = setTimeout(() => {
        if (!touch || touch.mode !== "wait") return;
        touch.mode = "hold";
        el.lv.dataset.touch = "hold";
        preview(...touch.at);
      }, HOLD_MS);
    },
    { passive: false },
  );
  el.marks.addEventListener(
    "touchmove",
    (event) => {
      if (!touch || !view.model) return;
      if (touch.mode === "two" && event.touches.length >= 2) {
        event.preventDefault();
        const now = two(event);
        // The latent point first under the fingers' midpoint stays under it, at the scale
        // their spread asks for.
        const { left, top, side } = area(view);
        const [x0, x1, y0, y1] = touch.range;
        const [lo, hi] = view.model.window;
        const span = Math.min((x1 - x0) * (touch.gap > 0 && now.gap > 0 ? touch.gap / now.gap : 1), (hi - lo) * 1.5);
        const zx = x0 + ((touch.mid[0] - left) / side) * (x1 - x0);
        const zy = y1 - ((touch.mid[1] - top) / side) * (y1 - y0);
        const nx0 = zx - ((now.mid[0] - left) / side) * span;
        const ny1 = zy + ((now.mid[1] - top) / side) * span;
        view.range = [nx0, nx0 + span, ny1 - span, ny1];
        schedule(view, { base: true });
        return;
      }
      const at = pointOf(event.touches[0]);
      touch.at = at;
      if (touch.mode === "hold") {
        event.preventDefault();
        preview(...at);
      } else if (touch.mode === "wait" && Math.hypot(at[0] - touch.px, at[1] - touch.py) > TOUCH_SLOP_PX) {
        clearTimeout(touch.timer);
        touch.mode = "scroll";
      }
    },
    { passive: false },
  );
  const end = (event) => {
    if (!touch) return;
    const t = touch;
    if (event.touches.length > 0) {
      if (t.mode === "two") touch = { mode: "scroll" }; // one finger left of two: nothing more
      return;
    }
    touch = null;
    clearTimeout(t.timer);
    delete el.lv.dataset.touch;
    if (!view.model || event.type === "touchcancel") {
      if (t.mode === "hold") leave();
      return;
    }
    if (t.mode === "hold") {
      event.preventDefault();
      view.previewing = false;
      view.hover = -1;
      el.tip.textContent = "";
      if (inside(view, ...t.at)) view.shown = toLatent(view, ...t.at);
      commit(view);
      schedule(view);
      announce(view);
      speakPoint(view);
    } else if (t.mode === "wait") {
      // A tap: no mouse events after it (they would preview and click again).
      event.preventDefault();
      if (inside(view, t.px, t.py)) tapAt(view, t.px, t.py, TOUCH_HIT_PX);
    }
  };
  el.marks.addEventListener("touchend", end, { passive: false });
  el.marks.addEventListener("touchcancel", end, { passive: false });
  // A held finger on iOS and Android would open the image's menu.
  el.marks.addEventListener("contextmenu", (event) => {
    if (touch) event.preventDefault();
  });
}

function wire(view) {
  const { el } = view;
  const local = (event) => {
    const rect = el.marks.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };
  let drag = null;

  el.marks.addEventListener("pointermove", (event) => {
    if (!view.model || event.pointerType === "touch") return;
    const [px, py] = local(event);
    if (drag) {
      const dx = px - drag.px;
      const dy = py - drag.py;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      drag.moved = true;
      const per = (view.range[1] - view.range[0]) / area(view).side;
      const [x0, x1, y0, y1] = drag.range;
      view.range = [x0 - dx * per, x1 - dx * per, y0 + dy * per, y1 + dy * per];
      schedule(view, { base: true });
      return;
    }
    if (!inside(view, px, py)) {
      leave();
      return;
    }
    view.previewing = true;
    view.shown = toLatent(view, px, py);
    view.hover = nearest(view, px, py);
    const tip = view.hover >= 0 ? hoverText(view, view.hover) : "";
    el.tip.textContent = tip;
    schedule(view);
    announce(view);
  });
  const leave = () => {
    if (!view.previewing) return;
    view.keyed = false;
    view.previewing = false;
    view.hover = -1;
    el.tip.textContent = "";
    view.shown = view.committed.slice();
    schedule(view);
    announce(view);
  };
  el.marks.addEventListener("pointerleave", (event) => {
    if (event.pointerType !== "touch") leave();
  });
  el.marks.addEventListener("pointerdown", (event) => {
    if (!view.model || event.pointerType === "touch") return;
    const [px, py] = local(event);
    drag = { px, py, range: view.range.slice(), moved: false };
    el.marks.setPointerCapture(event.pointerId);
  });
  el.marks.addEventListener("pointerup", (event) => {
    const d = drag;
    drag = null;
    if (!d || d.moved || !view.model) return;
    const [px, py] = local(event);
    if (!inside(view, px, py)) return;
    tapAt(view, px, py, HIT_PX);
  });
  wireTouch(view, local, leave);
  el.plot.addEventListener("keydown", (event) => onKey(view, event));
  el.marks.addEventListener(
    "wheel",
    (event) => {
      if (!view.model) return;
      event.preventDefault();
      const [px, py] = local(event);
      const [zx, zy] = toLatent(view, px, py);
      zoom(view, Math.pow(1.0015, event.deltaY), zx, zy);
    },
    { passive: false },
  );
  el.tools.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    const act = button && button.dataset.act;
    if (!act || !view.model) return;
    const [x0, x1, y0, y1] = view.range;
    if (act === "reset") {
      const [lo, hi] = view.model.window;
      view.range = [lo, hi, lo, hi];
      schedule(view, { base: true });
    } else {
      // About the point when it is in sight: a tap on the plane then "+" brings any place
      // near, with no drag (WCAG 2.5.7).
      const [zx, zy] = view.shown;
      const seen = zx >= x0 && zx <= x1 && zy >= y0 && zy <= y1;
      zoom(view, act === "in" ? 1 / 1.5 : 1.5, seen ? zx : (x0 + x1) / 2, seen ? zy : (y0 + y1) / 2);
    }
  });

  el.palette.addEventListener("click", () => {
    if (!view.send) return;
    view.send("palette", el.palette.getAttribute("aria-pressed") === "true" ? "default" : "safe");
  });

  el.colourBy.addEventListener("click", (event) => {
    const colour = event.target.dataset && event.target.dataset.colour;
    if (!colour || !view.send) return;
    for (const button of el.colourBy.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button === event.target));
    }
    view.send("colour", colour);
  });

  el.sliders.forEach((slider, k) => {
    slider.addEventListener("input", () => {
      view.previewing = false;
      view.shown[k] = Number(slider.value);
      el.outputs[k].textContent = view.shown[k].toFixed(2);
      schedule(view, { sliders: false });
      announce(view);
    });
    slider.addEventListener("change", () => commitSoon(view));
    slider.addEventListener("pointerdown", () => {
      view.sliderHeld = true;
      // The release may land anywhere on the page.
      const release = () => {
        view.sliderHeld = false;
        window.removeEventListener("pointerup", release, true);
        window.removeEventListener("pointercancel", release, true);
      };
      window.addEventListener("pointerup", release, true);
      window.addEventListener("pointercancel", release, true);
    });
  });
}
