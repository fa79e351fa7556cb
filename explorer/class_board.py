"""A page's class board as the rest of the page meets it: which board its link names, what
its own link keeps of it, and the student's "Send to the board" button that a drawing and the
tour's predictions carry. The boards themselves live in explorer/board_store.py; the
teacher's board and the student's line are sections/board.py.
"""

from __future__ import annotations

import streamlit as st

from i18n import Text, _, lazy

from .board_store import SECRET, BoardError, is_code
from .server import board_store, session_id

# ---------------------------------------------------------------- the link


def from_link(params) -> tuple[dict, list[Text]]:
    """A session's board from its link's query string: {"join", "board", "board_key"}, each
    None unless the link names an open board, and a notice for a board link that does not."""
    found: dict = {"join": None, "board": None, "board_key": None}
    notices: list[Text] = []
    try:
        if "board" in params:
            code, key = str(params["board"])[:40], str(params.get("key", ""))[:64]
            if not is_code(code) or SECRET.fullmatch(key) is None:
                raise BoardError(
                    lazy(
                        "This board link is cut short or mistyped: copy it again from the page "
                        "where the board was opened."
                    )
                )
            board_store().teacher(code, key)
            found.update(board=code, board_key=key)
        elif "join" in params:
            code = str(params["join"])[:40]
            board_store().board(code)
            found["join"] = code
    except BoardError as exc:
        notices.append(exc.message)
    return found, notices


def link_params() -> dict[str, str]:
    """What the session's own link keeps of its board: the teacher's code and secret, or the
    code a student joined."""
    ss = st.session_state
    if ss.get("board"):
        return {"board": ss.board, "key": ss.board_key}
    if ss.get("join"):
        return {"join": ss.join}
    return {}


# ---------------------------------------------------------------- the student's sends


def _send(where: str, fields: dict) -> None:
    ss = st.session_state
    try:
        item = board_store().send(ss.join, session_id(), name=ss.get("board_name") or "", **fields)
    except BoardError as exc:
        ss.board_said = (where, "error", exc.message)
        return
    ss.board_said = (where, "ok", lazy("Sent: #{id} on the board.", id=item.id))


def send_button(where: str, **fields) -> None:
    """The button that sends to the board, with what became of the student's last send from
    here; nothing for a page that joined no board. `fields` are BoardStore.send's."""
    if st.session_state.get("join"):
        _send_panel(where, fields)


@st.fragment
def _send_panel(where: str, fields: dict) -> None:
    """A fragment of its own: a press reruns the button and its answer, not the drawing's
    whole result around it (a class may press at once)."""
    ss = st.session_state
    st.button(
        _("📤 Send to the board"),
        key=f"board_send_{where}",
        on_click=_send,
        args=(where, fields),
    )
    said = ss.get("board_said")
    if said is not None and said[0] == where:
        (st.success if said[1] == "ok" else st.warning)(str(said[2]))
