"""Trainings on real Dask clusters (training.cluster): a server's own, in its process, and a
school's, a `dask scheduler` and two `dask worker`s, one with the resource GPU=1, on 127.0.0.1,
where two TrainingQueues with their own clients stand for two replicas."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import distributed
import pytest

import i18n
from deploy import launch
from deploy.launch import free_port
from tests.conftest import PATIENCE
from training import cache_key
from training import cluster as cluster_module
from training.cluster import cluster_queue, topic
from training.in_use import InUse
from training.job import CANCELLED, DONE, FAILED, RUNNING, WAITING
from training.limits import Limits
from training.request import TrainConfig
from vae_core.model import VAEConfig

SMALL = VAEConfig(hidden=(32,))
FAST = TrainConfig(epochs=2, batch_size=100, lr=3e-3, seed=0)
pytestmark = pytest.mark.slow


def long(seed: int) -> TrainConfig:
    return TrainConfig(epochs=150, batch_size=100, lr=3e-3, seed=seed)  # minutes: to be stopped


class Cluster:
    """A scheduler and its workers, each a process of its own as an operator starts them: from
    a folder outside the repository, the repository on their PYTHONPATH (deploy/launch.py)."""

    def __init__(self, tmp_path: Path) -> None:
        self.log = open(tmp_path / "dask.log", "ab")
        self.processes = launch.start_cluster(
            free_port(), {"gpu": True, "cpu": False}, log=self.log, nanny=False
        )
        self.address = self.processes.address
        self.workers = self.processes.workers
        self.clients = []

    def client(self):
        client = distributed.Client(self.address, timeout=30, set_as_default=False)
        client.wait_for_workers(len(self.workers), timeout=60)
        self.clients.append(client)
        return client

    def address_of(self, name: str) -> str:
        info = self.clients[0].scheduler_info(n_workers=-1)["workers"]
        return next(a for a, w in info.items() if w["name"] == name)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.processes.stop()
        self.log.close()


@pytest.fixture
def cluster(tmp_path):
    started = Cluster(tmp_path)
    yield started
    started.close()


def replica(cluster, store, **options):
    options.setdefault("tick_every", None)
    return cluster_queue(
        Limits(train_threads=1), cluster.address, client=cluster.client(), cache_dir=store,
        **options,
    )  # fmt: skip


def wait_for(condition, timeout: float = PATIENCE, what: str = "") -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.1)


def running(job, beyond: float = -1.0) -> bool:
    """Whether the job trains, past `beyond` of its steps; a job that ended fails the test at
    once, with what it ended as, rather than after a wait for a state it cannot reach."""
    assert job.state in (WAITING, RUNNING), f"the training ended as {job.state}: {job.error}"
    return job.state == RUNNING and job.progress() > beyond


def runs(client, key: str) -> list[str]:
    """The workers the scheduler's log says each run of this training started on."""
    return [m["started"] for _, m in client.get_events(topic(key)) if "started" in m]


def test_two_replicas_asking_the_same_model_share_one_run_on_the_gpu_worker(
    cluster, tiny_mnist, tmp_path
):
    first, second = replica(cluster, tmp_path), replica(cluster, tmp_path)
    a = first.submit(SMALL, FAST, tiny_mnist, waiter="ada")
    b = second.submit(SMALL, FAST, tiny_mnist, waiter="bo")
    assert a is not b and a.key == b.key == cache_key(SMALL, FAST, tiny_mnist)
    assert a.wait(PATIENCE) and b.wait(PATIENCE)
    assert a.state == b.state == DONE, (a.error, b.error)
    assert runs(cluster.clients[0], a.key) == [cluster.address_of("gpu")]  # trained once
    assert (tmp_path / f"{a.key}.pt").is_file()
    # Both pages watched it: the epochs and the replay reached each replica.
    assert [r.epoch for r in a.history] == [r.epoch for r in b.history] == [1, 2]
    assert len(a.replay_frames) == len(b.replay_frames) == 2


def test_a_training_goes_to_a_cpu_worker_while_the_gpu_one_is_busy(cluster, tiny_mnist, tmp_path):
    line = replica(cluster, tmp_path)
    busy = line.submit(SMALL, long(1), tiny_mnist, waiter="ada")
    wait_for(lambda: running(busy), what="the first training to start")
    assert busy.worker == cluster.address_of("gpu")
    other = line.submit(SMALL, FAST, tiny_mnist, waiter="bo")
    assert other.wait(PATIENCE) and other.state == DONE, other.error
    assert other.worker == cluster.address_of("cpu")
    line.withdraw(busy.key, "ada")


def test_a_request_withdrawn_before_it_starts_never_runs_and_a_running_one_stops(
    cluster, tiny_mnist, tmp_path
):
    first, second = replica(cluster, tmp_path), replica(cluster, tmp_path)
    trainings = [first.submit(SMALL, long(seed), tiny_mnist, waiter="ada") for seed in (1, 2)]
    wait_for(lambda: all(running(j) for j in trainings), what="both workers to train")
    waiting = second.submit(SMALL, FAST, tiny_mnist, waiter="bo")
    assert waiting.state == WAITING and second.place(waiting.key) == 1
    second.withdraw(waiting.key, "bo")
    # Both pages of the first running training leave: its worker stops it, nothing is cached.
    shared = second.submit(SMALL, long(1), tiny_mnist, waiter="cy")
    wait_for(lambda: running(shared, beyond=0), what="joining")
    first.withdraw(trainings[0].key, "ada")
    time.sleep(2)
    assert shared.state == RUNNING  # still wanted by the other replica
    second.withdraw(shared.key, "cy")
    client = cluster.clients[0]
    stopped = lambda: any("stopped" in m for _, m in client.get_events(topic(shared.key)))  # noqa: E731
    wait_for(stopped, what="the worker to stop the training")
    first.withdraw(trainings[1].key, "ada")
    time.sleep(3)  # both workers free: a task still wanted would have started by now
    assert runs(client, waiting.key) == []
    assert not any(p.suffix == ".pt" for p in tmp_path.iterdir())


def test_a_failing_training_is_reported_to_every_replica(cluster, tiny_mnist, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_mnist, damaged)
    images = next(damaged.glob("train-images*"))
    images.write_bytes(images.read_bytes()[:100])  # cut short: reading it fails on the worker
    store = tmp_path / "store"
    first, second = replica(cluster, store), replica(cluster, store)
    a = first.submit(SMALL, FAST, damaged, waiter="ada")
    b = second.submit(SMALL, FAST, damaged, waiter="bo")
    assert a.wait(PATIENCE) and b.wait(PATIENCE)
    assert a.state == b.state == FAILED
    assert str(a.error) == str(b.error) and "train-images" in str(a.error)
    assert not list(store.glob("*.pt"))


def test_a_worker_killed_mid_training_has_it_retried_on_the_other(cluster, tiny_mnist, tmp_path):
    line = replica(cluster, tmp_path)
    # Seconds of training (not a fraction of one), so that it is seen under way and killed
    # there even when its epochs' messages come late on a busy machine.
    config = TrainConfig(epochs=100, batch_size=100, lr=3e-3, seed=3)
    job = line.submit(SMALL, config, tiny_mnist, waiter="ada")
    wait_for(lambda: running(job, beyond=0.1), what="training to advance")
    assert job.worker == cluster.address_of("gpu")
    cpu = cluster.address_of("cpu")
    cluster.workers["gpu"].send_signal(signal.SIGKILL)
    wait_for(lambda: job.worker == cpu, what="the retry on the other worker")
    assert job.attempts == 2 and job.progress() < 0.5  # started over there
    assert job.wait(PATIENCE) and job.state == DONE, job.error
    assert (tmp_path / f"{job.key}.pt").is_file()


def test_the_stores_bound_keeps_what_pages_on_either_replica_show(cluster, tiny_mnist, tmp_path):
    records = [InUse(tmp_path, pid=os.getpid()), InUse(tmp_path, pid=os.getppid())]
    seeds = {"shown here": 10, "shown there": 11, "nobody's": 12}
    keys = {what: cache_key(SMALL, TrainConfig(epochs=1, seed=s), tiny_mnist) for what, s in seeds.items()}  # fmt: skip
    records[0].write({keys["shown here"]})
    records[1].write({keys["shown there"]})
    first = replica(cluster, tmp_path, in_use=lambda: {keys["shown here"]} | records[0].others())
    for seed in seeds.values():
        job = first.submit(SMALL, TrainConfig(epochs=1, seed=seed), tiny_mnist, waiter=str(seed))
        assert job.wait(PATIENCE) and job.state == DONE, job.error
        first.withdraw(job.key, str(seed))
    size = (tmp_path / f"{keys['shown here']}.pt").stat().st_size
    tight = replica(cluster, tmp_path, in_use=lambda: {keys["shown here"]} | records[0].others())
    tight.limits = Limits(cache_mb=2.5 * size / 2**20)
    tight.prune()
    left = {p.name.split(".")[0] for p in tmp_path.glob("*.pt")}
    assert left == {keys["shown here"], keys["shown there"]}


def test_a_scheduler_out_of_reach_fails_the_training_with_what_to_do_not_the_page(
    tiny_mnist, tmp_path, monkeypatch
):
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT_S", 1.0)
    line = cluster_queue(
        Limits(), f"tcp://127.0.0.1:{free_port()}", cache_dir=tmp_path, tick_every=None
    )
    assert line.prune() == []  # the store's bound waits for the cluster
    job = line.submit(SMALL, FAST, tiny_mnist, waiter="ada")
    assert job.state == FAILED
    assert "could not reach the training cluster" in str(job.error)
    assert "Dask scheduler" in str(job.error)
    assert line.estimate(job.key) is None and line.requests_of("ada") == []


def test_a_servers_own_cluster_trains_at_most_its_limit_at_once_the_rest_in_order(
    tiny_mnist, tmp_path
):
    line = cluster_queue(
        Limits(max_trainings=1, max_pending=5), cache_dir=tmp_path, tick_every=None
    )
    jobs = [line.submit(SMALL, long(seed), tiny_mnist, waiter=f"s{seed}") for seed in (1, 2, 3)]
    # Training by now: a second slot would have started the next one as it started the first.
    wait_for(lambda: running(jobs[0], beyond=0), what="the first training's first step")
    assert [j.state for j in jobs] == [RUNNING, WAITING, WAITING]
    assert [line.place(j.key) for j in jobs] == [None, 1, 2]
    start, ready = line.estimate(jobs[2].key)
    assert 0 < start < ready
    line.withdraw(jobs[1].key, "s2")  # let go before it starts: it never does
    line.withdraw(jobs[0].key, "s1")
    wait_for(lambda: running(jobs[2]), what="the third to take the free slot")
    assert jobs[1].state == CANCELLED and jobs[1].attempts == 0
    assert line.place(jobs[2].key) is None
    line.withdraw(jobs[2].key, "s3")
    wait_for(lambda: not list(tmp_path.glob("*.snapshot.json")), what="the last to stop")
    assert not list(tmp_path.glob("*.pt"))


def dask_scheduler(folder: Path, env: dict, log) -> tuple[str, subprocess.Popen]:
    """The launcher's `dask scheduler` on 127.0.0.1, but started from `folder` with `env` as it
    stands (not the launcher's environment, which puts the repository on PYTHONPATH), and its
    address."""
    port = free_port()
    command = launch.scheduler_command(port)
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    return f"tcp://127.0.0.1:{port}", process


def test_a_cluster_that_cannot_load_the_task_says_what_to_fix_not_dasks_text(tiny_mnist, tmp_path):
    """A scheduler started from a folder of its own with Dask installed but without the
    repository on its PYTHONPATH cannot unpickle the training task."""
    elsewhere = tmp_path / "scheduler"
    elsewhere.mkdir()
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    with open(tmp_path / "dask.log", "ab") as log:
        address, scheduler = dask_scheduler(elsewhere, env, log)
        client = None
        try:
            client = distributed.Client(address, timeout=30, set_as_default=False)
            line = cluster_queue(
                Limits(), address, client=client, cache_dir=tmp_path / "store", tick_every=None
            )
            job = line.submit(SMALL, FAST, tiny_mnist, waiter="ada")
            assert job.wait(PATIENCE) and job.state == FAILED
            english = str(job.error)
            i18n.use(lambda: "zh")
            try:
                chinese = str(job.error)
            finally:
                i18n.use(lambda: i18n.SOURCE)
        finally:
            if client is not None:
                client.close()
            scheduler.terminate()
            scheduler.wait(30)
    assert "No module named 'training'" in english
    assert "PYTHONPATH" in english and "docs/serving.md" in english
    assert "deserialization" not in english
    assert chinese != english and "PYTHONPATH" in chinese
