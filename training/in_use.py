"""Which models the pages of every server show, so that pruning a shared cache keeps them.

Each server process (a replica of a school, deploy/) keeps one small file in the cache's
`in_use/` directory, `<host>-<pid>.json`, naming the cache keys its pages show; it rewrites
the file when that set changes and at least every HEARTBEAT_S while it runs. Whoever prunes
reads every file: one of a process on this host counts while that process lives (a killed
replica's file is removed), one from another host while it is younger than STALE_S. Writes
are atomic, reads take no lock, so a reader sees a whole file or none.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from vae_core.checkpoint import atomic_write

log = logging.getLogger(__name__)

DIRECTORY = "in_use"
HEARTBEAT_S = 60.0  # a live process rewrites its file at least this often
STALE_S = 5 * HEARTBEAT_S  # another host's file older than this is of a server gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


class InUse:
    """This process's record of the models its pages show, and the reading of everyone's."""

    def __init__(
        self,
        cache_dir: str | os.PathLike,
        host: str | None = None,
        pid: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = Path(cache_dir) / DIRECTORY
        self.host = host or socket.gethostname()
        self.pid = os.getpid() if pid is None else pid
        self.clock = clock
        self.path = self.directory / f"{self.host}-{self.pid}.json"
        self._written: tuple[frozenset[str], float] | None = None
        self._lock = threading.Lock()

    def write(self, keys: set[str]) -> None:
        """Record `keys` if they changed or the heartbeat is due; a failure is logged, not
        raised (a page must not fail because the cache is read-only)."""
        keys = frozenset(keys)
        now = self.clock()
        with self._lock:
            if self._written and self._written[0] == keys and now - self._written[1] < HEARTBEAT_S:
                return
            record = {"host": self.host, "pid": self.pid, "keys": sorted(keys), "at": now}
            try:
                atomic_write(self.path, lambda f: f.write(json.dumps(record).encode()))
            except OSError as exc:
                log.warning("could not record the models in use in %s: %s", self.directory, exc)
                return
            self._written = (keys, now)

    def others(self) -> set[str]:
        """The keys every other live server's pages show."""
        found: set[str] = set()
        try:
            paths = [p for p in self.directory.glob("*.json") if p != self.path]
        except OSError:
            return found
        for path in paths:
            try:
                record = json.loads(path.read_text())
                host, pid, keys = record["host"], int(record["pid"]), record["keys"]
                age = self.clock() - path.stat().st_mtime
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if host == self.host:
                if not _alive(pid):
                    path.unlink(missing_ok=True)
                    continue
            elif age > STALE_S:
                continue
            found.update(str(k) for k in keys)
        return found

    def close(self) -> None:
        self.path.unlink(missing_ok=True)
