// The class board: one latent plane for the class, drawn in the browser from a small JSON
// (explorer/sections/board.py), over a few of the test images' codes in their classes'
// colours. Every drawing sits at its q(z|x) mean, coloured by its −ELBO
// percentile; every prediction is a cross at the guess joined to the true code. Hovering an
// item, or reaching it with Tab, shows its picture, its name and its figures; clicking it, or
// Enter or Space on it, picks it, and the server offers to hide it. Names arrive as plain text
// and are only ever set as textContent.

const SVG = "http://www.w3.org/2000/svg";
const SIDE = 560; // the plane's pixels a side in the SVG's own units
const PAD = 28; // room for the axes' ticks

function element(name, attributes = {}, parent = null) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

// Blue for a usual drawing, through grey at the median, to red for one more unusual than
// nearly all: two hues, so the ramp reads one way over the classes' faint colours.
const RAMP = [
  [29, 78, 216],
  [163, 163, 163],
  [220, 38, 38],
];

function percentileColour(p) {
  if (p === null || p === undefined) return "rgb(128, 128, 128)";
  const t = Math.min(Math.max(p / 100, 0), 1) * 2;
  const [from, to] = t < 1 ? [RAMP[0], RAMP[1]] : [RAMP[1], RAMP[2]];
  const f = t < 1 ? t : t - 1;
  const mix = from.map((v, i) => Math.round(v + f * (to[i] - v)));
  return `rgb(${mix.join(", ")})`;
}

function createBoard(parent) {
  const root = document.createElement("div");
  root.className = "board";
  // A group, not an image: its items are buttons a keyboard reaches.
  const svg = element("svg", { viewBox: `0 0 ${SIDE + PAD} ${SIDE + PAD}`, role: "group" });
  const tip = document.createElement("div");
  tip.className = "tip";
  tip.hidden = true;
  const picture = document.createElement("img");
  const text = document.createElement("div");
  tip.append(picture, text);
  const empty = document.createElement("div");
  empty.className = "empty";
  root.append(svg, tip, empty);
  parent.appendChild(root);
  return { root, svg, tip, picture, text, empty, picked: null };
}

function scale(data) {
  const [lo, hi] = data.window;
  const k = SIDE / (hi - lo);
  return {
    x: (a) => PAD + (a - lo) * k,
    y: (b) => (hi - b) * k,
  };
}

function drawAxes(board, data, s) {
  const g = element("g", { class: "axes" }, board.svg);
  element("rect", { x: PAD, y: 0, width: SIDE, height: SIDE, class: "frame" }, g);
  const [lo, hi] = data.window;
  const step = hi - lo > 8 ? 2 : 1;
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    element("line", { x1: s.x(v), x2: s.x(v), y1: 0, y2: SIDE, class: "grid" }, g);
    element("line", { x1: PAD, x2: PAD + SIDE, y1: s.y(v), y2: s.y(v), class: "grid" }, g);
    element("text", { x: s.x(v), y: SIDE + 16, class: "tick" }, g).textContent = String(v);
    element("text", { x: PAD - 6, y: s.y(v) + 4, class: "tick y" }, g).textContent = String(v);
  }
  const dots = element("g", { class: "codes" }, g);
  for (const [a, b, label] of data.background) {
    element("circle", { cx: s.x(a), cy: s.y(b), r: 1.6, fill: data.colours[label] }, dots);
  }
}

function describe(item, words) {
  const who = item.name || words.anonymous;
  if (item.kind === "drawing") {
    if (item.percentile === null) return `#${item.id} · ${who}`;
    const share = words.percentile.replace("{p}", item.percentile.toFixed(0));
    return `#${item.id} · ${who} · ${share}`;
  }
  return `#${item.id} · ${who} · ${words.prediction.replace("{step}", String(item.step))}`;
}

function drawItems(board, data, s, onPick) {
  const g = element("g", { class: "items" }, board.svg);
  for (const item of data.items) {
    const [a, b] = item.z;
    const node = element(
      "g",
      {
        class: `item ${item.kind}`,
        "data-item": item.id,
        "data-kind": item.kind,
        tabindex: 0,
        role: "button",
        "aria-label": describe(item, data.words),
        "aria-pressed": String(item.id === board.picked),
      },
      g,
    );
    const [x, y] = [s.x(a), s.y(b)];
    if (item.kind === "prediction" && item.truth) {
      const [t1, t2] = item.truth;
      element("line", { x1: x, y1: y, x2: s.x(t1), y2: s.y(t2), class: "link" }, node);
      element("circle", { cx: s.x(t1), cy: s.y(t2), r: 5, class: "truth" }, node);
      const r = 6; // the guess's cross
      const d = `M${x - r},${y - r}L${x + r},${y + r}M${x - r},${y + r}L${x + r},${y - r}`;
      element("path", { d, class: "guess" }, node);
    } else {
      const fill = percentileColour(item.percentile);
      element("circle", { cx: x, cy: y, r: 7, fill, class: "drawn" }, node);
    }
    element("circle", { cx: x, cy: y, r: 12, class: "hit" }, node);
    if (item.id === board.picked) node.classList.add("picked");
    node.addEventListener("pointerenter", (event) => showTip(board, item, data.words, event));
    node.addEventListener("pointermove", (event) => placeTip(board, event));
    node.addEventListener("pointerleave", () => { board.tip.hidden = true; });
    node.addEventListener("click", () => onPick(item.id));
    node.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      onPick(item.id);
    });
    node.addEventListener("focus", () => showTip(board, item, data.words, centreOf(node)));
    node.addEventListener("blur", () => { board.tip.hidden = true; });
  }
}

function showTip(board, item, words, event) {
  board.picture.hidden = !item.png;
  if (item.png) board.picture.src = `data:image/png;base64,${item.png}`;
  board.text.textContent = describe(item, words);
  board.picture.alt = board.text.textContent;
  board.tip.dataset.item = String(item.id);
  board.tip.hidden = false;
  placeTip(board, event);
}

// Where a focused item's tip goes: as if the pointer were at its centre.
function centreOf(node) {
  const box = node.getBoundingClientRect();
  return { clientX: box.left + box.width / 2, clientY: box.top + box.height / 2 };
}

function placeTip(board, event) {
  const box = board.root.getBoundingClientRect();
  board.tip.style.left = `${event.clientX - box.left + 14}px`;
  board.tip.style.top = `${event.clientY - box.top + 14}px`;
}

export default function (component) {
  const { parentElement, setStateValue } = component;
  let { data } = component;
  if (!parentElement) return undefined;
  if (data instanceof ArrayBuffer) data = new Uint8Array(data);
  if (!(data instanceof Uint8Array)) return undefined;
  const text = new TextDecoder().decode(data);
  let board = parentElement.__board;
  if (!board || !parentElement.contains(board.root)) {
    board = parentElement.__board = createBoard(parentElement);
  } else if (text === board.source) {
    return undefined; // the teacher's page polls each second: the same board stays, hover too
  }
  board.source = text; // the JSON last drawn
  data = JSON.parse(text);
  board.picked = data.picked;
  board.svg.replaceChildren();
  board.tip.hidden = true;
  const s = scale(data);
  drawAxes(board, data, s);
  drawItems(board, data, s, (id) => setStateValue("picked", id));
  const named = data.words.plane.replace("{count}", String(data.items.length));
  board.svg.setAttribute("aria-label", named);
  board.root.dataset.items = String(data.items.length);
  board.root.dataset.version = String(data.version);
  board.empty.textContent = data.items.length ? "" : data.words.empty;
  board.empty.hidden = data.items.length > 0;
  return undefined;
}
