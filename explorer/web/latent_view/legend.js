// The legend and the colouring: class chips that hide or isolate a class, the colour bar
// while colouring by -ELBO, and the words the view uses for the model's data.

// The colour switch's state, and the colour bar with its ends while colouring by -ELBO.
function showColouring(view, scores) {
  const { el } = view;
  const asked = (view.data && view.data.colour_by) || "digit";
  for (const button of el.colourBy.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.colour === asked));
  }
  el.lv.dataset.colourBy = scores ? "elbo" : "digit";
  el.lv.classList.toggle("by-score", Boolean(scores));
  el.colourBar.hidden = !scores;
  if (!scores) return;
  const canvas = el.colourBar.querySelector("canvas");
  const ctx = canvas.getContext("2d");
  for (let x = 0; x < canvas.width; x++) {
    ctx.fillStyle = `rgb(${viridis(x / (canvas.width - 1)).join(",")})`;
    ctx.fillRect(x, 0, 1, canvas.height);
  }
  el.colourBar.querySelector(".low").textContent = scores.low.toFixed(0);
  el.colourBar.querySelector(".high").textContent = `${scores.high.toFixed(0)}+`;
}

// The tip over test point i: its row and its class's name, in the words of the data
// (explorer/words.py chose them by the data's noun).
function hoverText(view, i) {
  const model = view.model;
  return fill(view.words.hover, { row: i, name: model.classes[model.labels[i]] });
}

// What the plane says of its model in words: the legend's chips, and a snapshot's mark.
function nameModel(view) {
  buildLegend(view);
  const { model, words } = view;
  const { training } = view.el;
  training.hidden = !model.snapshot;
  training.textContent = model.snapshot ? fill(words.training, model.snapshot) : "";
}

function buildLegend(view) {
  const { el, model } = view;
  el.legend.replaceChildren();
  const title = document.createElement("span");
  title.className = "legend-title";
  title.textContent = view.words.class_word;
  el.legend.appendChild(title);
  classColours(view).forEach((colour, label) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.dataset.label = String(label);
    const name = model.classes[label];
    chip.title = fill(view.words.chip_title, { name });
    const swatch = document.createElement("i");
    swatch.style.background = colour;
    chip.append(swatch, name);
    chip.setAttribute("aria-pressed", String(!view.hidden.has(label)));
    let timer = 0;
    chip.addEventListener("click", () => {
      clearTimeout(timer);
      timer = setTimeout(() => toggle(view, label, false), 220);
    });
    chip.addEventListener("dblclick", () => {
      clearTimeout(timer);
      toggle(view, label, true);
    });
    el.legend.appendChild(chip);
  });
}

function toggle(view, label, alone) {
  const all = view.model.colours.map((_, i) => i);
  if (alone) {
    const isolated = view.hidden.size === all.length - 1 && !view.hidden.has(label);
    view.hidden = new Set(isolated ? [] : all.filter((i) => i !== label));
  } else if (view.hidden.has(label)) {
    view.hidden.delete(label);
  } else {
    view.hidden.add(label);
  }
  for (const chip of view.el.legend.querySelectorAll(".chip")) {
    chip.setAttribute("aria-pressed", String(!view.hidden.has(Number(chip.dataset.label))));
  }
  view.el.lv.dataset.hidden = [...view.hidden].sort().join(",");
  schedule(view, { base: true });
}
