"""A training in a worker process of this host (`python -m training.worker`), read by a
thread of the server. A worker that dies (killed, out of memory) ends its job with a message
saying so, and whatever it was writing is removed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from time import monotonic

from i18n import Text, lazy

from .cache import cached_path, discard_partial_writes
from .job import CANCELLED, DONE, FAILED, RUNNING, WAITING, TrainingJob
from .request import TrainingRequest

WORKER = (sys.executable, "-m", "training.worker")
REPO = Path(__file__).resolve().parent.parent  # where `-m training.worker` is found


def describe_exit(returncode: int) -> Text:
    """Why a worker ended without a result, from its exit status (a lazy message)."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if name == "SIGKILL":
            return lazy(
                "the training process was stopped by {signal} (on a server, most often for lack "
                "of memory) before it finished",
                signal=name,
            )
        return lazy("the training process was stopped by {signal} before it finished", signal=name)
    return lazy(
        "the training process ended with status {status} before it finished; the server's log "
        "has its error",
        status=returncode,
    )


class ProcessJob(TrainingJob):
    """A training in a worker process of this host: the one a task of the cluster runs."""

    def __init__(
        self,
        request: TrainingRequest,
        command: Sequence[str] = WORKER,
        relay: Callable[[dict], None] | None = None,
    ) -> None:
        """`command` starts the worker (which reads the request on stdin); `relay(message)`, if
        given, also gets each of the worker's messages as it comes (training.cluster forwards
        them to the pages of every replica)."""
        super().__init__(request)
        self.command = list(command)
        self._relay = relay
        self._process: subprocess.Popen | None = None

    def start(self) -> ProcessJob:
        """Start the worker; a job cancelled before this never starts one."""
        with self._lock:
            if self._state != WAITING:
                return self
            self._state, self._started = RUNNING, monotonic()
            try:
                self._process = subprocess.Popen(
                    self.command,
                    cwd=REPO,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                self._process.stdin.write(json.dumps(self.request.to_dict()) + "\n")
                self._process.stdin.flush()
            except Exception as exc:  # the slot must come free whatever went wrong
                if self._process is not None:
                    self._process.kill()
                    self._process.wait()
                self._state, self._ended = FAILED, monotonic()
                self._error = lazy("could not start the training process: {error}", error=str(exc))
        if self._state == FAILED:
            self._finish()
        else:
            threading.Thread(target=self._watch, name=f"training-{self.key}", daemon=True).start()
        return self

    def cancel(self) -> None:
        """Drop a waiting job, or stop a running one (nothing reaches the cache)."""
        with self._lock:
            if self._state not in (WAITING, RUNNING):
                return
            was_waiting = self._state == WAITING
            self._state, self._ended = CANCELLED, monotonic()
            if self._process is not None:
                self._process.terminate()
        if was_waiting:
            self._finish()

    @property
    def pid(self) -> int | None:
        with self._lock:
            return None if self._process is None else self._process.pid

    def _watch(self) -> None:
        process = self._process
        for line in process.stdout:
            try:
                message = json.loads(line)
                self._handle(message)
            except (ValueError, KeyError, TypeError):
                continue  # a stray line on stdout; the worker's own messages are JSON objects
            if self._relay is not None:
                self._relay(message)
        returncode = process.wait()
        with self._lock:
            self._snapshot = None  # the model is in the cache now, or will never be
            if self._state == RUNNING:
                self._state, self._ended = FAILED, monotonic()
                self._error = describe_exit(returncode)
            clean = self._state != DONE
        if clean:
            # A worker stopped by a signal skips its own clean-up of a checkpoint half-written.
            discard_partial_writes(cached_path(*self.request.configs(), self.cache_dir))
        self._finish()
