"""Pictures of the data (28x28, white ink on black) as PNG bytes, the manifold grid resampled
onto the latent plane, latent points drawn as a picture, and how a caption names a class."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from i18n import NOUNS, _


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] -> uint8 grey, white ink on black as MNIST is stored."""
    return np.clip(np.rint(np.asarray(image) * 255), 0, 255).astype(np.uint8)


def png(image: np.ndarray, scale: int = 1) -> bytes:
    """A grey (H, W) float image or an RGB (H, W, 3) uint8 image as PNG, upscaled without blur.

    NaN pixels of a float image come out transparent.
    """
    if image.dtype == np.uint8:
        array = image
    elif np.isnan(image).any():
        grey = to_uint8(np.nan_to_num(image, nan=0.0))
        array = np.stack([grey, grey, grey, np.where(np.isnan(image), 0, 255).astype(np.uint8)], -1)
    else:
        array = to_uint8(image)
    if scale > 1:
        array = array.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


# Ink and paper of the pictures in each theme, so pictures follow the page like its text.
PAPER = {"light": (255, 255, 255), "dark": (23, 22, 20)}
INK = {"light": (38, 39, 48), "dark": (250, 250, 250)}
NEUTRAL = (128, 128, 128)
ADDED = (230, 57, 70)  # the reconstruction puts ink where the input has none: red
MISSED = (43, 108, 230)  # the reconstruction misses the input's ink: blue


def themed(image: np.ndarray, theme: str = "light") -> np.ndarray:
    """Pixel intensities in [0, 1] as ink on paper for a theme: (H, W) -> (H, W, 3) uint8."""
    v = np.clip(np.asarray(image, dtype=np.float32), 0, 1)[..., None]
    paper, ink = np.array(PAPER[theme], np.float32), np.array(INK[theme], np.float32)
    return np.rint(paper + v * (ink - paper)).astype(np.uint8)


def difference_rgb(original: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """reconstruction - original on a neutral grey: red where the reconstruction adds ink, blue
    where it misses ink, grey where they agree. (28, 28) floats -> (28, 28, 3) uint8."""
    d = np.asarray(reconstruction, dtype=np.float32) - np.asarray(original, dtype=np.float32)
    grey = np.array(NEUTRAL, np.float32)
    colour = np.where(d[..., None] > 0, np.array(ADDED, np.float32), np.array(MISSED, np.float32))
    a = np.clip(np.abs(d), 0, 1)[..., None]
    return np.rint(grey + a * (colour - grey)).astype(np.uint8)


def a(noun: str) -> str:
    """A noun with its indefinite article: "a digit", "an image" (in the page's language for
    the nouns of i18n.NOUNS)."""
    if noun in NOUNS:
        return _(NOUNS[noun][2])
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def called(view, label: int) -> str:
    """How a caption names an image of class `label` of a view (anything with `classes` and
    `noun`, such as a ModelView): "a 7" for MNIST's digits, else the class's name ("Sneaker"),
    which an article would not always fit."""
    name = view.classes[int(label)]
    if view.noun != "digit":
        return name
    # TRANSLATORS: how a caption names a test image of MNIST by its digit: "a 7".
    return _("a {digit}").format(digit=name)


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def cell_edges(centres: np.ndarray) -> np.ndarray:
    """Edges of the cells around ascending centres: midpoints, the outer cells mirrored."""
    c = np.asarray(centres, dtype=np.float64)
    if len(c) == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mids = (c[1:] + c[:-1]) / 2
    return np.concatenate([[2 * c[0] - mids[0]], mids, [2 * c[-1] - mids[-1]]])


def manifold_on_plane(
    grid: np.ndarray, axis: np.ndarray, lo: float, hi: float, size: int
) -> np.ndarray:
    """Lay the decoded grid over the square [lo, hi]^2 of the latent plane, as a picture.

    `grid` is the (28n, 28n) picture of decoded images whose centres are `axis` (ascending) along
    z1 and z2, row 0 at the largest z2. Each image fills its cell (midway to its neighbours), so
    with the normal-quantile spacing the outer cells are wider, as they are in z. Returns a
    (size, size) float image, row 0 at z2 = hi; NaN where no cell lies.
    """
    n = len(axis)
    edges = cell_edges(axis)
    coords = lo + (np.arange(size) + 0.5) / size * (hi - lo)  # pixel centres, ascending

    def lookup(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cell = np.searchsorted(edges, values, side="right") - 1
        inside = (cell >= 0) & (cell < n)
        cell = np.clip(cell, 0, n - 1)
        frac = (values - edges[cell]) / (edges[cell + 1] - edges[cell])
        sub = np.clip((frac * 28).astype(int), 0, 27)
        return cell * 28 + sub, inside

    cols, col_ok = lookup(coords)
    rows_up, row_ok = lookup(coords[::-1])  # top row of the output is the largest z2
    # In `grid`, row 0 is the top: picture row r holds axis[n - 1 - r], and pixels run downwards.
    cell, sub = rows_up // 28, rows_up % 28
    rows = (n - 1 - cell) * 28 + (27 - sub)
    out = grid[np.ix_(rows, cols)].astype(np.float32)
    out[~row_ok, :] = np.nan
    out[:, ~col_ok] = np.nan
    return out


def tile(pictures: np.ndarray, cols: int | None = None, gap: int = 2) -> np.ndarray:
    """(n, H, W) floats -> one picture, `cols` a row (default: a square-ish grid), with `gap`
    blank pixels (0: paper once themed) between cells."""
    n, h, w = pictures.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.zeros((rows * (h + gap) - gap, cols * (w + gap) - gap), dtype=np.float32)
    for i, p in enumerate(pictures):
        r, c = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = p
    return out


def animation(frames: list[np.ndarray], ms: int | list[int]) -> bytes:
    """RGB (H, W, 3) uint8 frames -> an animated GIF, looping; `ms` for each frame or for all."""
    images = [Image.fromarray(f) for f in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:], duration=ms, loop=0
    )
    return buffer.getvalue()


def gif(pictures: np.ndarray, theme: str = "light", scale: int = 4, ms: int = 120) -> bytes:
    """(n, H, W) floats in [0, 1] -> an animated GIF that plays them forth and back, looping."""
    frames = list(pictures) + list(pictures[-2:0:-1])
    return animation(
        [themed(f, theme).repeat(scale, axis=0).repeat(scale, axis=1) for f in frames], ms
    )


def _mix(theme: str, ink_share: float) -> tuple[int, ...]:
    paper, ink = np.array(PAPER[theme], np.float32), np.array(INK[theme], np.float32)
    return tuple(int(v) for v in np.rint(paper + ink_share * (ink - paper)))


def scatter(
    points: np.ndarray,
    colours: np.ndarray,
    window: tuple[float, float],
    size: int,
    theme: str = "light",
    rings: tuple[float, ...] = (1.0, 2.0),
) -> np.ndarray:
    """Latent points as 3-pixel dots on the square `window`, drawn in the order given (later on
    top), over faint lines at whole z and circles of radii `rings` about 0 (the prior's 1σ and
    2σ), labelled. (N, 2) points and (N, 3) uint8 colours -> (size, size, 3) uint8, row 0 at
    z2 = hi. Points outside the window are left out."""
    lo, hi = window
    scale = size / (hi - lo)
    picture = Image.new("RGB", (size, size), PAPER[theme])
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=11)
    label = _mix(theme, 0.55)
    for z in range(int(np.ceil(lo)), int(np.floor(hi)) + 1):
        at = (z - lo) * scale
        line = _mix(theme, 0.18 if z == 0 else 0.08)
        draw.line([(at, 0), (at, size)], fill=line)
        draw.line([(0, size - at), (size, size - at)], fill=line)
        draw.text((at + 2, size - 14), str(z), fill=label, font=font)
        draw.text((2, size - at - 13), str(z), fill=label, font=font)
    centre = -lo * scale
    for r in rings:
        draw.ellipse(
            [
                centre - r * scale,
                size - centre - r * scale,
                centre + r * scale,
                size - centre + r * scale,
            ],
            outline=_mix(theme, 0.45),
        )
    out = np.array(picture)
    xy = np.asarray(points, dtype=np.float32)
    col = np.floor((xy[:, 0] - lo) * scale).astype(np.int64)
    row = np.floor((hi - xy[:, 1]) * scale).astype(np.int64)
    inside = (col >= 1) & (col < size - 1) & (row >= 1) & (row < size - 1)
    col, row, colours = col[inside], row[inside], np.asarray(colours)[inside]
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            out[row + dr, col + dc] = colours
    # The dots' centres again, so a later dot's rim never hides an earlier dot entirely.
    out[row, col] = colours
    return out
