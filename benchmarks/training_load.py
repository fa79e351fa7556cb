"""Does a training starve the page? Slider latency with and without one, and training speed.

    python -m benchmarks.training_load [--bursts 40] [--epochs 6] [--width 512] [--out FILE]

One Chromium session steps the z1 slider (one key press, then a pause, as a student does) and
times each press to the server-confirmed z (benchmarks.stepping's Session). Phases, in one
run on one server: steps with no training; the same model trained by the CLI
(`python -m training --output`) alone; steps for as long as the server trains that model in its
worker process, asked for by a second page's link; steps for as long as the CLI trains it
again; steps with no training again. The browsers run on the same cores, as the CLI's second
run shows. Targets (issue 9): the slider's p50 while the server trains within 1.5x of the p50
without (both idle phases pooled); the training's own time within 1.3x of the CLI's
(`train_seconds`, the loop's time from its first step to the last epoch's evaluation, in both
checkpoints).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright

from benchmarks.harness import (
    VIEWPORT,
    client_cpu_seconds,
    cpu_of,
    percentile,
    report,
    serving,
    verdict,
)
from benchmarks.stepping import Session
from deploy import launch
from vae_core.checkpoint import load_checkpoint

TARGETS = {"latency_ratio": 1.5, "training_ratio": 1.3}
SEED = 7  # the model the benchmark trains: not the shipped one, never cached beforehand


async def slider_phase(
    session: Session, pid: int, pause: float, bursts: int | None = None, until=None
) -> dict:
    """Single key presses, each waiting for its confirmation, then a pause: `bursts` of them,
    or as many as fit until the awaitable `until` is done."""
    first = len(session.bursts)
    # The server's own process: the worker is a child, counted apart as what it is.
    cpu0, client0, start = cpu_of([pid]), client_cpu_seconds(pid), time.perf_counter()
    count = 0
    while (until is None and count < bursts) or (until is not None and not until.done()):
        await session.burst(1, 0.0)
        await asyncio.sleep(pause)
        count += 1
    elapsed = time.perf_counter() - start
    done = session.bursts[first:]
    latencies = [b.latency_ms for b in done if b.latency_ms is not None]
    return {
        "presses": len(done),
        "confirmed": len(latencies),
        "latency_ms": latencies,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "max_ms": max(latencies) if latencies else None,
        "server_cpu_share": (cpu_of([pid]) - cpu0) / elapsed,
        "browser_cpu_share": (client_cpu_seconds(pid) - client0) / elapsed,
        "seconds": elapsed,
    }


async def cli_training(args, out: Path) -> dict:
    """`python -m training --output` for the same model; its loop's time and epochs."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "training",
        "--hidden",
        str(args.width),
        str(args.width),
        "--epochs",
        str(args.epochs),
        "--seed",
        str(SEED),
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
    )
    if await process.wait() != 0:
        raise RuntimeError("the CLI's training failed")
    metrics = load_checkpoint(out)[1]["metrics"]
    return {
        "wall_s": time.perf_counter() - started,
        "train_seconds": metrics["train_seconds"],
        "epoch_seconds": epoch_seconds(metrics),
    }


def epoch_seconds(metrics: dict) -> list[float]:
    ends = [0.0] + [h["seconds"] for h in metrics["history"]]
    return [round(b - a, 2) for a, b in zip(ends, ends[1:], strict=False)]


async def sidebar_says(page, text: str, timeout_s: float) -> None:
    await (
        page.locator("[data-testid=stSidebar]")
        .get_by_text(text)
        .first.wait_for(timeout=timeout_s * 1000)
    )


async def measure(args, cache: Path) -> dict:
    env = {"VAE_EXPLORER_CACHE": str(cache), "VAE_EXPLORER_MAX_TRAININGS": "1"}
    results: dict = {"width": args.width, "epochs": args.epochs}
    pause = args.pause_ms / 1000
    with serving(env) as server:
        async with async_playwright() as p:
            chromium = await launch.chromium(p)
            stepper, _ = await Session.open(chromium, server.url, "app")
            context = await chromium.new_context(viewport=VIEWPORT)
            requester = await context.new_page()

            def phase(name: str) -> None:
                print(f"phase: {name}", file=sys.stderr, flush=True)

            phase("slider steps, no training")
            results["idle_before"] = await slider_phase(stepper, server.pid, pause, args.bursts)

            phase("the CLI trains alone")
            results["cli_alone"] = await cli_training(args, cache / "cli" / "alone.pt")

            phase("slider steps while the server trains, asked for by a second page")
            asked = time.perf_counter()
            await requester.goto(
                f"{server.url}/?width={args.width}&epochs={args.epochs}&seed={SEED}"
            )
            await sidebar_says(requester, "Training MNIST VAE, hidden", 120)
            results["request_to_first_step_s"] = time.perf_counter() - asked
            shown = f"Showing: 2-D latent, MNIST VAE, hidden [{args.width}, {args.width}], β = 1, "
            ready = asyncio.ensure_future(
                sidebar_says(requester, f"{shown}{args.epochs} epochs, seed {SEED}", 900)
            )
            results["training"] = await slider_phase(stepper, server.pid, pause, until=ready)
            await ready
            results["request_to_shown_s"] = time.perf_counter() - asked

            phase("slider steps while the CLI trains")
            cli = asyncio.ensure_future(cli_training(args, cache / "cli" / "beside.pt"))
            results["cli_phase"] = await slider_phase(stepper, server.pid, pause, until=cli)
            results["cli_beside_pages"] = await cli

            phase("slider steps, no training, again")
            results["idle_after"] = await slider_phase(stepper, server.pid, pause, args.bursts)
            await chromium.close()
    served = list(cache.glob("*.pt"))
    assert len(served) == 1, f"expected one trained model in {cache}, found {served}"
    served_metrics = load_checkpoint(served[0])[1]["metrics"]
    results["server"] = {
        "train_seconds": served_metrics["train_seconds"],
        "epoch_seconds": epoch_seconds(served_metrics),
    }
    idle = results["idle_before"]["latency_ms"] + results["idle_after"]["latency_ms"]
    results["idle_p50_ms"] = percentile(idle, 50)
    results["latency_ratio"] = results["training"]["p50_ms"] / results["idle_p50_ms"]
    server_s = results["server"]["train_seconds"]
    results["training_ratio"] = server_s / results["cli_alone"]["train_seconds"]
    results["training_ratio_same_pages"] = server_s / results["cli_beside_pages"]["train_seconds"]
    return results


def rows_and_notes(r: dict) -> tuple[list[tuple], list[str]]:
    rows = []
    for name, key in (
        ("no training", "idle_before"),
        ("the server trains", "training"),
        ("the CLI trains", "cli_phase"),
        ("no training, again", "idle_after"),
    ):
        phase = r[key]
        rows.append(
            (
                name,
                phase["presses"],
                f"{phase['p50_ms']:.0f} ms",
                f"{phase['p95_ms']:.0f} ms",
                f"{phase['max_ms']:.0f} ms",
                f"{phase['server_cpu_share']:.0%} of a core",
                f"{phase['browser_cpu_share']:.0%}",
            )
        )
    lr, tr = r["latency_ratio"], r["training_ratio"]
    server, alone, beside = r["server"], r["cli_alone"], r["cli_beside_pages"]
    return rows, [
        f"- Slider p50 while the server trains / without training: {lr:.2f}x "
        f"(target <= {TARGETS['latency_ratio']}x: {verdict(lr, TARGETS['latency_ratio'])})",
        f"- Training's own time, the server's worker / the CLI alone: {server['train_seconds']:.1f}"
        f" s / {alone['train_seconds']:.1f} s = {tr:.2f}x "
        f"(target <= {TARGETS['training_ratio']}x: {verdict(tr, TARGETS['training_ratio'])})",
        f"- The same, against the CLI while the same slider steps run: "
        f"{server['train_seconds']:.1f} s / {beside['train_seconds']:.1f} s = "
        f"{r['training_ratio_same_pages']:.2f}x",
        f"- Seconds per epoch: server's worker {server['epoch_seconds']}; CLI alone "
        f"{alone['epoch_seconds']}; CLI beside the pages {beside['epoch_seconds']}",
        f"- Request to first step {r['request_to_first_step_s']:.1f} s; request to the model "
        f"shown {r['request_to_shown_s']:.1f} s (the CLI alone, start to exit: "
        f"{alone['wall_s']:.1f} s)",
    ]


HEADER = ("Phase", "presses", "slider p50", "p95", "max", "server process CPU", "browsers' CPU")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.training_load", description=__doc__)
    parser.add_argument(
        "--bursts", type=int, default=40, help="key presses per phase without training"
    )
    parser.add_argument("--pause-ms", type=float, default=300.0, help="pause after each press")
    parser.add_argument("--epochs", type=int, default=6, help="epochs of the model trained")
    parser.add_argument("--width", type=int, default=512, help="its hidden width")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        results = asyncio.run(measure(args, Path(cache)))
    rows, notes = rows_and_notes(results)
    title = (
        f"Training beside the page (width {results['width']}, {results['epochs']} epochs; "
        f"{platform.node()}, {platform.machine()})"
    )
    return report(results, HEADER, rows, notes, title=title, right=range(1, 7), out=args.out)


if __name__ == "__main__":
    sys.exit(main())
