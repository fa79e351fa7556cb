"""One training in a process of its own: `python -m training.worker`, started by ProcessJob.

Training outside the server's process leaves the server's interpreter lock and its priority to
the pages: the worker lowers its own CPU priority and bounds its torch threads. It reads one
JSON request on stdin (TrainingRequest.to_dict's) and writes JSON lines on stdout: `{"batch": [steps, total]}` (at most a
few a second), `{"epoch": EpochReport}` followed by `{"replay": frame}` (vae_core.replay's
message: the epoch's test codes and manifold, ~120 kB) and `{"snapshot": weights}`
(vae_core.snapshot's message: the weights in float16, 3.5 MB at width 512), then
`{"done": metrics}` or `{"error": message}` (i18n.message_of: a lazy message as data).
Anything else it prints goes to stderr, the server's log. SIGTERM, or the server going away
(stdin closing), stops it the way Ctrl-C would, so a checkpoint half-written is removed.
"""

from __future__ import annotations

import _thread
import errno
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import i18n
from i18n import Text, lazy, said

from .limits import where_set

BATCH_EVERY = 0.25  # seconds between two progress messages within an epoch
NICENESS = 10  # added to the worker's nice value: the server's reruns come first


def describe_error(exc: BaseException, cache_dir: Path) -> Text:
    """What went wrong, and for the disk's faults what an operator can do about it (a lazy
    message, sent as data so that each page reads it in its own language)."""
    # TRANSLATORS: an error's type (a Python name such as OSError) and what it says.
    text = lazy("{kind}: {error}", kind=type(exc).__name__, error=said(exc))
    if not isinstance(exc, OSError):
        return text
    where = str(cache_dir)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return lazy(
            "the disk holding the model cache {cache_dir} is full ({error}). Whoever runs the "
            "server can free some space, lower the cache's size ({where}) or set "
            "VAE_EXPLORER_CACHE to a directory on a larger disk",
            cache_dir=where,
            error=text,
            where=where_set("cache_mb"),
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return lazy(
            "the model cache {cache_dir} cannot be written ({error}). Whoever runs the server "
            "can make it writable, or set VAE_EXPLORER_CACHE to a directory that is",
            cache_dir=where,
            error=text,
        )
    return lazy(
        "reading or writing the model cache {cache_dir} failed ({error}). Whoever runs the "
        "server can check that directory, or set VAE_EXPLORER_CACHE to another",
        cache_dir=where,
        error=text,
    )


class ThreadTuner:
    """Keeps choosing the torch thread count, one or the most allowed, that steps faster now.

        On an idle machine several threads step faster than one (on 2 cores, ~1.7x), but beside
        other work (the server's reruns, or a browser on the same machine) their waits for each
        other make them slower than a single thread. Each window of `window` steps is timed; every
        `explore`-th window tries the other count, and the rest use the faster of the latest
        timings. On this project's torch build one and two threads give bitwise-identical weights;
    another build may differ in the last bits, as the CLI's would on another machine.
    """

    def __init__(self, most: int, window: int = 25, explore: int = 16, set_threads=None) -> None:
        import torch

        self.choices = sorted({1, most})
        self.window, self.explore = window, explore
        self.set_threads = set_threads or torch.set_num_threads
        self.seconds_per_step = dict.fromkeys(self.choices, 0.0)  # 0.0: not timed yet
        self.current = self.choices[-1]
        self.windows = 0
        self.start: tuple[int, float] | None = None  # (steps, monotonic()) when the window began
        self.set_threads(self.current)

    def restart_window(self) -> None:
        """Leave out of the timing what is not a step (an epoch's test evaluation)."""
        self.start = None

    def step(self, steps: int, now: float) -> None:
        if len(self.choices) == 1:
            return
        if self.start is None:
            self.start = (steps, now)
            return
        done = steps - self.start[0]
        if done < self.window:
            return
        self.seconds_per_step[self.current] = (now - self.start[1]) / done
        self.windows += 1
        untimed = [c for c in self.choices if self.seconds_per_step[c] == 0.0]
        if untimed:
            choice = untimed[0]
        elif self.windows % self.explore == 0:
            choice = next(c for c in self.choices if c != self.current)
        else:
            choice = min(self.choices, key=self.seconds_per_step.__getitem__)
        if choice != self.current:
            self.current = choice
            self.set_threads(choice)
        self.start = (steps, now)


def _stop(*_) -> None:
    """SIGTERM's handler: stop training as Ctrl-C would, the checkpoint half-written removed.
    Raised here rather than through SIGINT, which a server started in the background (`nohup
    … &`) passes on ignored, so that such a server's workers could not be stopped."""
    raise KeyboardInterrupt


def _stop_on_eof() -> None:
    """Interrupt training once the server that started this worker has gone."""
    sys.stdin.read()
    _thread.interrupt_main(signal.SIGTERM)


def main() -> int:
    messages = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr

    def send(message: dict) -> None:
        messages.write(json.dumps(message) + "\n")

    line = sys.stdin.readline()
    signal.signal(signal.SIGTERM, _stop)
    threading.Thread(target=_stop_on_eof, daemon=True).start()
    if hasattr(os, "nice"):
        os.nice(NICENESS)

    from .cache import default_cache_dir, get_or_train
    from .request import TrainingCallbacks, TrainingRequest

    request = TrainingRequest.from_dict(json.loads(line))
    tuner = ThreadTuner(request.threads or os.cpu_count() or 1)
    cache_dir = Path(request.cache_dir or default_cache_dir())
    last_sent = 0.0

    def on_epoch(report) -> None:
        tuner.restart_window()
        send({"epoch": report.to_dict()})

    def on_batch(steps: int, total: int) -> None:
        nonlocal last_sent
        now = time.monotonic()
        tuner.step(steps, now)
        if steps == 1 or steps == total or now - last_sent >= BATCH_EVERY:
            last_sent = now
            send({"batch": [steps, total]})

    try:
        _, checkpoint = get_or_train(
            request,
            TrainingCallbacks(
                on_epoch=on_epoch,
                on_batch=on_batch,
                on_replay=lambda frame: send({"replay": frame.to_message()}),
                on_snapshot=lambda snapshot: send({"snapshot": snapshot.to_message()}),
            ),
        )
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # every failure reaches the pages waiting for this model
        send({"error": i18n.message_of(describe_error(exc, cache_dir))})
        return 1
    send({"done": {"cache_key": checkpoint["extra"].get("cache_key")}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
