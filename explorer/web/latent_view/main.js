// The latent view: the test digits' codes on the latent plane, the decoded digit and the z
// sliders, drawn and decoded in the browser. Hover, slider drags and zoom never talk to the
// server; a click, a released slider or a burst of key presses sends one settled value.
//
// The same module serves two mounts. Given bytes (explorer/payload.py), it parses the model
// once and files it in a registry shared by the page; given a small JSON object (as UTF-8
// bytes), it draws the view for the model that object names. The heavy bytes then sit outside the view's fragment
// and cross the wire once per model, while the view reruns with a few hundred bytes. Its parts
// are the files beside this one, joined into one ES module in the order explorer/components.py
// lists them.
//
// The component's entry: a mount given bytes registers a model; one given JSON draws the
// view for the model it names, once that model has arrived.

function attachModel(view) {
  const model = registry().get(view.data.model_id);
  if (!model) return false;
  if (view.model !== model) {
    const old = view.model;
    const sameWindow = old && old.window.join() === model.window.join();
    // A training's next snapshot, or its finished model, keeps a zoom the user chose.
    const successor = old && old.id.split("@")[0] === model.id.split("@")[0];
    const zoomed = old && view.range && view.range.join() !== [...old.window, ...old.window].join();
    const kept = !old && !view.data.sync ? globalThis[KEPT_KEY] : null;
    view.model = model;
    view.inset = null;
    const [lo, hi] = model.window;
    if (kept && kept.model === model.id) {
      view.range = kept.range.slice();
      view.hidden = new Set(kept.hidden);
    } else if (!view.range || (!sameWindow && !(successor && zoomed))) {
      view.range = [lo, hi, lo, hi];
    }
    for (const slider of view.el.sliders) {
      slider.min = String(lo);
      slider.max = String(hi);
    }
    view.el.lv.dataset.modelId = model.id;
    view.el.waiting.style.display = "none";
  }
  // The palette the server asked for (the colour-blind-safe one) or the model's own.
  const colours = classColours(view);
  if (view.colours !== colours.join()) {
    view.colours = colours.join();
    view.rgbColours = colours.map(hexToRgb);
    view.el.lv.dataset.palette = colours === model.colours ? "default" : "safe";
    view.el.palette.setAttribute("aria-pressed", String(colours !== model.colours));
  }
  // The legend, and a snapshot's mark on the plane itself (so nobody takes it for the
  // finished model), made anew for a new model, new words or new colours.
  const named = `${model.id}\n${view.wordsKey}\n${view.colours}`;
  if (view.named !== named) {
    nameModel(view);
    view.named = named;
  }
  return true;
}

// The views' words (explorer/words.py) as the words mount last sent them; new ones (another
// language) redraw the view's text, and its zoom, z and selection stay.
function takeWords(view) {
  const words = globalThis[WORDS_KEY];
  if (!words || view.words === words) return; // none yet: the words mount's event brings them
  view.words = words;
  view.wordsKey = JSON.stringify(words);
  showWords(view);
}

// A new value from the server. z it sent of its own accord (a link, "move here", a model
// switch that clamps z) moves the view; an echo of what this view committed does not, so a
// confirmation arriving mid-drag cannot pull the slider back.
function receive(view, data) {
  view.data = data;
  takeWords(view);
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
  if (data && data.words && !data.model_id) {
    // The words mount: sent on full reruns only (a language switch), read by every view.
    globalThis[WORDS_KEY] = data.words;
    window.dispatchEvent(new CustomEvent(WORDS_EVENT));
    return undefined;
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
  const onWords = () => {
    takeWords(view);
    if (view.model && attachModel(view) && layout(view)) render(view, { sliders: false });
  };
  window.addEventListener(WORDS_EVENT, onWords);
  return () => {
    if (view.model && view.range && !view.data.sync) {
      globalThis[KEPT_KEY] = { model: view.model.id, range: view.range.slice(), hidden: [...view.hidden] };
    }
    window.removeEventListener(WORDS_EVENT, onWords);
    window.removeEventListener(SCORES_EVENT, onScores);
    window.removeEventListener(SYNC_EVENT, onSync);
    observer.disconnect();
    window.removeEventListener("resize", onResize);
    window.removeEventListener(DRAWING_EVENT, onDrawing);
    window.removeEventListener(MODEL_EVENT, onModel);
  };
}
