"""Every process the project starts, started one way: `streamlit run` (the explorer, or a
benchmark's page), the Dask scheduler and its workers, HAProxy, and headless Chromium through
Playwright. The school (deploy/school.py), the tests, the benchmarks and the screenshots all
start theirs here.

Each process leads a process group of its own (`start_new_session`), so that `stop()` ends it
with whatever it started. A Dask process runs from a folder outside the repository, with the
repository on its PYTHONPATH, as on a machine of its own (docs/serving.md): since the
scheduler unpickles the task graphs, it needs the task's module as much as the workers do.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HEALTH_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether Streamlit (or HAProxy in front of it) answers its health check at url."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def wait_healthy(url: str, proc: subprocess.Popen, deadline: float, what: str) -> None:
    """Until url answers its health check; an error naming `what` if proc ends first or
    time.monotonic() passes deadline."""
    while not healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up at {url}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    """End a process started here and everything it started: SIGTERM to its group, then
    SIGKILL to what is left after 10 s."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _start(command: list[str], env: Mapping[str, str], log, cwd: Path, **options):
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **options,
    )


# ---------------------------------------------------------------- streamlit run


def streamlit_command(
    port: int, script: str | Path = "app.py", args: Sequence[str] = (), headless: bool = True
) -> list[str]:
    """`streamlit run <script>` on 127.0.0.1:port, no file watcher, no usage statistics; what
    follows `--` is `args`. headless=False leaves `server.headless` to Streamlit (a display
    makes it open a browser), as a person's `streamlit run app.py` does."""
    command = [sys.executable, "-m", "streamlit", "run", str(REPO / script),
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]  # fmt: skip
    if headless:
        command += ["--server.headless", "true"]
    return [*command, "--", *args] if args else command


def start_streamlit(
    port: int,
    env: Mapping[str, str] | None = None,
    log=subprocess.DEVNULL,
    *,
    script: str | Path = "app.py",
    args: Sequence[str] = (),
    headless: bool = True,
    stdin=subprocess.DEVNULL,
) -> subprocess.Popen:
    """Start `streamlit run` from the repository (where its .streamlit/config.toml is read);
    the process, not waiting for it to answer."""
    command = streamlit_command(port, script, args, headless)
    return _start(command, {**os.environ, **(env or {})}, log, REPO, stdin=stdin)


@dataclass
class Server:
    """A running `streamlit run`: where it answers, its process, and its log so far."""

    url: str
    pid: int  # the server's Python process (a session leader: its own process group)
    healthy_seconds: float  # process start to the health check's first answer
    healthy_at: float  # time.perf_counter() at that answer
    _log: IO[bytes]

    def log_text(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")


@contextmanager
def streamlit_process(
    env: Mapping[str, str] | None = None,
    timeout: float = HEALTH_TIMEOUT_S,
    script: str | Path = "app.py",
) -> Iterator[Server]:
    """`streamlit run <script>` (relative to the repository) on a free loopback port, from its
    start until it answers its health check, to its stop."""
    port = free_port()
    log = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = start_streamlit(port, env, log, script=script)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(url, proc, time.monotonic() + timeout, f"streamlit run {script}")
        except RuntimeError as exc:
            log.seek(0)
            raise RuntimeError(f"{exc}:\n{log.read().decode()[-3000:]}") from None
        healthy_at = time.perf_counter()
        yield Server(url, proc.pid, healthy_at - start, healthy_at, log)
    finally:
        stop(proc)
        log.close()


@contextmanager
def streamlit_server(env: Mapping[str, str] | None = None, timeout: float = HEALTH_TIMEOUT_S):
    """`streamlit run app.py` on a free loopback port; (its url, seconds to healthy)."""
    with streamlit_process(env, timeout) as server:
        yield server.url, server.healthy_seconds


# ---------------------------------------------------------------- Dask


def dask_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ and env, the repository first on PYTHONPATH: what every Dask process needs
    to import the training task (training.cluster)."""
    environ = {**os.environ, **(env or {})}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environ.get("PYTHONPATH")]))
    return environ


def scheduler_command(port: int) -> list[str]:
    return [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
            "--no-dashboard"]  # fmt: skip


def worker_command(address: str, name: str, gpu: bool, nanny: bool = True) -> list[str]:
    """One training at a time (`--nthreads 1`): its torch threads take the host's cores. A GPU
    worker advertises `--resources GPU=1`, which the trainings ask for first."""
    command = [sys.executable, "-m", "dask", "worker", address, "--name", name, "--nthreads", "1",
               "--host", "127.0.0.1", "--no-dashboard"]  # fmt: skip
    if not nanny:
        command.append("--no-nanny")
    return [*command, "--resources", "GPU=1"] if gpu else command


@dataclass
class Cluster:
    """A running Dask cluster on 127.0.0.1: its scheduler and named workers, each a process
    group, all run from `folder` (outside the repository)."""

    address: str  # the scheduler's tcp://HOST:PORT
    scheduler: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    folder: Path | None = None

    def processes(self) -> list[subprocess.Popen]:
        """The scheduler, then its workers."""
        return [self.scheduler, *self.workers.values()]

    def stop(self) -> None:
        for proc in reversed(self.processes()):
            stop(proc)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(
    port: int,
    workers: Mapping[str, bool],
    env: Mapping[str, str] | None = None,
    log=subprocess.DEVNULL,
    *,
    nanny: bool = True,
) -> Cluster:
    """`dask scheduler` on 127.0.0.1:port and a `dask worker` for each name in `workers` (the
    value: whether it is a GPU worker), not waiting for them; the clients wait for workers."""
    environ = dask_environment(env)
    folder = Path(tempfile.mkdtemp(prefix="vae-dask-"))
    cluster = Cluster(
        f"tcp://127.0.0.1:{port}", _start(scheduler_command(port), environ, log, folder), {}, folder
    )
    try:
        for name, gpu in workers.items():
            command = worker_command(cluster.address, name, gpu, nanny)
            cluster.workers[name] = _start(command, environ, log, folder)
    except BaseException:
        cluster.stop()
        raise
    return cluster


# ---------------------------------------------------------------- HAProxy and Chromium


def haproxy_executable() -> str | None:
    """HAProxy's path (on PATH, or Debian's /usr/sbin, off a user's PATH), or None."""
    found = shutil.which("haproxy")
    if found is None and Path("/usr/sbin/haproxy").exists():
        found = "/usr/sbin/haproxy"
    return found


def start_haproxy(config: Path, log=subprocess.DEVNULL) -> subprocess.Popen:
    """HAProxy in the foreground (`-db`) on `config`; the process."""
    haproxy = haproxy_executable()
    if haproxy is None:
        raise RuntimeError("No HAProxy: `apt-get install -y haproxy` (Debian), then rerun.")
    return _start([haproxy, "-db", "-f", str(config)], os.environ, log, REPO)


def chromium(playwright):
    """Headless Chromium at $CHROMIUM (Debian's by default) through Playwright's sync or async
    API (then awaited by the caller)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"no Chromium at {CHROMIUM}: run `apt-get install -y chromium` (or set CHROMIUM)"
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
