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
    full = payload.pack("k@epoch2", layers, mu, np.arange(10), (-4, 4))
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
