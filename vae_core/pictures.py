"""One picture of any size and colour, prepared as MNIST's digits were.

LeCun et al. ("Gradient-based learning applied to document recognition", 1998, and the MNIST
page): the drawing's bounding box scaled into 20x20 keeping its aspect ratio, anti-aliased,
then placed in 28x28 so that its centre of mass is at the centre; ink high on a black
background. The board's drawings are prepared the same way (explorer/web/drawing.js).

The bytes come from a browser, so untrusted: the size the header claims is checked before any
pixel is decoded, only five formats are read, and only the pixels are kept (no metadata).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

from i18n import lazy

from .data import IMAGE_SIDE, DataError

MIN_SIDE = 8  # a picture smaller than 8x8 is refused ("too small")
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
BOX = 20  # the drawing's longer side, in the 28x28 image
# The side a large picture is reduced to before its ink is looked for: a drawing a twentieth of
# the picture across still spans 24 pixels, more than the 20 it is scaled to. A JPEG is decoded
# at that size directly (its DCT scaling), which makes a 12-megapixel photo cheap.
WORKING_SIDE = 480
# Below this contrast (of 255) a picture is one colour: a JPEG's noise is not a drawing.
FAINTEST_INK = 12
# Pixels fainter than this fraction of the brightest ink are the paper's grain, not ink.
INK_FLOOR = 1 / 8


class PictureError(DataError):
    """A picture that cannot be prepared: not one of the formats read, damaged, too large,
    too small, or blank."""


def prepare_picture(data: bytes, max_pixels: int) -> np.ndarray:
    """The picture in `data` as MNIST's digits: (28, 28) uint8, ink 255 on a background of 0.

    Raises PictureError, saying why, for anything but a PNG, JPEG, WebP, GIF (its first frame)
    or BMP; for one whose header claims more than `max_pixels` pixels (before decoding any)
    or less than MIN_SIDE on a side; for a damaged one; and for one with no drawing on it.
    """
    grey = _read_grey(data, max_pixels)
    ink = _ink(grey)
    return _centred(_scaled(ink))


def _read_grey(data: bytes, max_pixels: int) -> np.ndarray:
    """The pixels as grey levels, upright, a large picture reduced to about WORKING_SIDE."""
    # Pillow refuses to open a picture of more than twice its MAX_IMAGE_PIXELS (a
    # decompression bomb); the server's limit is checked on the header before any pixel is
    # decoded, and is never above Pillow's own.
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    try:
        picture = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise PictureError(
            lazy(
                "claims more than {pixels} pixels, more than the server's limit of {limit} pixels.",
                pixels=2 * Image.MAX_IMAGE_PIXELS,
                limit=limit,
            )
        ) from exc
    except Exception as exc:  # Pillow raises many kinds for what it cannot identify
        if _signed(data):
            raise _unreadable(exc) from exc
        raise PictureError(
            lazy("not a picture this page reads (PNG, JPEG, WebP, GIF or BMP).")
        ) from exc
    width, height = picture.size
    if width * height > limit:
        raise PictureError(
            lazy(
                "claims {width}×{height} pixels, more than the server's limit of {limit} pixels.",
                width=width,
                height=height,
                limit=limit,
            )
        )
    if min(width, height) < MIN_SIDE:
        raise PictureError(
            lazy(
                "too small: {width}×{height} pixels; a picture needs at least {side}×{side}.",
                width=width,
                height=height,
                side=MIN_SIDE,
            )
        )
    try:
        return _decoded(picture)
    except Exception as exc:  # a damaged file fails in any of Pillow's decoders
        raise _unreadable(exc) from exc


def _signed(data: bytes) -> bool:
    """Whether `data` starts as one of the formats read does: a damaged picture, if Pillow
    cannot open it, rather than some other kind of file."""
    return data.startswith(SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _unreadable(exc: Exception) -> PictureError:
    return PictureError(
        lazy("cannot be read as a picture ({error}).", error=str(exc) or type(exc).__name__)
    )


def _decoded(picture: Image.Image) -> np.ndarray:
    longer = max(picture.size)
    if picture.format in ("JPEG", "MPO") and longer > WORKING_SIDE:
        scale = WORKING_SIDE / longer
        picture.draft("L", (round(picture.width * scale), round(picture.height * scale)))
    # The orientation a camera recorded, applied before anything looks at where the ink is.
    picture = ImageOps.exif_transpose(picture)
    if picture.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit grey: Pillow's conversion to L would clip it, not scale it.
        levels = np.asarray(picture, dtype=np.float64) * (255 / 65535)
        picture = Image.fromarray(np.clip(levels, 0, 255).astype(np.uint8))
    elif picture.mode != "L":
        picture = picture.convert("RGBA")
        # Transparency shows the background: white, as a page shows it.
        white = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(white, picture).convert("L")
    factor = max(picture.size) // WORKING_SIDE
    if factor > 1:
        picture = picture.reduce(factor)
    return np.asarray(picture, dtype=np.float32)


def _ink(grey: np.ndarray) -> np.ndarray:
    """The drawing's ink, 0 to 255 with its brightest 255, cropped to its bounding box."""
    border = np.concatenate([grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]])
    background = float(np.median(border))
    if background > 127:
        # Dark ink on light paper: MNIST's ink is the bright part.
        grey = 255 - grey
        background = 255 - background
    ink = np.clip(grey - background, 0, None)
    peak = float(ink.max())
    if peak < FAINTEST_INK:
        raise PictureError(lazy("holds no drawing (it is one colour)."))
    ink *= 255 / peak
    ink[ink < 255 * INK_FLOOR] = 0
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def _scaled(ink: np.ndarray) -> np.ndarray:
    """The ink with its longer side BOX pixels, its aspect kept, anti-aliased."""
    height, width = ink.shape
    scale = BOX / max(height, width)
    size = (max(1, min(BOX, round(width * scale))), max(1, min(BOX, round(height * scale))))
    # Area averaging when shrinking, as the board does; interpolation when enlarging.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(ink).resize(size, resample), dtype=np.float32)
    # A thin stroke of a large drawing averages to grey; its brightest stays 255, as MNIST's.
    return np.clip(small * (255 / max(float(small.max()), 1e-6)), 0, 255)


def _centred(small: np.ndarray) -> np.ndarray:
    """The 20x20-or-less ink placed in 28x28 with its centre of mass at the centre, shifted by
    whole pixels as MNIST was and kept inside the image."""
    height, width = small.shape
    ys, xs = np.indices(small.shape) + 0.5
    mass = float(small.sum())
    top = int(
        np.clip(round(IMAGE_SIDE / 2 - float((ys * small).sum()) / mass), 0, IMAGE_SIDE - height)
    )
    left = int(
        np.clip(round(IMAGE_SIDE / 2 - float((xs * small).sum()) / mass), 0, IMAGE_SIDE - width)
    )
    out = np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.uint8)
    out[top : top + height, left : left + width] = np.rint(small).astype(np.uint8)
    return out
