// Drawing the plane: axes, the test points and the prior's circles (the base layer, redrawn
// only when it changes), then the marks over it: z, the selection, the hovered point.

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
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  drawClassNames(view, ctx, t);

  // Frame, ticks and axis titles in CSS pixels.
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.strokeStyle = t.text;
  ctx.globalAlpha = 0.45;
  ctx.lineWidth = 1;
  ctx.strokeRect(left - 0.5, top - 0.5, side + 1, side + 1);
  ctx.globalAlpha = 1;
  ctx.fillStyle = t.text;
  const scale = scaleOf(el.lv); // a presentation's larger text
  ctx.font = `${Math.round(12 * scale)}px sans-serif`;
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
  ctx.font = `italic ${Math.round(13 * scale)}px serif`;
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

// The centre of each class's points in sight, with CLASS_NAME_MIN or more of them: where its
// name goes. [[label, x, y], ...] in latent coordinates.
export function classCentres(model, hidden, [x0, x1, y0, y1]) {
  const n = model.colours.length;
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  const count = new Uint32Array(n);
  for (let i = 0; i < model.count; i++) {
    const label = model.labels[i];
    const x = model.x[i];
    const y = model.y[i];
    if (hidden.has(label) || x < x0 || x > x1 || y < y0 || y > y1) continue;
    sx[label] += x;
    sy[label] += y;
    count[label] += 1;
  }
  const centres = [];
  for (let label = 0; label < n; label++) {
    if (count[label] >= CLASS_NAME_MIN) centres.push([label, sx[label] / count[label], sy[label] / count[label]]);
  }
  return centres;
}

// Each class's name at its centre, in the text's colour on a halo of the background: the
// clusters are told apart without their colours.
function drawClassNames(view, ctx, t) {
  const { model, el } = view;
  const { left, top, side } = area(view);
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, side, side);
  ctx.clip();
  ctx.font = `bold ${Math.round(14 * scaleOf(el.lv))}px sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.lineJoin = "round";
  ctx.lineWidth = 4;
  ctx.strokeStyle = t.background;
  ctx.fillStyle = t.text;
  const shown = [];
  const placed = []; // the names' boxes so far: two centres close together ("4" and "9")
  const height = 16 * scaleOf(el.lv);
  for (const [label, x, y] of classCentres(model, view.hidden, view.range)) {
    const name = model.classes[label];
    const [px, py0] = toPixel(view, x, y);
    const half = ctx.measureText(name).width / 2 + 2;
    // Nudged up or down a line at a time until it clears the names already drawn.
    const clear = (py) => !placed.some(([a, b, c, d]) => px - half < c && a < px + half && py - height / 2 < d && b < py + height / 2);
    const py = [0, 1, -1, 2, -2].map((k) => py0 + k * height).find(clear) ?? py0;
    placed.push([px - half, py - height / 2, px + half, py + height / 2]);
    ctx.strokeText(name, px, py);
    ctx.fillText(name, px, py);
    shown.push(label);
  }
  ctx.restore();
  el.lv.dataset.classNames = shown.join(",");
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
