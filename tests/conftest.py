import gzip
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from vae_core.data import IMAGES_MAGIC, LABELS_MAGIC, load_split


def write_idx(path: Path, array: np.ndarray, magic: int, compress: bool = True) -> Path:
    """Write a uint8 array as an IDX file (the format the loader reads)."""
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw, compresslevel=1))
    else:
        path.write_bytes(raw)
    return path


def write_dataset(directory: Path, n_train: int, n_test: int, compress: bool = True) -> Path:
    """A small MNIST-format directory made of the first real digits of each split."""
    directory.mkdir(parents=True, exist_ok=True)
    for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        data = load_split(None, split)
        write_idx(
            directory / f"{prefix}-images-idx3-ubyte", data.images[:n], IMAGES_MAGIC, compress
        )
        write_idx(
            directory / f"{prefix}-labels-idx1-ubyte", data.labels[:n], LABELS_MAGIC, compress
        )
    return directory


THREE_CLASSES = ("zero", "one", "two")
# Seconds a test waits for a training's state before calling it hung: a guard, not a measure. A
# training's process runs at a lower priority than the tests (training.worker), so beside other
# work on a small machine it may take minutes to start, step or stop.
PATIENCE = 600.0


@pytest.fixture(scope="session")
def three_classes(tmp_path_factory) -> Path:
    """MNIST's 0s, 1s and 2s among its first 1,000 training and 200 test images, as a dataset
    of their own (an operator's directory), its classes named in a classes.txt."""
    directory = tmp_path_factory.mktemp("three_classes")
    for split, prefix, n in (("train", "train", 1000), ("test", "t10k", 200)):
        data = load_split(None, split)
        keep = np.flatnonzero(data.labels[:n] < 3)
        write_idx(directory / f"{prefix}-images-idx3-ubyte", data.images[keep], IMAGES_MAGIC)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte", data.labels[keep], LABELS_MAGIC)
    (directory / "classes.txt").write_text("\n".join(THREE_CLASSES) + "\n")
    return directory


@pytest.fixture(scope="session")
def tiny_mnist(tmp_path_factory) -> Path:
    """1,000 training and 200 test digits: enough to train a small model in a second."""
    return write_dataset(tmp_path_factory.mktemp("tiny_mnist"), 1000, 200)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> Path:
    """No test reads or writes the user's real model cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(cache))
    return cache


@pytest.fixture(autouse=True)
def fresh_own_cluster():
    """No test meets the trainings another left on this process's own Dask cluster (a page's
    request still running, a task not yet ended): whatever a test started there is stopped, and
    the next training starts a fresh cluster."""
    yield
    cluster = sys.modules.get("training.cluster")
    if cluster is not None:
        cluster.close_local_clients()


@pytest.fixture
def no_training_left(monkeypatch, isolated_cache):
    """The trainings a test's pages asked for stop when it ends, passed or failed, before its
    settings go: the process's own Dask cluster trains one model at a time, and a training left
    running would keep the next test's waiting in line."""
    yield
    from explorer import server

    line = server.training_queue()
    jobs = [job for job in map(line.job, line.kept()) if job is not None]
    for job in jobs:
        job.cancel()
    deadline = time.monotonic() + 60
    for pid in [job.pid for job in jobs if job.pid is not None]:
        while _running(pid):
            assert time.monotonic() < deadline, f"the training process {pid} did not stop"
            time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
