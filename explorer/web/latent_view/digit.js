// Decoding: the digit at z, drawn from the model's own weights, and the sliders that show z.

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
  const w = view.words;
  el.source.textContent = view.previewing
    ? w.source_pointer
    : view.keyed && view.pendingTimer
      ? w.source_keys
      : view.pendingTimer || view.sliderHeld
        ? w.source_sliders
        : w.source_point;
  const at = { z1: z1.toFixed(2).replace("-", "\u2212"), z2: z2.toFixed(2).replace("-", "\u2212") };
  if (w.decoded_at) el.digit.setAttribute("aria-label", fill(w.decoded_at, at));
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
