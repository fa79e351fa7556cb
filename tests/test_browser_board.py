"""The class board in headless Chromium with two real sessions: a teacher opens a board, a
student who came by its join link draws and sends, the drawing reaches the teacher's plane
(its picture and name on hover), survives a restart of the server, and only the teacher's
link can hide it."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from benchmarks import latent_page as lp
from deploy import launch
from tests.test_browser import chromium, open_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ITEMS = ".st-key-board_plane .board"


def items_shown(page) -> int:
    return int(page.locator(ITEMS).get_attribute("data-items"))


def wait_items(page, count: int, timeout_s: float = 60.0) -> None:
    """Until the teacher's plane draws `count` items (it lives in a shadow root, which
    Playwright's locators reach and document.querySelector does not)."""
    page.locator(f"{ITEMS}[data-items='{count}']").wait_for(timeout=timeout_s * 1000)


def open_board(page) -> str:
    """Open a board on the teacher's page; its join link's query string."""
    page.get_by_role("button", name="🧑‍🏫 Open a class board").click()
    page.locator(ITEMS).wait_for(timeout=30_000)
    join = page.locator(".st-key-board [data-testid=stCode]").first.inner_text()
    return urlsplit(join.strip()).query


def send_drawing(page, name: str) -> float:
    """Type a name, draw a 7 and send it; the time of the click."""
    page.locator(".st-key-board_name input").fill(name)
    page.locator(".st-key-board_name input").press("Enter")
    page.locator(".st-key-drawing label").first.click()
    page.locator(".st-key-draw .pad[data-model-id]").wait_for(timeout=60_000)
    lp.draw_stroke(page, [(0.25, 0.22), (0.72, 0.2), (0.55, 0.5), (0.42, 0.85)])
    send = page.get_by_role("button", name="📤 Send to the board")
    send.wait_for(timeout=60_000)
    clicked = time.perf_counter()
    send.click()
    page.get_by_text("Sent: #1 on the board.").wait_for(timeout=20_000)
    return clicked


def test_a_students_drawing_reaches_the_board_which_a_restart_keeps(chromium, tmp_path):  # noqa: F811
    env = {"VAE_EXPLORER_CACHE": str(tmp_path)}
    with launch.streamlit_server(env) as (url, _):
        teacher = open_page(chromium, f"{url}/?lang=en")
        join = open_board(teacher)
        assert "join=" in join and "key=" not in join
        teacher_query = urlsplit(teacher.url).query
        secret = parse_qs(teacher_query)["key"][0]
        assert items_shown(teacher) == 0

        student = open_page(chromium, f"{url}/?{join}&lang=en")
        assert secret not in student.url
        send_drawing(student, "<i>Ada</i>")
        wait_items(teacher, 1)
        item = teacher.locator(".st-key-board_plane g[data-item='1']")
        item.hover()
        tip = teacher.locator(".st-key-board_plane .tip")
        tip.wait_for(state="visible", timeout=5_000)
        assert "<i>Ada</i>" in tip.inner_text()  # shown as text, never as markup
        assert tip.locator("img").get_attribute("src").startswith("data:image/png;base64,")
        # The keyboard reaches the item too: its focus shows the tip, Enter picks it.
        teacher.mouse.move(0, 0)
        tip.wait_for(state="hidden", timeout=5_000)
        item.focus()
        tip.wait_for(state="visible", timeout=5_000)
        assert item.get_attribute("aria-label").startswith("#1 · <i>Ada</i>")
        item.press("Enter")
        teacher.get_by_role("button", name="Hide #1").wait_for(timeout=30_000)

        # The student's page has no way to change the board, and their link with a made-up
        # secret is refused.
        assert student.get_by_role("button", name="Clear the board").count() == 0
        code = parse_qs(join)["join"][0]
        forged = open_page(chromium, f"{url}/?lang=en&board={code}&key={'A' * 32}")
        forged.get_by_text("Only the teacher's board link can change this board.").wait_for()
        assert forged.locator(".st-key-board").count() == 0
        for page in (teacher, student, forged):
            page.context.close()

    with launch.streamlit_server(env) as (url, _):  # the same disk, a new server
        teacher = open_page(chromium, f"{url}/?{teacher_query}")
        teacher.locator(ITEMS).wait_for(timeout=30_000)
        assert items_shown(teacher) == 1
        teacher.locator(".st-key-board_plane [data-item='1']").click()
        teacher.get_by_role("button", name="Hide #1").click()
        wait_items(teacher, 0)
        teacher.get_by_role("button", name="Close the board").click()
        teacher.get_by_role("button", name="Close it").click()
        teacher.locator(".st-key-board").wait_for(state="detached", timeout=20_000)
        teacher.wait_for_function("() => !location.search.includes('key=')", timeout=20_000)
        teacher.context.close()
