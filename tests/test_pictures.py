import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vae_core.pictures import MIN_SIDE, PictureError, prepare_picture

LIMIT = 40_000_000


def encoded(picture: Image.Image, format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format, **options)
    return buffer.getvalue()


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(x, y) with pixel i's centre at i + 0.5."""
    ys, xs = np.indices(image.shape) + 0.5
    image = image.astype(np.float64)
    return float((xs * image).sum() / image.sum()), float((ys * image).sum() / image.sum())


def ink_box(image: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(image)
    return int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


def test_dark_ink_on_light_paper_is_inverted_cropped_scaled_and_centred():
    paper = Image.new("L", (100, 100), 230)
    # A bar off in the corner, 60 tall and 15 wide.
    ImageDraw.Draw(paper).rectangle([70, 5, 84, 64], fill=30)
    out = prepare_picture(encoded(paper), LIMIT)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out.max() == 255 and out[0, 0] == 0  # ink high, background black
    assert ink_box(out) == (20, 5)  # its longer side 20, its aspect kept
    cx, cy = centre_of_mass(out)
    assert abs(cx - 14) <= 1 and abs(cy - 14) <= 1, (cx, cy)


def test_light_ink_on_dark_paper_is_kept_as_it_is():
    board = Image.new("L", (50, 50), 10)
    ImageDraw.Draw(board).rectangle([5, 5, 14, 14], fill=200)
    out = prepare_picture(encoded(board), LIMIT)
    assert ink_box(out) == (20, 20) and out.max() == 255
    assert out[4:24, 4:24].min() == 255  # a full square, stretched to full ink


def test_off_centre_lopsided_drawing_has_its_mass_at_the_centre():
    paper = Image.new("L", (300, 200), 255)
    draw = ImageDraw.Draw(paper)
    draw.rectangle([200, 100, 209, 199], fill=0)  # a stem...
    draw.rectangle([200, 100, 299, 109], fill=0)  # ...and a heavy bar across its top
    out = prepare_picture(encoded(paper), LIMIT)
    cx, cy = centre_of_mass(out)
    assert abs(cx - 14) <= 1 and abs(cy - 14) <= 1, (cx, cy)
    ys, _ = np.nonzero(out)
    assert out[ys.min() : ys.min() + 2].sum() > 0.4 * out.sum()


def test_a_large_colour_photo_is_scaled_down():
    photo = Image.new("RGB", (4000, 3000), (235, 225, 210))
    draw = ImageDraw.Draw(photo)
    draw.ellipse([1000, 500, 2000, 2500], outline=(20, 30, 90), width=80)  # an "0", 1000x2000
    out = prepare_picture(encoded(photo, "JPEG", quality=90), LIMIT)
    assert ink_box(out) == (20, 10)
    assert out[14, 14] == 0  # the ring's hole stays empty
    assert out.max() == 255


def test_transparency_shows_white_and_colour_becomes_grey():
    sheet = Image.new("RGBA", (40, 40), (0, 0, 0, 0))  # transparent black: white on a page
    ImageDraw.Draw(sheet).rectangle([10, 10, 29, 29], fill=(200, 0, 0, 255))
    out = prepare_picture(encoded(sheet), LIMIT)
    assert ink_box(out) == (20, 20) and out[4:24, 4:24].min() == 255


def test_sixteen_bit_grey_is_scaled_not_clipped():
    levels = np.full((32, 32), 60000, np.uint16)
    levels[8:24, 12:20] = 1000
    out = prepare_picture(encoded(Image.fromarray(levels)), LIMIT)
    assert ink_box(out) == (20, 10)


def test_exif_orientation_is_applied_before_anything_else():
    stored = Image.new("L", (60, 30), 255)
    ImageDraw.Draw(stored).rectangle([0, 0, 59, 9], fill=0)  # a wide bar along the top
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise: the bar stands on the right, tall
    out = prepare_picture(encoded(stored, "JPEG", quality=95, exif=exif), LIMIT)
    assert ink_box(out)[0] == 20 and ink_box(out)[1] < 10
    unrotated = prepare_picture(encoded(stored, "JPEG", quality=95), LIMIT)
    assert ink_box(unrotated)[1] == 20 and ink_box(unrotated)[0] < 10


def test_a_gif_gives_its_first_frame():
    first = Image.new("L", (40, 40), 255)
    ImageDraw.Draw(first).rectangle([5, 5, 14, 34], fill=0)  # tall
    second = Image.new("L", (40, 40), 255)
    ImageDraw.Draw(second).rectangle([5, 5, 34, 14], fill=0)  # wide
    data = encoded(first, "GIF", save_all=True, append_images=[second], duration=100)
    assert ink_box(prepare_picture(data, LIMIT)) == (20, 7)


@pytest.mark.parametrize("format", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_each_format_read(format):
    paper = Image.new("RGB", (32, 32), "white")
    ImageDraw.Draw(paper).rectangle([8, 8, 23, 23], fill="black")
    assert ink_box(prepare_picture(encoded(paper, format), LIMIT)) == (20, 20)


@pytest.mark.parametrize("format", ["TIFF", "ICO", "PPM"])
def test_valid_pictures_of_other_formats_are_refused(format):
    paper = Image.new("RGB", (32, 32), "white")
    ImageDraw.Draw(paper).rectangle([8, 8, 23, 23], fill="black")
    with pytest.raises(PictureError, match=r"not a picture this page reads \(PNG, JPEG, WebP"):
        prepare_picture(encoded(paper, format), LIMIT)


def test_a_text_file_is_not_a_picture():
    with pytest.raises(PictureError, match="not a picture this page reads"):
        prepare_picture(b"hello, these are my notes\n" * 10, LIMIT)
    with pytest.raises(PictureError, match="not a picture this page reads"):
        prepare_picture(b"", LIMIT)


def test_a_corrupt_or_truncated_picture_cannot_be_read():
    paper = Image.new("L", (64, 64), 255)
    ImageDraw.Draw(paper).line([(0, 0), (63, 63)], fill=0, width=5)
    data = encoded(paper)
    with pytest.raises(PictureError, match=r"cannot be read as a picture \(.+\)"):
        prepare_picture(data[: len(data) // 2], LIMIT)
    jpeg = encoded(paper.convert("RGB"), "JPEG")
    with pytest.raises(PictureError, match=r"cannot be read as a picture \(.+\)"):
        prepare_picture(jpeg[:300], LIMIT)


@pytest.mark.parametrize("size", [(1, 1), (7, 100), (100, MIN_SIDE - 1)])
def test_a_tiny_picture_is_too_small(size):
    with pytest.raises(PictureError, match=r"too small: \d+×\d+ pixels; .* at least 8×8"):
        prepare_picture(encoded(Image.new("L", size, 0)), LIMIT)


@pytest.mark.parametrize("colour", [0, 128, 255])
def test_a_blank_picture_holds_no_drawing(colour):
    with pytest.raises(PictureError, match=r"holds no drawing \(it is one colour\)"):
        prepare_picture(encoded(Image.new("L", (50, 50), colour)), LIMIT)


def test_jpeg_noise_alone_is_no_drawing():
    rng = np.random.default_rng(0)
    grain = (200 + rng.integers(-3, 4, (64, 64))).astype(np.uint8)
    with pytest.raises(PictureError, match="holds no drawing"):
        prepare_picture(encoded(Image.fromarray(grain), "JPEG"), LIMIT)


def bilevel_png(width: int, height: int) -> bytes:
    """A real, valid mode "1" PNG of all-black pixels, compressed row by row so that making
    it holds no more than a row in memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" * (1 + (width + 7) // 8)  # filter type 0, then the bits
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_a_png_claiming_too_many_pixels_is_refused_before_decoding(monkeypatch):
    data = bilevel_png(30000, 30000)
    assert len(data) < 200_000  # a small file...
    with monkeypatch.context() as unguarded:
        unguarded.setattr(Image, "MAX_IMAGE_PIXELS", None)
        assert Image.open(io.BytesIO(data)).size == (30000, 30000)  # ...claiming 900 MP

    def no_decoding(self):
        raise AssertionError("decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)
    # Beyond Pillow's own limit, whatever the server's: refused as Pillow opens it.
    for limit in (LIMIT, 10**12):
        with pytest.raises(
            PictureError,
            match=f"claims more than {2 * Image.MAX_IMAGE_PIXELS} pixels, more than the server's "
            f"limit of {min(limit, Image.MAX_IMAGE_PIXELS)} pixels",
        ):
            prepare_picture(data, limit)
    small = bilevel_png(3000, 2000)
    with pytest.raises(PictureError, match="claims 3000×2000 pixels, .* limit of 5000000 "):
        prepare_picture(small, 5_000_000)
    # Pillow's limit bounds the server's: a picture between the two is refused, not decoded.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4_000_000)
    with (
        pytest.warns(Image.DecompressionBombWarning),
        pytest.raises(PictureError, match="claims 3000×2000 pixels, .* limit of 4000000 "),
    ):
        prepare_picture(small, LIMIT)
