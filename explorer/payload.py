"""The bytes the browser's latent view draws and decodes with, sent once per model.

Three payloads: b"VAEX" the decoder, codes and labels; b"VAES" each test digit's score;
b"VAEE" the encoder, for the drawing pad. Layout: the magic, a little-endian uint32 header
length, a UTF-8 JSON header padded so that the arrays after it start on a 4-byte boundary,
then the arrays, each padded to 4 bytes. The header names every array with its dtype, offset
(from the end of the header) and length, so JavaScript (explorer/web/payload.js) views them
without copying. Raw bytes, not base64 JSON, and Streamlit's message cache sends an unchanged
payload by reference.

A training snapshot's weights travel as float16, which the browser widens to float32 once, and
so do a finished model's where float16 holds them exactly (the shipped models': 1.99 MB for
the default's view, against 3.7 MB in float32).
Weights travel transposed, (in, out) row-major: the browser's decoder then walks each row of
an active input contiguously and skips inputs that a ReLU zeroed.
"""

from __future__ import annotations

import colorsys
import json
import struct
from collections.abc import Sequence

import numpy as np

from vae_core.datasets import MNIST_CLASSES

MAGIC = b"VAEX"
SCORES_MAGIC = b"VAES"
ENCODER_MAGIC = b"VAEE"
# Plotly's (and D3's) category10: ten colours told apart easily.
CLASS_COLOURS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
DRAW_ORDER_SEED = 0  # the points are drawn in one fixed shuffled order, so no class hides another

_DTYPES = {"float32": np.float32, "float16": np.float16, "uint8": np.uint8, "uint32": np.uint32}


def _pack(magic: bytes, header: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """The layout above: `header` gains each array's place."""
    header = {**header, "arrays": {}}
    blobs = []
    offset = 0
    for key, array in arrays.items():
        data = np.ascontiguousarray(array).tobytes()
        header["arrays"][key] = {"dtype": str(array.dtype), "offset": offset, "length": array.size}
        blobs.append(data + b"\0" * (-len(data) % 4))
        offset += len(blobs[-1])
    text = json.dumps(header).encode()
    text += b" " * (-(8 + len(text)) % 4)  # the arrays start on a 4-byte boundary
    return magic + struct.pack("<I", len(text)) + text + b"".join(blobs)


def _layers(
    layers: list[tuple[np.ndarray, np.ndarray]], dtype=np.float32
) -> tuple[list[dict], dict]:
    """An MLP's (weight (out, in), bias) layers as arrays, weights transposed, and their spec."""
    arrays: dict[str, np.ndarray] = {}
    spec = []
    for k, (w, b) in enumerate(layers):
        arrays[f"w{k}"] = np.ascontiguousarray(np.asarray(w, dtype).T)  # (in, out)
        arrays[f"b{k}"] = np.asarray(b, dtype)
        spec.append({"in": int(w.shape[1]), "out": int(w.shape[0]), "w": f"w{k}", "b": f"b{k}"})
    return spec, arrays


def class_colours(count: int) -> list[str]:
    """One colour per class: category10 up to ten classes; beyond, hues spread round the
    circle, neighbours alternating in lightness and saturation so that adjacent hues differ."""
    if count <= len(CLASS_COLOURS):
        return CLASS_COLOURS[:count]
    colours = []
    for k in range(count):
        light, sat = (0.42, 0.75) if k % 2 == 0 else (0.62, 0.6)
        r, g, b = colorsys.hls_to_rgb(k / count, light, sat)
        colours.append(f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return colours


# Tableau's "colorblind 10" (matplotlib's style `tableau-colorblind10`): blues and oranges in
# lightnesses apart, told apart with any colour vision; the class labels drawn on the plane
# name each cluster besides.
SAFE_COLOURS = [
    "#006ba4",
    "#ff800e",
    "#ababab",
    "#595959",
    "#5f9ed1",
    "#c85200",
    "#898989",
    "#a2c8ec",
    "#ffbc79",
    "#cfcfcf",
]
PALETTES = ("default", "safe")  # the link's `palette`, st.session_state["palette"]


def palette_colours(palette: str, count: int) -> list[str]:
    """The class colours of `palette` (one of PALETTES) for `count` classes: the page's
    pictures and the latent view draw classes in these. More than ten classes have no
    colour-blind-safe set of their own: they keep class_colours."""
    if palette == "safe" and count <= len(SAFE_COLOURS):
        return SAFE_COLOURS[:count]
    return class_colours(count)


def pack(
    name: str,
    layers: list[tuple[np.ndarray, np.ndarray]],
    mu: np.ndarray,
    labels: np.ndarray,
    window: tuple[float, float],
    classes: Sequence[str] = MNIST_CLASSES,
    noun: str = "digit",
    snapshot: tuple[int, int] | None = None,
) -> bytes:
    """The decoder's (weight (out, in), bias) layers, the codes (N, 2) and labels (N,) as bytes,
    with the classes' names and colours. A conditional decoder's first layer reads
    [z, one-hot class]: the browser gives it the class chosen. A training snapshot, (epoch,
    epochs), sends its weights as float16 (half the bytes, sent again every refresh) and is
    marked as such in the browser; so does a model whose weights float16 holds exactly (the
    shipped ones: training.pack), at no cost in accuracy."""
    exact = all(
        np.array_equal(np.asarray(a, np.float16).astype(np.float32), a)
        for layer in layers
        for a in layer
    )
    spec, arrays = _layers(layers, np.float16 if snapshot is not None or exact else np.float32)
    mu = np.asarray(mu, np.float32)
    arrays["x"] = mu[:, 0]
    arrays["y"] = mu[:, 1]
    arrays["labels"] = np.asarray(labels, np.uint8)
    order = np.random.default_rng(DRAW_ORDER_SEED).permutation(len(mu))
    arrays["order"] = order.astype(np.uint32)
    header = {
        "model_id": name,
        "window": [float(window[0]), float(window[1])],
        "colours": class_colours(len(classes)),
        "classes": list(classes),
        "noun": noun,
        "layers": spec,
        "count": int(len(mu)),
    }
    if snapshot is not None:
        header["snapshot"] = {"epoch": int(snapshot[0]), "epochs": int(snapshot[1])}
    return _pack(MAGIC, header, arrays)


def pack_scores(name: str, scores: np.ndarray, low: float, high: float) -> bytes:
    """Each test digit's score (N,) for the scatter's continuous colouring, under its own
    magic; `low` and `high` are the colour scale's ends."""
    header = {"model_id": name, "low": float(low), "high": float(high)}
    return _pack(SCORES_MAGIC, header, {"scores": np.asarray(scores, np.float32)})


def pack_encoder(name: str, layers: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """The encoder's layers (vae_core.inference.encoder_layers), for the drawing pad."""
    spec, arrays = _layers(layers)
    return _pack(ENCODER_MAGIC, {"model_id": name, "layers": spec}, arrays)


def unpack(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays): what the browser reads, for tests and tools."""
    if data[:4] not in (MAGIC, SCORES_MAGIC, ENCODER_MAGIC):
        raise ValueError(
            "not a latent-view payload: it starts with none of b'VAEX', b'VAES', b'VAEE'"
        )
    (length,) = struct.unpack("<I", data[4:8])
    header = json.loads(data[8 : 8 + length])
    body = 8 + length
    arrays = {
        key: np.frombuffer(
            data, dtype=_DTYPES[e["dtype"]], count=e["length"], offset=body + e["offset"]
        ).copy()
        for key, e in header["arrays"].items()
    }
    return header, arrays
