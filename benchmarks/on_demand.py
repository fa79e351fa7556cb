"""The wait a user feels: a new model asked for on the page, explored as it trains, then shown.

    python -m benchmarks.on_demand [--watchers 1,8] [--beta 4] [--out FILE]

For each count of watching pages, a fresh `streamlit run app.py` with an empty model cache. The
first page sets the sidebar's β (the other settings left at their defaults) and presses "Load
or train"; the other pages open that model's link as soon as it is asked for, so they wait
for the same training. Timed from the press, on the first page: the plane showing the first
training snapshot (the latent view's `data-model-id` names a snapshot, `<key>@epoch<k>`), and
the finished model (its id, the cache key). While it trains: the server process's CPU (its
worker apart, which is the training itself) per second, and the bytes each page received over
its WebSocket per minute. The browsers run on the same cores as the server.
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

from benchmarks.harness import VIEWPORT, cpu_of, report, serving, verdict
from benchmarks.latent_page import LV_JS, VIEW
from deploy import launch
from training import DEFAULT_TRAIN_CONFIG
from vae_core.model import VAEConfig

TARGETS = {"first_snapshot_s": 15.0}


async def open_page(chromium, url: str):
    """A page of its own, counting the bytes its WebSocket receives."""
    context = await chromium.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    received = {"bytes": 0}

    def on_socket(socket):
        socket.on(
            "framereceived",
            lambda frame: received.__setitem__(
                "bytes", received["bytes"] + len(frame if isinstance(frame, (bytes, str)) else b"")
            ),
        )

    page.on("websocket", on_socket)
    await page.goto(url)
    await page.locator(f"{VIEW}[data-model-id][data-area]").wait_for(timeout=120_000)
    return page, received


async def model_id(page) -> str:
    return await page.evaluate(f"() => {LV_JS}?.dataset.modelId || ''")


async def ask_for_beta(page, beta: float) -> None:
    """Move the sidebar's β slider to `beta` with the arrow keys, then press Load or train."""
    slider = page.locator(".st-key-beta input[type=range]")
    for _ in range(20):
        now = float(await slider.get_attribute("aria-valuetext") or "nan")
        if now == beta:
            break
        await slider.press("ArrowRight" if now < beta else "ArrowLeft")
    else:
        raise RuntimeError(f"the β slider did not reach {beta}")
    await page.get_by_role("button", name="Load or train").click()


async def one_run(chromium, watchers: int, beta: float, cache: Path) -> dict:
    env = {"VAE_EXPLORER_CACHE": str(cache)}
    with serving(env) as server:
        first, first_bytes = await open_page(chromium, server.url)
        default_id = await model_id(first)
        pressed = time.perf_counter()
        await ask_for_beta(first, beta)
        others = [
            await open_page(chromium, f"{server.url}/?beta={beta:g}") for _ in range(watchers - 1)
        ]
        pages = [(first, first_bytes), *others]
        counted = {id(p): r["bytes"] for p, r in pages}
        cpu0, t0 = cpu_of([server.pid]), time.perf_counter()
        snapshot_at = finished_at = None
        ids_seen: list[str] = []
        deadline = pressed + 900
        while finished_at is None and time.perf_counter() < deadline:
            shown = await model_id(first)
            if shown and (not ids_seen or ids_seen[-1] != shown):
                ids_seen.append(shown)
            if "@epoch" in shown and snapshot_at is None:
                snapshot_at = time.perf_counter() - pressed
                # Bytes and CPU are counted from the first snapshot to the finished model.
                counted = {id(p): r["bytes"] for p, r in pages}
                cpu0, t0 = cpu_of([server.pid]), time.perf_counter()
            elif shown and shown != default_id and "@" not in shown:
                finished_at = time.perf_counter() - pressed
            await asyncio.sleep(0.1)
        if finished_at is None:
            raise RuntimeError("the model never finished within 15 minutes")
        seconds = time.perf_counter() - t0
        cpu = (cpu_of([server.pid]) - cpu0) / seconds
        per_minute = [60 * (r["bytes"] - counted[id(p)]) / seconds for p, r in pages]
        others_ids = [await model_id(p) for p, _ in others]
        for page, _ in pages:
            await page.context.close()
    return {
        "watchers": watchers,
        "first_snapshot_s": snapshot_at,
        "finished_s": finished_at,
        "snapshots_shown": sum("@epoch" in i for i in ids_seen),
        "server_cpu_share": cpu,
        "bytes_per_page_minute": per_minute,
        "others_show_the_same": all(i == ids_seen[-1] for i in others_ids),
    }


async def measure(args) -> list[dict]:
    results = []
    async with async_playwright() as p:
        chromium = await launch.chromium(p)
        for watchers in args.watchers:
            print(f"{watchers} watching page(s)…", file=sys.stderr, flush=True)
            with tempfile.TemporaryDirectory() as cache:
                results.append(await one_run(chromium, watchers, args.beta, Path(cache)))
        await chromium.close()
    return results


HEADER = (
    "watching pages",
    "first snapshot on the page",
    "finished model shown",
    "snapshots shown",
    "server process CPU while it trains",
    "received per page per minute",
)


def row(r: dict) -> tuple:
    mb = [b / 1e6 for b in r["bytes_per_page_minute"]]
    return (
        r["watchers"],
        f"{r['first_snapshot_s']:.1f} s",
        f"{r['finished_s']:.1f} s",
        r["snapshots_shown"],
        f"{r['server_cpu_share']:.0%} of a core",
        f"{min(mb):.2f}–{max(mb):.2f} MB",
    )


def notes(results: list[dict]) -> list[str]:
    worst = max(r["first_snapshot_s"] for r in results)
    target = TARGETS["first_snapshot_s"]
    return [
        f"- First snapshot within {target:.0f} s of the press: {verdict(worst, target)} "
        f"(slowest {worst:.1f} s)",
        f"- Every page shows what the first shows: "
        f"{all(r['others_show_the_same'] for r in results)}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.on_demand", description=__doc__)
    parser.add_argument(
        "--watchers",
        type=lambda s: [int(v) for v in s.split(",")],
        default=[1, 8],
        help="counts of pages watching the training, one run each (default: 1,8)",
    )
    parser.add_argument("--beta", type=float, default=4.0, help="the β asked for (default: 4)")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    results = asyncio.run(measure(args))
    title = (
        f"A new model on demand: β = {args.beta:g}, width {VAEConfig().hidden[0]}, "
        f"{DEFAULT_TRAIN_CONFIG.epochs} epochs ({platform.node()}, {platform.machine()})"
    )
    rows = [row(r) for r in results]
    return report(results, HEADER, rows, notes(results), title=title, right=range(6), out=args.out)


if __name__ == "__main__":
    sys.exit(main())
