"""The drawing pad's JavaScript, run in Node.js: its encoder against torch (plain, and
conditional on a class), and MNIST's preparation."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch

from explorer import components, payload
from vae_core.inference import encode, encoder_layers
from vae_core.model import VAE, VAEConfig

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None, reason="Node.js is not installed; the browser tests cover the pad"
)

# argv: the module's file, then a JSON job; stdin: the encoder's payload (read at an odd
# offset, as protobuf may hand it over) or, to prepare, JSON [[size, ink], ...]. The pad's
# encoder takes each image's class (job.classes, null for a plain model).
SCRIPT = """
const fs = require("fs");
const source = fs.readFileSync(process.argv[1], "utf8");
const url = "data:text/javascript;base64," + Buffer.from(source).toString("base64");
const job = JSON.parse(process.argv[2]);
import(url).then(({ parsePayload, makeDrawingEncoder, prepare }) => {
  const out = {};
  if (job.images) {
    const input = fs.readFileSync(0);
    const shifted = new Uint8Array(input.length + 1);
    shifted.set(input, 1);
    const { header, layers } = parsePayload(shifted.subarray(1));
    const encode = makeDrawingEncoder(layers);
    out.model_id = header.model_id;
    out.codes = job.images.map((x, i) => encode(Float64Array.from(x), job.classes[i]));
  }
  if (job.prepare) out.prepared = JSON.parse(fs.readFileSync(0, "utf8")).map(([size, ink]) => {
    const p = prepare(Float64Array.from(ink), size);
    return p && Array.from(p);
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def run_js(tmp_path, job: dict, stdin: bytes = b"") -> dict:
    module = tmp_path / "drawing.mjs"
    module.write_text(components.script("drawing"))  # as the page runs it
    result = subprocess.run(
        [NODE, "-e", SCRIPT, str(module), json.dumps(job)],
        input=stdin,
        capture_output=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("hidden", [(512, 512), (64,), (32, 16, 8)])
def test_js_encoder_reads_its_payload_and_matches_torch(tmp_path, hidden):
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=hidden)).eval()
    with torch.no_grad():  # larger weights than at initialisation: ReLUs cut, σ far from 1
        for p in [*model.encoder.parameters(), *model.to_logvar.parameters()]:
            p.mul_(2)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(4, 28, 28)).astype(np.uint8)
    x[0] = 0  # an empty image: the biases alone
    data = payload.pack_encoder("enc-1", encoder_layers(model))
    job = {"images": (x.reshape(4, -1) / 255.0).tolist(), "classes": [None] * 4}
    out = run_js(tmp_path, job, data)
    mu, sigma = encode(model, x)
    assert out["model_id"] == "enc-1"
    assert np.abs(sigma - 1).max() > 0.1  # the test would notice a wrong exp(logvar / 2)
    np.testing.assert_allclose([c["mu"] for c in out["codes"]], mu, atol=1e-4, rtol=0)
    np.testing.assert_allclose([c["sigma"] for c in out["codes"]], sigma, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("classes", [10, 3])
def test_a_conditional_encoder_in_js_reads_the_class_as_torch_does(tmp_path, classes):
    torch.manual_seed(1)
    model = VAE(VAEConfig(hidden=(64, 32), conditional=True, classes=classes)).eval()
    with torch.no_grad():
        for p in [*model.encoder.parameters(), *model.to_logvar.parameters()]:
            p.mul_(2)
        model.encoder[0].weight[:, 784:].mul_(30)  # so that a wrong one-hot shows
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(4, 28, 28)).astype(np.uint8)
    x[-1] = x[0]  # the same pixels read as another class
    labels = [0, 1, classes - 1, classes - 1]
    data = payload.pack_encoder("cvae-1", encoder_layers(model))
    job = {"images": (x.reshape(len(x), -1) / 255.0).tolist(), "classes": labels}
    out = run_js(tmp_path, job, data)
    mu, sigma = encode(model, x, labels)
    assert np.abs(mu[0] - mu[-1]).max() > 0.03  # the class moves the code, far beyond 1e-4
    np.testing.assert_allclose([c["mu"] for c in out["codes"]], mu, atol=1e-4, rtol=0)
    np.testing.assert_allclose([c["sigma"] for c in out["codes"]], sigma, atol=1e-4, rtol=1e-4)
    # A class the model does not have, or none, encodes nothing rather than something wrong.
    bad = {"images": job["images"][:3], "classes": [classes, None, 1.5]}
    assert run_js(tmp_path, bad, data)["codes"] == [None, None, None]


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(x, y) with pixel i's centre at i + 0.5."""
    ys, xs = np.indices(image.shape) + 0.5
    return float((xs * image).sum() / image.sum()), float((ys * image).sum() / image.sum())


def test_prepare_fits_the_ink_in_20x20_and_centres_its_mass_as_mnist_did(tmp_path):
    size = 280
    tall = np.zeros((size, size))
    tall[30:230, 200:260] = 255  # a bar in the corner, 200 tall and 60 wide
    wide = np.zeros((size, size))
    wide[10:50, 20:180] = 255  # 160 wide and 40 tall
    lopsided = np.zeros((size, size))
    lopsided[100:200, 100:110] = 255  # a stem...
    lopsided[100:110, 100:200] = 255  # ...and a heavy bar across its top
    empty = np.zeros((size, size))
    jobs = [[size, a.ravel().tolist()] for a in (tall, wide, lopsided, empty)]
    out = run_js(tmp_path, {"prepare": True}, json.dumps(jobs).encode())["prepared"]
    assert out[3] is None  # no ink, nothing to encode
    for prepared, (height, width) in zip(out[:3], [(20, 6), (5, 20), (20, 20)], strict=True):
        image = np.array(prepared, dtype=np.float64).reshape(28, 28)
        assert image.max() <= 255 and image.min() >= 0
        ys, xs = np.nonzero(image)
        # The longer side fills the 20-pixel box; the aspect ratio is kept.
        assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == (height, width)
        # Whole-pixel shifts put the centre of mass within half a pixel of the centre.
        cx, cy = centre_of_mass(image)
        assert abs(cx - 14) <= 0.5 and abs(cy - 14) <= 0.5, (cx, cy)
    # Area averaging: a full bar stays full inside and its ink is conserved in proportion.
    tall_image = np.array(out[0], dtype=np.float64).reshape(28, 28)
    assert tall_image.max() == 255
    assert tall_image.sum() == pytest.approx(255 * 20 * 6, rel=0.01)
    # The box keeps the drawing's shape: the lopsided one's mass sits in its top rows.
    lop = np.array(out[2], dtype=np.float64).reshape(28, 28)
    ys, _ = np.nonzero(lop)
    assert lop[ys.min() : ys.min() + 2].sum() > 0.4 * lop.sum()
