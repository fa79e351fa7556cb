"""The models in use across servers (training/in_use.py): each process's record in the shared
cache, read without locks; a live process's models are kept by whoever prunes, a dead one's
record is dropped, another host's counts until it is stale."""

import os
import subprocess
import sys

from training.cache import prune
from training.in_use import HEARTBEAT_S, STALE_S, InUse


def test_a_live_replicas_models_count_and_a_dead_ones_record_goes(tmp_path):
    mine = InUse(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        other = InUse(tmp_path, pid=child.pid)
        mine.write({"aaaa"})
        other.write({"bbbb", "cccc"})
        assert mine.others() == {"bbbb", "cccc"}
        assert other.others() == {"aaaa"}
    finally:
        child.kill()
        child.wait()
    assert mine.others() == set()
    assert not other.path.exists()  # a killed replica's record is removed


def test_another_hosts_record_counts_until_it_is_stale(tmp_path):
    mine = InUse(tmp_path)
    far = InUse(tmp_path, host="another-host", pid=1)
    far.write({"dddd"})
    assert mine.others() == {"dddd"}
    old = far.path.stat().st_mtime - STALE_S - 1
    os.utime(far.path, (old, old))
    assert mine.others() == set()
    assert far.path.exists()  # not ours to remove: that host may only be slow


def test_a_record_is_rewritten_when_it_changes_or_its_heartbeat_is_due(tmp_path):
    now = [1000.0]
    record = InUse(tmp_path, clock=lambda: now[0])
    record.write({"aaaa"})
    os.utime(record.path, (0, 0))
    record.write({"aaaa"})
    assert record.path.stat().st_mtime == 0  # unchanged and not due: not written
    record.write({"aaaa", "bbbb"})
    assert record.path.stat().st_mtime > 0
    os.utime(record.path, (0, 0))
    now[0] += HEARTBEAT_S
    record.write({"aaaa", "bbbb"})
    assert record.path.stat().st_mtime > 0


def test_pruning_keeps_a_model_another_server_shows(tmp_path):
    shown, unused = "a" * 20, "b" * 20
    for key in (shown, unused):
        (tmp_path / f"{key}.pt").write_bytes(b"\0" * 1000)
    os.utime(tmp_path / f"{shown}.pt", (0, 0))  # least recently used: pruned first otherwise
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        InUse(tmp_path, pid=child.pid).write({shown})
        removed = prune(tmp_path, 1500, keep=InUse(tmp_path).others())
    finally:
        child.kill()
        child.wait()
    assert [p.name for p in removed] == [f"{unused}.pt"]
    assert (tmp_path / f"{shown}.pt").exists()


def test_a_read_only_cache_is_logged_not_raised(tmp_path, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    InUse(blocked).write({"aaaa"})
    assert "could not record the models in use" in caplog.text


def test_the_server_keeps_its_own_and_other_servers_models(isolated_cache):
    from explorer import server

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        InUse(isolated_cache, pid=child.pid).write({"eeee"})
        server.note_shown("test-in-use-session", "ffff")
        assert {"eeee", "ffff"} <= server.models_in_use()
        assert "ffff" in InUse(isolated_cache, pid=child.pid).others()  # recorded for them
    finally:
        server._shown().pop("test-in-use-session", None)
        child.kill()
        child.wait()
