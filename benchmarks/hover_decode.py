"""What a hover costs the browser, and what a model's view costs the wire, per shipped model.

    python -m benchmarks.hover_decode [--decodes 3000]

For the shipped default and each model of the lesson pack: the latent view's payload in bytes
(the decoder's weights, the codes and labels) and the time of one decode of z into 28x28, in
Node.js (V8, the engine of Chromium) with the page's own JavaScript decoder, over a path of z
across the plane. A hover decodes once per animation frame, so one decode must stay well
inside a frame: the target is 1 ms.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks.harness import progress, report
from explorer import components, payload
from vae_core import encode, load_checkpoint, load_split
from vae_core.checkpoint import DEFAULT_CHECKPOINT, PACK_DIR
from vae_core.inference import decoder_layers

# Decodes a path of z's (warm-up first, as a page's first hovers are), then times the rest.
SCRIPT = """
const fs = require("fs");
const source = fs.readFileSync(process.argv[1], "utf8");
const url = "data:text/javascript;base64," + Buffer.from(source).toString("base64");
const input = fs.readFileSync(0);
const n = Number(process.argv[2]);
import(url).then(({ parsePayload, makeDecoder }) => {
  const { layers } = parsePayload(new Uint8Array(input));
  const decode = makeDecoder(layers);
  const z = (i) => [3 * Math.sin(i * 0.37), 3 * Math.cos(i * 0.23)];
  for (let i = 0; i < 500; i++) decode(...z(i), 0);
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    decode(...z(i), 0);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    median: times[Math.floor(n / 2)], p95: times[Math.floor(n * 0.95)],
  }));
});
"""


def time_decodes(data: bytes, decodes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "latent_view.mjs"
        source.write_text(components.script("latent_view"))
        result = subprocess.run(
            [shutil.which("node"), "-e", SCRIPT, str(source), str(decodes)],
            input=data,
            capture_output=True,
            check=True,
        )
    return json.loads(result.stdout)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.hover_decode", description=__doc__.split("\n")[0]
    )
    p.add_argument("--decodes", type=int, default=3000, help="timed decodes (default: %(default)s)")
    args = p.parse_args(argv)
    if shutil.which("node") is None:
        p.error("needs Node.js (apt-get install -y nodejs)")
    test = load_split(None, "test")
    rows = []
    for path in [DEFAULT_CHECKPOINT, *sorted(PACK_DIR.glob("*.pt"))]:
        model, checkpoint = load_checkpoint(path)
        labels = test.labels if model.config.conditional else None
        mu = encode(model, test.images, labels)[0]
        data = payload.pack(path.stem, decoder_layers(model), mu, test.labels, (-4.0, 4.0))
        times = time_decodes(data, args.decodes)
        config = checkpoint["config"]
        name = f"hidden {config['hidden']}, β = {config['beta']:g}" + (
            ", conditional" if config.get("conditional") else ""
        )
        progress(f"{name}: {times['median']:.3f} ms")
        rows.append(
            (
                name,
                f"{len(data) / 1e6:.2f} MB",
                f"{times['median']:.3f} ms",
                f"{times['p95']:.3f} ms",
            )
        )
    return report(
        {"rows": rows, "node": node_version()},
        ("model", "payload", "decode, median", "decode, 95th percentile"),
        rows,
        [
            f"Node.js {node_version()}, {args.decodes} decodes a model along a path across the plane."
        ],
        title="A hover's decode and a model's payload",
    )


def node_version() -> str:
    return subprocess.run(
        [shutil.which("node"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
