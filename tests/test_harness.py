"""The benchmarks' shared harness: /proc readings, the figures' table, the report's end."""

import argparse
import json
import os
import time

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
