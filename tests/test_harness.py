"""The benchmarks' shared harness: /proc readings, a phase's CPU, a growing class, the
figures' table, the command line and the report."""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import harness


def test_cpu_and_memory_of_a_process_come_from_proc():
    before = harness.cpu_seconds(os.getpid())
    end = time.process_time() + 0.2
    while time.process_time() < end:  # burn 0.2 s of CPU
        pass
    spent = harness.cpu_seconds(os.getpid()) - before
    assert 0.15 <= spent <= 1.0
    assert os.getpid() in harness.descendants(os.getpid())
    assert harness.rss_mib(os.getpid()) > 10


def test_a_table_is_markdown_with_padded_columns():
    text = harness.table(("n", "seconds"), [(1, "0.5 s"), (16, "12.25 s")], right=(0,))
    assert text.splitlines() == [
        "|   n | seconds |",
        "| --: | ------- |",
        "|   1 | 0.5 s   |",
        "|  16 | 12.25 s |",
    ]


def test_session_counts_and_figures_read_as_said(tmp_path, capsys):
    assert harness.session_counts("8,1,8") == [1, 8]
    with pytest.raises(argparse.ArgumentTypeError, match="positive integers"):
        harness.session_counts("0,4")
    assert harness.fmt(None) == "n/a" and harness.fmt(2.345, ".2f", " ms") == "2.35 ms"
    assert harness.verdict(3.0, 5.0) == "ok" and harness.verdict(6.0, 5.0) == "MISSED"
    assert harness.percentile([], 95) is None and harness.percentile([1.0, 3.0], 50) == 2.0
    out = tmp_path / "figures" / "run.json"
    assert harness.finish({"p95_ms": 85.0}, "the report", out) == 0
    assert capsys.readouterr().out == "the report\n"
    assert json.loads(out.read_text()) == {"p95_ms": 85.0}


def test_a_report_is_its_title_table_and_notes_and_its_figures_go_to_out(tmp_path, capsys):
    rows = [
        harness.judged("p95, 16 sessions", "420 ms", 420.0, 500.0, " ms", "p95 ≤"),
        harness.judged("first visit", "3.2 s", 3.2, 3.0, " s"),
        harness.judged("per commit", "5.0 ms", 5.0, None),
    ]
    out = tmp_path / "run.json"
    header = ("measure", "value", "target", "")
    assert harness.report({"n": 1}, header, rows, ["a note"], title="Load", out=out) == 0
    assert capsys.readouterr().out.splitlines() == [
        "## Load",
        "",
        "| measure          | value  | target       |        |",
        "| ---------------- | ------ | ------------ | ------ |",
        "| p95, 16 sessions | 420 ms | p95 ≤ 500 ms | ok     |",
        "| first visit      | 3.2 s  | ≤ 3 s        | MISSED |",
        "| per commit       | 5.0 ms |              |        |",
        "",
        "a note",
    ]
    assert json.loads(out.read_text()) == {"n": 1}
    assert harness.report([], ("n",), [(1,)]) == 0  # no title, no notes, no file
    assert capsys.readouterr().out == "| n   |\n| --- |\n| 1   |\n"


def test_latencies_spread_into_p50_p95_and_max_and_read_as_a_cell():
    figures = harness.spread([10.0, 20.0, 30.0], "latency")
    assert figures == {
        "latency_ms": [10.0, 20.0, 30.0],
        "latency_p50_ms": 20.0,
        "latency_p95_ms": 29.0,
        "latency_max_ms": 30.0,
    }
    assert harness.p50_p95(figures, "latency") == "20 / 29 ms"
    assert harness.p50_p95(figures, "latency", with_max=True) == "20 / 29 / 30 ms"
    none = harness.spread([], "to_board")
    assert none["to_board_max_ms"] is None
    assert harness.p50_p95(none, "to_board") == "n/a / n/a ms"


BURNER = """
import sys, time
sys.stdin.readline()
end = time.process_time() + 0.2
while time.process_time() < end:
    pass
print("done", flush=True)
sys.stdin.readline()
"""


def test_a_phases_cpu_is_the_servers_from_settled_to_settled_net_of_its_idle_rate():
    # A "server" of its own, idle until told to burn 0.2 s of CPU: nothing else of this test
    # process's counts.
    server = subprocess.Popen(
        [sys.executable, "-c", BURNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    async def phase() -> harness.Usage:
        async with harness.usage(server.pid, client=lambda: 0.0) as used:
            server.stdin.write("go\n")
            server.stdin.flush()
            assert server.stdout.readline() == "done\n"
        return used

    try:
        used = asyncio.run(phase())
    finally:
        server.stdin.close()
        server.wait()
    assert 0.15 <= used.server_s <= 1.0
    assert used.seconds > 0 and used.settled_s >= used.seconds and used.client_s == 0.0
    figures = used.figures(0.0, step=4, commit=0)
    assert figures["server_cpu_ms"] == figures["server_cpu_raw_ms"] == 1000 * used.server_s
    assert figures["cpu_per_step_ms"] == figures["server_cpu_ms"] / 4
    assert figures["cpu_per_commit_ms"] is None and figures["cpu_per_commit_raw_ms"] is None
    idle = used.figures(0.01)  # 10 ms of CPU a second when idle
    assert idle["server_cpu_ms"] == idle["server_cpu_raw_ms"] - 10 * used.settled_s


def test_a_class_grows_through_its_counts_opening_only_the_sessions_missing():
    asked = []

    async def open_more(count: int):
        asked.append(count)
        return [object() for _ in range(count)], {"opened_s": 0.5}

    async def grow() -> list:
        sessions = ["first"]
        seen = []
        async for group, opening in harness.grow(os.getpid(), [4, 1, 2], sessions, open_more):
            seen.append((len(group), opening))
        assert len(sessions) == 4
        return seen

    seen = asyncio.run(grow())
    assert asked == [1, 2]
    assert [n for n, _ in seen] == [1, 2, 4]
    assert seen[0][1] is None
    for (n, opening), pages in zip(seen[1:], asked, strict=True):
        assert opening["sessions"] == n and opening["pages"] == pages
        assert opening["opened_s"] == 0.5 and opening["rss_mib"] > 10
        extra = (opening["rss_mib"] - opening["rss_one_mib"]) / (n - 1)
        assert opening["rss_per_extra_session_mib"] == extra


def test_a_benchmarks_command_line_has_its_options_and_out():
    options = {
        "--sessions": (harness.session_counts, [1, 8], "counts"),
        "--env": (str, [], "NAME=VALUE", {"action": "append"}),
    }
    parser = harness.parser("python -m benchmarks.x", "What it measures.\n\nMore.", options)
    assert parser.description == "What it measures."
    args = parser.parse_args(["--sessions", "4,2", "--env", "A=1", "--env", "B=2"])
    assert args.sessions == [2, 4] and args.env == ["A=1", "B=2"] and args.out is None
    defaults = parser.parse_args(["--out", "f.json"])
    assert defaults.sessions == [1, 8] and defaults.out == Path("f.json")


def test_a_servers_log_is_checked_for_errors_and_its_traceback_kept():
    assert harness.log_errors("  You can now view your Streamlit app") == {
        "server_log_errors": False
    }
    found = harness.log_errors("ok\nTraceback (most recent call last):\n  boom")
    assert found["server_log_errors"] and found["server_log_tail"].startswith("Traceback")
    assert harness.log_errors("2026 ERROR something")["server_log_tail"] == "2026 ERROR something"
    assert {"cpus", "python", "streamlit", "websockets"} <= set(harness.machine(websockets="15"))
