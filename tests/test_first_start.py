"""A first `streamlit run app.py` on a desktop, as a newcomer runs it: a terminal (its stdin
open), a display, a fresh home without Streamlit's credentials. The project's
.streamlit/config.toml turns off the welcome's email prompt, which would otherwise hold the
server until Enter is pressed."""

import os
import subprocess
import time

import pytest

from deploy import launch

PROMPT = b"Email: "


def first_start(tmp_path, **settings: str) -> tuple[bool, bytes]:
    """Start the server as a newcomer does (a browser "opened" by a stand-in xdg-open that
    does nothing), with `settings` in its environment; until it answers its health check or
    asks for the email: (whether it answered, its output)."""
    home, bin_dir = tmp_path / "home", tmp_path / "bin"
    home.mkdir()
    bin_dir.mkdir()
    opener = bin_dir / "xdg-open"
    opener.write_text("#!/bin/sh\nexit 0\n")
    opener.chmod(0o755)
    env = settings | {
        "HOME": str(home),
        "DISPLAY": ":99",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    port = launch.free_port()
    with open(tmp_path / "out.log", "w+b") as log:
        proc = launch.start_streamlit(port, env, log, headless=False, stdin=subprocess.PIPE)
        try:
            deadline = time.monotonic() + launch.HEALTH_TIMEOUT_S
            while True:
                answered = launch.healthy(f"http://127.0.0.1:{port}")
                log.seek(0)
                output = log.read()
                if answered or PROMPT in output or proc.poll() is not None:
                    return answered, output
                assert time.monotonic() < deadline, output.decode(errors="replace")
                time.sleep(0.1)
        finally:
            launch.stop(proc)
            proc.stdin.close()


@pytest.mark.slow
def test_a_first_start_on_a_desktop_serves_without_asking_for_an_email(tmp_path):
    answered, output = first_start(tmp_path)
    assert answered, output.decode(errors="replace")
    assert PROMPT not in output and b"Welcome to Streamlit" not in output


@pytest.mark.slow
def test_the_same_start_with_the_prompt_switched_back_on_stops_at_it(tmp_path):
    """The check above catches the prompt: with the setting undone, the server asks."""
    answered, output = first_start(tmp_path, STREAMLIT_SERVER_SHOW_EMAIL_PROMPT="true")
    assert not answered and b"Welcome to Streamlit" in output and PROMPT in output
