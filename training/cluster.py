"""Trainings on a Dask cluster: the engine of every server's training line.

By default a server starts a cluster of its own at its first training (`local_client`: the
scheduler and one worker as threads of the server, about 0.5 s and 20 MB), so a laptop needs
nothing but `streamlit run app.py`; a school's servers name one cluster for all (`--scheduler`,
deploy/). Each replica's TrainingQueue submits a training as a Dask task whose key is the model's cache
key, so identical requests from any page on any replica share one task, and Dask decides which
worker runs it and when. A running Dask task cannot be interrupted (dask/distributed#4694), so
the task runs the training in a process of its own (training.process.ProcessJob) and ends that
process once no client wants the task any more. The process's messages reach every replica as
the scheduler's events on the key's topic; the latest weights (a few MB an epoch, too much for
the scheduler's event log) go through the shared model store instead, and the model itself
lands there. A worker killed mid-training has its task run again by Dask on another worker:
the pages see the training start over.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING

import i18n
from i18n import Text, lazy, said
from vae_core.checkpoint import atomic_write
from vae_core.snapshot import Snapshot

from .job import CANCELLED, DONE, FAILED, RUNNING, WAITING, TrainingJob
from .limits import Limits
from .process import ProcessJob
from .queue import TrainingQueue
from .request import TrainingRequest

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
POLL_S = 0.5  # how often a running task looks whether any client still wants it
PRUNE_LOCK = "vae-explorer-prune"  # the cluster-wide lock that one pruner holds at a time


class TrainingFailed(Exception):
    """A training that ended without its model; args[0] says why (i18n.message_of's data)."""


@functools.cache
def client_for(address: str):
    """This process's one client of the scheduler at `address` (tcp://HOST:PORT)."""
    from distributed import Client

    return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)


_own: dict[int, Client] = {}  # this process's own clusters' clients, by slots
_own_lock = threading.Lock()


def local_client(slots: int):
    """This process's client of a cluster inside it, made at the first call: a scheduler and
    one worker running `slots` trainings at once, each in a process of its own as on any
    worker."""
    with _own_lock:
        if slots not in _own:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(
                processes=False,
                n_workers=1,
                threads_per_worker=slots,
                dashboard_address=None,
                memory_limit=0,  # the worker is the server's process, not its trainings
                silence_logs=logging.WARNING,
            )
            _own[slots] = Client(cluster, set_as_default=False)
        return _own[slots]


def close_local_clients() -> None:
    """Close this process's own clusters: their trainings stop (no client wants their tasks
    any more) and the jobs waiting for them fail; the next training starts a fresh one."""
    with _own_lock:
        clients = list(_own.values())
        _own.clear()
    for client in clients:
        cluster = client.cluster
        client.close()
        cluster.close()


def topic(key: str) -> str:
    return f"vae-training-{key}"


def snapshot_path(store: Path, key: str) -> Path:
    """Beside the model it will be: removed when the training ends, never pruned."""
    return Path(store) / f"{key}.snapshot.json"


def cluster_queue(
    limits: Limits, address: str | None = None, *, client=None, **options
) -> TrainingQueue:
    """A training line whose trainings run on the Dask cluster at `address`, None: on this
    process's own (`local_client`, `limits.max_trainings` at once). Through `client`, by default
    this process's one, connected at the first need: a scheduler out of reach fails the
    trainings asked for meanwhile with that reason, not the pages. `options` as
    TrainingQueue's."""

    def connected():
        if client is not None:
            return client
        return local_client(limits.max_trainings) if address is None else client_for(address)

    def new_job(request: TrainingRequest) -> ClusterJob:
        # 0 (automatic): each worker shares its own cores among its trainings.
        return ClusterJob(replace(request, threads=limits.train_threads), client=connected)

    def slots() -> int:
        if address is None and client is None:
            return limits.max_trainings  # the server's own cluster's threads, as made
        return sum(connected().nthreads().values())

    # One process prunes its own store one at a time without the cluster (started only at the
    # first training); servers sharing a cluster take its lock.
    lock = None if address is None and client is None else ClusterLock(connected)
    return TrainingQueue(limits, new_job=new_job, slots=slots, prune_lock=lock, **options)


class ClusterLock:
    """The cluster-wide lock that one pruner of the store holds at a time; OSError if the
    scheduler cannot be reached."""

    def __init__(self, connected) -> None:
        self._connected = connected
        self._lock = None

    def __enter__(self) -> ClusterLock:
        if self._lock is None:
            from distributed import Lock

            client = self._connected()
            self._lock = Lock(PRUNE_LOCK, scheduler_rpc=client.scheduler, loop=client.loop)
        try:
            self._lock.acquire()
        except Exception as exc:
            raise OSError(f"the cluster's lock {PRUNE_LOCK} is out of reach: {exc}") from exc
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()


# ------------------------------------------------------------ on a worker


def train(request: dict) -> dict:
    """The Dask task: train the model `request` (TrainingRequest.to_dict's) names into its
    store, relaying progress.

    Returns {"cache_key": key} once the model is there; raises TrainingFailed otherwise. A task
    that no client wants any more stops its training; wanted again before it ended (Dask
    resumes such a task), it trains afresh.
    """
    from distributed import get_worker

    worker = get_worker()
    key = worker.get_current_task()
    asked = TrainingRequest.from_dict(request)
    if not asked.threads:  # automatic: this worker's cores shared among its trainings
        asked = replace(asked, threads=max(1, (os.cpu_count() or 1) // worker.state.nthreads))
    store = Path(asked.cache_dir)
    try:
        while True:
            job = _attempt(worker, key, asked)
            if job.state == DONE:
                return {"cache_key": key}
            if job.state == FAILED:
                raise TrainingFailed(i18n.message_of(job.error))
            if not _wanted(worker, key):
                return {"cancelled": key}
    finally:
        snapshot_path(store, key).unlink(missing_ok=True)


def _wanted(worker, key: str) -> bool:
    task = worker.state.tasks.get(key)
    return task is not None and task.state in ("executing", "long-running")


def _attempt(worker, key: str, request: TrainingRequest) -> ProcessJob:
    attempt, seq = uuid.uuid4().hex[:12], itertools.count()
    store = Path(request.cache_dir)

    def send(message: dict) -> None:
        worker.log_event(topic(key), {"attempt": attempt, "seq": next(seq), **message})

    def relay(message: dict) -> None:
        if "snapshot" in message:
            data = json.dumps(message["snapshot"]).encode()
            atomic_write(snapshot_path(store, key), lambda f: f.write(data))
            message = {"snapshot_file": message["snapshot"]["epoch"]}
        send(message)

    send({"started": worker.address, "gpu": bool(worker.state.total_resources.get("GPU"))})
    job = ProcessJob(request, relay=relay).start()
    send({"pid": job.pid})  # the training's process, on the worker's host
    while not job.wait(POLL_S):
        if not _wanted(worker, key):
            job.cancel()
    if job.state == CANCELLED:
        send({"stopped": True})
    elif job.state == FAILED:
        send({"error": i18n.message_of(job.error)})
    return job


# ------------------------------------------------------------ on a replica


def placement(client) -> dict:
    """Where to send a training now: to a GPU worker with a free thread if there is one
    (loosely, so that another takes it should that one go), else wherever Dask likes."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    busy = client.processing()
    free_gpus = [
        address
        for address, info in workers.items()
        if info.get("resources", {}).get("GPU") and len(busy.get(address, ())) < info["nthreads"]
    ]
    return {"workers": free_gpus, "allow_other_workers": True} if free_gpus else {}


class ClusterJob(TrainingJob):
    """A training that runs as a task of the cluster that `client()` (connected at start)
    reaches, where a ProcessJob runs it; every replica asking for the same model holds the same
    task and reads the same progress."""

    def __init__(self, request: TrainingRequest, *, client) -> None:
        super().__init__(request)
        self._connect = client
        self.client = None
        self._future = None
        self._attempt: str | None = None  # the run of the task whose messages count
        self._seen: set[tuple[str, int]] = set()
        self.worker: str | None = None  # where the current attempt runs
        self._pid: int | None = None  # its training's process, on the worker's host
        self.attempts = 0  # runs started that this job has seen; over 1 after a retry

    def start(self) -> ClusterJob:
        with self._lock:
            if self._state != WAITING or self._future is not None:
                return self
            self._started = monotonic()
        try:
            self.client = self._connect()
            self.client.subscribe_topic(topic(self.key), self._on_event)
            future = self.client.submit(
                train, self.request.to_dict(), key=self.key, pure=False, **placement(self.client)
            )
            earlier = self.client.get_events(topic(self.key))
        except Exception as exc:  # the page hears of it; the line goes on
            with self._lock:
                self._state, self._ended = FAILED, monotonic()
                self._error = lazy(
                    "could not reach the training cluster: {error}. Whoever runs the server can "
                    "check that its Dask scheduler runs at the address given to the server",
                    error=said(exc),
                )
            self._finish()
            return self
        with self._lock:
            self._future = future
            cancelled = self._state == CANCELLED
        if cancelled:
            future.release()
            return self
        self._catch_up(earlier)
        future.add_done_callback(self._on_future)
        return self

    def cancel(self) -> None:
        """Stop waiting for the task: Dask drops it, or its worker stops it, once no replica
        wants it any more."""
        with self._lock:
            if self._state not in (WAITING, RUNNING):
                return
            self._state, self._ended = CANCELLED, monotonic()
            future = self._future
        if future is not None:
            future.release()
        self._finish()

    def _catch_up(self, events) -> None:
        """A page joining a training under way: the messages of its latest run so far, unless
        that run has ended (an earlier run of this key; the task's own run starts anew)."""
        messages = [message for _, message in events if isinstance(message, dict)]
        starts = [i for i, m in enumerate(messages) if "started" in m]
        if not starts:
            return
        run = messages[starts[-1] :]
        if any("done" in m or "error" in m or "stopped" in m for m in run):
            return
        for message in run:
            self._take(message)

    def _on_event(self, event) -> None:
        _, message = event
        if isinstance(message, dict):
            self._take(message)

    def _take(self, message: dict) -> None:
        try:
            attempt, seq = message["attempt"], message["seq"]
        except KeyError:
            return
        with self._lock:
            if (attempt, seq) in self._seen or self._state not in (WAITING, RUNNING):
                return
            self._seen.add((attempt, seq))
            if "started" in message:
                self._attempt, self.worker = attempt, message["started"]
                self.attempts += 1
                self._state = RUNNING
                # A retry on another worker starts over: its progress, not the dead one's.
                self._history, self._frames, self._snapshot = [], [], None
                self._first_step = self._last_step = self._pid = None
                return
            if attempt != self._attempt:
                return
            if "pid" in message:
                self._pid = message["pid"]
                return
        if "snapshot_file" in message:
            self._read_snapshot()
        elif "stopped" not in message:
            self._handle(message)

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._pid

    def _read_snapshot(self) -> None:
        try:
            data = json.loads(snapshot_path(self.cache_dir, self.key).read_bytes())
            snapshot = Snapshot.from_message(data)
        except (OSError, ValueError, KeyError) as exc:  # a later epoch's will do
            log.debug("training snapshot of %s unreadable: %s", self.key, exc)
            return
        with self._lock:
            self._snapshot = snapshot

    def _on_future(self, future) -> None:
        # On Dask's callback thread; what the queue does at the end may block (the prune lock).
        threading.Thread(target=self._ended_as, args=(future,), daemon=True).start()

    def _ended_as(self, future) -> None:
        error: Text | None = None
        outcome = None
        try:
            if future.status == "finished":
                outcome = future.result()
            elif future.status == "error":
                error = _why(future.exception())
            else:
                error = lazy("the training cluster dropped the training before it finished")
        except Exception as exc:
            error = _why(exc)
        with self._lock:
            if self._state in (WAITING, RUNNING):
                self._ended = monotonic()
                if error is None and outcome and "cache_key" in outcome:
                    self._state = DONE
                else:
                    self._state = FAILED
                    self._error = error or lazy(
                        "the training was stopped on the cluster before it finished"
                    )
            self._snapshot = None
        future.release()
        self._finish()


def _why(exc: BaseException) -> Text:
    if isinstance(exc, TrainingFailed):
        return Text.from_message(exc.args[0])
    if type(exc).__name__ == "KilledWorker":
        return lazy(
            "every worker that ran this training died before it finished (on a server, most "
            "often for lack of memory); whoever runs the cluster can read its workers' logs"
        )
    unloadable = _unloadable(exc)
    if unloadable is not None:
        return lazy(
            "the training cluster cannot load the training task ({error}). Whoever runs the "
            "cluster can start its scheduler and every worker with this repository on their "
            "PYTHONPATH and its requirements installed, as docs/serving.md says",
            error=_kind_and_text(unloadable),
        )
    return _kind_and_text(exc)


def _kind_and_text(exc: BaseException) -> Text:
    # TRANSLATORS: an error's type (a Python name such as OSError) and what it says.
    return lazy("{kind}: {error}", kind=type(exc).__name__, error=said(exc))


def _unloadable(exc: BaseException) -> BaseException | None:
    """What kept the scheduler or a worker from unpickling the task, which names this
    repository's code (Dask needs one software environment on its scheduler, workers and
    clients): the missing module, or the failure under Dask's own "Error during
    deserialization"; None for an error of any other kind."""
    chain = [exc]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) and cause not in chain:
        chain.append(cause)
    missing = [e for e in chain if isinstance(e, ModuleNotFoundError)]
    if missing:
        return missing[0]
    if isinstance(exc, RuntimeError) and "deserialization" in str(exc):
        return chain[-1]
    return None
