"""The session's state: one latent point, the selected digit, the model, and the shareable link.

z lives in st.session_state["z1"], ["z2"]; every view reads it and only the functions here
write it. A link's query string (lang, data, cvae, labels, recipe, beta, width, epochs, seed,
z1, z2, digit, class, tour, present, and a class board's join, or board and key) seeds the
state on a session's first run and follows it afterwards; a teacher's lesson link adds the
open tab, the colouring and the controls it hides (tab, colour, hide), read on the first run
only. Whatever a browser sends is untrusted: values are parsed, checked against what the
sidebar offers, and replaced by defaults with a notice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import streamlit as st

from i18n import LANGUAGES, N_, SOURCE, Text, _, lazy
from training.recipes import QUICK, RECIPES

from . import class_board
from .language import browser_language
from .model_requests import shown_settings
from .model_view import DEFAULT_SETTINGS, ModelSettings
from .payload import PALETTES
from .server import datasets, default_data, holds, is_own, limits
from .tabs import TAB_KEYS, label_of
from .tour_steps import STEPS

BETAS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
WIDTHS = [64, 128, 256, 512]
MAX_EPOCHS = 200
MAX_SEED = 10_000
Z_LIMIT = 10.0  # a link's z beyond this is refused; within it, z is clamped to the plane
TEST_SIZE = 10_000
COLOURINGS = ("digit", "elbo")  # the plane's points by their class, or by their −ELBO
# What a lesson link may hide, so students land on one exercise: a convenience, not a
# permission (the server's limits are what bound a session).
HIDEABLE = {
    "sidebar": N_("the sidebar"),
    "training": N_("training new models"),
    "data": N_("the choice of data"),
    "tabs": N_("the other tabs"),
}


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError
    return value


def _integer(text: str) -> int:
    value = _number(text)
    if value != int(value):
        raise ValueError
    return int(value)


def _names(text: str) -> tuple[str, ...]:
    """A comma list of names (a lesson link's `hide`), each a short word."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not all(n.isidentifier() for n in names):
        raise ValueError
    return names


def _check(name: str, value, allowed) -> tuple[object, Text | None]:
    if isinstance(value, tuple):  # a list of names, each one of those allowed
        ok = set(value) <= set(allowed)
        say = lazy("a comma list among {values}", values=", ".join(allowed))
    elif isinstance(allowed, list):
        ok = value in allowed
        say = lazy("one of {values}", values=", ".join(str(a) for a in allowed))
    else:
        lo, hi = allowed
        ok = lo <= value <= hi
        say = lazy("between {lo} and {hi}", lo=lo, hi=hi)
    return (value, None) if ok else (None, say)


MAX_CLASSES = 62  # the most classes a dataset may have (vae_core.datasets)

# The labelled images a semi-supervised VAE (M2) may be trained with on the page: the counts
# of Kingma et al. (2014), Table 1.
LABELLED = (100, 600, 1000, 3000)

RULES = {
    "cvae": (_integer, [0, 1]),
    "labels": (_integer, list(LABELLED)),
    "recipe": (str, list(RECIPES)),
    "beta": (_number, BETAS),
    "width": (_integer, WIDTHS),
    "epochs": (_integer, (1, MAX_EPOCHS)),
    "seed": (_integer, (0, MAX_SEED)),
    "z1": (_number, (-Z_LIMIT, Z_LIMIT)),
    "z2": (_number, (-Z_LIMIT, Z_LIMIT)),
    "digit": (_integer, (0, TEST_SIZE - 1)),
    "class": (_integer, (0, MAX_CLASSES - 1)),
    "tab": (str, list(TAB_KEYS)),
    "colour": (str, list(COLOURINGS)),
    "palette": (str, list(PALETTES)),
    "hide": (_names, list(HIDEABLE)),
    "present": (_integer, [0, 1]),  # presentation mode (app.py)
}


def _rules() -> dict:
    """RULES, the languages, and the datasets this server offers (known only once it runs)."""
    return {
        "data": (str, [d.key for d in datasets()]),
        "lang": (str, list(LANGUAGES)),
        "tour": (_integer, (1, len(STEPS))),
        **RULES,
    }


def parse_link(params: Mapping[str, str]) -> tuple[dict, list[Text]]:
    """The valid values of a link's query string, and one notice per bad one (shown in the
    language of the page that reads it).

    Unknown keys are ignored; a bad value is left out (the caller keeps its default).
    """
    values, notices = {}, []
    own = str(params.get("data", ""))
    if is_own(own):  # an upload's key: offered to a page that holds it, if still here
        params = {k: v for k, v in params.items() if k != "data"}
        if holds(own):
            values["data"] = own
        else:
            notices.append(
                lazy(
                    "The link's own pictures are no longer on this server: it keeps an "
                    "upload {days:g} days after a page last showed it, and their owner may "
                    "have deleted them. The default data are shown; upload the pictures "
                    "again (📤 Your own images…) to explore them.",
                    days=limits().upload_days,
                )
            )
    for name, (parse, allowed) in _rules().items():
        if name not in params:
            continue
        text = str(params[name])[:40]
        try:
            value, rule = _check(name, parse(text), allowed)
        except ValueError:
            kind = {_integer: N_("a whole number"), _names: N_("a comma list of names")}
            value, rule = None, lazy(kind.get(parse, N_("a number")))
        if rule:
            notices.append(
                lazy(
                    "The link's `{name}` must be {rule}, not “{text}”; using the default instead.",
                    name=name,
                    rule=rule,
                    text=text,
                )
            )
        else:
            values[name] = value
    return values, notices


def link_of(
    settings: ModelSettings,
    z: tuple[float, float],
    digit: int | None,
    cls: int = 0,
    lang: str = SOURCE,
    tour: int | None = None,
    palette: str = PALETTES[0],
) -> dict[str, str]:
    """The query string that reopens this view; `cls` is a conditional model's class, `lang`
    the page's language, `tour` the guided tour's open step, `palette` the class colours."""
    link = {
        "lang": lang,
        "data": settings.data,
        "recipe": settings.recipe,
        "beta": f"{settings.beta:g}",
        "width": str(settings.width),
        "epochs": str(settings.epochs),
        "seed": str(settings.seed),
        "z1": f"{z[0]:.3f}".rstrip("0").rstrip("."),
        "z2": f"{z[1]:.3f}".rstrip("0").rstrip("."),
    }
    if digit is not None:
        link["digit"] = str(digit)
    if settings.conditional:
        link["cvae"] = "1"
        link["class"] = str(cls)
    if settings.labelled:
        link["labels"] = str(settings.labelled)
    if tour:
        link["tour"] = str(tour)
    if palette != PALETTES[0]:
        link["palette"] = palette
    return link


def lesson_link(view_link: dict[str, str], tab: int, colour_by: str, hide) -> dict[str, str]:
    """A teacher's lesson link: the view's link (`link_of`), the open tab (its index in
    TABS), the plane's colouring and the controls hidden (names among HIDEABLE)."""
    link = {**view_link, "tab": TAB_KEYS[tab], "colour": colour_by}
    hidden = [name for name in HIDEABLE if name in set(hide)]
    return {**link, "hide": ",".join(hidden)} if hidden else link


def clamp(value: float, window: tuple[float, float]) -> float:
    return min(max(float(value), window[0]), window[1])


def parse_point(value) -> tuple[float, float] | None:
    """A point the browser sent, if it is two finite numbers; else None."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    try:
        z = (float(value[0]), float(value[1]))
    except (TypeError, ValueError):
        return None
    return z if all(math.isfinite(v) for v in z) else None


# ---------------------------------------------------------------- session state


def init_state() -> bool:
    """Defaults, then the link's values, once per session; True on that first run."""
    ss = st.session_state
    if "settings" in ss:
        return False
    params = st.query_params.to_dict()
    values, notices = parse_link(params)
    recipe = RECIPES[recipe_of_link(params, values)]  # its width and length unless named
    settings = ModelSettings(
        beta=float(values.get("beta", DEFAULT_SETTINGS.beta)),
        width=int(values.get("width", recipe.width)),
        epochs=int(values.get("epochs", recipe.epochs)),
        seed=int(values.get("seed", DEFAULT_SETTINGS.seed)),
        data=str(values.get("data", default_data())),
        conditional=bool(values.get("cvae", 0)),
        recipe=recipe.name,
        labelled=int(values.get("labels", 0)),
    )
    ss.settings = DEFAULT_SETTINGS  # the model shown; switched once `settings` is ready
    ss.link_settings = settings  # the link's model, asked for once the page is up
    ss.requests = []  # models this session waits for, oldest request first
    ss.preview = None  # the training snapshot shown: {"key", "epoch", "at"} (explorer.preview)
    ss.preview_off = frozenset()  # keys of trainings this page would rather not preview
    ss.request_error = None  # why the latest request was refused, for the sidebar
    ss.z1 = float(values.get("z1", 0.0))
    ss.z2 = float(values.get("z2", 0.0))
    ss.z_rev = 0  # bumped whenever the server moves z, so the browser adopts it
    ss.selected_row = int(values.get("digit", 0))
    ss.cls = int(values.get("class", 0))  # the class a conditional model draws; see keep_choices
    # The link's language, else the browser's; from then on the sidebar's switch (language.py).
    ss.lang = str(values.get("lang") or browser_language())
    ss.hide = frozenset(values.get("hide", ()))  # what a lesson link hides from this session
    ss.present = bool(values.get("present", 0))  # presentation mode, the header's toggle
    if "tab" in values:  # the tab a lesson link opens, by its label in the page's language
        ss.tab = _(label_of(values["tab"]))
    ss.tour = values.get("tour")  # the guided tour's open step (sections/tour.py), or None
    ss.tour_set_up = False  # whether that step has set the page up yet
    ss.tour_answer = None  # the learner's answer to the step's prediction, once revealed
    ss.clicked = None  # the latest point the learner clicked on the plane, for the tour
    ss.previous_metrics = None
    ss.overlay = None  # a lens's marks on the plane: {"name", "points", "path", "model_id"}
    ss.colour_by = str(values.get("colour", "digit"))  # by class, or "elbo": by −ELBO
    # The class colours everywhere (explorer.payload.palette_colours): "safe" for colour-blind
    # viewers, chosen in the latent view's bar.
    ss.palette = str(values.get("palette", PALETTES[0]))
    # Uploads this page may pick (sections/own_images.py): those it sent, or its link's.
    ss.own = [settings.data] if is_own(settings.data) else []
    ss.own_sent = frozenset()  # of those, the uploads this page sent: the ones it may delete
    ss.own_rev = 0  # bumped to empty the upload widgets once their pictures are kept
    ss.own_prepared = None  # (digest of the files sent, their Upload or why it was refused)
    ss.own_classes = {}  # a class at a time: {class name: [(file name, bytes)]}
    ss.own_adds = 0  # additions of a class's pictures: each empties their uploader
    ss.own_ready = False  # whether the classes added are to be previewed
    ss.drawn = None  # the drawing pad's prepared 28x28 as 784 bytes, once something is drawn
    found, board_notices = class_board.from_link(st.query_params.to_dict())
    ss.join = found["join"]  # the class board a student's link joined (sections/board.py)
    ss.board, ss.board_key = found["board"], found["board_key"]  # a teacher's board, secret
    ss.notices = [*notices, *board_notices]
    # The sidebar's form starts on the requested model.
    ss.beta, ss.width, ss.epochs, ss.seed = (
        settings.beta,
        settings.width,
        settings.epochs,
        settings.seed,
    )
    ss.data, ss.recipe = settings.data, settings.recipe
    ss.kind = kind_of(settings)  # the sidebar's choice of plain, conditional or M2
    ss.labelled = settings.labelled or LABELLED[0]
    if settings.recipe == DEFAULT_SETTINGS.recipe and "recipe" not in values:
        # A link that names no recipe shows the shipped model, while the form offers the quick
        # recipe, so that a change to it trains in a minute or two.
        ss.recipe, ss.width, ss.epochs = QUICK.name, QUICK.width, QUICK.epochs
    return True


def form_settings() -> ModelSettings:
    """The model the sidebar's form describes, as last submitted (its data too, unless a
    lesson link hides the choice)."""
    ss = st.session_state
    return ModelSettings(
        beta=float(ss.beta),
        width=int(ss.width),
        epochs=int(ss.epochs),
        seed=int(ss.seed),
        data=str(ss.get("data", ss.settings.data)),
        conditional=ss.kind != "plain",
        recipe=str(ss.recipe),
        labelled=int(ss.labelled) if ss.kind == "semi" else 0,
    )


# The kinds of model the sidebar offers, by key.
KINDS = ("plain", "conditional", "semi")


def kind_of(settings: ModelSettings) -> str:
    """The kind of model the settings name: one of KINDS."""
    if settings.labelled:
        return "semi"
    return "conditional" if settings.conditional else "plain"


def recipe_of_link(params: Mapping[str, str], values: dict) -> str:
    """The recipe a link names; a link made before recipes had names named its model's width
    and epochs, and meant the quick recipe, the only one then (a bare `?beta=4` gets the
    shipped model's recipe)."""
    if "recipe" in values:
        return values["recipe"]
    if "width" in params or "epochs" in params:
        return "quick"
    return DEFAULT_SETTINGS.recipe


def move_to(z1: float, z2: float, window: tuple[float, float] | None = None) -> None:
    """The server moves z (a button, a link, a clamp): the browser will follow."""
    ss = st.session_state
    if window is not None:
        z1, z2 = clamp(z1, window), clamp(z2, window)
    ss.z1, ss.z2 = float(z1), float(z2)
    ss.z_rev += 1


def commit(value, window: tuple[float, float]) -> bool:
    """The browser settled on a point; True if it sent one. Out-of-plane values are clamped,
    not trusted."""
    z = parse_point(value)
    if z is None:
        return False
    ss = st.session_state
    clamped = (clamp(z[0], window), clamp(z[1], window))
    ss.z1, ss.z2 = clamped
    if clamped != z:
        ss.z_rev += 1
    return True


def select(value, count: int) -> bool:
    """The browser clicked a test digit; True if that changed the selection."""
    try:
        row = int(value)
    except (TypeError, ValueError):
        return False
    if not (0 <= row < count and row == value) or row == st.session_state.selected_row:
        return False
    st.session_state.selected_row = row
    return True


def set_endpoint(which: str, end: dict) -> None:
    """A button's callback: the Interpolate tab's endpoint "a" or "b" becomes {"row": r} or
    {"z": [z1, z2]}."""
    st.session_state[f"path_{which}"] = end


def chosen_class(conditional: bool) -> int | None:
    """The class chosen on the page, which a conditional model draws and reads a drawing with;
    None for a plain model."""
    return int(st.session_state.cls) if conditional else None


def keep_in(window: tuple[float, float]) -> None:
    """After a model switch: z is kept, and clamped only if it lies outside the new plane."""
    ss = st.session_state
    if not (window[0] <= ss.z1 <= window[1] and window[0] <= ss.z2 <= window[1]):
        move_to(ss.z1, ss.z2, window)


def keep_choices(rows: int, classes: int) -> None:
    """After a switch of data: the selected test row and the chosen class are kept where the
    new data have them (`rows` test images, `classes` classes), else 0."""
    ss = st.session_state
    for name, count in (("selected_row", rows), ("cls", classes)):
        if not 0 <= ss[name] < count:
            ss[name] = 0


def view_link() -> dict[str, str]:
    """The view this session shows, as link parameters: the address bar's and a lesson link's."""
    ss = st.session_state
    return link_of(
        shown_settings(),
        (ss.z1, ss.z2),
        ss.selected_row,
        ss.cls,
        ss.lang,
        ss.get("tour"),
        ss.get("palette", PALETTES[0]),
    )


def sync_link() -> None:
    """Write the state to the query string, touching only what changed."""
    ss = st.session_state
    link = {**view_link(), **class_board.link_params()}
    if ss.get("present"):
        link["present"] = "1"
    current = st.query_params.to_dict()
    if current != link:
        st.query_params.from_dict(link)


def page_theme() -> str:
    """ "light" or "dark": the browser's theme, for pictures drawn on the server."""
    kind = getattr(getattr(st.context, "theme", None), "type", None)
    return "dark" if kind == "dark" else "light"
