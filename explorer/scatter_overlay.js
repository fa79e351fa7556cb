// Draws the current latent point and a clicked digit's posterior (mean, 1 and 2 sigma
// ellipses) over the plotly scatter, in plotly's own coordinates. Kept out of the figure so
// that the figure, and with it the user's zoom and legend clicks, survives slider moves:
// Streamlit re-creates a chart whose figure changes.

const SVG = "http://www.w3.org/2000/svg";

function find(selector) {
  return document.querySelector(selector);
}

function ellipsePath(xa, ya, mu, sigma, k) {
  const points = [];
  for (let i = 0; i <= 72; i++) {
    const t = (i / 72) * 2 * Math.PI;
    const x = xa._offset + xa.d2p(mu[0] + k * sigma[0] * Math.cos(t));
    const y = ya._offset + ya.d2p(mu[1] + k * sigma[1] * Math.sin(t));
    points.push(`${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`);
  }
  return points.join("") + "Z";
}

// Each shape is drawn twice, a wide white halo under a dark stroke: readable in light and dark
// themes and over any digit's colour.
function stroke(svg, name, d, width, dash) {
  for (const [colour, extra] of [["rgba(255,255,255,0.9)", 2.5], ["#111", 0]]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", colour);
    path.setAttribute("stroke-width", String(width + extra));
    if (dash) path.setAttribute("stroke-dasharray", dash);
    path.dataset.name = name;
    svg.appendChild(path);
  }
}

function draw(svg, gd, data) {
  const layout = gd._fullLayout;
  if (!layout || !layout.xaxis || layout.xaxis._offset === undefined) return false;
  const xa = layout.xaxis;
  const ya = layout.yaxis;
  svg.setAttribute("width", String(layout.width));
  svg.setAttribute("height", String(layout.height));
  svg.replaceChildren();
  const clip = document.createElementNS(SVG, "clipPath");
  clip.id = "latent-overlay-clip";
  const rect = document.createElementNS(SVG, "rect");
  rect.setAttribute("x", xa._offset);
  rect.setAttribute("y", ya._offset);
  rect.setAttribute("width", xa._length);
  rect.setAttribute("height", ya._length);
  clip.appendChild(rect);
  svg.appendChild(clip);
  const group = document.createElementNS(SVG, "g");
  group.setAttribute("clip-path", "url(#latent-overlay-clip)");
  svg.appendChild(group);
  if (data.selected) {
    const { mu, sigma } = data.selected;
    stroke(group, "1 sigma", ellipsePath(xa, ya, mu, sigma, 1), 1.5, null);
    stroke(group, "2 sigma", ellipsePath(xa, ya, mu, sigma, 2), 1.5, "3,3");
    const cx = xa._offset + xa.d2p(mu[0]);
    const cy = ya._offset + ya.d2p(mu[1]);
    const ring = `M${cx - 5},${cy}a5,5 0 1,0 10,0a5,5 0 1,0 -10,0`;
    stroke(group, "selected mean", ring, 2, null);
  }
  const px = xa._offset + xa.d2p(data.z[0]);
  const py = ya._offset + ya.d2p(data.z[1]);
  const cross = `M${px - 8},${py - 8}L${px + 8},${py + 8}M${px - 8},${py + 8}L${px + 8},${py - 8}`;
  stroke(group, "current point", cross, 2.5, null);
  svg.dataset.z = `${data.z[0]},${data.z[1]}`;
  svg.dataset.selected = data.selected ? `${data.selected.mu[0]},${data.selected.mu[1]}` : "";
  svg.dataset.pixel = `${px.toFixed(1)},${py.toFixed(1)}`;
  return true;
}

export default function (component) {
  const { data } = component;
  let svg = null;
  let gd = null;
  let stopped = false;
  const redraw = () => {
    if (svg && gd && !stopped) draw(svg, gd, data);
  };

  function attach() {
    if (stopped) return;
    gd = find(data.target);
    if (!gd || !gd._fullLayout || !gd.on) {
      setTimeout(attach, 50);  // the chart is drawn after this element, or is being re-created
      return;
    }
    if (getComputedStyle(gd).position === "static") gd.style.position = "relative";
    svg = gd.querySelector("svg.latent-overlay");
    if (!svg) {
      svg = document.createElementNS(SVG, "svg");
      svg.classList.add("latent-overlay");
      svg.style.cssText = "position:absolute;left:0;top:0;pointer-events:none;z-index:10;";
      gd.appendChild(svg);
    }
    // plotly calls these after every redraw, zoom, pan or resize.
    if (!gd.__latentOverlay) {
      gd.__latentOverlay = { redraw: null };
      gd.on("plotly_afterplot", () => gd.__latentOverlay.redraw && gd.__latentOverlay.redraw());
      gd.on("plotly_relayouting", () => gd.__latentOverlay.redraw && gd.__latentOverlay.redraw());
      gd.on("plotly_relayout", () => gd.__latentOverlay.redraw && gd.__latentOverlay.redraw());
    }
    gd.__latentOverlay.redraw = redraw;
    if (!draw(svg, gd, data)) setTimeout(attach, 50);
  }

  attach();
  // Streamlit may re-create the chart (a new model) without a new overlay value: re-attach.
  const watch = setInterval(() => {
    if (gd && find(data.target) !== gd) attach();
  }, 300);
  return () => {
    stopped = true;
    clearInterval(watch);
  };
}
