"""Your own images: from an upload to the first explorable epoch and to the finished model.

    python -m benchmarks.own_images [--pictures 1000 10000] [--epochs 25] [--width 256]
                                    [--out FILE]

For each size, a zip of that many pictures of five drawn shapes (dark ink on light paper, of
random sizes and places, a quarter JPEG: what a class's phone photos of drawings are like) is
read and prepared as the page does (vae_core.uploads), kept, and a VAE of the quick recipe
trained on it; the times are from the zip's bytes in memory (what Streamlit hands the page)
to the prepared upload, to the first epoch's end (when the page shows the model, explorable,
issue 15), and to the finished model. In one process: the page adds its worker's start.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.harness import report
from training import TrainingCallbacks, TrainingRequest, get_or_train
from training.recipes import RECIPES
from vae_core.uploads import UploadLimits, read_upload, save_upload

SHAPES = ("bar", "circle", "cross", "square", "wedge")


def shape(kind: str, rng: np.random.Generator) -> Image.Image:
    """A dark shape on light paper at a random place and size, as a phone would photograph a
    drawing: preparing it inverts, crops and centres it."""
    side = int(rng.integers(48, 120))
    picture = Image.new("RGB", (side, side), (240, 236, 228))
    draw = ImageDraw.Draw(picture)
    r = side * rng.uniform(0.15, 0.3)
    cx, cy = side * rng.uniform(0.35, 0.65, size=2)
    rx, ry = r * rng.uniform(0.6, 1.0, size=2)  # aspect and slant: no two drawn alike
    tilt = r * rng.uniform(-0.5, 0.5)
    ink, width = (20, 20, 30), max(2, int(side * rng.uniform(0.04, 0.1)))
    if kind == "circle":
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=ink, width=width)
    elif kind == "cross":
        draw.line((cx - rx, cy - ry, cx + rx, cy + ry + tilt), fill=ink, width=width)
        draw.line((cx - rx, cy + ry, cx + rx, cy - ry + tilt), fill=ink, width=width)
    elif kind == "square":
        draw.polygon(
            [(cx - rx, cy - ry), (cx + rx, cy - ry + tilt), (cx + rx, cy + ry), (cx - rx, cy + ry)],
            outline=ink,
            width=width,
        )
    elif kind == "wedge":
        draw.line((cx - rx, cy + ry, cx + tilt, cy - ry, cx + rx, cy + ry), fill=ink, width=width)
    else:
        draw.line((cx - tilt, cy - ry, cx + tilt, cy + ry), fill=ink, width=width)
    return picture


def shapes_zip(per_class: int, classes=SHAPES, seed: int = 0, extras: bool = False) -> bytes:
    """Class folders inside one wrapping folder, as a zip of a folder comes; with `extras`,
    a macOS zip's extra files and a file that is not a picture."""
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for kind in classes:
            for i in range(per_class):
                encoded = io.BytesIO()
                jpeg = i % 4 == 0
                shape(kind, rng).save(encoded, format="JPEG" if jpeg else "PNG")
                name = f"shapes/{kind}/{i}.{'jpg' if jpeg else 'png'}"
                z.writestr(name, encoded.getvalue())
                if extras:
                    z.writestr(f"__MACOSX/shapes/{kind}/._{i}.png", b"\0\5\26\7")
        if extras:
            z.writestr(f"shapes/{classes[0]}/notes.txt", b"not a picture")
    return buffer.getvalue()


def measure(pictures: int, epochs: int, width: int, root: Path) -> dict:
    data = shapes_zip(pictures // len(SHAPES))
    start = time.perf_counter()
    upload = read_upload([("shapes.zip", data)], UploadLimits())
    prepared = time.perf_counter() - start
    directory = save_upload(root / "uploads", upload)
    kept = time.perf_counter() - start
    recipe = RECIPES["quick"]
    request = TrainingRequest(
        recipe.model_config(width), recipe.train_config(epochs, 0), directory, root / "cache"
    )
    first: list[float] = []
    callbacks = TrainingCallbacks(
        on_epoch=lambda _report: first.append(time.perf_counter() - start) if not first else None
    )
    _model, checkpoint = get_or_train(request, callbacks)
    finished = time.perf_counter() - start
    return {
        "pictures": len(upload.train_labels) + len(upload.test_labels),
        "zip_mb": len(data) / 2**20,
        "prepared_s": prepared,
        "kept_s": kept,
        "first_epoch_s": first[0],
        "finished_s": finished,
        "epochs": epochs,
        "test_neg_elbo": checkpoint["metrics"]["test_neg_elbo"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.own_images", description=__doc__.split("\n")[0]
    )
    p.add_argument("--pictures", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--epochs", type=int, default=RECIPES["quick"].epochs)
    p.add_argument("--width", type=int, default=RECIPES["quick"].width)
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    args = p.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.pictures:
            runs.append(measure(n, args.epochs, args.width, Path(tmp) / str(n)))
    import torch

    return report(
        {"runs": runs, "cpu": torch.backends.cpu.get_cpu_capability()},
        ["pictures", "zip", "prepared", "first epoch explorable", "finished", "test −ELBO"],
        [
            [
                f"{r['pictures']:,}",
                f"{r['zip_mb']:.1f} MB",
                f"{r['prepared_s']:.1f} s",
                f"{r['first_epoch_s']:.1f} s",
                f"{r['finished_s']:.1f} s ({r['epochs']} epochs)",
                f"{r['test_neg_elbo']:.1f} nats",
            ]
            for r in runs
        ],
        [
            f"Quick recipe, width {args.width}, on {os.cpu_count()} cores "
            f"({torch.backends.cpu.get_cpu_capability()}); times from the zip's bytes in memory, "
            "in one process (the page adds its worker's start)."
        ],
        title="Your own images: upload to explorable",
        right=(0, 1, 2, 3, 4, 5),
        out=args.out,
    )


if __name__ == "__main__":
    raise SystemExit(main())
