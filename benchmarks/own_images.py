"""Your own images: from an upload to the first explorable epoch and to the finished model.

    python -m benchmarks.own_images [--pictures 1000 10000] [--out FILE]

For each size, a zip of that many pictures of five drawn shapes (dark ink on light paper, of
random sizes and places, a quarter JPEG: what a class's phone photos of drawings are like) is
read and prepared as the page does (vae_core.uploads), kept, and a VAE of the quick recipe
trained on it, through the page in Chromium and, for the work alone, in one process: the
times to the preview, to the first epoch explorable (issue 15) and to the finished model.
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


def in_process(data: bytes, root: Path) -> dict:
    """The zip's bytes to a prepared upload, to the first epoch's end, to the finished model,
    in this process: the work itself, without the page."""
    start = time.perf_counter()
    upload = read_upload([("shapes.zip", data)], UploadLimits())
    prepared = time.perf_counter() - start
    directory = save_upload(root / "uploads", upload)
    recipe = RECIPES["quick"]
    request = TrainingRequest(
        recipe.model_config(recipe.width),
        recipe.train_config(recipe.epochs, 0),
        directory,
        root / "cache",
    )
    first: list[float] = []
    callbacks = TrainingCallbacks(
        on_epoch=lambda _report: first.append(time.perf_counter() - start) if not first else None
    )
    _model, checkpoint = get_or_train(request, callbacks)
    return {
        "pictures": len(upload.train_labels) + len(upload.test_labels),
        "prepared_s": prepared,
        "first_epoch_s": first[0],
        "finished_s": time.perf_counter() - start,
        "test_neg_elbo": checkpoint["metrics"]["test_neg_elbo"],
    }


def in_browser(data: bytes, cache: Path) -> dict:
    """The same through the page, in Chromium against `streamlit run app.py`: from handing the
    zip to the dialog's uploader to the preview drawn, to the plane naming the upload's classes
    (its first epoch, explorable), to the finished model shown."""
    from playwright.sync_api import sync_playwright

    from benchmarks import latent_page as lp
    from deploy import launch

    env = {"VAE_EXPLORER_CACHE": str(cache)}
    with launch.streamlit_server(env) as (url, _), sync_playwright() as pw:
        chromium = launch.chromium(pw)
        page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/?lang=en")  # the form offers the quick recipe
        lp.wait_until_ready(page)
        lp.wait_run_finished(page)
        page.locator(".st-key-own_open button").click()
        dialog = page.get_by_role("dialog")
        uploader = dialog.locator("input[type=file]")
        uploader.wait_for(state="attached", timeout=30_000)
        start = time.perf_counter()
        uploader.set_input_files(
            files=[{"name": "shapes.zip", "mimeType": "application/zip", "buffer": data}]
        )
        dialog.locator("[data-testid=stTable]").first.wait_for(timeout=600_000)
        preview = time.perf_counter() - start
        dialog.locator(".st-key-own_train button").click()
        page.locator(f"{lp.VIEW} .legend").filter(has_text=SHAPES[-1]).wait_for(timeout=600_000)
        first = time.perf_counter() - start
        page.wait_for_function(
            f"() => !({lp.VIEW_DATA}.modelId || '@').includes('@')", timeout=1_800_000, polling=100
        )
        finished = time.perf_counter() - start
        chromium.close()
    return {"preview_s": preview, "first_epoch_s": first, "finished_s": finished}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.own_images", description=__doc__.split("\n")[0]
    )
    p.add_argument("--pictures", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    args = p.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.pictures:
            data = shapes_zip(n // len(SHAPES))
            here = Path(tmp) / str(n)
            runs.append(
                {
                    "asked": n,
                    "zip_mb": len(data) / 2**20,
                    "page": in_browser(data, here / "page"),
                    "process": in_process(data, here / "process"),
                }
            )
    import torch

    cpu = torch.backends.cpu.get_cpu_capability()
    return report(
        {"runs": runs, "cpu": cpu, "cores": os.cpu_count()},
        ["pictures", "zip", "preview shown", "first epoch explorable", "finished", "test −ELBO"],
        [
            [
                f"{r['process']['pictures']:,}",
                f"{r['zip_mb']:.1f} MB",
                f"{r['page']['preview_s']:.1f} s ({r['process']['prepared_s']:.1f})",
                f"{r['page']['first_epoch_s']:.1f} s ({r['process']['first_epoch_s']:.1f})",
                f"{r['page']['finished_s']:.1f} s ({r['process']['finished_s']:.1f})",
                f"{r['process']['test_neg_elbo']:.1f} nats",
            ]
            for r in runs
        ],
        [
            f"Quick recipe (width 256, 25 epochs), {os.cpu_count()} cores ({cpu}). Times from the "
            "zip handed to the page's uploader in headless Chromium, and in brackets from its "
            "bytes in memory in one process, without the page. Pictures: those asked for, less "
            "the copies left out (shapes that come out alike once prepared)."
        ],
        title="Your own images: upload to explorable",
        right=(0, 1, 2, 3, 4, 5),
        out=args.out,
    )


if __name__ == "__main__":
    raise SystemExit(main())
