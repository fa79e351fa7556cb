"""The class board's page: a teacher opens it, a student joins and sends, the teacher's plane
shows it, hides it, clears and closes; links that name no board, or not its secret, are refused.
The store's own rules are tests/test_board_store.py's."""

import json
import time

import pytest

from explorer import server
from explorer.board_store import BoardLimits
from tests.test_app import run_app
from vae_core import load_split

pytestmark = pytest.mark.slow


def plane(at) -> dict:
    return json.loads(at.get_by_key("board_plane").proto.bytes)


def has(at, key: str) -> bool:
    return any(getattr(e, "key", None) == key for e in at)


def open_board(at) -> tuple[str, str]:
    at.button(key="board_open").click().run()
    assert not at.exception, at.exception
    return at.session_state["board"], at.session_state["board_key"]


def student_drawing(code: str, name: str = "Ada", row: int = 3):
    at = run_app({"lang": "en", "join": code})
    at.text_input(key="board_name").input(name).run()
    at.toggle(key="drawing").set_value(True).run()
    at.session_state["drawn"] = load_split(None, "test").images[row].tobytes()
    at.run()
    at.button(key="board_send_drawing").click().run()
    assert not at.exception, at.exception
    return at


def test_a_teacher_opens_a_board_and_a_students_drawing_reaches_it(monkeypatch):
    # The store's clock stands still: the second send below comes within the send interval
    # however long the runs between the two sends take on a busy machine.
    now = time.time()
    monkeypatch.setattr(server.board_store(), "clock", lambda: now)
    teacher = run_app({"lang": "en"})
    code, secret = open_board(teacher)
    assert teacher.query_params["board"] == code and teacher.query_params["key"] == secret
    links = teacher.get_by_key("board")
    join = links.code[0].value
    assert f"join={code}" in join and secret not in join and "beta=" in join
    assert plane(teacher)["items"] == []
    teacher.multiselect(key="lesson_hide").set_value(["sidebar"]).run()
    assert "hide=sidebar" in teacher.get_by_key("board").code[0].value  # as the lesson hides

    student = student_drawing(code, name="<b>Ada</b>")
    assert student.query_params["join"] == code and "key" not in student.query_params
    assert [s.value for s in student.success if "Sent" in s.value] == ["Sent: #1 on the board."]
    assert not has(student, "board")  # a student never sees the teacher's board

    teacher.run()  # what the fragment's next poll does
    [item] = plane(teacher)["items"]
    assert item["kind"] == "drawing" and item["name"] == "<b>Ada</b>"  # escaped by the browser
    assert item["png"] and 0 <= item["percentile"] <= 100
    assert "1 drawing" in " ".join(c.value for c in teacher.get_by_key("board").caption)

    # A second send at once is refused with how long to wait; nothing is lost.
    student.button(key="board_send_drawing").click().run()
    assert any("a moment ago" in w.value for w in student.warning)

    teacher.session_state["board_picked"] = item["id"]
    teacher.run()
    teacher.button(key="board_hide").click().run()
    assert plane(teacher)["items"] == []

    teacher.button(key="board_close").click().run()
    assert teacher.session_state["board"] is None and "board" not in teacher.query_params
    late = run_app({"lang": "en", "join": code})
    assert late.session_state["join"] is None
    assert any("no open board" in w.value for w in late.warning)


def test_the_tours_predictions_are_sent_a_guess_beside_its_code_a_choice_tallied(monkeypatch):
    teacher = run_app({"lang": "en"})
    code, _secret = open_board(teacher)
    student = run_app({"lang": "en", "join": code, "tour": "1"})
    student.session_state["clicked"] = (1.0, -1.0)
    student.button(key="tour_reveal").click().run()
    student.button(key="board_send_tour").click().run()
    assert not student.exception, student.exception
    teacher.run()
    [item] = plane(teacher)["items"]
    assert item["kind"] == "prediction" and item["z"] == [1.0, -1.0] and item["step"] == 1
    assert item["truth"] is not None
    assert "1 prediction at step 1" in " ".join(
        c.value for c in teacher.get_by_key("board").caption
    )

    # A choice: counted and tallied under the plane, not drawn on it.
    student.button(key="tour_next").click().run()  # step 2...
    for _step in range(6):
        student.button(key="tour_next").click().run()
    assert student.session_state["tour"] == 8
    student.radio(key="tour_unusual_choice").set_value("unusual").run()
    student.button(key="tour_reveal").click().run()
    right = "Right." in student.success[0].value
    monkeypatch.setattr(server.board_store(), "limits", BoardLimits(send_interval_s=0))  # no wait
    student.button(key="board_send_tour_unusual").click().run()
    assert not student.exception, student.exception
    teacher.run()
    assert len(plane(teacher)["items"]) == 1
    captions = " ".join(c.value for c in teacher.get_by_key("board").caption)
    assert "1 answer at step 8" in captions
    assert ("Step 8: unusual: 1 ✓" if right else "Step 8: unusual: 1") in captions


def test_a_students_link_cannot_change_the_board_nor_can_a_wrong_secret():
    teacher = run_app({"lang": "en"})
    code, secret = open_board(teacher)
    student = run_app({"lang": "en", "join": code})
    assert not has(student, "board_open")  # no board of their own on this page
    assert not has(student, "board_clear") and not has(student, "board_hide")
    for link in (
        {"board": code},
        {"board": code, "key": "x" * 32},
        {"board": code, "key": secret[:-1]},
        {"board": "../../etc/pa", "key": secret},
    ):
        at = run_app({"lang": "en", **link})
        assert at.session_state["board"] is None, link
        assert at.warning, link
        assert "key" not in at.query_params and "board" not in at.query_params


def test_a_restart_keeps_an_open_board():
    teacher = run_app({"lang": "en"})
    code, secret = open_board(teacher)
    student_drawing(code)
    server._boards.clear()  # a new server process: a new store over the same directory
    again = run_app({"lang": "en", "board": code, "key": secret})
    assert again.session_state["board"] == code
    assert len(plane(again)["items"]) == 1


def test_the_board_speaks_chinese():
    teacher = run_app({"lang": "zh"})
    open_board(teacher)
    assert "学生" in teacher.get_by_key("board").markdown[1].value
