"""The pad's JavaScript decoder against the torch decoder, run in Node.js on the same weights."""

import base64
import json
import shutil
import subprocess

import numpy as np
import pytest
import torch

from explorer import pad
from explorer.figures import DIGIT_COLOURS
from vae_core.inference import decode, decoder_layers
from vae_core.model import VAE, VAEConfig

NODE = shutil.which("node")

SCRIPT = """
const source = require("fs").readFileSync(process.argv[1], "utf8");
const url = "data:text/javascript;base64," + Buffer.from(source).toString("base64");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
import(url).then(({ parseLayers, makeDecoder }) => {
  const decode = makeDecoder(parseLayers(input.layers));
  const out = input.zs.map(([a, b]) => Array.from(decode(a, b)));
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.mark.skipif(
    NODE is None, reason="Node.js is not installed; the browser test covers this too"
)
@pytest.mark.parametrize("hidden", [(512, 512), (64,), (32, 16, 8)])
def test_js_decoder_matches_torch(hidden):
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=hidden)).eval()
    # Larger weights than at initialisation, so the sigmoid is away from 0.5 and ReLUs cut.
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3)
    zs = np.array([[0.0, 0.0], [1.5, -2.0], [-3.2, 0.7], [2.9, 2.9]], dtype=np.float32)
    data = pad.payload("m", decoder_layers(model), zs, np.zeros(4, np.uint8), (-4, 4))
    result = subprocess.run(
        [NODE, "-e", SCRIPT, str(pad.HERE / "latent_pad.js")],
        input=json.dumps({"layers": data["layers"], "zs": zs.tolist()}),
        capture_output=True,
        text=True,
        check=True,
    )
    js = np.array(json.loads(result.stdout)).reshape(len(zs), 28, 28)
    expected = decode(model, zs)
    assert np.abs(expected - 0.5).max() > 0.3  # the test would notice a wrong sigmoid
    np.testing.assert_allclose(js, expected, atol=2e-5)


def test_payload_carries_exact_float32_weights():
    model = VAE(VAEConfig(hidden=(16,)))
    layers = decoder_layers(model)
    data = pad.payload("id", layers, np.zeros((3, 2), np.float32), np.arange(3), (-3.0, 3.0))
    assert [(layer["in"], layer["out"]) for layer in data["layers"]] == [(2, 16), (16, 784)]
    w = np.frombuffer(base64.b64decode(data["layers"][1]["w"]), dtype=np.float32).reshape(784, 16)
    np.testing.assert_array_equal(w, model.decoder[2].weight.detach().numpy())
    assert data["range"] == [-3.0, 3.0] and data["model_id"] == "id"
    assert data["colours"] == DIGIT_COLOURS and len(DIGIT_COLOURS) == 10
    json.dumps(data)  # JSON-ready, as the component needs
