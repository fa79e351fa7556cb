"""The latent view's JavaScript payload reader and decoder against torch, run in Node.js."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch

from explorer import components, payload
from vae_core.inference import decode, decoder_layers
from vae_core.model import VAE, VAEConfig
from vae_core.snapshot import Snapshot

NODE = shutil.which("node")

# Reads the payload from stdin at an odd offset, as protobuf may hand it over, and decodes.
SCRIPT = """
const fs = require("fs");
const source = fs.readFileSync(process.argv[1], "utf8");
const url = "data:text/javascript;base64," + Buffer.from(source).toString("base64");
const input = fs.readFileSync(0);
const zs = JSON.parse(process.argv[2]);
const cls = Number(process.argv[3] || 0);
import(url).then(({ parsePayload, makeDecoder }) => {
  const shifted = new Uint8Array(input.length + 1);
  shifted.set(input, 1);
  const { header, arrays, layers } = parsePayload(shifted.subarray(1));
  const decode = makeDecoder(layers);
  const out = zs.map(([a, b]) => Array.from(decode(a, b, cls)));
  process.stdout.write(JSON.stringify({
    decoded: out, model_id: header.model_id, x: Array.from(arrays.x), order: Array.from(arrays.order),
    classes: header.classes, colours: header.colours, noun: header.noun,
  }));
});
"""


def run_js(tmp_path, data: bytes, zs: np.ndarray, cls: int = 0) -> dict:
    """SCRIPT's output: the payload read and `zs` decoded as class `cls`, as the page runs it."""
    source = tmp_path / "latent_view.mjs"
    source.write_text(components.script("latent_view"))
    result = subprocess.run(
        [NODE, "-e", SCRIPT, str(source), json.dumps(zs.tolist()), str(cls)],
        input=data,
        capture_output=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
@pytest.mark.parametrize("hidden", [(512, 512), (64,), (32, 16, 8)])
def test_js_decoder_reads_the_payload_and_matches_torch(hidden, tmp_path):
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=hidden)).eval()
    # Larger weights than at initialisation, so the sigmoid is away from 0.5 and ReLUs cut.
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3)
    zs = np.array([[0.0, 0.0], [1.5, -2.0], [-3.2, 0.7], [2.9, 2.9]], dtype=np.float32)
    mu = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    data = payload.pack("m1", decoder_layers(model), mu, np.arange(50) % 10, (-4, 4))
    out = run_js(tmp_path, data, zs)
    js = np.array(out["decoded"]).reshape(len(zs), 28, 28)
    expected = decode(model, zs)
    assert np.abs(expected - 0.5).max() > 0.3  # the test would notice a wrong sigmoid
    np.testing.assert_allclose(js, expected, atol=2e-6)
    assert out["model_id"] == "m1"
    np.testing.assert_array_equal(np.float32(out["x"]), mu[:, 0])
    assert sorted(out["order"]) == list(range(50))


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
@pytest.mark.parametrize("cls", [0, 2])
def test_js_decoder_of_a_conditional_model_draws_the_class_asked_for(cls, tmp_path):
    torch.manual_seed(1)
    model = VAE(VAEConfig(hidden=(64, 64), conditional=True, classes=3)).eval()
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3)
    zs = np.array([[0.0, 0.0], [1.5, -2.0]], dtype=np.float32)
    names = ("T-shirt/top", "Trouser", "Pullover")
    mu = np.zeros((6, 2), np.float32)
    data = payload.pack("c", decoder_layers(model), mu, np.arange(6) % 3, (-4, 4), names, "image")
    out = run_js(tmp_path, data, zs, cls)
    js = np.array(out["decoded"]).reshape(len(zs), 28, 28)
    np.testing.assert_allclose(js, decode(model, zs, cls), atol=2e-6)
    assert np.abs(decode(model, zs, cls) - decode(model, zs, (cls + 1) % 3)).max() > 0.01
    assert out["classes"] == list(names) and out["noun"] == "image"
    assert len(out["colours"]) == 3


def test_every_class_has_its_own_colour_up_to_62():
    for count in (2, 10, 11, 47, 62):
        colours = payload.class_colours(count)
        assert len(colours) == count == len(set(colours))
        assert all(len(c) == 7 and c.startswith("#") for c in colours)
    assert payload.class_colours(10) == payload.CLASS_COLOURS


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
def test_js_decoder_reads_a_training_snapshot_in_half_precision_as_torch_does(tmp_path):
    torch.manual_seed(2)
    model = VAE(VAEConfig(hidden=(128, 128))).eval()
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3)
    rebuilt = Snapshot.of(model, 2, 5).model(model.config)  # the weights the server decodes with
    zs = np.array([[0.0, 0.0], [1.5, -2.0], [-3.2, 0.7]], dtype=np.float32)
    mu = np.zeros((10, 2), np.float32)
    layers = decoder_layers(rebuilt)
    half = payload.pack("k@epoch2", layers, mu, np.arange(10), (-4, 4), snapshot=(2, 5))
    full = payload.pack("k", decoder_layers(model), mu, np.arange(10), (-4, 4))
    assert len(half) < 0.55 * len(full)  # the weights are nearly all of it
    header, _ = payload.unpack(half)
    assert header["snapshot"] == {"epoch": 2, "epochs": 5}
    out = run_js(tmp_path, half, zs)
    js = np.array(out["decoded"]).reshape(len(zs), 28, 28)
    np.testing.assert_allclose(js, decode(rebuilt, zs), atol=2e-6)
    assert out["model_id"] == "k@epoch2"


CORNER = """
const fs = require("fs");
const source = fs.readFileSync(process.argv[1], "utf8");
const url = "data:text/javascript;base64," + Buffer.from(source).toString("base64");
const { points, selected } = JSON.parse(process.argv[2]);
import(url).then(({ insetCorner }) => {
  const pixelOf = (i) => points[i];
  const area = { left: 40, top: 10, side: 600 };
  process.stdout.write(JSON.stringify(insetCorner(points.length, pixelOf, area, 204, selected)));
});
"""


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
def test_the_inset_goes_where_it_hides_the_fewest_points_and_never_the_digit(tmp_path):
    source = tmp_path / "latent_view.mjs"
    source.write_text(components.script("latent_view"))
    rng = np.random.default_rng(0)

    def corner(points, selected):
        arg = json.dumps({"points": points, "selected": selected})
        out = subprocess.run(
            [NODE, "-e", CORNER, str(source), arg], capture_output=True, check=True
        )
        return json.loads(out.stdout)

    # Corners at x 46 or 430, y 16 or 400 (box 204). Points crowd the lower left, some the
    # upper left and upper right; the lower right has 3.
    crowd = lambda n, x, y: (rng.uniform(0, 200, (n, 2)) + (x, y)).tolist()  # noqa: E731
    points = crowd(50, 46, 400) + crowd(20, 46, 16) + crowd(10, 430, 16) + crowd(3, 430, 400)
    points.append(None)  # a point of a hidden class
    assert corner(points, [300, 300]) == {"x": 430, "y": 400, "hides": 3}
    # The selected digit sits in that corner: the next emptiest takes the inset.
    assert corner(points, [500, 450]) == {"x": 430, "y": 16, "hides": 10}
    # An empty plane: the corner farthest from the digit, as before.
    assert corner([], [100, 100]) == {"x": 430, "y": 400, "hides": 0}


FILL = """
const fs = require("fs");
const source = fs.readFileSync(process.argv[1], "utf8");
const url = "data:text/javascript;base64," + Buffer.from(source).toString("base64");
const { cases } = JSON.parse(process.argv[2]);
import(url).then(({ fill }) => {
  process.stdout.write(JSON.stringify(cases.map(([template, fields]) => fill(template, fields))));
});
"""


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
@pytest.mark.parametrize("component", ["latent_view", "drawing"])
def test_the_components_fill_the_templates_of_their_words(tmp_path, component):
    from explorer import words

    source = tmp_path / f"{component}.mjs"
    source.write_text(components.script(component))
    digit, image = words.latent_view("digit"), words.latent_view("image")
    cases = [
        [digit["hover"], {"row": 42, "name": "4"}],
        [image["hover"], {"row": 7, "name": "Sneaker"}],
        [digit["chip_title"], {"name": "3"}],
        [digit["training"], {"epoch": 2, "epochs": 20}],
        [digit["inset_title"], {"row": 0}],
        [digit["inset_scale"], {"width": "0.52"}],
        ["{known} and {unknown}", {"known": "a"}],
    ]
    arg = json.dumps({"cases": cases})
    out = subprocess.run([NODE, "-e", FILL, str(source), arg], capture_output=True, check=True)
    # The English page's words, as the view wrote them before they came from the catalog.
    assert json.loads(out.stdout) == [
        "test image #42, a 4",
        "test image #7: Sneaker",
        "3: click to hide or show; double-click to show this digit alone",
        "training: epoch 2 of 20",
        "q(z|x) of #0: μ ± 4σ",
        "ellipses: 1σ, 2σ · width 0.52",
        "a and {unknown}",
    ]


EVAL = """
const fs = require("fs");
const source = fs.readFileSync(process.argv[1], "utf8");
const url = "data:text/javascript;base64," + Buffer.from(source).toString("base64");
import(url).then(({ default: _, ...m }) => {
  const run = new Function(...Object.keys(m), "return (" + process.argv[2] + ");");
  process.stdout.write(JSON.stringify(run(...Object.values(m))));
});
"""


def js_value(tmp_path, expression: str):
    """`expression`'s value, evaluated with the latent view's exports in scope."""
    source = tmp_path / "latent_view.mjs"
    source.write_text(components.script("latent_view"))
    out = subprocess.run(
        [NODE, "-e", EVAL, str(source), expression], capture_output=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
def test_the_side_panel_goes_under_the_plane_when_beside_it_the_plane_would_be_under_400_px(
    tmp_path,
):
    # (the view's width, the window's room below the plane's top) -> layout, the plane's side
    cases = [
        [358, 400],
        [544, 820],
        [511, 507],
        [683, 487],
        [800, 200],
        [1400, 900],
        [250, 600],
        [736, 880],
    ]
    got = js_value(tmp_path, f"{json.dumps(cases)}.map(([w, room]) => planeLayout(w, room))")
    assert got == [
        {"layout": "stacked", "size": 358},  # a phone: the plane the view's whole width
        {"layout": "stacked", "size": 544},  # a tablet: 370 px beside the panel, 544 above it
        {"layout": "stacked", "size": 507},  # a projector beside the sidebar
        {"layout": "row", "size": 487},  # 1280x720: as high as the window leaves room for
        {"layout": "row", "size": 420},  # a short window still gets a plane of 420 px
        {"layout": "row", "size": 900},
        {"layout": "stacked", "size": 250},  # never wider than the view
        # A tall window presenting: 482 px beside the panel, 736 above it.
        {"layout": "stacked", "size": 736},
    ]


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
def test_keys_on_the_plane_move_zoom_select_and_go_back(tmp_path):
    keys = [
        ["ArrowLeft", False],
        ["ArrowUp", True],
        ["+", False],
        ["-", False],
        ["Enter", False],
        ["Escape", False],
        ["a", False],
        ["Tab", False],
    ]
    got = js_value(tmp_path, f"{json.dumps(keys)}.map(([k, s]) => keyAction(k, s))")
    assert got == [
        {"move": [-0.02, 0]},
        {"move": [0, 0.1]},
        {"zoom": pytest.approx(1 / 1.5)},
        {"zoom": 1.5},
        {"select": True},
        {"escape": True},
        None,  # the page's own keys (Tab above all) are left alone
        None,
    ]


MODEL = """{count: 6, x: [0, 0.1, 3, 3.2, -2, 5], y: [0, 0.1, 3, 2.8, -2, 5],
  labels: [0, 0, 1, 1, 2, 2], colours: ['#000000', '#111111', '#222222']}"""


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
def test_nearest_rows_skip_hidden_classes_and_come_nearest_first(tmp_path):
    got = js_value(
        tmp_path,
        f"[nearestRows({MODEL}, new Set(), 2.9, 2.9, 3), nearestRows({MODEL}, new Set([1]),"
        f" 2.9, 2.9, 2), nearestRows({MODEL}, new Set([0, 1, 2]), 0, 0, 2)]",
    )
    assert got == [[2, 3, 5], [5, 1], []]


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
def test_class_names_go_to_the_centre_of_their_points_in_sight(tmp_path):
    # Ten points of class 0 around (1, 1), ten of class 1 around (-1, 2) of which two lie
    # outside the range shown, three of class 2 (too few to name).
    xs = [1 + d for d in (-0.1, 0.1) * 5] + [-1] * 8 + [9, 9] + [0, 0, 0]
    ys = [1] * 10 + [2] * 8 + [9, 9] + [0, 0, 0]
    model = {
        "count": 23,
        "x": xs,
        "y": ys,
        "labels": [0] * 10 + [1] * 10 + [2] * 3,
        "colours": ["#000000"] * 3,
    }
    got = js_value(
        tmp_path,
        f"[classCentres({json.dumps(model)}, new Set(), [-4, 4, -4, 4]),"
        f" classCentres({json.dumps(model)}, new Set([0]), [-4, 10, -4, 10])]",
    )
    assert got[0] == [[0, pytest.approx(1), 1]]  # class 1 has 8 in sight, class 2 three
    # All of class 1 in sight once the range takes in (9, 9); class 0 hidden.
    assert got[1] == [[1, pytest.approx(1.0), pytest.approx(3.4)]]


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the browser tests cover this")
def test_a_model_whose_weights_float16_holds_travels_in_half_the_bytes(tmp_path):
    torch.manual_seed(3)
    model = VAE(VAEConfig(hidden=(128, 128))).eval()
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3)
    shipped = VAE(model.config).eval()  # rounded as training.pack ships a model
    shipped.load_state_dict({k: v.half() for k, v in model.state_dict().items()})
    zs = np.array([[0.0, 0.0], [1.5, -2.0], [-3.2, 0.7]], dtype=np.float32)
    mu = np.zeros((10, 2), np.float32)
    rounded = payload.pack("s", decoder_layers(shipped), mu, np.arange(10), (-4, 4))
    exact = payload.pack("m", decoder_layers(model), mu, np.arange(10), (-4, 4))
    assert len(rounded) < 0.55 * len(exact)
    header, _ = payload.unpack(rounded)
    assert "snapshot" not in header  # a finished model, sent compactly at no cost
    js = np.array(run_js(tmp_path, rounded, zs)["decoded"]).reshape(len(zs), 28, 28)
    np.testing.assert_allclose(js, decode(shipped, zs), atol=2e-6)
