"""The latent pad: a Streamlit v2 custom component that decodes in the browser.

Python sends the decoder's weights once per model (the payload is identical across reruns, so
Streamlit's message cache sends it by reference after the first time); the JavaScript decodes
the point under the pointer on every frame and sends (z1, z2) back on release.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

import numpy as np

from .figures import DIGIT_COLOURS

HERE = Path(__file__).resolve().parent
PAD_PX = 300  # resolution of the square map; CSS scales it to the column
DIGIT_PX = 140  # resolution of the decoded digit beside it: 5 canvas pixels per digit pixel

HTML = f"""
<div class="pad">
  <div class="stack">
    <canvas class="map" width="{PAD_PX}" height="{PAD_PX}" aria-label="latent plane"></canvas>
    <canvas class="cursor" width="{PAD_PX}" height="{PAD_PX}"></canvas>
  </div>
  <div class="side">
    <canvas class="digit" width="{DIGIT_PX}" height="{DIGIT_PX}" aria-label="decoded digit"></canvas>
    <div class="readout"></div>
    <div class="hint">Move over the plane: the digit is decoded here, in your browser.
      Click to send the point to the sliders.</div>
  </div>
</div>
"""

CSS = """
.pad { display: flex; gap: 10px; align-items: flex-start; }
.stack { position: relative; flex: 0 0 64%; aspect-ratio: 1; border: 1px solid rgba(128,128,128,0.5);
         touch-action: none; }
.stack canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
canvas.map { cursor: crosshair; }
canvas.cursor { pointer-events: none; }
.side { display: flex; flex-direction: column; gap: 6px; flex: 1 1 auto; min-width: 0; }
canvas.digit { width: 100%; aspect-ratio: 1; image-rendering: pixelated;
               border: 1px solid rgba(128,128,128,0.5); background: #000; }
.readout { font-family: monospace; font-size: 0.8rem; color: var(--st-text-color, inherit); }
.hint { font-size: 0.75rem; opacity: 0.7; color: var(--st-text-color, inherit); }
"""


@cache
def js_source() -> str:
    return (HERE / "latent_pad.js").read_text()


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.float32).tobytes()).decode()


def payload(
    model_id: str,
    layers: list[tuple[np.ndarray, np.ndarray]],
    mu: np.ndarray,
    labels: np.ndarray,
    window: tuple[float, float],
) -> dict:
    """Everything the pad draws and decodes with, as JSON-ready values."""
    return {
        "model_id": model_id,
        "layers": [
            {"in": int(w.shape[1]), "out": int(w.shape[0]), "w": _b64(w), "b": _b64(b)}
            for w, b in layers
        ],
        "points_x": _b64(mu[:, 0]),
        "points_y": _b64(mu[:, 1]),
        "labels": base64.b64encode(np.ascontiguousarray(labels, dtype=np.uint8).tobytes()).decode(),
        "range": [float(window[0]), float(window[1])],
        "colours": DIGIT_COLOURS,  # the scatter's, so a digit has one colour on the page
        "z": [0.0, 0.0],
    }
