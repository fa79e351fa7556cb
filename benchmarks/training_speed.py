"""Time to a test negative ELBO: this project's training loop against a reference loop.

    python -m benchmarks.training_speed

The reference is pytorch/examples' VAE set-up with a 2-D latent: a 784-400-2 MLP, batch 128,
Adam at 1e-3, torchvision's MNIST dataset and DataLoader (a PIL image and a ToTensor per digit).
Both run in this one invocation, on the same machine. Each epoch's test negative ELBO is the
mean over the 10k test digits with one draw of z each (an unbiased estimate; its standard error
is about 0.1 nats). The reference's seconds count its training steps only; ours are wall-clock
seconds from the call, data loading and each epoch's test evaluation included.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from training import TrainConfig, train
from vae_core.data import BUNDLED_MNIST, load_split, to_tensor
from vae_core.model import VAEConfig, bernoulli_log_likelihood, gaussian_kl


class ReferenceVAE(nn.Module):
    """pytorch/examples' vae/main.py, with a 2-D latent."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 2), nn.Linear(400, 2)
        self.fc3, self.fc4 = nn.Linear(2, 400), nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def decoder(self, z):  # logits
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.decoder(z)), mu, logvar


@torch.no_grad()
def test_neg_elbo(encode, decoder, x: torch.Tensor) -> float:
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    for i in range(0, len(x), 2500):
        xb = x[i : i + 2500]
        mu, logvar = encode(xb)
        eps = torch.randn(mu.shape, generator=generator)
        rec = -bernoulli_log_likelihood(decoder(mu + eps * torch.exp(0.5 * logvar)), xb)
        total += (rec + gaussian_kl(mu, logvar)).sum().item()
    return total / len(x)


def reference(
    x_test: torch.Tensor, targets: list[float], max_epochs: int
) -> list[tuple[int, float, float]]:
    from torchvision import datasets, transforms

    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for gz in BUNDLED_MNIST.glob("*.gz"):
            with gzip.open(gz) as src, open(raw / gz.stem, "wb") as dst:
                shutil.copyfileobj(src, dst)
        dataset = datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor())
        loader = torch.utils.data.DataLoader(dataset, batch_size=128, shuffle=True)
        torch.manual_seed(0)
        model = ReferenceVAE()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        rows, seconds = [], 0.0
        for epoch in range(1, max_epochs + 1):
            start = time.perf_counter()
            model.train()
            for data, _ in loader:
                optimizer.zero_grad()
                recon, mu, logvar = model(data)
                bce = F.binary_cross_entropy(recon, data.view(-1, 784), reduction="sum")
                kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
                (bce + kld).backward()
                optimizer.step()
            seconds += time.perf_counter() - start
            model.eval()
            score = test_neg_elbo(model.encode, model.decoder, x_test)
            rows.append((epoch, seconds, score))
            print(
                f"  reference epoch {epoch:>2}: {seconds:6.1f} s, test -ELBO {score:.2f}",
                flush=True,
            )
            if score <= min(targets):
                break
        return rows


def ours(epochs: int) -> list[tuple[int, float, float]]:
    """Our loop with the app's settings (width 512, batch 128, peak rate 2e-3), timed on the wall
    clock from the call: loading the data and the test evaluation after each epoch count too."""
    rows = []
    start = time.perf_counter()

    def on_epoch(r):
        rows.append((r.epoch, time.perf_counter() - start, r.test_neg_elbo))
        print(
            f"  ours      epoch {r.epoch:>2}: {rows[-1][1]:6.1f} s, test -ELBO {r.test_neg_elbo:.2f}",
            flush=True,
        )

    train(VAEConfig(), TrainConfig(epochs=epochs), on_epoch=on_epoch)
    return rows


def first_reaching(rows, target: float) -> float | None:
    return next((seconds for _, seconds, score in rows if score <= target), None)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.training_speed", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "--epochs", type=int, default=7, help="epochs of our one-cycle run (default: %(default)s)"
    )
    p.add_argument("--reference-max-epochs", type=int, default=25, help="(default: %(default)s)")
    args = p.parse_args(argv)
    x_test = to_tensor(load_split(None, "test").images)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("reference (pytorch/examples set-up):")
    ref = reference(x_test, [154.0], args.reference_max_epochs)
    print(f"ours (default model config, {args.epochs}-epoch schedule):")
    mine = ours(args.epochs)
    for target in (154.0, 145.0):
        a, b = first_reaching(ref, target), first_reaching(mine, target)
        fa = f"{a:.1f} s" if a is not None else "not reached"
        fb = f"{b:.1f} s" if b is not None else "not reached"
        ratio = f", {a / b:.1f}x faster" if a is not None and b is not None else ""
        print(f"to {target:.0f} nats: reference {fa}, ours {fb}{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
