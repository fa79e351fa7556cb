"""The class board (element key `board`): one latent plane for a whole class, on one server.

A teacher opens a board from the sidebar. Their page then shows the join link (`?join=CODE`,
with the model's settings so that every student places their work on the same plane) and its
QR code for the projector, and keeps the teacher's own link in its address bar: that one also
carries the board's secret, which students' links never do. A student who came by a join link
gets "Send to the board" beside the drawing pad and on the tour's prediction step.

The teacher's plane polls the store (explorer/board_store.py) every second in a fragment of
its own and reads the board again only when its file changed; the browser draws it
(web/board.js), so a hover shows an item's picture without asking the server.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import numpy as np
import qrcode
import streamlit as st

from i18n import N_, Text, _, ngettext

from .. import images, payload, state
from ..board_store import NAME_CHARS, Board, BoardError
from ..class_board import link_params
from ..components import script, source
from ..model_requests import shown_settings
from ..model_view import ModelSettings, ModelView, Shown
from ..server import board_store

POLL_S = 1.0  # how often the teacher's page looks for new items: within the 2 s a send may take
BACKGROUND = 2000  # test codes drawn faintly under the items, for the plane's shape
# The tour's answers that are words, translated for the teacher's page (β values are notation).
ANSWERS = {"usual": N_("usual"), "unusual": N_("unusual")}
# What a join link carries besides the code: the model, so students land on the teacher's plane.
MODEL_FIELDS = ("data", "cvae", "beta", "width", "epochs", "seed")


@st.cache_resource
def component():
    return st.components.v2.component("class_board", css=source("board.css"), js=script("board"))


# ---------------------------------------------------------------- the link


def join_link(base: str, settings: ModelSettings, code: str, hide=()) -> str:
    """The students' link: the model shown, the controls hidden from them (names among
    state.HIDEABLE, as a lesson link hides them) and the board's code."""
    view = state.link_of(settings, (0.0, 0.0), None)
    kept = {k: v for k, v in view.items() if k in MODEL_FIELDS}
    hidden = [name for name in state.HIDEABLE if name in set(hide)]
    if hidden:
        kept["hide"] = ",".join(hidden)
    return f"{base}?{urlencode({**kept, 'join': code})}"


@st.cache_data(show_spinner=False, max_entries=16)
def qr_png(text: str) -> bytes:
    """The QR code of `text`, black on white whatever the page's theme, as scanners expect."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    dark = np.array(code.get_matrix(), dtype=np.float32)
    return images.png(1.0 - dark, scale=6)


# ---------------------------------------------------------------- what the plane draws


def plane_data(board: Board, view: ModelView, theme: str, picked: int | None, palette: str) -> dict:
    """The board as the browser draws it: the items placed by the model shown (a student on
    another model places work on another plane), their pictures in the page's theme, and a
    few test codes under them."""
    step = max(1, len(view.mu) // BACKGROUND)
    items = []
    for item in board.shown():
        if item.kind == "choice" or item.model_id != view.model_id:
            continue  # an answer is no point; another model's point is on another plane
        png = None
        if item.pixels is not None:
            pixels = np.frombuffer(item.pixels, np.uint8).reshape(28, 28) / 255.0
            png = base64.b64encode(images.png(images.themed(pixels, theme), scale=2)).decode()
        items.append(
            {
                "id": item.id,
                "kind": item.kind,
                "name": item.name,
                "z": [round(v, 3) for v in item.z],
                "truth": None if item.truth is None else [round(v, 3) for v in item.truth],
                "step": item.step,
                "percentile": item.percentile,
                "png": png,
            }
        )
    return {
        "window": list(view.window),
        "background": [
            [round(float(a), 2), round(float(b), 2), int(label)]
            for (a, b), label in zip(view.mu[::step], view.labels[::step], strict=True)
        ],
        "colours": payload.palette_colours(palette, len(view.classes)),
        "items": items,
        "picked": picked,
        "words": {
            "anonymous": _("no name"),
            # TRANSLATORS: {p} is a number; the board's hover of a drawing.
            "percentile": _("more unusual than {p} % of test images"),
            # TRANSLATORS: {step} is a number; the board's hover of a tour prediction.
            "prediction": _("prediction at step {step}: the cross is the guess, the ring the code"),
            "empty": _("Nothing sent yet: the students' drawings and predictions appear here."),
            # TRANSLATORS: the accessible name of the class board's plane; {count} is a number.
            "plane": _("the class board's latent plane: {count} items sent"),
        },
    }


def count_words(board: Board) -> str:
    """The items shown per kind and tour step, in words."""
    parts = []
    for (kind, step), n in board.counts().items():
        if kind == "drawing":
            parts.append(ngettext("{n} drawing", "{n} drawings", n).format(n=n))
        elif kind == "choice":
            parts.append(
                ngettext("{n} answer at step {step}", "{n} answers at step {step}", n).format(
                    n=n, step=step
                )
            )
        else:
            parts.append(
                ngettext(
                    "{n} prediction at step {step}", "{n} predictions at step {step}", n
                ).format(n=n, step=step)
            )
    return " · ".join(parts) or _("No items yet")


def answer_words(board: Board) -> list[str]:
    """One line per tour step the class answered by choosing: each answer, how many chose it,
    and which was right."""
    lines = []
    for step, tally in board.answers().items():
        parts = [
            f"{_(ANSWERS[answer]) if answer in ANSWERS else answer}: {count}"
            + (" ✓" if right else "")
            for answer, (count, right) in sorted(tally.items(), key=lambda kv: -kv[1][0])
        ]
        lines.append(_("Step {step}: {answers}").format(step=step, answers=" · ".join(parts)))
    return lines


# ---------------------------------------------------------------- the teacher


def _open() -> None:
    ss = st.session_state
    try:
        board = board_store().open()
    except BoardError as exc:
        ss.board_error = exc.message
        return
    ss.board, ss.board_key, ss.board_error = board.code, board.secret, None


def open_button() -> None:
    """The sidebar's way to open a board; nothing on a page that already has one."""
    ss = st.session_state
    if ss.get("board") or ss.get("join"):
        return
    st.button(_("🧑‍🏫 Open a class board"), key="board_open", on_click=_open, width="stretch")
    if ss.get("board_error"):
        st.error(str(ss.board_error), icon="🚫")


def _forget(notice: Text | None = None) -> None:
    ss = st.session_state
    ss.board = ss.board_key = None
    ss.board_seen = None
    if notice is not None:
        ss.notices = [*ss.notices, notice]


def _change(action: str, *args) -> None:
    """Hide, clear or close with the teacher's secret; a board gone meanwhile is forgotten."""
    ss = st.session_state
    try:
        getattr(board_store(), action)(ss.board, ss.board_key, *args)
    except BoardError as exc:
        _forget(exc.message)
        return
    if action == "close":
        _forget()


def _on_picked() -> None:
    ss = st.session_state
    picked = (ss.get("board_plane") or {}).get("picked")
    ss.board_picked = picked if isinstance(picked, int) and not isinstance(picked, bool) else None


def teacher(view: ModelView) -> None:
    ss = st.session_state
    with st.container(border=True, key="board"):
        st.markdown(_("**Class board** · code `{code}`").format(code=ss.board))
        links, plane = st.columns([2, 3], gap="medium")
        with links:
            base = st.context.url or ""
            join = join_link(base, shown_settings(), ss.board, ss.get("lesson_hide") or ())
            st.markdown(_("Students join with this link or its QR code:"))
            st.code(join, language=None, wrap_lines=True)
            st.caption(
                _(
                    "It opens the model shown here, so every drawing lands on this plane, and "
                    "hides what “Copy a lesson link” is set to hide."
                )
            )
            st.image(qr_png(join), width=200, alt=_("QR code of the students' join link"))
            with st.expander(_("Your board link: keep it to yourself")):
                own = {**state.link_of(shown_settings(), (0.0, 0.0), None), **link_params()}
                st.code(f"{base}?{urlencode(own)}", language=None, wrap_lines=True)
                st.caption(
                    _(
                        "It carries the board's secret, which lets whoever has it hide items, "
                        "clear and close the board; students' links never carry it. The board "
                        "stays on the server's disk until it is closed or {hours:g} hours old."
                    ).format(hours=board_store().limits.lifetime_s / 3600)
                )
            clear, close = st.columns(2)
            with clear.popover(_("Clear all"), width="stretch"):
                st.caption(_("Every item goes from the board; it stays open."))
                st.button(
                    _("Clear the board"),
                    key="board_clear",
                    on_click=_change,
                    args=("clear",),
                    type="primary",
                )
            with close.popover(_("Close the board"), width="stretch"):
                st.caption(_("The board and its items are removed; the join link stops working."))
                st.button(
                    _("Close it"),
                    key="board_close",
                    on_click=_change,
                    args=("close",),
                    type="primary",
                )
        with plane:
            live(view)


@st.fragment(run_every=POLL_S)
def live(view: ModelView) -> None:
    """The class's plane: each second, read again only if the board's file changed."""
    ss = st.session_state
    if not ss.get("board"):
        return
    version = board_store().version(ss.board)
    seen = ss.get("board_seen")
    if seen is None or seen[0] != version:
        try:
            board = board_store().teacher(ss.board, ss.board_key)
        except BoardError as exc:  # closed from another tab, or expired
            _forget(exc.message)
            st.rerun(scope="app")
        ss.board_seen = seen = (version, board)
    board = seen[1]
    picked = ss.get("board_picked")
    shown = {item.id: item for item in board.shown()}
    picked = picked if picked in shown else None
    # Built again only when something it shows changed, not on every poll.
    stamp = (version, view.model_id, state.page_theme(), picked, ss.lang, ss.palette)
    drawn = ss.get("board_drawn")
    if drawn is None or drawn[0] != stamp:
        data = plane_data(board, view, stamp[2], picked, ss.palette)
        # JSON as bytes: Streamlit would probe a dict for dataframes, importing pandas.
        ss.board_drawn = drawn = (stamp, json.dumps({**data, "version": version}).encode())
    component()(
        key="board_plane",
        data=drawn[1],
        default={"picked": None},
        on_picked_change=_on_picked,
    )
    st.caption(
        _(
            "{counts}. Dots: drawings at their codes, from usual (blue) to unusual (red); "
            "a cross and a ring: a prediction and the true code. Hover for the picture and "
            "the name, click to pick one."
        ).format(counts=count_words(board))
    )
    for line in answer_words(board):
        st.caption(line)
    elsewhere = sum(
        item.kind != "choice" and item.model_id != view.model_id for item in shown.values()
    )
    if elsewhere:
        st.caption(
            ngettext(
                "{n} item was placed by another model than the one shown, on another plane: "
                "it is counted, not drawn.",
                "{n} items were placed by other models than the one shown, on other planes: "
                "they are counted, not drawn.",
                elsewhere,
            ).format(n=elsewhere)
        )
    if picked is not None:
        item = shown[picked]
        name = item.name or _("no name")
        with st.container(horizontal=True, vertical_alignment="center", key="board_item"):
            # The name as text, never as markdown: it is whatever a student typed.
            st.text(f"#{item.id} · {name}")
            st.button(
                _("Hide #{id}").format(id=item.id),
                key="board_hide",
                on_click=_change,
                args=("hide", item.id),
            )


# ---------------------------------------------------------------- the student


def student() -> None:
    """A student's line above the tabs: on which board, and their name on it."""
    with st.container(border=True, key="board_join"):
        text, name = st.columns([3, 1], vertical_alignment="center")
        text.markdown(
            _(
                "**You are on a class board.** Draw something (✏️ beside the plane) or answer "
                "one of the tour's predictions, then press “Send to the board”: your teacher "
                "sees it on the class's board."
            )
        )
        name.text_input(
            _("Your name on the board"),
            key="board_name",
            max_chars=NAME_CHARS,
            placeholder=_("optional"),
        )


def section(shown: Shown) -> None:
    """The teacher's board or the student's line, above the tabs; nothing otherwise."""
    ss, view = st.session_state, shown.view
    if ss.get("board"):
        teacher(view)
    elif ss.get("join"):
        student()
