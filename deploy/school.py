"""A school on one host, for a try: a Dask cluster for the trainings, N replicas of the
explorer behind HAProxy.

    python -m deploy.school [--replicas 2] [--port 8501] [--first-port 8601]
        [--scheduler-port 8786] [--cpu-workers 1] [--gpu-workers 0] [-- LIMITS...]

Starts `dask scheduler` and its `dask worker`s (a GPU worker advertises `--resources GPU=1`
and takes the trainings first) from a folder outside the repository with the repository on
their PYTHONPATH, as on machines of their own (deploy/launch.py starts every process), then
`streamlit run app.py` N times on 127.0.0.1 (ports first-port, first-port + 1, ...), all with
one cookie secret, one model store (VAE_EXPLORER_CACHE, where the class boards live too) and
the scheduler's address (VAE_EXPLORER_SCHEDULER), waits until each answers its health check,
then runs HAProxy in front of them with deploy/haproxy.cfg, its server lines written for these
replicas. What follows `--` goes to every replica (the server's limits: `-- --max-epochs 25`).
Ctrl-C stops everything. On several machines, run the same commands on each (docs/serving.md,
"Serving a school").
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy import launch

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "haproxy.cfg"
READY_TIMEOUT_S = 120.0


def haproxy_config(template: str, port: int, replicas: Sequence[int]) -> str:
    """deploy/haproxy.cfg with its `bind` on `port` and one server line per replica port."""
    lines = []
    for line in template.splitlines():
        words = line.split()
        if words[:1] == ["server"]:
            continue
        if words[:1] == ["bind"]:
            line = f"    bind 127.0.0.1:{port}"
        lines.append(line)
    lines += [
        f"    server replica{i} 127.0.0.1:{p} cookie replica{i}"
        for i, p in enumerate(replicas, start=1)
    ]
    return "\n".join(lines) + "\n"


@dataclass
class School:
    """The processes of a running school: its replicas (each a process group), HAProxy, and
    the Dask cluster that trains for them."""

    url: str  # the proxy's address
    replicas: dict[int, subprocess.Popen]  # port -> process
    proxy: subprocess.Popen
    config: Path
    cluster: launch.Cluster

    @property
    def scheduler(self) -> str:
        """The Dask scheduler's tcp://HOST:PORT."""
        return self.cluster.address

    def stop_replica(self, port: int) -> None:
        launch.stop(self.replicas[port])

    def stop(self) -> None:
        for proc in [self.proxy, *self.replicas.values()]:
            launch.stop(proc)
        self.cluster.stop()
        self.config.unlink(missing_ok=True)


def start(
    ports: Sequence[int],
    port: int = 8501,
    limits: Sequence[str] = (),
    env: dict | None = None,
    log=subprocess.DEVNULL,
    *,
    scheduler_port: int = 8786,
    cpu_workers: int = 1,
    gpu_workers: int = 0,
) -> School:
    """Start the Dask scheduler and its workers, a replica on each of `ports`, wait until each
    is healthy, then HAProxy on `port`; the running school."""
    if launch.haproxy_executable() is None:
        raise SystemExit("No HAProxy: `apt-get install -y haproxy` (Debian), then rerun.")
    environ = {**os.environ, **(env or {})}
    # One cookie secret for every replica, so that what one signs another reads; in the
    # environment rather than on a command line that `ps` shows.
    environ.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
    workers = [("gpu", True)] * gpu_workers + [("cpu", False)] * cpu_workers
    names = {f"{kind}{i}": gpu for i, (kind, gpu) in enumerate(workers, start=1)}
    cluster = launch.start_cluster(scheduler_port, names, environ, log)
    environ["VAE_EXPLORER_SCHEDULER"] = cluster.address
    started: dict[int, subprocess.Popen] = {}
    config = Path(tempfile.mkstemp(prefix="vae-school-", suffix=".cfg")[1])
    try:
        for p in ports:
            started[p] = launch.start_streamlit(p, environ, log, args=limits)
        deadline = time.monotonic() + READY_TIMEOUT_S
        for p, proc in started.items():
            launch.wait_healthy(f"http://127.0.0.1:{p}", proc, deadline, f"the replica on port {p}")
        config.write_text(haproxy_config(CONFIG.read_text(), port, ports))
        proxy = launch.start_haproxy(config, log)
        url = f"http://127.0.0.1:{port}"
        launch.wait_healthy(url, proxy, deadline, "HAProxy")
    except BaseException:
        for proc in started.values():
            launch.stop(proc)
        cluster.stop()
        config.unlink(missing_ok=True)
        raise
    return School(url, started, proxy, config, cluster)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    limits = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m deploy.school", description=__doc__)
    parser.add_argument("--replicas", type=int, default=2, help="explorer servers behind the proxy")
    parser.add_argument("--port", type=int, default=8501, help="the proxy's port: the school's")
    parser.add_argument("--first-port", type=int, default=8601, help="the first replica's port")
    parser.add_argument("--scheduler-port", type=int, default=8786, help="the Dask scheduler's")
    parser.add_argument("--cpu-workers", type=int, default=1, help="Dask workers on the CPU")
    parser.add_argument(
        "--gpu-workers", type=int, default=0, help="Dask workers with the resource GPU=1"
    )
    args = parser.parse_args(own)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    if args.cpu_workers < 0 or args.gpu_workers < 0 or args.cpu_workers + args.gpu_workers < 1:
        parser.error("the school needs at least one worker (--cpu-workers, --gpu-workers)")
    ports = [args.first_port + i for i in range(args.replicas)]
    school = start(
        ports,
        args.port,
        limits,
        log=None,
        scheduler_port=args.scheduler_port,
        cpu_workers=args.cpu_workers,
        gpu_workers=args.gpu_workers,
    )
    print(
        f"The school is at {school.url} ({args.replicas} replicas; trainings on "
        f"{school.scheduler}). Ctrl-C stops it.",
        flush=True,
    )
    try:
        school.proxy.wait()
    except KeyboardInterrupt:
        pass
    finally:
        school.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
