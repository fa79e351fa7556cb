// Colours from the theme, axis ticks, and the plane's pixels against latent coordinates.

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

// The classes' colours: the palette the data name (one per class), else the model's own.
function classColours(view) {
  const asked = view.data && view.data.colours;
  const own = view.model.colours;
  return Array.isArray(asked) && asked.length === own.length && asked.every((c) => /^#[0-9a-f]{6}$/i.test(c)) ? asked : own;
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
