"""The operator's limits (explorer.server, training.limits): environment, options after `--`, bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.server import ServerLimits, data_dirs, scheduler, server_limits

REPO = Path(__file__).resolve().parent.parent


def test_defaults_suit_a_laptop():
    limits = server_limits([], environ={})
    assert limits == ServerLimits()
    assert (limits.max_trainings, limits.max_epochs, limits.max_pending) == (1, 200, 3)
    assert limits.threads(cores=8) == 8


def test_the_environment_sets_limits_and_options_win():
    environ = {
        "VAE_EXPLORER_MAX_TRAININGS": "2",
        "VAE_EXPLORER_MAX_EPOCHS": "30",
        "VAE_EXPLORER_CACHE_MB": "500",
    }
    limits = server_limits(["--max-epochs", "20", "--max-pending", "1"], environ)
    assert limits == ServerLimits(max_trainings=2, max_epochs=20, max_pending=1, cache_mb=500.0)
    assert limits.cache_bytes == 500 * 1024 * 1024
    assert limits.threads(cores=8) == 4  # the cores shared by two trainings
    assert server_limits(["--train-threads", "1"], environ).threads(cores=8) == 1


def test_class_boards_have_limits_of_their_own():
    environ = {"VAE_EXPLORER_BOARD_ITEMS": "90", "VAE_EXPLORER_BOARD_INTERVAL_S": "1.5"}
    limits = server_limits(["--max-boards", "2"], environ)
    assert (limits.max_boards, limits.board_items, limits.board_interval_s) == (2, 90, 1.5)
    assert server_limits([], {}).board_interval_s == 3.0


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--max-trainings", "0"], {}, "max_trainings must be at least 1"),
        ([], {"VAE_EXPLORER_MAX_EPOCHS": "lots"}, "VAE_EXPLORER_MAX_EPOCHS='lots' is not a number"),
        (["--cache-mb", "-5"], {}, "cache_mb must be a positive number of MB"),
        ([], {"VAE_EXPLORER_CACHE_MB": "inf"}, "cache_mb must be a positive number of MB"),
        (["--max-epoch", "5"], {}, "unrecognized arguments"),
        (["--max-boards", "0"], {}, "max_boards must be at least 1"),
        (["--board-interval-s", "-1"], {}, "board_interval_s must be between 0 and 3600"),
        ([], {"VAE_EXPLORER_BOARD_INTERVAL_S": "nan"}, "board_interval_s must be between"),
    ],
)
def test_a_bad_limit_stops_with_a_message_naming_it(argv, environ, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        server_limits(argv, environ)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_a_server_started_with_a_bad_limit_says_so_and_stops():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            "8599",
            "--",
            "--max-trainings",
            "0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "max_trainings must be at least 1" in result.stderr


def test_data_directories_come_from_the_environment_then_the_options():
    argv = ["--data-dir", "/data/a", "--max-trainings", "2", "--data-dir", "/data/b"]
    environ = {"VAE_EXPLORER_DATA": f"/env/x{os.pathsep}/env/y"}
    assert data_dirs(argv, environ) == ["/env/x", "/env/y", "/data/a", "/data/b"]
    assert data_dirs([], {}) == []
    assert server_limits(argv, {}).max_trainings == 2  # the limits' parser knows --data-dir


def test_the_scheduler_comes_from_the_option_else_the_environment():
    env = {"VAE_EXPLORER_SCHEDULER": "tcp://scheduler.school:8786"}
    assert scheduler([], {}) is None
    assert scheduler([], env) == "tcp://scheduler.school:8786"
    assert scheduler(["--scheduler", "tcp://127.0.0.1:9000"], env) == "tcp://127.0.0.1:9000"
    # Beside the limits: what follows `--` may name both, and neither parser refuses the other.
    argv = ["--max-epochs", "5", "--scheduler", "tcp://127.0.0.1:9000"]
    assert server_limits(argv, {}).max_epochs == 5
    assert scheduler(argv, {}) == "tcp://127.0.0.1:9000"
