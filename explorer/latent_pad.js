// The latent pad: a 2-D map of the latent plane where the digit under the pointer is decoded
// and drawn in the browser, every pointer move, by the model's own decoder weights. Releasing
// the pointer sends (z1, z2) to Python. No server round trip happens while the pointer moves.

// Decoder weights, parsed once per model: re-mounts with the same model reuse them.
const modelCache = new Map();

function bytes(base64) {
  const text = atob(base64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function floats(base64) {
  return new Float32Array(bytes(base64).buffer);
}

export function parseLayers(spec) {
  // spec: [{in, out, w: base64 float32 (out x in, row-major), b: base64 float32 (out)}]
  return spec.map((l) => ({ nIn: l.in, nOut: l.out, w: floats(l.w), b: floats(l.b) }));
}

// The MLP decoder: Linear, ReLU, ..., Linear, then a sigmoid for pixel probabilities.
// Buffers are allocated once per model, so a decode allocates nothing.
export function makeDecoder(layers) {
  const buffers = layers.map((l) => new Float32Array(l.nOut));
  return function decode(z1, z2) {
    let input = Float32Array.of(z1, z2);
    for (let k = 0; k < layers.length; k++) {
      const { nIn, nOut, w, b } = layers[k];
      const out = buffers[k];
      const last = k === layers.length - 1;
      for (let o = 0; o < nOut; o++) {
        let s = b[o];
        const row = o * nIn;
        for (let i = 0; i < nIn; i++) s += w[row + i] * input[i];
        out[o] = last ? 1 / (1 + Math.exp(-s)) : s > 0 ? s : 0;
      }
      input = out;
    }
    return input;
  };
}

function drawBackground(canvas, data) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const [lo, hi] = data.range;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  const xs = floats(data.points_x);
  const ys = floats(data.points_y);
  const labels = bytes(data.labels);
  ctx.globalAlpha = 0.55;
  for (let i = 0; i < xs.length; i++) {
    ctx.fillStyle = data.colours[labels[i]];
    const px = ((xs[i] - lo) / (hi - lo)) * width;
    const py = ((hi - ys[i]) / (hi - lo)) * height;
    ctx.fillRect(px - 1, py - 1, 2, 2);
  }
  ctx.globalAlpha = 1;
  ctx.strokeStyle = "rgba(0,0,0,0.25)";
  ctx.beginPath();
  const zero = (-lo / (hi - lo)) * width;
  ctx.moveTo(zero, 0);
  ctx.lineTo(zero, height);
  ctx.moveTo(0, height - zero);
  ctx.lineTo(width, height - zero);
  ctx.stroke();
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".pad");
  const map = parentElement.querySelector("canvas.map");
  const cursor = parentElement.querySelector("canvas.cursor");
  const digit = parentElement.querySelector("canvas.digit");
  const readout = parentElement.querySelector(".readout");
  if (!data || !root) return;

  let model = modelCache.get(data.model_id);
  if (!model) {
    model = { decode: makeDecoder(parseLayers(data.layers)) };
    modelCache.clear();
    modelCache.set(data.model_id, model);
  }
  if (root.dataset.modelId !== data.model_id) {
    drawBackground(map, data);
    root.dataset.modelId = data.model_id;
  }

  const [lo, hi] = data.range;
  const dctx = digit.getContext("2d");
  const image = dctx.createImageData(28, 28);
  const small = document.createElement("canvas");
  small.width = small.height = 28;
  const sctx = small.getContext("2d");
  dctx.imageSmoothingEnabled = false;
  const cctx = cursor.getContext("2d");

  function toLatent(event) {
    const rect = map.getBoundingClientRect();
    const fx = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    const fy = Math.min(1, Math.max(0, (event.clientY - rect.top) / rect.height));
    return [lo + fx * (hi - lo), hi - fy * (hi - lo)];
  }

  function drawCursor(z1, z2) {
    const { width, height } = cursor;
    cctx.clearRect(0, 0, width, height);
    const px = ((z1 - lo) / (hi - lo)) * width;
    const py = ((hi - z2) / (hi - lo)) * height;
    cctx.strokeStyle = "#000";
    cctx.lineWidth = 2;
    cctx.beginPath();
    cctx.arc(px, py, 6, 0, 2 * Math.PI);
    cctx.moveTo(px - 10, py);
    cctx.lineTo(px + 10, py);
    cctx.moveTo(px, py - 10);
    cctx.lineTo(px, py + 10);
    cctx.stroke();
  }

  // Decode z and draw it; the time it took is kept on the element for tests and benchmarks.
  function show(z1, z2) {
    const t0 = performance.now();
    const pixels = model.decode(z1, z2);
    for (let i = 0; i < 784; i++) {
      const v = Math.round(pixels[i] * 255);
      image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
      image.data[4 * i + 3] = 255;
    }
    sctx.putImageData(image, 0, 0);
    dctx.drawImage(small, 0, 0, digit.width, digit.height);
    const ms = performance.now() - t0;
    drawCursor(z1, z2);
    readout.textContent = `z = (${z1.toFixed(2)}, ${z2.toFixed(2)})`;
    root.dataset.z = `${z1},${z2}`;
    root.dataset.decodeMs = ms.toFixed(3);
    root.dataset.draws = String(Number(root.dataset.draws || 0) + 1);
  }

  let frame = 0;
  let pending = null;
  function onMove(event) {
    pending = toLatent(event);
    if (!frame) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        if (pending) show(pending[0], pending[1]);
      });
    }
  }
  function onRelease(event) {
    const [z1, z2] = toLatent(event);
    show(z1, z2);
    setStateValue("z", [Number(z1.toFixed(3)), Number(z2.toFixed(3))]);
  }

  if (!root.dataset.shown || root.dataset.shownFor !== data.model_id) {
    show(data.z[0], data.z[1]);
    root.dataset.shown = "1";
    root.dataset.shownFor = data.model_id;
  }
  map.addEventListener("pointermove", onMove);
  map.addEventListener("pointerup", onRelease);
  return () => {
    map.removeEventListener("pointermove", onMove);
    map.removeEventListener("pointerup", onRelease);
    if (frame) cancelAnimationFrame(frame);
  };
}
