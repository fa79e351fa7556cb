// The view's elements and their layout: a square plane sized to the window, the digit and
// the sliders beside it. Their words come with the data (explorer/words.py): showWords.


const HTML = `
<div class="lv" data-draws="0" data-commits="0" data-layout="row">
  <div class="main">
    <div class="bar">
      <div class="colour-by" role="group">
        <span class="legend-title"></span>
        <button type="button" data-colour="digit" aria-pressed="true"></button>
        <button type="button" data-colour="elbo" aria-pressed="false">−ELBO</button>
      </div>
      <button type="button" class="palette" aria-pressed="false"></button>
      <div class="colour-bar" hidden><span class="low"></span><canvas width="120" height="10"></canvas><span class="high"></span><span class="unit">−ELBO, nats</span></div>
      <div class="tools">
        <button type="button" data-act="in">+</button>
        <button type="button" data-act="out">−</button>
        <button type="button" data-act="reset"></button>
      </div>
      <div class="legend" role="group"></div>
    </div>
    <div class="plot" tabindex="0" role="application">
      <canvas class="base"></canvas>
      <canvas class="marks"></canvas>
      <div class="waiting"></div>
      <div class="training" hidden></div>
    </div>
    <div class="live" aria-live="polite"></div>
  </div>
  <div class="side">
    <div class="st-key-decoded decoded">
      <canvas class="digit" width="28" height="28" role="img"></canvas>
      <div class="readout"></div>
      <div class="source"></div>
    </div>
    <label class="st-key-z1 slider"><span>z1</span><input type="range" step="0.01"><output></output></label>
    <label class="st-key-z2 slider"><span>z2</span><input type="range" step="0.01"><output></output></label>
    <div class="tip"></div>
    <div class="hint"></div>
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
    palette: q("button.palette"),
    tools: q(".tools"),
    plot: q(".plot"),
    base: q("canvas.base"),
    marks: q("canvas.marks"),
    waiting: q(".waiting"),
    live: q(".live"),
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
    insetPlace: null, // the inset's corner, and what it was placed for
    hover: -1, // the test digit under the pointer, or -1
    keyed: false, // the arrow keys moved the point, not yet committed
    said: { at: 0, timer: 0, text: "" }, // the live region's last words and when they were said
    send: null, // the current mount's Streamlit callbacks
    words: {}, // the words of explorer/words.py, as the data last sent them
    wordsKey: null,
    named: null, // the model and words the legend and the marks on the plane were made for
  };
  wire(view);
  return view;
}

// The words that need no model: shown as soon as the data bring them, again on a new language.
function showWords(view) {
  const { el, words: w } = view;
  el.colourBy.setAttribute("aria-label", w.colour_by);
  el.colourBy.querySelector(".legend-title").textContent = w.colour;
  el.colourBy.querySelector('[data-colour="digit"]').textContent = w.class_word;
  el.colourBy.querySelector('[data-colour="elbo"]').title = w.by_elbo_title;
  el.legend.setAttribute("aria-label", w.classes_shown);
  el.palette.textContent = w.palette;
  el.palette.title = w.palette_title;
  const tool = (act) => el.tools.querySelector(`[data-act="${act}"]`);
  // "+" and "−" are named by their titles' words; "reset" by its own (a name that differs
  // from a button's visible word fails speech input, WCAG 2.5.3).
  for (const [act, name] of [["in", w.zoom_in], ["out", w.zoom_out]]) {
    tool(act).title = name;
    tool(act).setAttribute("aria-label", name);
  }
  tool("reset").title = w.reset_title;
  el.tools.setAttribute("aria-label", w.zoom_tools);
  tool("reset").textContent = w.reset;
  el.plot.setAttribute("aria-label", w.plane);
  el.plot.setAttribute("aria-roledescription", w.plane_role);
  el.waiting.textContent = w.loading;
  el.hint.textContent = w.hint;
}

// Row (the side panel beside the plane, so the digit decoded under the pointer stays in sight)
// while that leaves the plane ROW_MIN_PX and most of the side it would have above the panel;
// stacked (the side panel under it, the plane the view's whole width) otherwise: phones,
// portrait tablets, and projectors beside an open sidebar. The plane's side, in CSS px, is the
// width it gets, or less when the window's height cannot show it whole (never under 260).
export function planeLayout(width, room, side = SIDE_PX) {
  const fit = (across) => Math.floor(Math.max(Math.min(260, across), Math.min(across, Math.max(room, 420))));
  const row = fit(width - side - 14);
  const stacked = fit(width);
  return row >= ROW_MIN_PX && row >= ROW_SHARE * stacked
    ? { layout: "row", size: row }
    : { layout: "stacked", size: stacked };
}

function layout(view) {
  const { el } = view;
  const width = el.lv.clientWidth;
  if (!(width > 0)) return false;
  const scale = scaleOf(el.lv);
  const presenting = scale > 1;
  // Presenting, the plane gets the window's height below the view's own bar (the page scrolls
  // to the view as it starts); else it fits under what stands above it on the page.
  const top = presenting
    ? el.plot.getBoundingClientRect().top - el.lv.getBoundingClientRect().top
    : el.plot.getBoundingClientRect().top + window.scrollY;
  const room = window.innerHeight - top - 18;
  const { layout: shape, size } = planeLayout(width, room, SIDE_PX * scale);
  if (presenting && !view.presenting) el.lv.scrollIntoView({ block: "start" });
  view.presenting = presenting;
  if (el.lv.dataset.layout !== shape) el.lv.dataset.layout = shape;
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

// The presentation's text scale (--lv-scale, set on an ancestor by the page), 1 by default.
function scaleOf(element) {
  const v = parseFloat(getComputedStyle(element).getPropertyValue("--lv-scale"));
  return v > 0 ? v : 1;
}
