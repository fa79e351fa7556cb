// The latent view: the test digits' codes on the latent plane, the decoded digit and the z
// sliders, drawn and decoded in the browser. Hover, slider drags and zoom never talk to the
// server; a click, a released slider or a burst of key presses sends one settled value.
//
// The same module serves two mounts. Given bytes (explorer/payload.py), it parses the model
// once and files it in a registry shared by the page; given a small JSON object (as UTF-8
// bytes), it draws the view for the model that object names. The heavy bytes then sit outside the view's fragment
// and cross the wire once per model, while the view reruns with a few hundred bytes.

const REGISTRY_KEY = "__vaeLatentModels";
const SCORES_KEY = "__vaeLatentScores";
const MODEL_EVENT = "vae-latent-model";
const SCORES_EVENT = "vae-latent-scores";
const SYNC_EVENT = "vae-latent-z"; // z shown by a view of a sync group (models side by side)
const COMMIT_DELAY_MS = 120; // a burst of key presses or a drag's release becomes one commit
const HIT_PX = 6; // a click within this many pixels of a point selects it
const MARGIN = { left: 46, right: 8, top: 8, bottom: 44 }; // room for the ticks, in CSS pixels
const SIDE_PX = 160; // the decoded digit and the sliders beside the plot

function registry(key = REGISTRY_KEY) {
  if (!globalThis[key]) globalThis[key] = new Map();
  return globalThis[key];
}

// ---------------------------------------------------------------- the model

function buildModel(bytes) {
  const { header, arrays, layers } = parsePayload(bytes);
  const [lo, hi] = header.window;
  // A coarse grid over the window for nearest-point lookups under the pointer.
  const cells = 64;
  const cellOf = (v) => Math.min(cells - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * cells)));
  const buckets = Array.from({ length: cells * cells }, () => []);
  for (let i = 0; i < header.count; i++) {
    buckets[cellOf(arrays.y[i]) * cells + cellOf(arrays.x[i])].push(i);
  }
  return {
    id: header.model_id,
    snapshot: header.snapshot || null, // {epoch, epochs} of a model still training
    window: header.window,
    colours: header.colours,
    classes: header.classes,
    noun: header.noun,
    conditional: layers[0].nIn > 2,
    count: header.count,
    x: arrays.x,
    y: arrays.y,
    labels: arrays.labels,
    order: arrays.order,
    decode: makeDecoder(layers),
    grid: { cells, cellOf, buckets },
  };
}

function registerModel(bytes) {
  const model = buildModel(bytes);
  const models = registry();
  // Used last, kept longest: a training's snapshots come one after another, and must not push
  // out a model a view still shows (the other of two models side by side).
  const known = models.get(model.id);
  models.delete(model.id);
  models.set(model.id, known || model);
  while (models.size > 3) models.delete(models.keys().next().value);
  window.dispatchEvent(new CustomEvent(MODEL_EVENT, { detail: model.id }));
}

// Each test digit's -ELBO, for the continuous colouring: its own small payload ("VAES").
function registerScores(bytes) {
  const { header, arrays } = parsePayload(bytes);
  const values = arrays.scores;
  // The most unusual digits are drawn last, on top.
  const order = Uint32Array.from(values.keys()).sort((a, b) => values[a] - values[b]);
  const rgb = new Uint8Array(3 * values.length);
  values.forEach((v, i) => rgb.set(viridis((v - header.low) / (header.high - header.low)), 3 * i));
  const scores = registry(SCORES_KEY);
  scores.set(header.model_id, { values, order, rgb, low: header.low, high: header.high });
  while (scores.size > 3) scores.delete(scores.keys().next().value);
  window.dispatchEvent(new CustomEvent(SCORES_EVENT, { detail: header.model_id }));
}

// Viridis (matplotlib's), sampled at nine stops and interpolated: light to dark readable in
// both themes, and ordered for colour-blind readers.
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

export function viridis(t) {
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - k;
  return VIRIDIS[k].map((c, j) => Math.round(c + (VIRIDIS[k + 1][j] - c) * f));
}

// ---------------------------------------------------------------- colours and geometry

function hexToRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function cssColour(element, name, fallback) {
  const value = getComputedStyle(element).getPropertyValue(name).trim();
  return value || fallback;
}

function toRgb(colour) {
  // Any CSS colour -> [r, g, b], through a 1x1 canvas.
  const c = toRgb.canvas || (toRgb.canvas = document.createElement("canvas"));
  c.width = c.height = 1;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.clearRect(0, 0, 1, 1);
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, 1, 1);
  const d = ctx.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2]];
}

// The scores the plane is coloured by, once they have arrived; else null (colour by digit).
function scoresOf(view) {
  if (!view.model || !view.data || view.data.colour_by !== "elbo") return null;
  return registry(SCORES_KEY).get(view.model.id) || null;
}

function pointRgb(view, scores, i) {
  return scores ? scores.rgb.subarray(3 * i, 3 * i + 3) : view.rgbColours[view.model.labels[i]];
}

function theme(element) {
  const text = cssColour(element, "--st-text-color", "#31333f");
  const background = cssColour(element, "--st-background-color", "#ffffff");
  const rgbText = toRgb(text);
  const rgbBackground = toRgb(background);
  return { text, background, rgbText, rgbBackground };
}

function niceStep(span) {
  const raw = span / 6;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function round(v, digits) {
  const f = Math.pow(10, digits);
  return Math.round(v * f) / f;
}

// ---------------------------------------------------------------- the view

const HTML = `
<div class="lv" data-draws="0" data-commits="0">
  <div class="main">
    <div class="bar">
      <div class="colour-by" role="group" aria-label="colour the digits by">
        <span class="legend-title">colour</span>
        <button type="button" data-colour="digit" aria-pressed="true">digit</button>
        <button type="button" data-colour="elbo" aria-pressed="false"
          title="Colour each test digit by its −ELBO: the model finds the bright ones unusual">−ELBO</button>
      </div>
      <div class="legend" role="group" aria-label="digit classes shown"></div>
      <div class="colour-bar" hidden><span class="low"></span><canvas width="120" height="10"></canvas><span class="high"></span><span class="unit">−ELBO, nats</span></div>
      <div class="tools">
        <button type="button" data-act="in" title="Zoom in">+</button>
        <button type="button" data-act="out" title="Zoom out">−</button>
        <button type="button" data-act="reset" title="Show the whole plane">reset</button>
      </div>
    </div>
    <div class="plot">
      <canvas class="base"></canvas>
      <canvas class="marks" aria-label="latent plane: hover to decode, click to choose"></canvas>
      <div class="waiting">Loading the model…</div>
      <div class="training" hidden></div>
    </div>
  </div>
  <div class="side">
    <div class="st-key-decoded decoded">
      <canvas class="digit" width="28" height="28" aria-label="decoded digit"></canvas>
      <div class="readout"></div>
      <div class="source"></div>
    </div>
    <label class="st-key-z1 slider"><span>z1</span><input type="range" step="0.01"><output></output></label>
    <label class="st-key-z2 slider"><span>z2</span><input type="range" step="0.01"><output></output></label>
    <div class="tip"></div>
    <div class="hint">Hover the plane to decode any point. Click empty space or release a
      slider to set the point; click a digit to inspect it. Scroll to zoom, drag to pan.</div>
  </div>
</div>`;

function createView(parent) {
  // The parent may be a shadow root holding the component's <style>: add to it, never replace.
  const root = document.createElement("div");
  root.innerHTML = HTML;
  parent.appendChild(root);
  const q = (s) => root.querySelector(s);
  const el = {
    lv: q(".lv"),
    main: q(".main"),
    legend: q(".legend"),
    colourBy: q(".colour-by"),
    colourBar: q(".colour-bar"),
    tools: q(".tools"),
    plot: q(".plot"),
    base: q("canvas.base"),
    marks: q("canvas.marks"),
    waiting: q(".waiting"),
    training: q(".training"),
    digit: q("canvas.digit"),
    readout: q(".readout"),
    source: q(".source"),
    sliders: [q(".st-key-z1 input"), q(".st-key-z2 input")],
    outputs: [q(".st-key-z1 output"), q(".st-key-z2 output")],
    tip: q(".tip"),
    hint: q(".hint"),
  };
  const view = {
    el,
    image: new ImageData(28, 28),
    model: null,
    data: null,
    range: null, // [x0, x1, y0, y1] shown, equal spans on both axes
    hidden: new Set(),
    committed: [0, 0], // the point the server holds
    shown: [0, 0], // the point every part of the view shows now
    previewing: false, // the pointer is over the plane
    sliderHeld: false,
    pendingTimer: 0,
    zRev: null,
    frame: 0,
    size: 0,
    inset: null, // neighbours of the selected digit, for the posterior inset
    hover: -1, // the test digit under the pointer, or -1
    send: null, // the current mount's Streamlit callbacks
  };
  wire(view);
  return view;
}

function layout(view) {
  const { el } = view;
  const width = el.lv.clientWidth - SIDE_PX - 14;
  const top = el.plot.getBoundingClientRect().top + window.scrollY;
  const room = window.innerHeight - top - 18;
  const size = Math.floor(Math.max(260, Math.min(width, Math.max(room, 420))));
  if (!(width > 0)) return false;
  if (size === view.size) return true;
  view.size = size;
  view.baseDrawn = null; // resizing a canvas clears it
  const dpr = window.devicePixelRatio || 1;
  el.plot.style.width = el.plot.style.height = `${size}px`;
  for (const canvas of [el.base, el.marks]) {
    canvas.width = Math.round(size * dpr);
    canvas.height = Math.round(size * dpr);
    canvas.style.width = canvas.style.height = `${size}px`;
  }
  el.lv.dataset.plotPx = String(size);
  return true;
}

function area(view) {
  const d = view.size - MARGIN.left - MARGIN.right; // equals size - top - bottom
  return { left: MARGIN.left, top: MARGIN.top, side: d };
}

function toPixel(view, x, y) {
  const { left, top, side } = area(view);
  const [x0, x1, y0, y1] = view.range;
  return [left + ((x - x0) / (x1 - x0)) * side, top + ((y1 - y) / (y1 - y0)) * side];
}

function toLatent(view, px, py) {
  const { left, top, side } = area(view);
  const [x0, x1, y0, y1] = view.range;
  return [x0 + ((px - left) / side) * (x1 - x0), y1 - ((py - top) / side) * (y1 - y0)];
}

function inside(view, px, py) {
  const { left, top, side } = area(view);
  return px >= left && px <= left + side && py >= top && py <= top + side;
}

function drawBase(view) {
  const { el, model } = view;
  if (!model || !view.size) return;
  const t = theme(el.lv);
  // Pictures drawn on the server (the selection, the manifold) follow a theme switch through
  // a rerun; the canvases here redraw by themselves.
  const dark = t.rgbBackground.reduce((a, b) => a + b, 0) < 3 * 128;
  if (view.dark !== undefined && view.dark !== dark && view.send) {
    view.send("theme", dark ? "dark" : "light");
  }
  view.dark = dark;
  view.theme = t;
  const dpr = el.base.width / view.size;
  const ctx = el.base.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, el.base.width, el.base.height);
  const { left, top, side } = area(view);
  const [x0, x1, y0, y1] = view.range;

  // Points and grid lines into one opaque bitmap of the data area, blended by hand: ten
  // thousand canvas calls would cost more than the whole frame budget.
  const n = Math.max(1, Math.round(side * dpr));
  const image = new ImageData(n, n);
  const px = image.data;
  const [br, bg, bb] = t.rgbBackground;
  for (let i = 0; i < px.length; i += 4) {
    px[i] = br;
    px[i + 1] = bg;
    px[i + 2] = bb;
    px[i + 3] = 255;
  }
  const step = niceStep(x1 - x0);
  const [tr, tg, tb] = t.rgbText;
  const gridAlpha = 0.1;
  const blend = (i, r, g, b, a) => {
    px[i] += (r - px[i]) * a;
    px[i + 1] += (g - px[i + 1]) * a;
    px[i + 2] += (b - px[i + 2]) * a;
  };
  for (let v = Math.ceil(x0 / step) * step; v <= x1; v += step) {
    const c = Math.round(((v - x0) / (x1 - x0)) * n);
    if (c < 0 || c >= n) continue;
    const a = Math.abs(v) < 1e-9 ? 0.25 : gridAlpha;
    for (let r = 0; r < n; r++) blend(4 * (r * n + c), tr, tg, tb, a);
  }
  for (let v = Math.ceil(y0 / step) * step; v <= y1; v += step) {
    const r = Math.round(((y1 - v) / (y1 - y0)) * n);
    if (r < 0 || r >= n) continue;
    const a = Math.abs(v) < 1e-9 ? 0.25 : gridAlpha;
    for (let c = 0; c < n; c++) blend(4 * (r * n + c), tr, tg, tb, a);
  }
  const scores = scoresOf(view);
  const order = scores ? scores.order : model.order; // a fixed shuffle: no class hides another
  const radius = Math.max(1, Math.round(1.3 * dpr));
  const alpha = 0.75;
  const sx = n / (x1 - x0);
  const sy = n / (y1 - y0);
  let drawn = 0;
  for (let k = 0; k < model.count; k++) {
    const i = order[k];
    const label = model.labels[i];
    if (view.hidden.has(label)) continue;
    const cx = Math.round((model.x[i] - x0) * sx);
    const cy = Math.round((y1 - model.y[i]) * sy);
    if (cx < -radius || cy < -radius || cx >= n + radius || cy >= n + radius) continue;
    const [r, g, b] = pointRgb(view, scores, i);
    for (let yy = Math.max(0, cy - radius); yy <= Math.min(n - 1, cy + radius); yy++) {
      for (let xx = Math.max(0, cx - radius); xx <= Math.min(n - 1, cx + radius); xx++) {
        blend(4 * (yy * n + xx), r, g, b, alpha);
      }
    }
    drawn++;
  }
  ctx.putImageData(image, Math.round(left * dpr), Math.round(top * dpr));
  el.lv.dataset.pointsDrawn = String(drawn);
  showColouring(view, scores);

  // Frame, ticks and axis titles in CSS pixels.
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.strokeStyle = t.text;
  ctx.globalAlpha = 0.45;
  ctx.lineWidth = 1;
  ctx.strokeRect(left - 0.5, top - 0.5, side + 1, side + 1);
  ctx.globalAlpha = 1;
  ctx.fillStyle = t.text;
  ctx.font = "12px sans-serif";
  const digits = step < 0.1 ? 2 : step < 1 ? 1 : 0;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let v = Math.ceil(x0 / step) * step; v <= x1 + 1e-9; v += step) {
    const [p] = toPixel(view, v, 0);
    ctx.fillText(round(v, digits).toFixed(digits), p, top + side + 5);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let v = Math.ceil(y0 / step) * step; v <= y1 + 1e-9; v += step) {
    const [, p] = toPixel(view, 0, v);
    ctx.fillText(round(v, digits).toFixed(digits), left - 6, p);
  }
  ctx.font = "italic 13px serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText("z1", left + side / 2, view.size - 2);
  ctx.save();
  ctx.translate(12, top + side / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText("z2", 0, 0);
  ctx.restore();
  el.lv.dataset.range = view.range.join(",");
  el.lv.dataset.area = `${left},${top},${side}`;
}

// A shape drawn twice, a wide halo in the background colour under a stroke in the text colour:
// readable in both themes and over any class's colour.
function haloStroke(ctx, t, path, width, dash) {
  ctx.setLineDash(dash || []);
  ctx.strokeStyle = t.background;
  ctx.lineWidth = width + 3;
  ctx.stroke(path);
  ctx.strokeStyle = t.text;
  ctx.lineWidth = width;
  ctx.stroke(path);
  ctx.setLineDash([]);
}

function ellipse(path, cx, cy, rx, ry) {
  path.moveTo(cx + rx, cy);
  path.ellipse(cx, cy, Math.max(rx, 0.5), Math.max(ry, 0.5), 0, 0, 2 * Math.PI);
}

function cross(path, x, y, r) {
  path.moveTo(x - r, y - r);
  path.lineTo(x + r, y + r);
  path.moveTo(x - r, y + r);
  path.lineTo(x + r, y - r);
}

function drawMarks(view) {
  const { el, model } = view;
  if (!model || !view.size || !view.theme) return;
  const t = view.theme;
  const dpr = el.marks.width / view.size;
  const ctx = el.marks.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, el.marks.width, el.marks.height);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const { left, top, side } = area(view);
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, side, side);
  ctx.clip();

  const selected = view.data && view.data.selected;
  if (selected && !view.hidden.has(selected.label)) {
    const [mx, my] = toPixel(view, selected.mu[0], selected.mu[1]);
    const scale = side / (view.range[1] - view.range[0]);
    const path = new Path2D();
    ellipse(path, mx, my, selected.sigma[0] * scale, selected.sigma[1] * scale);
    ellipse(path, mx, my, 2 * selected.sigma[0] * scale, 2 * selected.sigma[1] * scale);
    haloStroke(ctx, t, path, 1);
    const ring = new Path2D();
    ring.arc(mx, my, 7, 0, 2 * Math.PI);
    haloStroke(ctx, t, ring, 2);
  }
  if (view.hover >= 0) {
    const [hx, hy] = toPixel(view, model.x[view.hover], model.y[view.hover]);
    const ring = new Path2D();
    ring.arc(hx, hy, 5, 0, 2 * Math.PI);
    haloStroke(ctx, t, ring, 1.5);
  }
  if (view.previewing) {
    // The point the server holds stays visible, faint, while the pointer previews another.
    const [cx, cy] = toPixel(view, view.committed[0], view.committed[1]);
    const ghost = new Path2D();
    cross(ghost, cx, cy, 6);
    ctx.globalAlpha = 0.5;
    haloStroke(ctx, t, ghost, 1.5);
    ctx.globalAlpha = 1;
  }
  const overlay = view.data && view.data.overlay;
  if (overlay) drawOverlay(view, ctx, overlay);
  drawDrawing(view, ctx);
  const [px, py] = toPixel(view, view.shown[0], view.shown[1]);
  const mark = new Path2D();
  cross(mark, px, py, 8);
  haloStroke(ctx, t, mark, 2.5);
  ctx.restore();
  el.lv.dataset.markPx = `${px.toFixed(1)},${py.toFixed(1)}`;
  view.insetScores = scoresOf(view);
  if (selected) drawInset(view, ctx, selected);
}

// Points a lens marks on the plane (prior samples, draws from q(z|x), a path's steps), each
// numbered, joined in order when they are a path; the lens's name above them.
function drawOverlay(view, ctx, overlay) {
  const t = view.theme;
  const pts = overlay.points.map(([a, b]) => toPixel(view, a, b));
  if (overlay.path && pts.length > 1) {
    const line = new Path2D();
    pts.forEach(([x, y], i) => (i ? line.lineTo(x, y) : line.moveTo(x, y)));
    haloStroke(ctx, t, line, 1.5, [5, 4]);
  }
  ctx.font = "10px sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "bottom";
  pts.forEach(([x, y], i) => {
    const dot = new Path2D();
    dot.arc(x, y, 4, 0, 2 * Math.PI);
    ctx.fillStyle = t.background;
    ctx.fill(dot);
    haloStroke(ctx, t, dot, 1.5);
    if (pts.length <= 40) {
      ctx.fillStyle = t.text;
      ctx.fillText(String(i + 1), x + 5, y - 3);
    }
  });
  view.el.lv.dataset.overlay = `${overlay.name}:${pts.length}`;
}

// The drawn digit's q(z|x): a diamond at its mean inside its 1σ and 2σ ellipses, live.
function drawDrawing(view, ctx) {
  const drawing = view.drawing;
  const shown = drawing && drawing.model_id === view.model.id;
  if (!shown) {
    delete view.el.lv.dataset.drawing;
    return;
  }
  const t = view.theme;
  const [mx, my] = toPixel(view, drawing.mu[0], drawing.mu[1]);
  const scale = area(view).side / (view.range[1] - view.range[0]);
  const [s1, s2] = drawing.sigma.map((v) => v * scale);
  const inner = new Path2D();
  ellipse(inner, mx, my, s1, s2);
  haloStroke(ctx, t, inner, 1.5);
  const outer = new Path2D();
  ellipse(outer, mx, my, 2 * s1, 2 * s2);
  haloStroke(ctx, t, outer, 1.5, [4, 3]);
  const diamond = new Path2D();
  diamond.moveTo(mx, my - 7);
  diamond.lineTo(mx + 7, my);
  diamond.lineTo(mx, my + 7);
  diamond.lineTo(mx - 7, my);
  diamond.closePath();
  ctx.fillStyle = t.background;
  ctx.fill(diamond);
  haloStroke(ctx, t, diamond, 2);
  ctx.fillStyle = t.text;
  ctx.font = "bold 11px sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "bottom";
  ctx.fillText("your digit", mx + 9, my - 6);
  view.el.lv.dataset.drawing = drawing.mu.join(",");
}

const within = (x, y, bx, by, box, pad = 0) =>
  x >= bx - pad && x <= bx + box + pad && y >= by - pad && y <= by + box + pad;

// Where the inset goes: of the plane's corners that keep clear of the selected digit (the
// point it zooms on), the one covering the fewest shown test points, the farthest from the
// digit among equals. `pixelOf(i)` is point i's pixel, or null for a point not drawn.
export function insetCorner(count, pixelOf, { left, top, side }, box, [px, py]) {
  const far = side - box - 6;
  const corners = [[6, 6], [far, 6], [6, far], [far, far]]
    .map(([dx, dy]) => [left + dx, top + dy])
    .filter(([bx, by]) => !within(px, py, bx, by, box, 8))
    .sort(([ax, ay], [bx, by]) => Math.hypot(bx + box / 2 - px, by + box / 2 - py) - Math.hypot(ax + box / 2 - px, ay + box / 2 - py));
  const hides = corners.map(() => 0);
  for (let i = 0; i < count; i++) {
    const p = pixelOf(i);
    if (!p) continue;
    corners.forEach(([bx, by], c) => {
      if (within(p[0], p[1], bx, by, box)) hides[c] += 1;
    });
  }
  const best = hides.indexOf(Math.min(...hides));
  return { x: corners[best][0], y: corners[best][1], hides: hides[best] };
}

// The selected digit's posterior, zoomed to mu +- 4 sigma: at the plane's scale its ellipses
// are a few pixels wide.
function drawInset(view, ctx, selected) {
  const { model } = view;
  const t = view.theme;
  const { left, top, side } = area(view);
  const box = Math.round(side * 0.34);
  const shown = (i) => {
    if (view.hidden.has(model.labels[i]) || i === selected.row) return null;
    return toPixel(view, model.x[i], model.y[i]);
  };
  const corner = insetCorner(model.count, shown, { left, top, side }, box, toPixel(view, ...selected.mu));
  const { x: bx, y: by } = corner;
  const half = 4 * Math.max(selected.sigma[0], selected.sigma[1]);
  const [mx, my] = selected.mu;
  const s = box / (2 * half);
  const at = (x, y) => [bx + (x - mx + half) * s, by + (my + half - y) * s];
  ctx.save();
  ctx.fillStyle = t.background;
  ctx.globalAlpha = 0.94;
  ctx.fillRect(bx, by, box, box);
  ctx.globalAlpha = 1;
  ctx.beginPath();
  ctx.rect(bx, by, box, box);
  ctx.clip();
  if (!view.inset || view.inset.row !== selected.row || view.inset.model !== model.id) {
    const near = [];
    for (let i = 0; i < model.count; i++) {
      if (Math.abs(model.x[i] - mx) <= half && Math.abs(model.y[i] - my) <= half) near.push(i);
    }
    view.inset = { row: selected.row, model: model.id, near };
  }
  const dot = view.inset.near.length > 150 ? 1.5 : 3; // a crowded posterior stays readable
  for (const i of view.inset.near) {
    if (view.hidden.has(model.labels[i]) || i === selected.row) continue;
    const [x, y] = at(model.x[i], model.y[i]);
    ctx.fillStyle = `rgb(${pointRgb(view, view.insetScores, i).join(",")})`;
    ctx.beginPath();
    ctx.arc(x, y, dot, 0, 2 * Math.PI);
    ctx.fill();
  }
  const [cx, cy] = at(mx, my);
  const path = new Path2D();
  ellipse(path, cx, cy, selected.sigma[0] * s, selected.sigma[1] * s);
  haloStroke(ctx, t, path, 1.5);
  const outer = new Path2D();
  ellipse(outer, cx, cy, 2 * selected.sigma[0] * s, 2 * selected.sigma[1] * s);
  haloStroke(ctx, t, outer, 1.5, [4, 3]);
  ctx.fillStyle = `rgb(${pointRgb(view, view.insetScores, selected.row).join(",")})`;
  ctx.beginPath();
  ctx.arc(cx, cy, 4, 0, 2 * Math.PI);
  ctx.fill();
  // A lens's marks that fall in the inset (draws from q(z|x) are too close to see at the
  // plane's scale): hollow dots, numbered as on the plane.
  const overlay = view.data && view.data.overlay;
  let inInset = 0;
  if (overlay) {
    ctx.font = "10px sans-serif";
    ctx.textBaseline = "bottom";
    overlay.points.forEach(([a, b], i) => {
      if (Math.abs(a - mx) > half || Math.abs(b - my) > half) return;
      const [ox, oy] = at(a, b);
      const ring = new Path2D();
      ring.arc(ox, oy, 4, 0, 2 * Math.PI);
      haloStroke(ctx, t, ring, 1.5);
      ctx.fillStyle = t.text;
      ctx.fillText(String(i + 1), ox + 5, oy - 3);
      inInset += 1;
    });
  }
  ctx.restore();
  ctx.strokeStyle = t.text;
  ctx.globalAlpha = 0.6;
  ctx.lineWidth = 1;
  ctx.strokeRect(bx + 0.5, by + 0.5, box - 1, box - 1);
  ctx.globalAlpha = 1;
  ctx.fillStyle = t.text;
  ctx.font = "11px sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText(`q(z|x) of #${selected.row}: μ ± 4σ`, bx + 4, by + 3);
  ctx.textBaseline = "bottom";
  ctx.fillText(`ellipses: 1σ, 2σ · width ${(2 * half).toPrecision(2)}`, bx + 4, by + box - 3);
  view.el.lv.dataset.inset = `${selected.row},${view.inset.near.length}`;
  view.el.lv.dataset.insetHides = String(corner.hides);
  view.el.lv.dataset.overlayInInset = String(inInset);
}

// Decode z and draw it, ink in the text colour on the background: the digit follows the theme.
function drawDigit(view) {
  const { el, model } = view;
  if (!model) return;
  const t0 = performance.now();
  const [z1, z2] = view.shown;
  const cls = model.conditional && view.data ? view.data.cls || 0 : 0;
  const p = model.decode(z1, z2, cls);
  const t = view.theme || theme(el.lv);
  const [ir, ig, ib] = t.rgbText;
  const [pr, pg, pb] = t.rgbBackground;
  const d = view.image.data;
  for (let i = 0; i < 784; i++) {
    const v = p[i];
    d[4 * i] = pr + (ir - pr) * v;
    d[4 * i + 1] = pg + (ig - pg) * v;
    d[4 * i + 2] = pb + (ib - pb) * v;
    d[4 * i + 3] = 255;
  }
  // The canvas holds the 28x28 pixels; CSS scales it up without smoothing.
  el.digit.getContext("2d").putImageData(view.image, 0, 0);
  const ms = performance.now() - t0;
  el.readout.textContent = `z = (${z1.toFixed(2)}, ${z2.toFixed(2)})`;
  el.source.textContent = view.previewing
    ? "under the pointer (click to set)"
    : view.pendingTimer || view.sliderHeld
      ? "from the sliders"
      : "the current point";
  el.lv.dataset.z = `${z1},${z2}`;
  el.lv.dataset.cls = model.conditional ? String(cls) : "";
  el.lv.dataset.ink = t.rgbText.join(",");
  el.lv.dataset.paper = t.rgbBackground.join(",");
  el.lv.dataset.decodeMs = ms.toFixed(3);
  el.lv.dataset.draws = String(Number(el.lv.dataset.draws) + 1);
}

function showSliders(view) {
  view.shown.forEach((v, k) => {
    view.el.sliders[k].value = String(v);
    view.el.outputs[k].textContent = v.toFixed(2);
  });
}

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
    const tip = view.hover >= 0 ? hoverText(view.model, view.hover) : "";
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

// The colour switch's state, and the colour bar with its ends while colouring by -ELBO.
function showColouring(view, scores) {
  const { el } = view;
  const asked = (view.data && view.data.colour_by) || "digit";
  for (const button of el.colourBy.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.colour === asked));
  }
  el.lv.dataset.colourBy = scores ? "elbo" : "digit";
  el.lv.classList.toggle("by-score", Boolean(scores));
  el.colourBar.hidden = !scores;
  if (!scores) return;
  const canvas = el.colourBar.querySelector("canvas");
  const ctx = canvas.getContext("2d");
  for (let x = 0; x < canvas.width; x++) {
    ctx.fillStyle = `rgb(${viridis(x / (canvas.width - 1)).join(",")})`;
    ctx.fillRect(x, 0, 1, canvas.height);
  }
  el.colourBar.querySelector(".low").textContent = scores.low.toFixed(0);
  el.colourBar.querySelector(".high").textContent = `${scores.high.toFixed(0)}+`;
}

// "digit" for MNIST, whose classes are digits; "class" for other data.
function classWord(model) {
  return model.noun === "digit" ? "digit" : "class";
}

function hoverText(model, i) {
  const name = model.classes[model.labels[i]];
  return model.noun === "digit" ? `test image #${i}, a ${name}` : `test image #${i}: ${name}`;
}

// The view's words for this model's data: its noun in the hint and the colour switch.
function nameThings(view) {
  const { el, model } = view;
  const noun = model.noun;
  el.colourBy.querySelector('[data-colour="digit"]').textContent = classWord(model);
  el.colourBy.querySelector('[data-colour="elbo"]').title =
    `Colour each test ${noun} by its −ELBO: the model finds the bright ones unusual`;
  el.legend.setAttribute("aria-label", `${classWord(model)} classes shown`);
  el.digit.setAttribute("aria-label", `decoded ${noun}`);
  el.hint.textContent =
    `Hover the plane to decode any point. Click empty space or release a slider to set the ` +
    `point; click a ${noun} to inspect it. Scroll to zoom, drag to pan.`;
}

function buildLegend(view) {
  const { el, model } = view;
  el.legend.replaceChildren();
  const title = document.createElement("span");
  title.className = "legend-title";
  title.textContent = classWord(model);
  el.legend.appendChild(title);
  model.colours.forEach((colour, label) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.dataset.label = String(label);
    const name = model.classes[label];
    chip.title = `${name}: click to hide or show; double-click to show this ${classWord(model)} alone`;
    const swatch = document.createElement("i");
    swatch.style.background = colour;
    chip.append(swatch, name);
    chip.setAttribute("aria-pressed", String(!view.hidden.has(label)));
    let timer = 0;
    chip.addEventListener("click", () => {
      clearTimeout(timer);
      timer = setTimeout(() => toggle(view, label, false), 220);
    });
    chip.addEventListener("dblclick", () => {
      clearTimeout(timer);
      toggle(view, label, true);
    });
    el.legend.appendChild(chip);
  });
}

function toggle(view, label, alone) {
  const all = view.model.colours.map((_, i) => i);
  if (alone) {
    const isolated = view.hidden.size === all.length - 1 && !view.hidden.has(label);
    view.hidden = new Set(isolated ? [] : all.filter((i) => i !== label));
  } else if (view.hidden.has(label)) {
    view.hidden.delete(label);
  } else {
    view.hidden.add(label);
  }
  for (const chip of view.el.legend.querySelectorAll(".chip")) {
    chip.setAttribute("aria-pressed", String(!view.hidden.has(Number(chip.dataset.label))));
  }
  view.el.lv.dataset.hidden = [...view.hidden].sort().join(",");
  schedule(view, { base: true });
}

function attachModel(view) {
  const model = registry().get(view.data.model_id);
  if (!model) return false;
  if (view.model !== model) {
    const old = view.model;
    const sameWindow = old && old.window.join() === model.window.join();
    // A training's next snapshot, or its finished model, keeps a zoom the user chose.
    const successor = old && old.id.split("@")[0] === model.id.split("@")[0];
    const zoomed = old && view.range && view.range.join() !== [...old.window, ...old.window].join();
    view.model = model;
    view.inset = null;
    const [lo, hi] = model.window;
    if (!view.range || (!sameWindow && !(successor && zoomed))) view.range = [lo, hi, lo, hi];
    for (const slider of view.el.sliders) {
      slider.min = String(lo);
      slider.max = String(hi);
    }
    view.rgbColours = model.colours.map(hexToRgb);
    buildLegend(view);
    nameThings(view);
    view.el.lv.dataset.modelId = model.id;
    view.el.waiting.style.display = "none";
    // A snapshot is marked on the plane itself, so nobody takes it for the finished model.
    const { training } = view.el;
    training.hidden = !model.snapshot;
    training.textContent = model.snapshot
      ? `training: epoch ${model.snapshot.epoch} of ${model.snapshot.epochs}`
      : "";
  }
  return true;
}

// A new value from the server. z it sent of its own accord (a link, "move here", a model
// switch that clamps z) moves the view; an echo of what this view committed does not, so a
// confirmation arriving mid-drag cannot pull the slider back.
function receive(view, data) {
  view.data = data;
  view.el.colourBy.hidden = Boolean(data.sync); // models side by side: coloured by digit
  view.el.lv.dataset.committed = `${data.z[0]},${data.z[1]}`;
  view.el.lv.dataset.zRev = String(data.z_rev);
  if (view.zRev !== data.z_rev) {
    view.zRev = data.z_rev;
    view.committed = data.z.slice();
    if (!view.previewing) view.shown = data.z.slice();
    clearTimeout(view.pendingTimer);
    view.pendingTimer = 0;
  }
  if (!attachModel(view)) return false;
  if (!layout(view)) return false;
  render(view, { sliders: !view.sliderHeld && !view.pendingTimer });
  return true;
}


export default function (component) {
  const { parentElement, setTriggerValue } = component;
  let { data } = component;
  if (data instanceof ArrayBuffer) data = new Uint8Array(data);
  if (data instanceof Uint8Array) {
    const magic = magicOf(data);
    if (magic === "VAEX" || magic === "VAES") {
      (magic === "VAEX" ? registerModel : registerScores)(data);
      return undefined;
    }
    data = JSON.parse(new TextDecoder().decode(data)); // the view's JSON, sent as bytes
  }
  if (!data || !parentElement) return undefined;
  let view = parentElement.__latentView;
  if (!view || !parentElement.contains(view.el.lv)) {
    view = parentElement.__latentView = createView(parentElement);
  }
  view.send = (name, value) => setTriggerValue(name, value);
  const retry = () => receive(view, data);
  const onModel = () => {
    if (retry()) window.removeEventListener(MODEL_EVENT, onModel);
  };
  if (!retry()) window.addEventListener(MODEL_EVENT, onModel);
  // Resizes, a tab shown after being hidden, and theme switches all come through here.
  const observer = new ResizeObserver(() => {
    if (view.model && layout(view)) render(view);
    else retry();
  });
  observer.observe(view.el.lv);
  const onResize = () => {
    view.size = 0;
    if (view.model && layout(view)) render(view);
  };
  window.addEventListener("resize", onResize);
  view.drawing = globalThis[DRAWING_KEY] || null;
  const onDrawing = (event) => {
    view.drawing = event.detail;
    if (view.model) schedule(view, { sliders: false });
  };
  window.addEventListener(DRAWING_EVENT, onDrawing);
  const onSync = (event) => {
    const d = event.detail;
    if (d.source === view || !view.data || view.data.sync !== d.group || !view.model) return;
    view.shown = d.z.slice();
    view.previewing = d.previewing;
    schedule(view);
  };
  window.addEventListener(SYNC_EVENT, onSync);
  // The scores' mount may run after this view has drawn: redraw the points once they arrive.
  const onScores = (event) => {
    if (view.model && event.detail === view.model.id) schedule(view, { sliders: false });
  };
  window.addEventListener(SCORES_EVENT, onScores);
  return () => {
    window.removeEventListener(SCORES_EVENT, onScores);
    window.removeEventListener(SYNC_EVENT, onSync);
    observer.disconnect();
    window.removeEventListener("resize", onResize);
    window.removeEventListener(DRAWING_EVENT, onDrawing);
    window.removeEventListener(MODEL_EVENT, onModel);
  };
}
