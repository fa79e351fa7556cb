"""The app's helpers: pictures, the manifold laid on the plane, and the figures."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from explorer import figures, images, overlay
from vae_core import grid_axis


def test_png_round_trips_and_upscales_without_blur():
    picture = np.linspace(0, 1, 28 * 28).reshape(28, 28)
    decoded = np.array(Image.open(io.BytesIO(images.png(picture, scale=3))))
    assert decoded.shape == (84, 84)
    np.testing.assert_array_equal(decoded[::3, ::3], images.to_uint8(picture))
    np.testing.assert_array_equal(decoded[1::3, 2::3], images.to_uint8(picture))


def test_difference_colours_added_and_missing_ink():
    original = np.zeros((28, 28))
    recon = np.zeros((28, 28))
    original[0, 0] = 1.0  # missed by the reconstruction
    recon[1, 1] = 1.0  # added by it
    rgb = images.difference_rgb(original, recon)
    assert rgb.shape == (28, 28, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0, 2] == 255 and rgb[0, 0, 0] == 0  # blue
    assert rgb[1, 1, 0] == 255 and rgb[1, 1, 2] == 0  # red
    assert rgb[5, 5].max() == 0


def test_cell_edges_are_midpoints_with_mirrored_ends():
    np.testing.assert_allclose(images.cell_edges(np.array([0.0, 1.0, 3.0])), [-0.5, 0.5, 2.0, 4.0])


def test_manifold_on_plane_puts_each_digit_over_its_latent_cell():
    n = 4
    axis = grid_axis(n, "linear", 1.5)  # centres -1.5, -0.5, 0.5, 1.5; cells of width 1
    # Digit at grid row r, column c is filled with the value 10 * r + c, so we can find it.
    grid = np.zeros((28 * n, 28 * n))
    for r in range(n):
        for c in range(n):
            grid[28 * r : 28 * (r + 1), 28 * c : 28 * (c + 1)] = 10 * r + c
    plane = images.manifold_on_plane(grid, axis, -3.0, 3.0, size=120)  # 20 px per latent unit

    def at(z1, z2):
        col = int((z1 + 3) / 6 * 120)
        row = int((3 - z2) / 6 * 120)
        return plane[row, col]

    assert at(-1.5, 1.5) == 0  # top-left digit: smallest z1, largest z2
    assert at(1.5, 1.5) == 3
    assert at(-1.5, -1.5) == 30
    assert at(0.6, -0.4) == 22  # z1 in the third column, z2 in the third row from the top
    assert np.isnan(at(-2.5, 0.0)) and np.isnan(at(0.0, 2.7))  # outside the grid


def test_manifold_on_plane_keeps_each_digit_upright():
    axis = np.array([0.0])
    digit = np.zeros((28, 28))
    digit[0, :] = 1  # a bar along the top of the digit
    plane = images.manifold_on_plane(digit, axis, -0.5, 0.5, size=28)
    np.testing.assert_array_equal(plane, digit)


def test_plane_range_is_square_and_covers_the_codes():
    mu = np.random.default_rng(0).normal(size=(1000, 2)) * 1.5
    lo, hi = figures.plane_range(mu)
    assert lo == -hi and hi >= 3.0
    assert (np.abs(mu) <= hi).mean() > 0.99


def test_scatter_carries_dataset_rows_and_depends_on_the_codes_alone():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(200, 2)).astype(np.float32)
    labels = rng.integers(0, 10, size=200)
    fig = figures.latent_scatter(mu, labels, (-4, 4))
    assert [t.name for t in fig.data] == [str(d) for d in range(10)]
    for d, trace in enumerate(fig.data):
        rows = np.asarray(trace.customdata)
        assert (labels[rows] == d).all()
        np.testing.assert_array_equal(np.asarray(trace.x), mu[rows, 0])
        assert trace.type == "scattergl"
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    assert fig.layout.legend.itemclick == "toggle"
    assert fig.layout.xaxis.range == (-4, 4) == fig.layout.yaxis.range


def test_overlay_payload_carries_the_point_and_the_posterior():
    data = overlay.payload((0.5, -1.0))
    assert data["z"] == [0.5, -1.0] and data["selected"] is None
    assert data["target"] == ".st-key-latent_scatter .js-plotly-plot"
    data = overlay.payload((0.0, 0.0), (np.float32([1.0, 2.0]), np.float32([0.1, 0.2])))
    assert data["selected"] == {"mu": [1.0, 2.0], "sigma": pytest.approx([0.1, 0.2])}
    json.dumps(data)
