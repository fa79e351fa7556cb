// What lenses put over the plane: their numbered points, the drawn digit's q(z|x), and the
// selected digit's posterior inset.

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
  ctx.fillText(view.words.your_drawing, mx + 9, my - 6);
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

// A caption in `room` px: one line at 11 px, or a smaller one down to 9 px, else wrapped at
// spaces into lines at 10 px (Chinese has no spaces: there, at any character). Scaled for
// presentations.
function fitText(ctx, text, room, scale = 1) {
  for (const px of [11, 10, 9]) {
    ctx.font = `${px * scale}px sans-serif`;
    if (ctx.measureText(text).width <= room) return { font: ctx.font, lines: [text], height: 1.2 * px * scale };
  }
  const px = 10 * scale;
  ctx.font = `${px}px sans-serif`;
  const pieces = /\s/.test(text) ? text.split(/(?<=\s)/) : [...text];
  const lines = [""];
  for (const piece of pieces) {
    const next = lines[lines.length - 1] + piece;
    if (ctx.measureText(next.trimEnd()).width <= room || !lines[lines.length - 1]) lines[lines.length - 1] = next;
    else lines.push(piece);
  }
  return { font: ctx.font, lines: lines.map((line) => line.trimEnd()), height: 1.2 * px };
}

function measure(ctx, line, ...fits) {
  const fit = fits.find((f) => f.lines.includes(line));
  ctx.font = fit.font;
  return ctx.measureText(line).width;
}

// The selected digit's posterior, zoomed to mu +- 4 sigma: at the plane's scale its ellipses
// are a few pixels wide.
function drawInset(view, ctx, selected) {
  const { model } = view;
  const t = view.theme;
  const { left, top, side } = area(view);
  const box = Math.floor(side / 3); // a ninth of the plane at most
  // The corner changes with the plane's zoom, size and hidden classes, not with z or hover:
  // counted once per such change, not on every frame.
  const placed = [model.id, selected.row, view.range.join(), side, [...view.hidden].join()].join("|");
  if (!view.insetPlace || view.insetPlace.key !== placed) {
    const shown = (i) => {
      if (view.hidden.has(model.labels[i]) || i === selected.row) return null;
      return toPixel(view, model.x[i], model.y[i]);
    };
    const mu = toPixel(view, ...selected.mu);
    view.insetPlace = { key: placed, ...insetCorner(model.count, shown, { left, top, side }, box, mu) };
  }
  const corner = view.insetPlace;
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
  ctx.textAlign = "left";
  const width = (2 * half).toPrecision(2);
  const scale = scaleOf(view.el.lv);
  const title = fitText(ctx, fill(view.words.inset_title, { row: selected.row }), box - 8, scale);
  const foot = fitText(ctx, fill(view.words.inset_scale, { width }), box - 8, scale);
  ctx.textBaseline = "top";
  ctx.font = title.font;
  title.lines.forEach((line, k) => ctx.fillText(line, bx + 4, by + 3 + k * title.height));
  ctx.textBaseline = "bottom";
  ctx.font = foot.font;
  foot.lines.forEach((line, k, all) => ctx.fillText(line, bx + 4, by + box - 3 - (all.length - 1 - k) * foot.height));
  const widest = Math.max(...[...title.lines, ...foot.lines].map((line) => measure(ctx, line, title, foot)));
  view.el.lv.dataset.insetBox = [bx, by, box, box].map(Math.round).join(","); // left,top,width,height
  view.el.lv.dataset.insetTextPx = String(Math.ceil(widest));
  view.el.lv.dataset.inset = `${selected.row},${view.inset.near.length}`;
  view.el.lv.dataset.insetHides = String(corner.hides);
  view.el.lv.dataset.overlayInInset = String(inInset);
}
