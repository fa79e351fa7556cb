"""The explorer's plain helpers: pictures, the payload, the link, the figures."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from explorer import figures, images, latent_view, payload, state
from explorer.model_view import ModelSettings, ModelView, plane_window
from vae_core import grid_axis


def test_png_round_trips_and_upscales_without_blur():
    picture = np.linspace(0, 1, 28 * 28).reshape(28, 28)
    decoded = np.array(Image.open(io.BytesIO(images.png(picture, scale=3))))
    assert decoded.shape == (84, 84)
    np.testing.assert_array_equal(decoded[::3, ::3], images.to_uint8(picture))
    np.testing.assert_array_equal(decoded[1::3, 2::3], images.to_uint8(picture))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_themed_pictures_put_ink_on_the_themes_paper(theme):
    picture = np.zeros((28, 28))
    picture[3, 4] = 1.0
    rgb = images.themed(picture, theme)
    assert rgb.shape == (28, 28, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == images.PAPER[theme]
    assert tuple(rgb[3, 4]) == images.INK[theme]


def test_difference_is_red_for_added_ink_blue_for_missed_ink_on_grey():
    original = np.zeros((28, 28))
    recon = np.zeros((28, 28))
    original[0, 0] = 1.0  # missed by the reconstruction
    recon[1, 1] = 1.0  # added by it
    rgb = images.difference_rgb(original, recon)
    assert rgb.shape == (28, 28, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == images.MISSED
    assert tuple(rgb[1, 1]) == images.ADDED
    assert tuple(rgb[5, 5]) == images.NEUTRAL


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
    digit = np.zeros((28, 28))
    digit[0, :] = 1  # a bar along the top of the digit
    plane = images.manifold_on_plane(digit, np.array([0.0]), -0.5, 0.5, size=28)
    np.testing.assert_array_equal(plane, digit)


def test_plane_window_is_square_and_covers_the_codes():
    mu = np.random.default_rng(0).normal(size=(1000, 2)) * 1.5
    lo, hi = plane_window(mu)
    assert lo == -hi and hi >= 3.0
    assert (np.abs(mu) <= hi).mean() > 0.99


def test_payload_round_trips_the_layers_codes_and_labels():
    rng = np.random.default_rng(0)
    layers = [
        (rng.normal(size=(16, 2)).astype(np.float32), rng.normal(size=16).astype(np.float32)),
        (rng.normal(size=(784, 16)).astype(np.float32), rng.normal(size=784).astype(np.float32)),
    ]
    mu = rng.normal(size=(101, 2)).astype(np.float32)
    labels = rng.integers(0, 10, size=101)
    data = payload.pack("model-1", layers, mu, labels, (-3.5, 3.5))
    header, arrays = payload.unpack(data)
    assert header["model_id"] == "model-1" and header["window"] == [-3.5, 3.5]
    assert header["count"] == 101 and header["colours"] == payload.CLASS_COLOURS
    assert [(spec["in"], spec["out"]) for spec in header["layers"]] == [(2, 16), (16, 784)]
    w1 = arrays["w1"].reshape(16, 784)  # sent transposed: (in, out)
    np.testing.assert_array_equal(w1.T, layers[1][0])
    np.testing.assert_array_equal(arrays["b1"], layers[1][1])
    np.testing.assert_array_equal(np.stack([arrays["x"], arrays["y"]], 1), mu)
    np.testing.assert_array_equal(arrays["labels"], labels)
    # Every point is drawn once, in an order that interleaves the classes.
    assert sorted(arrays["order"]) == list(range(101))
    assert not np.array_equal(arrays["order"], np.arange(101))
    body = 8 + int.from_bytes(data[4:8], "little")
    assert body % 4 == 0 and all(e["offset"] % 4 == 0 for e in header["arrays"].values())
    # Raw bytes: the arrays' own size plus a small header, nothing like base64 JSON.
    assert len(data) < sum(a.nbytes for a in arrays.values()) + 2000


def test_scores_payload_round_trips_with_its_scale():
    scores = np.random.default_rng(1).gamma(5, 30, size=1001).astype(np.float32)
    data = payload.pack_scores("model-2", scores, 40.5, 280.0)
    header, arrays = payload.unpack(data)
    assert data[:4] == payload.SCORES_MAGIC
    assert header["model_id"] == "model-2" and (header["low"], header["high"]) == (40.5, 280.0)
    np.testing.assert_array_equal(arrays["scores"], scores)
    assert (8 + int.from_bytes(data[4:8], "little")) % 4 == 0


def test_payload_refuses_other_bytes():
    with pytest.raises(ValueError, match="not a latent-view payload"):
        payload.unpack(b"PK\x03\x04 something else")


def test_view_data_is_small_and_carries_the_point_and_the_selection():
    rng = np.random.default_rng(0)
    view = ModelView(
        "m",
        rng.normal(size=(10, 2)).astype(np.float32),
        np.full((10, 2), 0.05, np.float32),
        np.arange(10, dtype=np.uint8),
        (-4.0, 4.0),
        b"",
    )
    data = latent_view.view_data(view, (0.5, -1.0), 3, None)
    assert data == {
        "model_id": "m",
        "z": [0.5, -1.0],
        "z_rev": 3,
        "selected": None,
        "overlay": None,
        "colour_by": "digit",
    }
    data = latent_view.view_data(view, (0.0, 0.0), 0, 7)
    assert data["selected"]["row"] == 7 and data["selected"]["label"] == 7
    assert data["selected"]["mu"] == pytest.approx(view.mu[7].tolist())
    assert data["selected"]["sigma"] == pytest.approx([0.05, 0.05])
    assert len(json.dumps(data)) < 300
    marks = {"name": "3 prior samples", "points": [[0.1, 0.2], [1.0, -1.0], [0, 0]], "path": False}
    assert latent_view.view_data(view, (0.0, 0.0), 0, None, marks)["overlay"] == marks


def test_a_link_is_parsed_with_a_notice_per_bad_value():
    values, notices = state.parse_link(
        {"z1": "1.5", "z2": "-0.5", "digit": "42", "beta": "4", "width": "128", "other": "x"}
    )
    assert values == {"z1": 1.5, "z2": -0.5, "digit": 42, "beta": 4.0, "width": 128}
    assert notices == []
    values, notices = state.parse_link(
        {
            "z1": "nan",
            "z2": "1e9",
            "digit": "10000",
            "beta": "3",
            "width": "12.5",
            "epochs": "../../etc/passwd",
            "seed": "-1",
        }
    )
    assert values == {}
    notices = [str(n) for n in notices]  # each a message in the page's language (English here)
    assert len(notices) == 7
    assert any("`beta` must be one of" in n for n in notices)
    assert any("`digit` must be between 0 and 9999" in n for n in notices)
    assert any("`epochs` must be a whole number" in n for n in notices)
    assert any("`width` must be a whole number" in n for n in notices)
    assert any("`z1` must be a number" in n for n in notices)
    _, notices = state.parse_link({"digit": "9999.5"})
    assert [str(n) for n in notices] == [
        "The link's `digit` must be a whole number, not “9999.5”; using the default instead."
    ]


def test_a_links_language_is_one_the_page_offers():
    values, notices = state.parse_link({"lang": "zh"})
    assert values == {"lang": "zh"} and not notices
    values, notices = state.parse_link({"lang": "../fr"})
    assert values == {} and "`lang` must be one of en, zh" in str(notices[0])


def test_a_links_palette_is_checked_and_names_the_class_colours():
    from explorer import payload

    values, notices = state.parse_link({"palette": "safe"})
    assert values == {"palette": "safe"} and not notices
    values, notices = state.parse_link({"palette": "<script>"})
    assert values == {} and "`palette` must be one of default, safe" in str(notices[0])
    assert payload.palette_colours("default", 10) == payload.CLASS_COLOURS
    safe = payload.palette_colours("safe", 10)
    assert safe[:2] == ["#006ba4", "#ff800e"] and len(set(safe)) == 10
    assert payload.palette_colours("safe", 47) == payload.class_colours(47)  # none safe for 47
    link = state.link_of(state.DEFAULT_SETTINGS, (0.0, 0.0), None, palette="safe")
    assert link["palette"] == "safe"
    assert "palette" not in state.link_of(state.DEFAULT_SETTINGS, (0.0, 0.0), None)


def test_a_link_round_trips_the_state():
    settings = ModelSettings(beta=4.0, width=128, epochs=12, seed=3)
    link = state.link_of(settings, (1.25, -0.5), 42)
    assert link == {
        "lang": "en",
        "data": "mnist",
        "recipe": "quick",
        "beta": "4",
        "width": "128",
        "epochs": "12",
        "seed": "3",
        "z1": "1.25",
        "z2": "-0.5",
        "digit": "42",
    }
    values, notices = state.parse_link(link)
    assert not notices
    assert ModelSettings(values["beta"], values["width"], values["epochs"], values["seed"]) == (
        settings
    )
    assert (values["z1"], values["z2"], values["digit"]) == (1.25, -0.5, 42)


def test_a_conditional_models_link_names_it_and_its_class():
    settings = ModelSettings(beta=1.0, width=64, epochs=2, seed=0, conditional=True)
    link = state.link_of(settings, (0.0, 0.0), 3, cls=7)
    assert (link["cvae"], link["class"]) == ("1", "7")
    values, notices = state.parse_link(link)
    assert not notices and (values["cvae"], values["class"]) == (1, 7)


def test_a_link_naming_data_the_server_does_not_offer_is_refused():
    values, notices = state.parse_link({"data": "/etc", "cvae": "2", "class": "99"})
    assert values == {}
    notices = [str(n) for n in notices]
    assert any("`data` must be one of mnist" in n for n in notices)
    assert any("`cvae` must be one of 0, 1" in n for n in notices)
    assert any("`class` must be between 0 and 61" in n for n in notices)


@pytest.mark.parametrize(
    "value, expected",
    [
        ([0.5, -1], (0.5, -1.0)),
        ((1, 2), (1.0, 2.0)),
        ([1], None),
        ("1,2", None),
        ([float("inf"), 0], None),
        (["a", 0], None),
        (None, None),
        ({"z": 1}, None),
    ],
)
def test_points_from_the_browser_are_checked(value, expected):
    assert state.parse_point(value) == expected


def test_manifold_grid_has_equal_cells_labelled_with_their_centres():
    axis = grid_axis(20, "normal")
    fig = figures.manifold_grid_figure(images.png(np.zeros((560, 560))), axis)
    assert fig.layout.xaxis.range == (-0.5, 19.5) == fig.layout.yaxis.range
    assert fig.layout.yaxis.scaleanchor == "x"
    ticks = fig.layout.xaxis.tickvals
    assert [float(t) for t in fig.layout.xaxis.ticktext] == pytest.approx(
        [float(axis[i]) for i in ticks], abs=0.005
    )
    image = fig.layout.images[0]
    assert (image.x, image.y, image.sizex, image.sizey) == (-0.5, 19.5, 20, 20)


def test_loss_curves_have_one_scale_per_panel():
    history = [
        {
            "epoch": e,
            "test_neg_elbo": 150 - e,
            "test_reconstruction": 140 - e,
            "train_loss": 151 - e,
            "test_kl": 5 + 0.1 * e,
        }
        for e in range(1, 6)
    ]
    fig = figures.loss_curves(history)
    axes = {t.name: t.yaxis for t in fig.data}
    assert axes["test KL"] != axes["test −ELBO"]
    assert axes["test −ELBO"] == axes["test reconstruction"] == axes["train objective"]
    assert all(
        getattr(fig.layout[k], "overlaying", None) is None
        for k in fig.layout
        if k.startswith("yaxis")
    )


def test_the_live_training_sparkline_is_plain_svg_with_last_values():
    svg = figures.sparkline_svg(
        {"test −ELBO": [180.0, 160.0, 150.5], "train objective": [190, 170, 155]}
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<polyline") == 2 and "test −ELBO 150.5" in svg
    assert "train objective 155.0" in svg and "currentColor" in svg
    assert figures.sparkline_svg({"test −ELBO": [180.0]}) == ""  # one epoch: nothing to draw
    assert figures.sparkline_svg({}) == ""


def test_the_posterior_figure_draws_p_of_z_given_x_under_q_on_equal_axes():
    z1 = np.linspace(-1, 1, 5)
    z2 = np.linspace(0, 2, 5)
    log_density = -np.add.outer((z2 - 1) ** 2, z1**2) * 8.0  # [j, i]
    fig = figures.posterior_figure(z1, z2, log_density, mu=[0.1, 1.0], sigma=[0.2, 0.3])
    heat = fig.data[0]
    assert np.allclose(heat.z, np.exp(log_density)) and heat.x[0] == -1 and heat.y[-1] == 2
    names = [t.name for t in fig.data[1:]]
    assert names == ["q(z|x): 1σ", "q(z|x): 2σ", "q(z|x): mean μ"]
    two_sigma = fig.data[2]
    assert max(two_sigma.x) == pytest.approx(0.5, abs=1e-3)
    assert max(two_sigma.y) == pytest.approx(1.6, abs=1e-3)
    assert fig.layout.yaxis.scaleanchor == "x"
    logged = figures.posterior_figure(z1, z2, log_density, [0, 1], [0.2, 0.3], scale="log")
    assert logged.data[0].z.min() == pytest.approx(log_density.max() - 12.0)


def test_the_bounds_bars_start_from_one_floor_so_longer_is_higher():
    fig = figures.bound_bars(log_px=-91.1, iwae=-91.2, elbo=-91.4)
    bar = fig.data[0]
    floor = bar.base
    ends = [floor + x for x in bar.x]
    assert ends == pytest.approx([-91.4, -91.2, -91.1])
    assert list(bar.y) == ["ELBO (q's bound)", "IWAE, k = 100", "exact log p(x)"]
    assert "gap 0.30" in fig.layout.annotations[0].text


def test_the_path_gif_plays_the_decoded_steps_forth_and_back():
    import io

    import numpy as np
    from PIL import Image

    from explorer import images

    steps = np.linspace(0, 1, 5)[:, None, None] * np.ones((5, 28, 28))
    gif = Image.open(io.BytesIO(images.gif(steps, scale=2)))
    assert gif.format == "GIF" and gif.size == (56, 56) and gif.n_frames == 8


def test_an_outliers_percentile_counts_the_more_usual_digits():
    from explorer.lenses import percentile

    scores = np.arange(100, dtype=float)
    assert percentile(scores, 97.0) == 97.0
    assert percentile(scores, 0.0) == 0.0 and percentile(scores, 1000.0) == 100.0


def test_tiles_lay_pictures_in_rows_with_blank_gaps():
    pictures = np.stack([np.full((2, 3), v, np.float32) for v in (0.25, 0.5, 0.75)])
    grid = images.tile(pictures)  # 3 pictures: 2 a row
    assert grid.shape == (2 * 2 + 2, 2 * 3 + 2)
    assert grid[0, 0] == 0.25 and grid[0, 5] == 0.5 and grid[4, 0] == 0.75
    assert grid[:, 3:5].max() == 0 and grid[4:, 5:].max() == 0  # gaps and the empty cell
    row = images.tile(pictures, cols=3, gap=1)
    assert row.shape == (2, 11) and row[0, 8] == 0.75


def test_a_conditional_models_lens_figures_say_given_y():
    from explorer import figures

    z = np.linspace(-1, 1, 5)
    density = -np.add.outer(z**2, z**2)
    plain = figures.posterior_figure(z, z, density, [0, 0], [0.3, 0.3])
    given = figures.posterior_figure(z, z, density, [0, 0], [0.3, 0.3], given=True)
    assert [t.name for t in plain.data[1:]] == ["q(z|x): 1σ", "q(z|x): 2σ", "q(z|x): mean μ"]
    assert [t.name for t in given.data[1:]] == [
        "q(z|x, y): 1σ",
        "q(z|x, y): 2σ",
        "q(z|x, y): mean μ",
    ]
    assert given.data[0].colorbar.title.text == "p(z|x, y)"
    assert "exact log p(x|y)" in figures.bound_bars(-90, -91, -95, given=True).data[0].y
    assert "exact log p(x)" in figures.bound_bars(-90, -91, -95).data[0].y
