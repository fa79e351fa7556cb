"""The training line (training.queue) with stand-in jobs run by a stand-in engine: places,
sharing, withdrawal, limits, estimates. The real engine (Dask) is tested in test_cluster.py."""

import os
import time

import pytest

from training.cache import cache_key
from training.job import CANCELLED, DONE, FAILED, RUNNING, WAITING
from training.limits import Limits
from training.queue import FINISH_SECONDS, START_SECONDS, LimitError, TrainingQueue
from training.request import TrainConfig
from vae_core.model import VAEConfig

MODEL = VAEConfig(hidden=(64, 64))


def settings(seed: int, epochs: int = 2) -> tuple[VAEConfig, TrainConfig]:
    return MODEL, TrainConfig(epochs=epochs, seed=seed)


def key(seed: int, epochs: int = 2) -> str:
    return cache_key(*settings(seed, epochs))


class Engine:
    """What the engine does for the queue: runs the jobs handed to it, `slots` at once, first
    handed first; a job let go before it runs never does."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.handed: list[StandIn] = []

    def hand(self, job: "StandIn") -> None:
        self.handed.append(job)
        self.run()

    def run(self) -> None:
        running = sum(j.state == RUNNING for j in self.handed)
        for job in self.handed:
            if job.state == WAITING and running < self.slots:
                job.state = RUNNING
                running += 1


class StandIn:
    """A ClusterJob's interface without a cluster: the test says when it ends."""

    made: list["StandIn"] = []
    engine = Engine(1)

    def __init__(self, request):
        self.model_config, self.train_config = request.model_config, request.train_config
        self.key = cache_key(*request.configs())
        self.state = WAITING
        self.eta_left: float | None = None
        self.rate: float | None = None
        self._callbacks = []
        StandIn.made.append(self)

    def start(self):
        if self not in StandIn.engine.handed:
            StandIn.engine.hand(self)
        return self

    def cancel(self):
        if self.state in (WAITING, RUNNING):
            self.state = CANCELLED
            self._end()

    def end(self, state=DONE):
        self.state = state
        self._end()

    def _end(self):
        StandIn.engine.run()  # its slot is free
        for callback in self._callbacks:
            callback(self)

    def add_done_callback(self, callback):
        self._callbacks.append(callback)

    def eta(self):
        return self.eta_left

    def elapsed(self):
        return 0.0

    def seconds_per_step(self):
        return self.rate


def queue_of(limits: Limits, **options) -> TrainingQueue:
    """A queue whose engine runs `limits.max_trainings` at once, as the server's own does."""
    StandIn.engine = Engine(limits.max_trainings)
    return TrainingQueue(limits, new_job=StandIn, slots=lambda: limits.max_trainings, **options)


@pytest.fixture
def line(tmp_path):
    StandIn.made = []

    def make(**limits) -> TrainingQueue:
        return queue_of(Limits(**limits), cache_dir=tmp_path / "cache", tick_every=None)

    return make


def test_at_most_n_train_at_once_and_the_rest_wait_in_order(line):
    queue = line(max_trainings=2, max_pending=5)
    jobs = [queue.submit(*settings(seed), waiter=f"s{seed}") for seed in range(4)]
    assert [j.state for j in jobs] == [RUNNING, RUNNING, WAITING, WAITING]
    assert [queue.place(j.key) for j in jobs] == [None, None, 1, 2]
    jobs[1].end()
    assert [j.state for j in jobs] == [RUNNING, DONE, RUNNING, WAITING]
    assert queue.place(jobs[3].key) == 1
    jobs[0].end(FAILED)  # a failure frees its slot like a success
    assert jobs[3].state == RUNNING


def test_identical_requests_share_one_job(line):
    queue = line(max_trainings=1)
    first = queue.submit(*settings(1), waiter="a")
    again = queue.submit(*settings(1), waiter="b")
    assert again is first and len(StandIn.made) == 1
    assert queue.requests_of("a") == queue.requests_of("b") == [key(1)]


def test_a_job_nobody_waits_for_is_dropped_before_it_starts(line):
    queue = line(max_trainings=1)
    running = queue.submit(*settings(1), waiter="a")
    waiting = queue.submit(*settings(2), waiter="b")
    queue.submit(*settings(2), waiter="c")
    queue.withdraw(key(2), "b")
    assert waiting.state == WAITING  # c still waits for it
    queue.withdraw(key(2), "c")
    assert waiting.state == CANCELLED and queue.job(key(2)) is None
    running.end()
    assert waiting.state == CANCELLED  # never started


def test_withdrawing_the_last_waiter_stops_a_running_job(line):
    queue = line(max_trainings=1)
    running = queue.submit(*settings(1), waiter="a")
    queue.submit(*settings(1), waiter="b")
    nxt = queue.submit(*settings(2), waiter="c")
    queue.withdraw(key(1), "a")
    assert running.state == RUNNING  # b still waits for it
    queue.withdraw(key(1), "b")
    assert running.state == CANCELLED and nxt.state == RUNNING


def test_waiters_whose_session_has_gone_count_as_nobody(tmp_path):
    StandIn.made = []
    connected = {"a", "b"}
    queue = queue_of(
        Limits(max_trainings=1),
        cache_dir=tmp_path,
        alive=lambda w: w in connected,
        tick_every=0.05,
        grace=0.5,
    )
    running = queue.submit(*settings(1), waiter="a")
    waiting = queue.submit(*settings(2), waiter="b")
    connected.discard("b")  # a network blip: b reconnects within the grace period
    time.sleep(0.25)
    connected.add("b")
    time.sleep(0.5)
    assert waiting.state == WAITING
    connected.discard("b")  # b closed the tab
    deadline = time.time() + 5
    while waiting.state == WAITING and time.time() < deadline:
        time.sleep(0.02)
    assert waiting.state == CANCELLED and running.state == RUNNING
    assert queue.job(key(2)) is None


def test_a_page_polling_its_job_counts_as_waiting_again_after_a_lapse(line):
    queue = line(max_trainings=1)
    running = queue.submit(*settings(1), waiter="a")
    queue.submit(*settings(1), waiter="b")
    queue._waiters[key(1)].discard("a")  # forgotten during a long lapse, b kept the job
    queue.rejoin(key(1), "a")
    queue.withdraw(key(1), "b")
    assert running.state == RUNNING  # a still waits for it


def test_a_request_over_the_epoch_limit_says_which_limit_and_who_sets_it(line):
    queue = line(max_epochs=30)
    with pytest.raises(LimitError) as refused:
        queue.submit(*settings(1, epochs=31), waiter="a")
    message = str(refused.value)
    assert "at most 30 epochs" in message and "31" in message
    assert "VAE_EXPLORER_MAX_EPOCHS" in message and "--max-epochs" in message
    assert not StandIn.made
    queue.submit(*settings(1, epochs=30), waiter="a")


def test_one_session_may_have_only_so_many_requests_pending(line):
    queue = line(max_trainings=1, max_pending=2)
    first = queue.submit(*settings(1), waiter="a")
    queue.submit(*settings(2), waiter="a")
    with pytest.raises(LimitError) as refused:
        queue.submit(*settings(3), waiter="a")
    assert "2 models waiting or training" in str(refused.value)
    assert "VAE_EXPLORER_MAX_PENDING" in str(refused.value)
    queue.submit(*settings(3), waiter="b")  # another session is not held back
    first.end()  # a finished model no longer counts
    queue.submit(*settings(4), waiter="a")
    assert len(queue.requests_of("a")) == 2


def test_a_failed_model_asked_for_again_trains_afresh_for_everyone_waiting(line):
    queue = line(max_trainings=1)
    failed = queue.submit(*settings(1), waiter="a")
    failed.end(FAILED)
    assert queue.job(key(1)) is failed  # a keeps seeing the failure until it dismisses it
    retry = queue.submit(*settings(1), waiter="b")
    assert retry is not failed and retry.state == RUNNING
    assert set(queue.requests_of("a")) == {key(1)}  # a waits for the retry too


def test_estimates_follow_the_running_jobs_and_the_sizes_in_line(line):
    queue = line(max_trainings=1)
    running = queue.submit(*settings(1), waiter="a")
    second = queue.submit(*settings(2, epochs=4), waiter="b")
    third = queue.submit(*settings(3), waiter="c")
    running.eta_left = 50.0
    assert queue.estimate(running.key) == (0.0, 50.0 + FINISH_SECONDS)
    start2, finish2 = queue.estimate(second.key)
    start3, finish3 = queue.estimate(third.key)
    assert start2 == 50.0 + FINISH_SECONDS and start3 == pytest.approx(finish2)
    # A 4-epoch model takes twice the steps of a 2-epoch one of the same size.
    steps2 = finish2 - start2 - START_SECONDS - FINISH_SECONDS
    steps3 = finish3 - start3 - START_SECONDS - FINISH_SECONDS
    assert steps2 == pytest.approx(2 * steps3)
    # The queue learns the server's speed from a finished training.
    running.rate = 10 * queue._predicted_rate(running)
    running.end()
    start3_after, finish3_after = queue.estimate(third.key)
    assert finish3_after - start3_after - START_SECONDS - FINISH_SECONDS == pytest.approx(
        10 * steps3
    )
    assert queue.estimate(key(9)) is None


def test_a_finished_training_prunes_the_cache_but_keeps_models_in_use(tmp_path):
    StandIn.made = []
    cache = tmp_path / "cache"
    cache.mkdir()
    names = {"old": "0" * 20, "shown": "1" * 20, "new": "2" * 20, "trained": key(1)}
    for age, name in enumerate(names.values()):
        path = cache / f"{name}.pt"
        path.write_bytes(b"x" * 300_000)
        os.utime(path, (1000 + age, 1000 + age))
    os.utime(cache / f"{key(1)}.pt", (900, 900))  # the oldest: just written, by an old clock
    queue = queue_of(
        Limits(cache_mb=0.75),
        cache_dir=cache,
        in_use=lambda: {names["shown"]},
        tick_every=None,
    )
    queue.submit(*settings(1), waiter="a").end()
    # The model just trained stays for the page that has not shown it yet, and the shown one.
    left = sorted(p.name for p in cache.glob("*.pt"))
    assert left == sorted(f"{names[n]}.pt" for n in ("shown", "trained"))


def test_a_finished_model_gone_from_the_cache_is_trained_again_for_a_new_request(line, tmp_path):
    queue = line()
    first = queue.submit(*settings(1), waiter="a")
    first.end()  # a has not shown it yet; its file is not in the cache
    again = queue.submit(*settings(1), waiter="b")
    assert again is not first and again.state == RUNNING


def test_a_session_gone_with_two_requests_in_line_drops_both(tmp_path):
    StandIn.made = []
    connected = {"a"}
    queue = queue_of(
        Limits(max_trainings=1),
        cache_dir=tmp_path,
        alive=lambda w: w in connected,
        tick_every=None,
        grace=0.0,
    )
    running = queue.submit(*settings(1), waiter="a")
    first = queue.submit(*settings(2), waiter="a")
    second = queue.submit(*settings(3), waiter="a")
    connected.clear()
    queue.tick()
    assert [j.state for j in (running, first, second)] == [CANCELLED] * 3
    assert queue.job(key(2)) is None and queue.job(key(3)) is None
