"""The server's training line: the pages' requests, their places and estimates, who waits.

Which trainings run, in what order and how many at once is the engine's: a Dask cluster
(training.cluster), the server's own by default. Requests for the same model share one job.
Each job knows who waits for it (browser sessions, by id): a job nobody waits for any more is
dropped before it starts, or stopped if it runs; a waiter whose session has gone counts as
nobody. A request over one of the operator's
limits (training.limits) is refused with a LimitError that says which limit and who sets it.
After every training the model cache is pruned to its size.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path
from time import monotonic

from i18n import N_, lazy
from vae_core.model import PIXELS, VAEConfig

from .cache import cache_key, cached_path, default_cache_dir, prune
from .job import DONE, RUNNING, WAITING, TrainingJob
from .limits import Limits, where_set
from .loop import LABELLED_BATCH
from .request import TrainConfig, TrainingRequest

log = logging.getLogger(__name__)

TRAIN_SIZE = 60_000  # images per epoch assumed by the estimates (MNIST's training set)
# Seconds per optimizer step ~ STEP_SECONDS + IMAGE_PARAMETER_SECONDS * parameters * batch size,
# fitted to the two recipes' defaults on the 2-core AVX2 machine of benchmarks/training_speed.py
# with 2 threads (fused Adam, float32; each epoch's test evaluation spread over its steps): the
# quick one's 16.3 ms a step, the full one's 30 ms. The queue rescales them by the rate of the
# trainings it has seen, so a faster or slower server corrects them itself.
STEP_SECONDS = 1.07e-2
IMAGE_PARAMETER_SECONDS = 4.05e-11
START_SECONDS = 4.0  # a worker's start: Python, torch, the data
FINISH_SECONDS = 1.0  # the test metrics and the checkpoint's write after the last step


class LimitError(Exception):
    """A request over one of the server's limits; the message says which and who sets it."""


def _layers(dims: list[int]) -> int:
    """Weights and biases of a stack of linear layers of these widths."""
    return sum(a * b + b for a, b in itertools.pairwise(dims))


def parameters(config: VAEConfig, pixels: int = 784) -> int:
    """Weights and biases of the encoder's and decoder's linear layers."""
    label_width = config.classes if config.conditional else 0  # a conditional model's one-hot
    dims = [pixels + label_width, *config.hidden]
    heads = 2 * (dims[-1] * config.latent_dim + config.latent_dim)  # mean and log-variance
    decoder = [config.latent_dim + label_width, *reversed(config.hidden), pixels]
    return _layers(dims) + heads + _layers(decoder)


def _step_seconds(model_config: VAEConfig, train_config: TrainConfig) -> float:
    """Seconds per optimizer step as the model's size predicts on the reference machine."""
    images = train_config.batch_size
    work = parameters(model_config) * images
    if model_config.semi_supervised:
        # M2 passes each unlabelled image through the encoder and the decoder once per class,
        # the labelled batch once more, and both through its classifier.
        c = model_config
        labelled = min(c.labelled, LABELLED_BATCH)
        classifier = _layers([PIXELS, *c.hidden, c.classes])
        work = parameters(c) * (images * c.classes + labelled) + classifier * (images + labelled)
    return STEP_SECONDS + IMAGE_PARAMETER_SECONDS * work


def _steps(train_config: TrainConfig) -> int:
    return train_config.epochs * math.ceil(TRAIN_SIZE / train_config.batch_size)


class TrainingQueue:
    def __init__(
        self,
        limits: Limits,
        *,
        cache_dir=None,
        alive: Callable[[str], bool] = lambda waiter: True,
        in_use: Callable[[], set[str]] = frozenset,
        new_job: Callable[[TrainingRequest], TrainingJob],
        slots: Callable[[], int],
        tick_every: float | None = 1.0,
        grace: float = 60.0,
        prune_lock=None,
    ) -> None:
        """`alive(waiter)` says whether a waiter's session is connected; one that has not been
        for `grace` seconds (a closed tab, not a network blip that reconnects) waits no more.
        `in_use()` names the cache keys of models being shown, which pruning keeps. Every
        `tick_every` seconds a thread forgets waiters that have gone (None: only when the
        queue is used).

        `new_job(request)` makes a job that the engine runs (training.cluster.ClusterJob): each
        goes to it at once and waits there in the order asked, and `slots()` says how many the
        engine runs at once, for the estimates. `prune_lock` makes one pruner at a time of all
        the servers on a cache (default: of this process)."""
        self.limits = limits
        self.cache_dir = Path(cache_dir or default_cache_dir())
        self._alive = alive
        self._in_use = in_use
        self._new_job = new_job
        self._lock = threading.RLock()
        self._jobs: dict[str, TrainingJob] = {}  # by cache key: in line, running, or ended
        self._waiters: dict[str, set[str]] = {}  # who waits for each key's job
        self._line: list[str] = []  # keys of waiting jobs, first in line first
        self._speed = 1.0  # measured step time over the model's prediction, latest training
        self._grace = grace
        self._gone_since: dict[str, float] = {}  # waiter -> monotonic() when last seen gone
        self._slots = slots
        # Two trainings ending at once prune one at a time.
        self._pruning = prune_lock or threading.Lock()
        if tick_every is not None:
            threading.Thread(target=self._ticks, args=(tick_every,), daemon=True).start()

    # ------------------------------------------------------------ what a session does

    def submit(
        self, model_config: VAEConfig, train_config: TrainConfig, data_dir=None, *, waiter: str
    ) -> TrainingJob:
        """The job for this model of the data in `data_dir` (None: the bundled MNIST), joined
        by `waiter`; a new one goes to the end of the line.

        Raises LimitError if the request is over the operator's limits.
        """
        key = cache_key(model_config, train_config, data_dir)
        with self._lock:
            self._forget_gone()
            job = self._jobs.get(key)
            joining = job is not None and (
                job.state in (WAITING, RUNNING)
                or (job.state == DONE and self._cached(model_config, train_config, data_dir))
            )
            if waiter not in self._waiters.get(key, ()) and (not joining or job.state != DONE):
                self._check_pending(waiter)
            if not joining:
                self._check_epochs(train_config)
                job = self._new_job(
                    TrainingRequest(model_config, train_config, data_dir, self.cache_dir)
                )
                job.add_done_callback(self._job_ended)
                self._jobs[key] = job
                self._line.append(key)
            self._waiters.setdefault(key, set()).add(waiter)
            self._schedule()
            return job

    def withdraw(self, key: str, waiter: str) -> None:
        """`waiter` no longer waits for this model: cancelled, dismissed, or shown already."""
        with self._lock:
            waiters = self._waiters.get(key)
            if waiters is None:
                return
            waiters.discard(waiter)
            self._schedule()

    def rejoin(self, key: str, waiter: str) -> None:
        """`waiter` still waits for this job (a page polling it): it counts again if a lapse
        in its connection had it forgotten while others kept the job."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state in (WAITING, RUNNING):
                self._waiters.setdefault(key, set()).add(waiter)
                self._gone_since.pop(waiter, None)

    def kept(self) -> set[str]:
        """Keys of the models this line trains, has waiting, or finished for pages that have not
        shown them yet: pruning on any server of this cache keeps them."""
        with self._lock:
            return {k for k, j in self._jobs.items() if j.state in (WAITING, RUNNING, DONE)}

    def job(self, key: str) -> TrainingJob | None:
        with self._lock:
            return self._jobs.get(key)

    def requests_of(self, waiter: str) -> list[str]:
        """Keys of the jobs `waiter` waits for that are in line or training."""
        with self._lock:
            return [
                key
                for key, job in self._jobs.items()
                if waiter in self._waiters.get(key, ()) and job.state in (WAITING, RUNNING)
            ]

    def place(self, key: str) -> int | None:
        """1 for the first in line, and so on; None for a job not waiting."""
        with self._lock:
            line = self._waiting_line()
            return line.index(key) + 1 if key in line else None

    def estimate(self, key: str) -> tuple[float, float] | None:
        """(seconds until it starts, seconds until it is ready) for a job waiting or running.

        Running jobs end at their measured rate; each waiting one then takes the first slot
        that frees, for as long as its size predicts.
        """
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.state not in (WAITING, RUNNING):
                return None
            running = [j for j in self._jobs.values() if j.state == RUNNING]
            if job.state == RUNNING:
                return 0.0, self._left(job)
            free = sorted(self._left(j) for j in running)
            free += [0.0] * max(0, self._slot_count() - len(free))
            free.sort()
            for k in self._waiting_line():
                start = free.pop(0)
                finish = start + self._duration(self._jobs[k])
                if k == key:
                    return start, finish
                free.append(finish)
                free.sort()
            return None

    def tick(self) -> None:
        """Forget waiters that have gone, and drop or stop jobs left without any."""
        with self._lock:
            self._schedule()

    # ------------------------------------------------------------ limits

    def _check_epochs(self, train_config: TrainConfig) -> None:
        most = self.limits.max_epochs
        if train_config.epochs > most:
            raise LimitError(
                lazy(
                    "This server trains new models for at most {most} epochs, and {epochs} is "
                    "over that limit. Choose {most} or fewer, or a model that is already "
                    "trained. Whoever runs the server sets this limit ({where}).",
                    most=most,
                    epochs=train_config.epochs,
                    where=where_set("max_epochs"),
                )
            )

    def _check_pending(self, waiter: str) -> None:
        most = self.limits.max_pending
        if len(self.requests_of(waiter)) >= most:
            if most > 1:
                message = N_(
                    "You already have {most} models waiting or training, the most one page may "
                    "ask of this server. Cancel one, or wait until it is ready. Whoever runs the "
                    "server sets this limit ({where})."
                )
            else:
                message = N_(
                    "You already have {most} model waiting or training, the most one page may "
                    "ask of this server. Cancel one, or wait until it is ready. Whoever runs the "
                    "server sets this limit ({where})."
                )
            raise LimitError(lazy(message, most=most, where=where_set("max_pending")))

    # ------------------------------------------------------------ scheduling

    def _ticks(self, every: float) -> None:
        event = threading.Event()
        while not event.wait(every):
            try:
                self.tick()
            except Exception:  # the line must keep moving whatever one check hits
                log.exception("training queue tick")

    def _forget_gone(self) -> None:
        """Waiters whose session has been gone for `grace` seconds wait no more."""
        now = monotonic()
        for waiters in self._waiters.values():
            for waiter in list(waiters):
                if self._alive(waiter):
                    self._gone_since.pop(waiter, None)
                elif now - self._gone_since.setdefault(waiter, now) >= self._grace:
                    waiters.discard(waiter)

    def _schedule(self) -> None:
        """With the lock held: drop what nobody waits for, then hand new jobs to the engine."""
        self._forget_gone()
        abandoned = []
        for key in [k for k, waiters in self._waiters.items() if not waiters]:
            del self._waiters[key]
            abandoned.append(self._jobs.pop(key))
            if key in self._line:
                self._line.remove(key)
        # Cancelled once the books are straight: a waiting job's end calls back in here.
        for job in abandoned:
            job.cancel()  # a waiting job is dropped, a running one stopped; ended: nothing
        for key in self._line:  # to the engine, in the order asked; a job started stays
            self._jobs[key].start()
        self._line = self._waiting_line()

    def _waiting_line(self) -> list[str]:
        return [k for k in self._line if k in self._jobs and self._jobs[k].state == WAITING]

    def _slot_count(self) -> int:
        try:
            return max(1, self._slots())
        except Exception as exc:  # an estimate, not worth failing a page for
            log.warning("could not count the cluster's slots: %s", exc)
            return 1

    def _job_ended(self, job: TrainingJob) -> None:
        with self._lock:
            rate = job.seconds_per_step()
            if job.state == DONE and rate is not None:
                self._speed = rate / self._predicted_rate(job)
            self._schedule()
            # Kept: what trains or waits, and what finished for pages that have not shown it yet.
            keep = {job.key} | self.kept()
        if job.state == DONE:
            self.prune(keep)

    def prune(self, keep: set[str] = frozenset()) -> list[Path]:
        """Bring the cache within its size, keeping models shown and `keep`."""
        try:
            with self._pruning:  # a cluster's lock may be out of reach: prune next time
                return prune(
                    self.cache_dir, self.limits.cache_bytes, set(keep) | set(self._in_use())
                )
        except OSError as exc:
            log.warning("could not prune the model cache %s: %s", self.cache_dir, exc)
            return []

    def _cached(self, model_config: VAEConfig, train_config: TrainConfig, data_dir) -> bool:
        return cached_path(model_config, train_config, data_dir, self.cache_dir).is_file()

    # ------------------------------------------------------------ estimates

    def _predicted_rate(self, job: TrainingJob) -> float:
        """Seconds per step of this job as its size predicts, before `_speed`'s correction."""
        return _step_seconds(job.model_config, job.train_config)

    def _duration(self, job: TrainingJob) -> float:
        return self.expected_seconds(job.model_config, job.train_config)

    def expected_seconds(self, model_config: VAEConfig, train_config: TrainConfig) -> float:
        """How long a training of these settings takes on this server once it starts, from
        the step rates measured here so far (the trainings it has seen)."""
        rate = _step_seconds(model_config, train_config) * self._speed
        return START_SECONDS + _steps(train_config) * rate + FINISH_SECONDS

    def _left(self, job: TrainingJob) -> float:
        eta = job.eta()
        if eta is not None:
            return eta + FINISH_SECONDS
        return max(FINISH_SECONDS, self._duration(job) - job.elapsed())
