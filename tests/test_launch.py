"""Every process the project starts, started one way (deploy/launch.py): the commands, and a
Dask cluster run as on machines of its own, from a folder outside the repository."""

import dataclasses
import os
from pathlib import Path

import distributed
import pytest

from deploy import launch
from training import DEFAULT_TRAIN_CONFIG


def test_streamlit_runs_the_repositorys_script_on_loopback_headless_unless_asked():
    command = launch.streamlit_command(8600, args=["--max-epochs", "5"])
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4] == str(launch.REPO / "app.py")
    flags = dict(zip(command[5:-3:2], command[6:-3:2], strict=True))
    assert flags == {
        "--server.address": "127.0.0.1",
        "--server.port": "8600",
        "--browser.gatherUsageStats": "false",
        "--server.fileWatcherType": "none",
        "--server.headless": "true",
    }
    assert command[-3:] == ["--", "--max-epochs", "5"]
    desktop = launch.streamlit_command(8600, "benchmarks/bare_fragment_app.py", headless=False)
    assert desktop[4].endswith("benchmarks/bare_fragment_app.py")
    assert "--server.headless" not in desktop and "--" not in desktop


def test_every_dask_process_has_the_repository_first_on_its_pythonpath():
    environ = launch.dask_environment({"PYTHONPATH": "/opt/site", "VAE_EXPLORER_CACHE": "/m"})
    assert environ["PYTHONPATH"] == os.pathsep.join([str(launch.REPO), "/opt/site"])
    assert environ["VAE_EXPLORER_CACHE"] == "/m"
    assert launch.scheduler_command(8786)[1:5] == ["-m", "dask", "scheduler", "--host"]
    worker = launch.worker_command("tcp://127.0.0.1:8786", "gpu1", gpu=True, nanny=False)
    assert worker[1:5] == ["-m", "dask", "worker", "tcp://127.0.0.1:8786"]
    assert worker[worker.index("--nthreads") + 1] == "1"
    assert "--no-nanny" in worker and worker[-2:] == ["--resources", "GPU=1"]
    assert "--resources" not in launch.worker_command("tcp://h:1", "cpu1", gpu=False)


@pytest.mark.slow
def test_a_cluster_run_from_outside_the_repository_loads_the_projects_tasks(tmp_path):
    """Dask's scheduler unpickles the task graphs: it needs the project's modules as much as
    the workers do, from wherever it was started."""
    with open(tmp_path / "dask.log", "ab") as log:
        cluster = launch.start_cluster(launch.free_port(), {"cpu1": False}, log=log)
        try:
            folder = cluster.folder
            for proc in cluster.processes():
                cwd = Path(os.readlink(f"/proc/{proc.pid}/cwd"))
                assert cwd == folder and launch.REPO not in cwd.parents
            client = distributed.Client(cluster.address, timeout=30, set_as_default=False)
            try:
                client.wait_for_workers(1, timeout=60)
                # A value of the training package's own class travels to the worker and back.
                task = client.submit(dataclasses.asdict, DEFAULT_TRAIN_CONFIG)
                assert task.result(timeout=60) == dataclasses.asdict(DEFAULT_TRAIN_CONFIG)
            finally:
                client.close()
        finally:
            cluster.stop()
    assert all(proc.poll() is not None for proc in cluster.processes())
    assert not folder.exists()
