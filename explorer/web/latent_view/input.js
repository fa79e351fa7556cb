// Input and commits: pointer, wheel and keys move z, zoom and pan in the browser; a click,
// a released slider or a burst of keys sends one settled value to the server.

// What the base layer depends on: it is redrawn only when one of these changes, not when z
// or the selection does (a commit, a hover frame).
function baseKey(view) {
  const background = cssColour(view.el.lv, "--st-background-color", "");
  const colouring = scoresOf(view) ? "elbo" : "digit";
  return [view.model && view.model.id, view.size, view.range, [...view.hidden], background, colouring].join("|");
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

function nearest(view, px, py) {
  const { model } = view;
  const [zx, zy] = toLatent(view, px, py);
  const perPx = (view.range[1] - view.range[0]) / area(view).side;
  const r = HIT_PX * perPx;
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

function wire(view) {
  const { el } = view;
  const local = (event) => {
    const rect = el.marks.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };
  let drag = null;

  el.marks.addEventListener("pointermove", (event) => {
    if (!view.model) return;
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
    view.previewing = false;
    view.hover = -1;
    el.tip.textContent = "";
    view.shown = view.committed.slice();
    schedule(view);
    announce(view);
  };
  el.marks.addEventListener("pointerleave", leave);
  el.marks.addEventListener("pointerdown", (event) => {
    if (!view.model) return;
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
    const hit = nearest(view, px, py);
    if (hit >= 0) {
      view.el.lv.dataset.selects = String(Number(view.el.lv.dataset.selects || 0) + 1);
      if (view.send) view.send("select", hit);
      return;
    }
    view.shown = toLatent(view, px, py);
    commit(view);
    schedule(view);
    announce(view);
  });
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
    const act = event.target.dataset && event.target.dataset.act;
    if (!act || !view.model) return;
    const [x0, x1, y0, y1] = view.range;
    if (act === "reset") {
      const [lo, hi] = view.model.window;
      view.range = [lo, hi, lo, hi];
      schedule(view, { base: true });
    } else {
      zoom(view, act === "in" ? 1 / 1.5 : 1.5, (x0 + x1) / 2, (y0 + y1) / 2);
    }
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
