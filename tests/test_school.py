"""A school on one host (deploy/school.py): two replicas behind Debian's HAProxy with cookie
affinity, one model cache and board directory. A student on one replica sends to a board a
teacher holds on the other; a replica killed, its student reloads through the proxy onto the
other and the link restores the view.

Without HAProxy the tests that start a school are skipped, with the reason; set
VAE_EXPLORER_REQUIRE_HAPROXY=1 (as .ci/run does) to make that a failure instead.
"""

import os
import re
import time

import distributed
import pytest

from benchmarks import latent_page as lp
from deploy import launch, school
from deploy.school import haproxy_config
from tests.test_browser import chromium, open_page  # noqa: F401 (fixtures)
from tests.test_browser_board import open_board, send_drawing, wait_items
from training.cluster import topic


def test_the_proxy_config_lists_one_server_per_replica_and_keeps_the_rest():
    template = school.CONFIG.read_text()
    config = haproxy_config(template, 9000, [9101, 9102, 9103])
    servers = [line.split() for line in config.splitlines() if line.split()[:1] == ["server"]]
    assert servers == [
        ["server", f"replica{i}", f"127.0.0.1:{9100 + i}", "cookie", f"replica{i}"]
        for i in (1, 2, 3)
    ]
    assert "    bind 127.0.0.1:9000" in config.splitlines()
    assert "cookie VAE_REPLICA insert indirect nocache httponly" in config
    assert "option redispatch" in config


def two_replicas(store, gpu_workers: int = 0) -> tuple[list[int], school.School]:
    """A school on free ports of 127.0.0.1: two replicas on `store`, a scheduler, a CPU worker
    and `gpu_workers` GPU ones; (the replicas' ports, the running school)."""
    if launch.haproxy_executable() is None:
        how = "to run them, `apt-get install -y haproxy` (.ci/run installs it)"
        if os.environ.get("VAE_EXPLORER_REQUIRE_HAPROXY") == "1":
            pytest.fail(f"no HAProxy, and VAE_EXPLORER_REQUIRE_HAPROXY=1 requires it: {how}")
        pytest.skip(f"no HAProxy: the school's tests skipped; {how}")
    replicas = [launch.free_port(), launch.free_port()]
    running = school.start(
        replicas,
        launch.free_port(),
        env={"VAE_EXPLORER_CACHE": str(store)},
        scheduler_port=launch.free_port(),
        cpu_workers=1,
        gpu_workers=gpu_workers,
    )
    return replicas, running


@pytest.mark.slow
@pytest.mark.browser
def test_a_board_spans_replicas_and_a_killed_replicas_students_carry_on(chromium, tmp_path):  # noqa: F811
    replicas, running = two_replicas(tmp_path)
    try:
        url = running.url
        teacher = open_page(chromium, f"{url}/?lang=en")
        join = open_board(teacher)
        mine = _replica(teacher)
        other = "replica2" if mine == "replica1" else "replica1"
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.add_cookies([{"name": "VAE_REPLICA", "value": other, "url": url}])
        student = context.new_page()
        student.goto(f"{url}/?{join}&lang=en&z1=1.25&z2=-0.5")
        lp.wait_until_ready(student)
        assert _replica(student) == other
        send_drawing(student, "Ada")
        wait_items(teacher, 1)  # sent on one replica, on the board the other one serves

        running.stop_replica(replicas[int(other[-1]) - 1])
        student.reload()
        lp.wait_until_ready(student)
        assert _replica(student) == mine  # HAProxy sent it to the replica still up
        lp.wait_committed(student, (1.25, -0.5))
        student.locator(".st-key-board_join").wait_for()  # still on the class board
        for page in (teacher, student):
            page.context.close()
    finally:
        running.stop()


@pytest.mark.slow
@pytest.mark.browser
def test_two_pages_on_different_replicas_asking_the_same_new_model_share_one_training(
    chromium,  # noqa: F811
    tmp_path,
):
    _, running = two_replicas(tmp_path, gpu_workers=1)
    pages = []
    try:
        link = f"{running.url}/?width=64&epochs=1&seed=7&lang=en"
        for name in ("replica1", "replica2"):
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})
            context.add_cookies([{"name": "VAE_REPLICA", "value": name, "url": running.url}])
            pages.append(context.new_page())
            pages[-1].goto(link)
        deadline = time.monotonic() + 180
        while not list(tmp_path.glob("*.pt")):
            assert time.monotonic() < deadline, "the model never reached the store"
            time.sleep(0.5)
        for page, name in zip(pages, ("replica1", "replica2"), strict=True):
            bar = page.locator("[data-testid=stSidebar]")
            # The finished model, not a preview of it "(still training)".
            finished = re.compile(
                r"Showing: 2-D latent, MNIST VAE, hidden \[64, 64\].*seed 7, quick recipe\.$"
            )
            bar.get_by_text(finished).wait_for(timeout=60_000)
            assert _replica(page) == name
        ids = {lp.attribute(page, "model-id") for page in pages}
        assert len(ids) == 1  # the same model on both
        client = distributed.Client(running.scheduler, timeout=30, set_as_default=False)
        try:
            key = next(p.name.split(".")[0] for p in tmp_path.glob("*.pt"))
            started = [m for _, m in client.get_events(topic(key)) if "started" in m]
        finally:
            client.close()
        assert len(started) == 1 and started[0]["gpu"]  # trained once, on the GPU worker
    finally:
        for page in pages:
            page.context.close()
        running.stop()


def _replica(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "VAE_REPLICA")
