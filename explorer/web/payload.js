// What every component module of the page starts with (explorer/*.py prepend this file to
// theirs): reading the payloads of explorer/payload.py, and running their MLPs.

// The drawing pad tells the latent view its q(z|x) as it is drawn: the event, and the latest
// code kept for a view drawn after it.
const DRAWING_EVENT = "vae-drawing";
const DRAWING_KEY = "__vaeDrawing";

// A component's words come from the page (explorer/words.py), translated: `fill` puts the
// fields only the browser knows into a template's {names}; a name without a field stays as it is.
export function fill(template, fields = {}) {
  return String(template ?? "").replace(/\{(\w+)\}/g, (whole, name) =>
    name in fields ? String(fields[name]) : whole,
  );
}

const ARRAY_TYPES = { float32: Float32Array, uint8: Uint8Array, uint32: Uint32Array };

// A training snapshot's weights come as IEEE half floats: widened once to float32, so the
// decoder runs as it does for any model.
function widenHalf(bits) {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}
const MAGICS = ["VAEX", "VAES", "VAEE"]; // the decoder and codes, the scores, the encoder

function magicOf(bytes) {
  return bytes.length > 8 ? String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) : "";
}

export function parsePayload(bytes) {
  if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
  if (!MAGICS.includes(magicOf(bytes))) throw new Error("not a latent-view payload");
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  // Typed arrays need aligned offsets; protobuf may hand over a view at any offset.
  let body = bytes.subarray(8 + length);
  if (body.byteOffset % 4) body = body.slice();
  const arrays = {};
  for (const [name, e] of Object.entries(header.arrays)) {
    if (e.dtype === "float16") {
      // Copied first: a 2-byte view needs an even offset, which the 4-byte layout gives
      // only relative to the body.
      const half = body.slice(e.offset, e.offset + 2 * e.length);
      arrays[name] = widenHalf(new Uint16Array(half.buffer, half.byteOffset, e.length));
    } else {
      arrays[name] = new ARRAY_TYPES[e.dtype](body.buffer, body.byteOffset + e.offset, e.length);
    }
  }
  const layers = (header.layers || []).map((l) => ({
    nIn: l.in,
    nOut: l.out,
    w: arrays[l.w],
    b: arrays[l.b],
  }));
  return { header, arrays, layers };
}

// An MLP: Linear, ReLU, ..., Linear, then `last` ("sigmoid" or "none") on the output. Weights
// are (in, out) row-major, so an input's row is contiguous and inputs a ReLU zeroed (about
// half) are skipped. Buffers are allocated once: a run allocates nothing, and returns a buffer
// that the next run overwrites.
export function makeMlp(layers, last) {
  const buffers = layers.map((l) => new Float64Array(l.nOut));
  return function run(input) {
    for (let k = 0; k < layers.length; k++) {
      const { nIn, nOut, w, b } = layers[k];
      const out = buffers[k];
      for (let o = 0; o < nOut; o++) out[o] = b[o];
      for (let i = 0; i < nIn; i++) {
        const v = input[i];
        if (v === 0) continue;
        const row = i * nOut;
        for (let o = 0; o < nOut; o++) out[o] += v * w[row + o];
      }
      if (k < layers.length - 1) {
        for (let o = 0; o < nOut; o++) if (out[o] < 0) out[o] = 0;
      } else if (last === "sigmoid") {
        for (let o = 0; o < nOut; o++) out[o] = 1 / (1 + Math.exp(-out[o]));
      }
      input = out;
    }
    return input;
  };
}

// The decoder: z -> pixel probabilities (784). A conditional decoder's first layer also reads
// the one-hot class after z (vae_core.inference.decoder_layers): `cls` picks it.
export function makeDecoder(layers) {
  const run = makeMlp(layers, "sigmoid");
  const input = new Float64Array(layers[0].nIn);
  const classes = layers[0].nIn - 2;
  return function decode(z1, z2, cls = 0) {
    input.fill(0);
    input[0] = z1;
    input[1] = z2;
    if (classes > 0) input[2 + Math.min(Math.max(cls | 0, 0), classes - 1)] = 1;
    return run(input);
  };
}

// The encoder: pixels in [0, 1] (784) -> q(z|x)'s mean and standard deviation. Its last layer
// stacks the mean's rows over the log-variance's (vae_core.inference.encoder_layers).
export function makeEncoder(layers) {
  const run = makeMlp(layers, "none");
  const d = layers[layers.length - 1].nOut / 2;
  return function encode(pixels) {
    const out = run(pixels);
    const mu = Array.from(out.subarray(0, d));
    const sigma = Array.from(out.subarray(d, 2 * d), (v) => Math.exp(0.5 * v));
    return { mu, sigma };
  };
}
