// The drawing pad: draw an image with a mouse, pen or finger; it is prepared as MNIST's digits
// were and encoded in the browser as it is drawn, so its q(z|x) moves on the latent plane with
// every stroke (the latent view listens for DRAWING_EVENT). On each release the prepared
// 28x28 goes to the server, which answers with what the model makes of it.
//
// The same module serves two mounts. Given the encoder's payload (bytes, "VAEE"), it files the
// encoder by model id in a registry shared by the page; given a small JSON object (as UTF-8
// bytes: the model's id, the class a conditional model reads the drawing with, and the pad's
// words in the page's language, from explorer/words.py), it is the pad, which encodes with
// that model's encoder once it is filed. A new class or language then costs a few bytes, and
// the weights cross the wire once per model.
//
// explorer/web/payload.js comes first in this module: parsePayload, magicOf and makeEncoder are its.

const PAD = 280; // the pad's own pixels a side, whatever its size on screen
const BOX = 20; // MNIST's digits fit a 20x20 box...
const SIDE = 28; // ...centred by their centre of mass in 28x28
const INK_FLOOR = 8; // fainter pad pixels are not ink, when finding the drawing's box
const PIXELS = SIDE * SIDE;
const ENCODERS_KEY = "__vaeDrawingEncoders";
const STROKES_KEY = "__vaeDrawingStrokes"; // the strokes of the last pad, for one made anew
const ENCODER_EVENT = "vae-drawing-encoder"; // an encoder was filed: its model id

// ---------------------------------------------------------------- the encoder

// The pad's encoder: pixels in [0, 1] (784) and a class -> q(z|x)'s mean and standard
// deviation, or null for a class the model does not have. A conditional encoder's first layer
// reads [pixels, one-hot class] (vae_core.inference.encoder_layers): nIn = 784 + classes; a
// plain one reads the pixels alone and ignores the class.
export function makeDrawingEncoder(layers) {
  const encode = makeEncoder(layers);
  const classes = layers[0].nIn - PIXELS;
  const input = new Float64Array(layers[0].nIn);
  return function encodeDrawing(pixels, cls) {
    if (classes > 0 && !(Number.isInteger(cls) && cls >= 0 && cls < classes)) return null;
    input.set(pixels);
    if (classes > 0) {
      input.fill(0, PIXELS);
      input[PIXELS + cls] = 1;
    }
    return encode(input);
  };
}

function encoders() {
  if (!globalThis[ENCODERS_KEY]) globalThis[ENCODERS_KEY] = new Map();
  return globalThis[ENCODERS_KEY];
}

function registerEncoder(bytes) {
  const { header, layers } = parsePayload(bytes);
  const known = encoders();
  if (!known.has(header.model_id)) {
    known.set(header.model_id, makeDrawingEncoder(layers));
    while (known.size > 3) known.delete(known.keys().next().value);
  }
  window.dispatchEvent(new CustomEvent(ENCODER_EVENT, { detail: header.model_id }));
}

// ---------------------------------------------------------------- MNIST's preparation

// For each output cell of an axis resampled from nIn to nOut cells, the input cells it covers
// and by how much: an area average, which anti-aliases as MNIST's normalisation did.
function coverage(nIn, nOut) {
  const cells = [];
  const step = nIn / nOut;
  for (let o = 0; o < nOut; o++) {
    const a = o * step;
    const b = (o + 1) * step;
    const parts = [];
    for (let i = Math.floor(a); i < Math.min(nIn, Math.ceil(b)); i++) {
      parts.push([i, (Math.min(b, i + 1) - Math.max(a, i)) / step]);
    }
    cells.push(parts);
  }
  return cells;
}

// A square image of ink intensities (size x size, 0-255, row-major) as MNIST prepared its
// digits (LeCun et al., "Gradient-based learning applied to document recognition", 1998, and
// the MNIST page): the ink's bounding box scaled to fit 20x20 keeping its aspect ratio,
// anti-aliased, then placed in 28x28 so that its centre of mass is at the centre. Returns
// 784 values in 0-255, or null when there is no ink.
export function prepare(ink, size) {
  let x0 = size;
  let y0 = size;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (ink[y * size + x] > INK_FLOOR) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const scale = BOX / Math.max(w, h);
  const tw = Math.max(1, Math.min(BOX, Math.round(w * scale)));
  const th = Math.max(1, Math.min(BOX, Math.round(h * scale)));
  const across = coverage(w, tw);
  const down = coverage(h, th);
  // Rows first, then columns: each pass a weighted sum of the cells covered.
  const rows = new Float64Array(h * tw);
  for (let y = 0; y < h; y++) {
    const line = (y0 + y) * size + x0;
    for (let o = 0; o < tw; o++) {
      let v = 0;
      for (const [i, f] of across[o]) v += f * ink[line + i];
      rows[y * tw + o] = v;
    }
  }
  const small = new Float64Array(th * tw);
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let o = 0; o < th; o++) {
    for (let x = 0; x < tw; x++) {
      let v = 0;
      for (const [i, f] of down[o]) v += f * rows[i * tw + x];
      small[o * tw + x] = v;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (o + 0.5);
    }
  }
  // Shift by whole pixels, as MNIST did, keeping the box inside the image.
  const left = Math.min(SIDE - tw, Math.max(0, Math.round(SIDE / 2 - mx / mass)));
  const top = Math.min(SIDE - th, Math.max(0, Math.round(SIDE / 2 - my / mass)));
  const out = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      out[(top + y) * SIDE + left + x] = Math.min(255, Math.round(small[y * tw + x]));
    }
  }
  return out;
}

// ---------------------------------------------------------------- the pad

const HTML = `
<div class="pad" data-strokes="0" data-sent="0">
  <canvas class="ink" width="${PAD}" height="${PAD}"></canvas>
  <div class="tools">
    <label> <input class="brush" type="range" min="10" max="40" step="1" value="24"></label>
    <button type="button" data-act="undo"></button>
    <button type="button" data-act="clear"></button>
  </div>
  <div class="seen">
    <canvas class="mnist" width="${SIDE}" height="${SIDE}"></canvas>
    <div class="live"></div>
  </div>
</div>`;

function createPad(parent) {
  const root = document.createElement("div");
  root.innerHTML = HTML;
  parent.appendChild(root);
  const q = (s) => root.querySelector(s);
  const pad = {
    el: { pad: q(".pad"), ink: q("canvas.ink"), mnist: q("canvas.mnist"), live: q(".live"), brush: q(".brush") },
    strokes: [], // each {width, points: [[x, y], ...]} in the pad's own pixels
    current: null,
    modelId: null, // the model whose encoder the pad uses
    cls: null, // the class a conditional model reads the drawing with; null for a plain one
    words: {}, // the pad's words (explorer/words.py), as the data last sent them
    encoder: null, // the model's encodeDrawing, once filed
    pixels: null, // the prepared 28x28 (0-255), or null with no ink
    code: null, // {mu, sigma} of the pixels under the current encoder
    frame: 0,
    send: null,
  };
  wire(pad);
  return pad;
}

function strokePath(ctx, stroke) {
  const [first, ...rest] = stroke.points;
  ctx.lineWidth = stroke.width;
  ctx.beginPath();
  ctx.moveTo(first[0], first[1]);
  // A lone tap is a dot: a zero-length round-capped line.
  for (const [x, y] of rest.length ? rest : [first]) ctx.lineTo(x, y);
  ctx.stroke();
}

// The pad is white ink on black, MNIST's own convention: the encoder reads the red channel.
function paint(pad) {
  const ctx = pad.el.ink.getContext("2d", { willReadFrequently: true });
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, PAD, PAD);
  ctx.strokeStyle = "#fff";
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const stroke of pad.strokes) strokePath(ctx, stroke);
  if (pad.current) strokePath(ctx, pad.current);
  const rgba = ctx.getImageData(0, 0, PAD, PAD).data;
  const ink = new Float64Array(PAD * PAD);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i];
  pad.pixels = prepare(ink, PAD);
  showPrepared(pad);
  encode(pad);
}

function showPrepared(pad) {
  const image = new ImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = pad.pixels ? pad.pixels[i] : 0;
    image.data.set([v, v, v, 255], 4 * i);
  }
  pad.el.mnist.getContext("2d").putImageData(image, 0, 0);
}

// The pad's words, on every run: a new language changes them, and keeps the drawing.
function showWords(pad) {
  const { el, words: w } = pad;
  const tools = el.pad.querySelector(".tools");
  tools.querySelector("label").firstChild.textContent = `${w.brush} `;
  const button = (act) => tools.querySelector(`[data-act="${act}"]`);
  button("undo").textContent = w.undo;
  button("undo").title = w.undo_title;
  button("clear").textContent = w.clear;
  button("clear").title = w.clear_title;
  el.mnist.setAttribute("aria-label", w.seen);
  el.ink.setAttribute("aria-label", w.pad);
  for (const canvas of [el.mnist, el.ink]) canvas.setAttribute("role", "img");
}

function encode(pad) {
  pad.code = null;
  if (pad.pixels && pad.encoder) {
    pad.code = pad.encoder(Float64Array.from(pad.pixels, (v) => v / 255), pad.cls);
  }
  const { el, code } = pad;
  el.pad.dataset.strokes = String(pad.strokes.length);
  if (code) {
    const f = (v) => v.toFixed(2);
    el.live.textContent = `μ = (${f(code.mu[0])}, ${f(code.mu[1])}), σ = (${code.sigma[0].toFixed(3)}, ${code.sigma[1].toFixed(3)})`;
    el.pad.dataset.mu = code.mu.join(",");
  } else {
    el.live.textContent = pad.pixels ? pad.words.loading : pad.words.empty;
    delete el.pad.dataset.mu;
  }
  const detail = code && { model_id: pad.modelId, mu: code.mu, sigma: code.sigma };
  globalThis[DRAWING_KEY] = detail;
  window.dispatchEvent(new CustomEvent(DRAWING_EVENT, { detail }));
}

function paintSoon(pad) {
  if (pad.frame) return;
  pad.frame = requestAnimationFrame(() => {
    pad.frame = 0;
    paint(pad);
  });
}

// The prepared pixels to the server, base64: a drawing is settled when a stroke ends.
function sendImage(pad) {
  let text = null;
  if (pad.pixels) text = btoa(String.fromCharCode(...pad.pixels));
  pad.el.pad.dataset.sent = String(Number(pad.el.pad.dataset.sent) + 1);
  if (pad.send) pad.send(text);
}

function wire(pad) {
  const { el } = pad;
  const at = (event) => {
    const rect = el.ink.getBoundingClientRect();
    return [((event.clientX - rect.left) * PAD) / rect.width, ((event.clientY - rect.top) * PAD) / rect.height];
  };
  el.ink.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    el.ink.setPointerCapture(event.pointerId);
    pad.current = { width: Number(el.brush.value), points: [at(event)] };
    paintSoon(pad);
  });
  el.ink.addEventListener("pointermove", (event) => {
    if (!pad.current) return;
    // Coalesced events keep a fast stroke smooth where the browser batches moves.
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of events.length ? events : [event]) pad.current.points.push(at(e));
    paintSoon(pad);
  });
  const end = () => {
    if (!pad.current) return;
    pad.strokes.push(pad.current);
    pad.current = null;
    cancelAnimationFrame(pad.frame);
    pad.frame = 0;
    paint(pad);
    sendImage(pad);
  };
  el.ink.addEventListener("pointerup", end);
  el.ink.addEventListener("pointercancel", end);
  el.pad.querySelector(".tools").addEventListener("click", (event) => {
    const act = event.target.dataset && event.target.dataset.act;
    if (!act || !pad.strokes.length) return;
    if (act === "undo") pad.strokes.pop();
    else pad.strokes = [];
    paint(pad);
    sendImage(pad);
  });
}

// The pad's encoder, if its model's is filed yet; the pad says which model it encodes with
// only then.
function attachEncoder(pad) {
  pad.encoder = encoders().get(pad.modelId) || null;
  if (pad.encoder) pad.el.pad.dataset.modelId = pad.modelId;
  else delete pad.el.pad.dataset.modelId;
  return pad.encoder !== null;
}

export default function (component) {
  const { parentElement, setStateValue } = component;
  let { data } = component;
  if (data instanceof ArrayBuffer) data = new Uint8Array(data);
  if (!parentElement || !(data instanceof Uint8Array)) return undefined;
  if (magicOf(data) === "VAEE") {
    registerEncoder(data);
    return undefined;
  }
  const { model_id: modelId, cls, words, drawn } = JSON.parse(new TextDecoder().decode(data));
  let pad = parentElement.__drawPad;
  if (!pad || !parentElement.contains(pad.el.pad)) {
    pad = parentElement.__drawPad = createPad(parentElement);
    if (drawn && globalThis[STROKES_KEY]) pad.strokes = globalThis[STROKES_KEY];
  }
  pad.send = (text) => setStateValue("image", text);
  // Another model or class: the same drawing, encoded anew.
  Object.assign(pad, { modelId, cls, words: words || {} });
  if (cls === null) delete pad.el.pad.dataset.cls;
  else pad.el.pad.dataset.cls = String(cls);
  showWords(pad);
  attachEncoder(pad);
  const onEncoder = (event) => {
    if (event.detail === pad.modelId && !pad.encoder && attachEncoder(pad)) encode(pad);
  };
  window.addEventListener(ENCODER_EVENT, onEncoder);
  paint(pad); // encodes, and tells the latent view again after the cleanup below took it back
  return () => {
    window.removeEventListener(ENCODER_EVENT, onEncoder);
    globalThis[STROKES_KEY] = pad.strokes;
    globalThis[DRAWING_KEY] = null;
    window.dispatchEvent(new CustomEvent(DRAWING_EVENT, { detail: null }));
  };
}
