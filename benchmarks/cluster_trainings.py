"""Trainings per hour on a school's Dask cluster with 1 and 2 workers, side by side in one run.

    python -m benchmarks.cluster_trainings [--workers 1,2] [--trainings 6] [--epochs 1]
        [--width 64] [--out FILE]

For each worker count: a `dask scheduler` and that many `dask worker`s as the school starts them
(deploy/launch.py: from a folder outside the repository, the repository on their PYTHONPATH;
`--nthreads 1`: one training each, its torch threads sharing the host's cores), one replica's
training line on it (training.cluster), and `--trainings` distinct models (seeds) of the bundled
MNIST asked for at once, as a class asking for its own seeds does. Reported: the wall time from
the requests to the last model in the store, trainings per hour, and each training's mean time
from request to model. On one host the workers share its cores, so a second worker helps only
as far as one training leaves cores idle (its start, data loading, test evaluation); on several
machines each worker brings its own.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from benchmarks.harness import report
from deploy import launch
from training.cluster import cluster_queue
from training.job import DONE
from training.limits import Limits
from training.request import TrainConfig
from vae_core.model import VAEConfig


def run(workers: int, trainings: int, epochs: int, width: int) -> dict:
    from distributed import Client

    with tempfile.TemporaryDirectory(prefix="vae-cluster-bench-") as store:
        cluster = launch.start_cluster(
            launch.free_port(), {f"cpu{i}": False for i in range(1, workers + 1)}
        )
        address = cluster.address
        client = Client(address, timeout=30, set_as_default=False)
        try:
            client.wait_for_workers(workers, timeout=60)
            line = cluster_queue(
                Limits(max_pending=trainings), address, client=client, cache_dir=store,
                tick_every=None,
            )  # fmt: skip
            model = VAEConfig(hidden=(width, width))
            asked = time.monotonic()
            jobs = [
                line.submit(model, TrainConfig(epochs=epochs, seed=100 + i), waiter="bench")
                for i in range(trainings)
            ]
            ready = []
            for job in jobs:
                job.wait(3600)
                if job.state != DONE:
                    raise SystemExit(f"a training failed: {job.error}")
                ready.append(time.monotonic() - asked)
            wall = max(ready)
        finally:
            client.close()
            cluster.stop()
    return {
        "workers": workers,
        "trainings": trainings,
        "wall_s": round(wall, 1),
        "per_hour": round(3600 * trainings / wall, 1),
        "mean_ready_s": round(sum(ready) / len(ready), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cluster_trainings", description=__doc__
    )
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--trainings", type=int, default=6, help="models asked for at once")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--width", type=int, default=64, help="hidden width of both layers")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    results = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "settings": {"trainings": args.trainings, "epochs": args.epochs, "width": args.width},
        "runs": [
            run(int(w), args.trainings, args.epochs, args.width) for w in args.workers.split(",")
        ],
    }
    rows = [
        [r["workers"], r["trainings"], r["wall_s"], r["per_hour"], r["mean_ready_s"]]
        for r in results["runs"]
    ]
    header = ["workers", "trainings", "wall (s)", "per hour", "mean to ready (s)"]
    return report(results, header, rows, right=range(5), out=args.out)


if __name__ == "__main__":
    raise SystemExit(main())
