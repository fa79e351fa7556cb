"""Training jobs in worker processes (training.process, training.worker) and the faults they meet:
a killed worker, a read-only cache, a full disk. Nothing in the cache is left half-written."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np
import pytest

from tests.conftest import PATIENCE
from training import cache_key
from training.cache import NotCached, cached_path, load_cached
from training.cluster import cluster_queue
from training.job import DONE, ETA_MIN_STEPS, FAILED, UNFINISHED, TrainingJob
from training.limits import Limits
from training.process import ProcessJob
from training.request import EpochReport, TrainConfig, TrainingRequest
from vae_core.checkpoint import load_checkpoint
from vae_core.model import VAE, VAEConfig
from vae_core.replay import ReplayFrame, replay_of
from vae_core.snapshot import Snapshot

SMALL = VAEConfig(hidden=(32,))
FAST = TrainConfig(epochs=2, batch_size=100, lr=3e-3, seed=0)
LONG = TrainConfig(epochs=400, batch_size=100, lr=3e-3, seed=1)  # minutes: to be stopped
FULL_DISK_WORKER = (sys.executable, "-m", "tests.full_disk_worker")


def leftovers(cache) -> list[str]:
    """What a failed training could have left: entries and temporary files."""
    return sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))


def wait_for_steps(job: TrainingJob, timeout: float = PATIENCE) -> None:
    deadline = time.time() + timeout
    while job.progress() == 0.0 and time.time() < deadline:
        assert job.state != FAILED, job.error
        time.sleep(0.05)
    assert job.progress() > 0, "the worker never reported a step"


def test_a_job_trains_in_a_worker_process_and_lands_in_the_cache(tiny_mnist, tmp_path):
    job = ProcessJob(TrainingRequest(SMALL, FAST, tiny_mnist, tmp_path, threads=1))
    assert job.state == "waiting" and job.progress() == 0.0 and job.elapsed() == 0.0
    job.start()
    assert job.pid not in (None, os.getpid())
    assert job.wait(PATIENCE)
    assert job.state == DONE and job.error is None and job.progress() == 1.0
    assert [r.epoch for r in job.history] == [1, 2] and job.eta() == 0.0
    # Each epoch's replay frame came through the worker's messages, as the checkpoint keeps it.
    frames = job.replay_frames
    assert [f.epoch for f in frames] == [1, 2]
    assert job.snapshot is None  # the finished model is in the cache now
    model, checkpoint = load_cached(SMALL, FAST, tiny_mnist, tmp_path)
    assert isinstance(model, VAE)
    assert checkpoint["extra"]["cache_key"] == cache_key(SMALL, FAST, tiny_mnist) == job.key
    replay = replay_of(checkpoint)
    for i, frame in enumerate(frames):
        np.testing.assert_array_equal(frame.codes, replay.codes[i])
        np.testing.assert_array_equal(frame.manifold, replay.manifold[i])
    took = job.elapsed()
    time.sleep(0.05)
    assert job.elapsed() == took  # once ended, how long it took


def test_progress_and_the_time_left_come_from_the_workers_steps(monkeypatch):
    from training import job as job_module

    clock = [100.0]
    monkeypatch.setattr(job_module, "monotonic", lambda: clock[0])
    job = ProcessJob(TrainingRequest(SMALL, FAST))
    job._state, job._started = "running", clock[0]  # as start() leaves it, without a worker
    clock[0] += 30.0  # the worker's start and data loading: not part of the rate
    seen = []
    for step in range(1, 11):
        clock[0] += 2.0
        job._handle({"batch": [step, 100]})
        seen.append((job.progress(), job.eta()))
    assert [p for p, _ in seen] == pytest.approx([0.01 * s for s in range(1, 11)])
    assert [eta for _, eta in seen[:ETA_MIN_STEPS]] == [None] * ETA_MIN_STEPS
    # Steps 6 and 10 done at 2 s a step: 94 and 90 steps to go; then 1 s passes.
    assert seen[5][1] == pytest.approx(188.0) and seen[9][1] == pytest.approx(180.0)
    clock[0] += 1.0
    assert job.eta() == pytest.approx(179.0) and job.seconds_per_step() == pytest.approx(2.0)
    job._handle({"epoch": {**EpochReport(1, 2, *[100.0] * 6, 9.0).to_dict()}})
    frame = ReplayFrame(1, np.ones((3, 2), np.float16), np.full((224, 224), 7, np.uint8))
    job._handle({"replay": frame.to_message()})
    with pytest.raises(ValueError):  # a damaged frame: the watcher skips it as a stray line
        job._handle({"replay": {"epoch": 2, "codes": "", "manifold": "not base64!"}})
    [kept] = job.replay_frames
    assert kept.epoch == 1 and kept.codes.tolist() == [[1.0, 1.0]] * 3
    assert kept.manifold.shape == (224, 224) and kept.manifold[5, 5] == 7
    assert job.snapshot is None  # none before the first epoch's weights
    weights = Snapshot.of(VAE(SMALL), 1, 2)
    job._handle({"snapshot": weights.to_message()})
    assert job.snapshot.epoch == 1 and job.snapshot.weights.keys() == weights.weights.keys()
    job._handle({"batch": [100, 100]})
    assert job.progress() == UNFINISHED  # the test metrics and the write are still to come
    job._handle({"error": "FloatingPointError: training diverged"})
    assert job.state == FAILED and job.eta() is None
    assert job.error == "FloatingPointError: training diverged"
    assert job.elapsed() == pytest.approx(51.0)
    assert job.snapshot is None  # a failed training's weights are no model to show


def test_a_killed_worker_fails_its_job_with_why_and_the_line_goes_on(tiny_mnist, tmp_path):
    queue = cluster_queue(Limits(max_trainings=1, max_epochs=LONG.epochs), cache_dir=tmp_path)
    doomed = queue.submit(SMALL, LONG, tiny_mnist, waiter="a")
    nxt = queue.submit(SMALL, FAST, tiny_mnist, waiter="b")
    wait_for_steps(doomed)
    assert queue.place(nxt.key) == 1
    os.kill(doomed.pid, signal.SIGKILL)  # as the kernel's out-of-memory killer does
    assert doomed.wait(PATIENCE)
    assert doomed.state == FAILED
    assert "SIGKILL" in str(doomed.error) and "memory" in str(doomed.error)
    assert queue.job(doomed.key) is doomed  # every page waiting for it sees the message
    assert nxt.wait(PATIENCE) and nxt.state == DONE, nxt.error
    assert not cached_path(SMALL, LONG, tiny_mnist, tmp_path).exists()
    assert leftovers(tmp_path) == [f"{nxt.key}.pt"]


@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_a_cancelled_job_stops_its_worker_and_writes_nothing(tiny_mnist, tmp_path, sigint):
    # A server started in the background (`nohup streamlit run app.py &`) passes SIGINT on to
    # its workers ignored: stopping one must not rely on it.
    if sigint == "ignored":
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        job = ProcessJob(TrainingRequest(SMALL, LONG, tiny_mnist, tmp_path, threads=1)).start()
    finally:
        if sigint == "ignored":
            signal.signal(signal.SIGINT, previous)
    wait_for_steps(job)
    job.cancel()
    assert job.wait(PATIENCE) and job.state == "cancelled" and job.error is None
    with pytest.raises(NotCached):
        load_cached(SMALL, LONG, tiny_mnist, tmp_path)
    assert leftovers(tmp_path) == []


@contextmanager
def read_only(directory):
    """The directory made read-only: by its mode, or for root (whom modes do not stop) by
    the immutable attribute."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    made = subprocess.run(["chattr", "+i", str(directory)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"running as root and chattr +i failed: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)


def test_a_read_only_cache_fails_the_job_with_what_to_do_and_keeps_its_models(tiny_mnist, tmp_path):
    cache = tmp_path / "cache"
    first = ProcessJob(TrainingRequest(SMALL, FAST, tiny_mnist, cache, threads=1)).start()
    assert first.wait(PATIENCE) and first.state == DONE
    before = leftovers(cache)
    other = TrainConfig(epochs=1, batch_size=100, lr=3e-3, seed=5)
    with read_only(cache):
        job = ProcessJob(TrainingRequest(SMALL, other, tiny_mnist, cache, threads=1)).start()
        assert job.wait(PATIENCE)
        assert job.state == FAILED
        assert f"the model cache {cache} cannot be written" in str(job.error)
        assert "VAE_EXPLORER_CACHE" in str(job.error)
        # What it had still loads.
        model, _ = load_cached(SMALL, FAST, tiny_mnist, cache)
        assert isinstance(model, VAE)
    assert leftovers(cache) == before


def test_a_full_disk_fails_the_job_with_what_to_do_and_leaves_nothing_half_written(
    tiny_mnist, tmp_path
):
    asked = TrainingRequest(SMALL, FAST, tiny_mnist, tmp_path, threads=1)
    job = ProcessJob(asked, command=FULL_DISK_WORKER).start()
    assert job.wait(PATIENCE)
    assert job.state == FAILED
    assert f"the disk holding the model cache {tmp_path} is full" in str(job.error)
    assert "No space left on device" in str(job.error)
    assert "VAE_EXPLORER_CACHE_MB" in str(job.error)
    assert leftovers(tmp_path) == []  # no checkpoint, whole or partial


def test_a_worker_that_cannot_start_fails_its_job(tmp_path):
    asked = TrainingRequest(SMALL, FAST, None, tmp_path, threads=1)
    job = ProcessJob(asked, command=[str(tmp_path / "no-such-python")])
    job.start()
    assert job.wait(5) and job.state == FAILED
    assert "could not start the training process" in str(job.error)


def test_a_worker_lowers_its_priority_and_bounds_its_threads(tiny_mnist, tmp_path):
    job = ProcessJob(TrainingRequest(SMALL, LONG, tiny_mnist, tmp_path, threads=1)).start()
    try:
        wait_for_steps(job)
        stat = open(f"/proc/{job.pid}/stat").read().rsplit(")", 1)[1].split()
        nice, threads = int(stat[16]), int(stat[17])
        assert nice >= os.nice(0) + 10
        # One torch thread, the reader of stdin; and a few that Python and torch keep.
        assert threads <= 4
    finally:
        job.cancel()
        job.wait(PATIENCE)


def test_a_stale_partial_write_is_removed_unless_its_writer_is_alive(tmp_path):
    from filelock import FileLock

    from training.cache import discard_partial_writes

    path = tmp_path / "abc.pt"
    stale = tmp_path / ".abc.pt.x1y2.tmp"
    stale.write_bytes(b"half")
    with FileLock(tmp_path / "abc.lock"):  # a live writer
        discard_partial_writes(path)
    assert stale.exists()
    discard_partial_writes(path)
    assert not stale.exists()
    assert load_checkpoint  # the loader is unaffected by either


def test_the_worker_keeps_the_thread_count_that_steps_faster_now():
    from training.worker import ThreadTuner

    calls = []
    tuner = ThreadTuner(2, window=10, explore=4, set_threads=calls.append)
    assert calls == [2]
    clock, steps = 0.0, 0

    def run(windows: int, seconds_per_step: dict) -> list[int]:
        nonlocal clock, steps
        used = []
        for _ in range(windows * 10):
            used.append(tuner.current)
            clock += seconds_per_step[tuner.current]
            steps += 1
            tuner.step(steps, clock)
        return used

    tuner.step(0, clock)
    # Idle machine: two threads step faster; one is tried once, then every 4th window.
    used = run(12, {1: 0.017, 2: 0.010})
    assert used[:10] == [2] * 10 and used[10:20] == [1] * 10
    assert used.count(1) <= 4 * 10 and used[-10:] == [2] * 10
    # Busy machine: two threads waiting for each other step slower than one.
    used = run(12, {1: 0.017, 2: 0.030})
    assert used[-30:].count(1) >= 20
    # An epoch's evaluation between steps is left out of the timing.
    tuner.restart_window()
    clock += 5.0
    before = dict(tuner.seconds_per_step)
    run(1, {1: 0.017, 2: 0.030})
    assert all(v < 0.1 for v in tuner.seconds_per_step.values()) and before
    assert ThreadTuner(1, set_threads=calls.append).choices == [1]
