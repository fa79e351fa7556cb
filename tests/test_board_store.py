import json

import pytest

from explorer.board_store import CODE, SECRET, BoardError, BoardLimits, BoardStore, clean_name

PIXELS = bytes(range(256)) * 3 + bytes(16)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    return BoardStore(tmp_path / "boards", BoardLimits(boards=2, items=3), clock)


def drawing(store, code, session="s1", **kw):
    args = {"kind": "drawing", "z": (0.5, -1.0), "pixels": PIXELS, "percentile": 42.0, **kw}
    return store.send(code, session, **args)


def test_a_board_opens_with_a_code_and_a_separate_secret(store):
    board = store.open()
    assert CODE.fullmatch(board.code) and SECRET.fullmatch(board.secret)
    assert board.secret != board.code and store.board(board.code).items == ()


def test_a_drawing_and_a_prediction_come_back_from_disk(store, tmp_path, clock):
    code = store.open().code
    drawing(store, code, name="Ada")
    clock.now += 5
    store.send(code, "s1", kind="prediction", z=(1, 2), truth=(1.5, 2.5), step=1)
    again = BoardStore(tmp_path / "boards", store.limits, clock)  # a restarted server
    first, second = again.board(code).items
    assert (first.kind, first.name, first.z, first.pixels, first.percentile) == (
        "drawing",
        "Ada",
        (0.5, -1.0),
        PIXELS,
        42.0,
    )
    assert (second.z, second.truth, second.step, second.pixels) == ((1, 2), (1.5, 2.5), 1, None)
    assert again.board(code).counts() == {("drawing", None): 1, ("prediction", 1): 1}


def test_choices_are_tallied_per_step_with_whether_they_were_right(tmp_path, clock):
    store = BoardStore(tmp_path, BoardLimits(), clock)
    code = store.open().code
    for session, answer, right in [
        ("a", "β = 4", False),
        ("b", "β = 1", True),
        ("c", "β = 1", True),
    ]:
        item = store.send(code, session, kind="choice", step=6, answer=answer, right=right)
        assert item.z is None and item.pixels is None
    store.send(code, "d", kind="choice", step=8, answer="unusual", right=True)
    again = BoardStore(store.root, store.limits, clock)
    board = again.board(code)
    assert board.answers() == {
        6: {"β = 4": (1, False), "β = 1": (2, True)},
        8: {"unusual": (1, True)},
    }
    assert board.counts() == {("choice", 6): 3, ("choice", 8): 1}


def test_a_session_sends_at_most_one_item_every_few_seconds(store, clock):
    code = store.open().code
    drawing(store, code)
    with pytest.raises(BoardError, match="a moment ago"):
        drawing(store, code)
    drawing(store, code, session="s2")  # another student is not held back
    clock.now += store.limits.send_interval_s
    drawing(store, code)
    assert [i.id for i in store.board(code).items] == [1, 2, 3]


def test_a_full_board_refuses_more(store, clock):
    code = store.open().code
    for s in range(3):
        drawing(store, code, session=f"s{s}")
    with pytest.raises(BoardError, match="full"):
        drawing(store, code, session="late")
    assert len(store.board(code).items) == 3


def test_a_server_holds_a_bounded_number_of_boards(store, clock):
    first = store.open()
    store.open()
    with pytest.raises(BoardError, match="limit"):
        store.open()
    store.close(first.code, first.secret)
    store.open()


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "essay"},
        {"z": (float("nan"), 0)},
        {"z": "1,2"},
        {"z": (1, 2, 3)},
        {"pixels": b"\x00" * 10},
        {"pixels": None},
        {"kind": "prediction", "truth": None, "step": 1},
        {"kind": "prediction", "truth": (0, 0), "step": "1"},
        {"kind": "choice", "step": 6, "answer": ""},
        {"kind": "choice", "step": 6, "answer": "\x00\u202e"},
        {"kind": "choice", "step": None, "answer": "β = 4"},
        {"kind": "choice", "step": True, "answer": "β = 4"},
    ],
)
def test_bad_items_are_refused_and_nothing_is_written(store, change):
    code = store.open().code
    with pytest.raises(BoardError):
        drawing(store, code, **change)
    assert store.board(code).items == ()


def test_an_odd_percentile_is_dropped_not_stored(store):
    code = store.open().code
    assert drawing(store, code, percentile=1e9).percentile is None


def test_names_are_short_plain_text():
    assert clean_name("  Ada \n\t Lovelace\x00\u202e ") == "Ada Lovelace"
    assert len(clean_name("x" * 500)) == 24
    assert clean_name(None) == "" and clean_name("<b>Bo</b>") == "<b>Bo</b>"  # escaped when shown


def test_only_the_secret_hides_clears_and_closes(store):
    board = store.open()
    drawing(store, board.code)
    for wrong in ("", board.code, "x" * 32, None):
        for act in (lambda s: store.hide(board.code, s, 1), lambda s: store.clear(board.code, s)):
            with pytest.raises(BoardError, match="teacher"):
                act(wrong)
        with pytest.raises(BoardError):
            store.close(board.code, wrong)
    assert len(store.board(board.code).shown()) == 1
    store.hide(board.code, board.secret, 1)
    assert store.board(board.code).shown() == [] and len(store.board(board.code).items) == 1
    store.clear(board.code, board.secret)
    assert store.board(board.code).items == ()
    store.close(board.code, board.secret)
    with pytest.raises(BoardError, match="no open board"):
        store.board(board.code)


def test_a_change_moves_the_version_and_a_gone_board_has_none(store, clock):
    board = store.open()
    before = store.version(board.code)
    drawing(store, board.code)
    assert store.version(board.code) != before
    store.close(board.code, board.secret)
    assert store.version(board.code) == 0
    assert store.version("../../etc/passwd") == 0


def test_an_expired_board_is_removed(store, clock, tmp_path):
    board = store.open()
    clock.now += store.limits.lifetime_s + 1
    with pytest.raises(BoardError):
        store.board(board.code)
    assert not (tmp_path / "boards" / f"{board.code}.json").exists()


def test_a_code_never_names_another_file(store, tmp_path):
    (tmp_path / "secret.json").write_text(json.dumps({"code": "x"}))
    for code in ("../secret", "../../secret", "", None, 7, "a" * 200):
        with pytest.raises(BoardError):
            store.board(code)


def test_a_damaged_board_file_reads_as_no_board(store, tmp_path):
    board = store.open()
    (tmp_path / "boards" / f"{board.code}.json").write_text("{not json")
    with pytest.raises(BoardError, match="no open board"):
        store.board(board.code)
