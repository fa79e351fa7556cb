// The latent view's model: the payload parsed once per model and filed in the page's registry,
// the test scores beside it, and the colour map.

const REGISTRY_KEY = "__vaeLatentModels";
const SCORES_KEY = "__vaeLatentScores";
const MODEL_EVENT = "vae-latent-model";
const SCORES_EVENT = "vae-latent-scores";
const WORDS_KEY = "__vaeLatentWords"; // the views' words, in the page's language
const WORDS_EVENT = "vae-latent-words";
// The page's own view's zoom and hidden classes, kept when its element is made anew (Streamlit
// remounts it when the tabs around it are renamed: a switch of language).
const KEPT_KEY = "__vaeLatentKept";
const SYNC_EVENT = "vae-latent-z"; // z shown by a view of a sync group (models side by side)
const COMMIT_DELAY_MS = 120; // a burst of key presses or a drag's release becomes one commit
const HIT_PX = 6; // a click within this many pixels of a point selects it
const TOUCH_HIT_PX = 12; // a fingertip is less precise than a pointer
const HOLD_MS = 350; // a finger still this long decodes under it
const TOUCH_SLOP_PX = 8; // a finger that moves farther before that is swiping the page
const SPEAK_EVERY_MS = 1000; // the live region's pace
const CLASS_NAME_MIN = 10; // a class with fewer points in sight gets no name on the plane
const MARGIN = { left: 46, right: 8, top: 8, bottom: 44 }; // room for the ticks, in CSS pixels
const SIDE_PX = 160; // the decoded digit and the sliders beside the plot
const ROW_MIN_PX = 400; // a narrower plane puts the side panel under it
const ROW_SHARE = 0.8; // nor does the row keep the panel beside a plane this much smaller

function registry(key = REGISTRY_KEY) {
  if (!globalThis[key]) globalThis[key] = new Map();
  return globalThis[key];
}


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
