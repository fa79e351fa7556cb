"""The VAE latent explorer: `streamlit run app.py`.

The page's table of contents: configuration, layout, and which sections go where. Each section
lives in its own module of explorer/, over one cached view of the model shown.
"""

from __future__ import annotations

import gc
import html
import sys

import streamlit as st

from explorer import language, model_requests, own_data, state
from explorer.model_view import DEFAULT_SETTINGS, Shown, load_settings, model_view
from explorer.sections import (
    about,
    board,
    compare,
    few_labels,
    interpolation,
    latent_plane,
    manifold,
    maps,
    outliers,
    own_images,
    posterior,
    preview_banner,
    sampling,
    sidebar,
    tour,
    training_replay,
)
from explorer.server import (
    configure,
    dataset_of,
    holds,
    is_own,
    note_shown,
    session_id,
)
from explorer.tabs import TAB_KEYS
from i18n import _, lazy, nouns, said
from training.cache import NotCached
from vae_core import CheckpointError, DataError

# Each tab's section, in the order of explorer.tabs, and whether it runs while closed: the
# latent view does (so it keeps its zoom), and so does the last tab (a few lines of text); the
# others only while open, so a first visit loads no plotly at all.
TAB_SECTIONS = (
    ("plane", latent_plane, True),
    ("posterior", posterior, False),
    ("sample", sampling, False),
    ("interpolate", interpolation, False),
    ("outliers", outliers, False),
    ("few_labels", few_labels, False),
    ("manifold", manifold, False),
    ("maps", maps, False),
    ("compare", compare, False),
    ("training", training_replay, False),
    ("about", about, True),
)

# Less white space around the page, so the latent view fits the window, but the title starts
# below Streamlit's header bar (3.75rem, drawn over the page at every width); a control that
# takes the keyboard's focus is scrolled clear of that bar too (WCAG 2.4.11), and a collapsed
# sidebar's controls, out of sight, are out of the keyboard's way (2.4.7). Text at least
# 4.5:1 against its background in both themes (WCAG 1.4.3), where Streamlit's own falls
# short: captions faded to 60 % (3.8:1 in the light theme) fade to 80 %, and the primary
# colour, which no red can make readable on both white and near-black, stays the selected
# segment's border but not its text, nor a slider's value. Streamlit's focus ring is the
# primary colour at half strength (2.2:1 on white, 1.8:1 on the dark theme's background):
# instead, a near-black ring outside a white one, of which one stands out on any background
# (WCAG 1.4.11, 2.4.7), around a switch's or a box's label where its input is hidden. Who
# asks their system for less motion gets no sliding or spinning (the Training tab's replay
# moves only when switched on). Streamlit's help icons (16 px) and the tab row's scroll arrow
# (20 px wide) grow to the 24 px a finger needs (WCAG 2.5.8). The payload mounts have nothing
# to show.
PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding: 4rem 1rem 1rem 1rem; }
[data-testid="stMain"] { scroll-padding-top: 4.5rem; scroll-padding-bottom: 1rem; }
[data-testid="stSidebar"][data-collapsed="true"],
[data-testid="stSidebar"][data-collapsed="true"] * { visibility: hidden !important; }
[data-testid="stCaptionContainer"] { opacity: 0.8; }
button[data-variant="segmented_control"][aria-checked="true"],
button[data-variant="segmented_control"][aria-checked="true"] * { color: inherit !important; font-weight: 600; }
[data-testid="stSliderThumbValue"] { color: inherit; }
.stApp :focus-visible, .stApp label:has(input:focus-visible) {
  outline: 3px solid #111 !important; outline-offset: 2px; box-shadow: 0 0 0 2px #fff !important; }
@media (prefers-reduced-motion: reduce) {
  .stApp *, .stApp *::before, .stApp *::after { animation-duration: 0.01ms !important;
    animation-iteration-count: 1 !important; transition-duration: 0.01ms !important;
    scroll-behavior: auto !important; } }
[data-testid="stTooltipHoverTarget"] button { min-width: 24px; min-height: 24px; justify-content: center; }
[data-testid="stTabsScrollLeft"], [data-testid="stTabsScrollRight"] { min-width: 24px; }
.st-key-latent_data, .st-key-latent_words, .st-key-latent_scores, .st-key-compare_data, .st-key-draw_encoder { display: none; }
</style>
"""

# Presentation mode: the plane gets the window (no sidebar, the selection under the plane
# rather than beside it) and every text grows for the back row of a classroom; the latent
# view scales its own text by --lv-scale, which reaches into its shadow root. Streamlit's
# header bar goes too: with no sidebar to open, its height is the plane's.
PRESENT_CSS = """
<style>
html { font-size: 125%; }
.stApp { --lv-scale: 1.5; }
[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl],
[data-testid=stExpandSidebarButton], [data-testid=stHeader] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; }
[data-testid="stMain"] { scroll-padding-top: 0; }
[data-testid=stHorizontalBlock]:has(.st-key-latent_scatter) { flex-wrap: wrap; }
[data-testid=stHorizontalBlock]:has(.st-key-latent_scatter) > [data-testid=stColumn] {
  flex: 1 1 100% !important; width: 100% !important; min-width: 100%; }
</style>
"""


# What a lesson link's `hide` takes off the page (state.HIDEABLE); "training" and "data" are
# left out of the sidebar's form instead (sections/sidebar.py).
HIDDEN_CSS = {
    "sidebar": "[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl], "
    "[data-testid=stExpandSidebarButton] { display: none; }",
    "tabs": ".st-key-tab [data-baseweb=tab-list], .st-key-tab [role=tablist] { display: none; }",
}


def cannot_load(exc: Exception) -> None:
    st.error(
        _(
            "Cannot load the model: {problem}\n\nRestore the file (for the shipped model: "
            "`git checkout assets/`), or rebuild it with `python -m training --output "
            "assets/default_model.pt`."
        ).format(problem=exc)
    )
    st.stop()


def main() -> None:
    language.install()
    first_run = state.init_state()
    st.set_page_config(page_title=_("VAE latent explorer"), page_icon="🔢", layout="wide")
    ss = st.session_state
    st.html(PAGE_CSS)
    hidden = [HIDDEN_CSS[name] for name in sorted(ss.hide) if name in HIDDEN_CSS]
    if hidden:
        st.html(f"<style>{' '.join(hidden)}</style>")
    if ss.present:
        st.html(PRESENT_CSS)
    heading, buttons = st.columns([5, 2], vertical_alignment="center")
    title = heading.empty()
    with buttons, st.container(horizontal=True, horizontal_alignment="right"):
        tour.open_button()
        st.toggle(
            _("📽️ Present"),
            key="present",
            help=_(
                "For a projector: the plane gets the screen and the text grows for the back "
                "row. A link with `present=1` opens the page this way."
            ),
        )
    for notice in ss.notices:
        st.warning(str(notice), icon="🔗")
    ss.notices = []
    if first_run:
        model_requests.request(ss.pop("link_settings"))
    if is_own(ss.settings.data):
        if holds(ss.settings.data):
            own_data.mark_used(ss.settings.data)
        else:  # deleted by the page that sent it, or by hand
            model_requests.forget_data(ss.settings.data)
            ss.request_error = lazy(
                "The pictures this page showed are no longer on this server (deleted by the page "
                "that sent them). The default data are shown."
            )
    model_requests.show_finished()
    preview = model_requests.current()  # the model this page is training, as its snapshot
    try:
        model, checkpoint = load_settings(ss.settings)
    except NotCached as exc:
        if ss.settings == DEFAULT_SETTINGS:  # the shipped model itself is unreadable
            cannot_load(exc)
        model_requests.reask_pruned()
        st.rerun()
    except (CheckpointError, DataError) as exc:
        cannot_load(exc)
    # Kept from pruning (the model, and its upload if it is one) while a snapshot is shown, too.
    note_shown(session_id(), ss.settings.key, ss.settings.data)
    try:
        shown = Shown(model, model_view(model, ss.settings.key, ss.settings.data), checkpoint)
    except DataError as exc:  # the data directory changed on disk since the server started
        gone = dataset_of(ss.settings.data).name
        ss.settings = DEFAULT_SETTINGS
        ss.request_error = lazy(
            "Cannot read the data of {name}: {problem} The bundled MNIST is shown.",
            name=gone,
            problem=said(exc),
        )
        st.rerun()
    if preview is not None:
        shown = preview.shown
        preview_banner.section(preview)
    view = shown.view
    where = _("{count} {data} test {nouns} where the encoder puts them").format(
        count=f"{len(view.labels):,}",
        data=html.escape(dataset_of(view.data).name),
        **nouns(view.noun),
    )
    title.markdown(
        f"#### {_('VAE latent explorer')} "
        f"<span style='font-weight:normal;opacity:0.7;font-size:0.9rem'>· {where}</span>",
        unsafe_allow_html=True,
    )
    if ss.get("coloured_for") != view.data:  # unlabelled pictures: by −ELBO, never one colour
        ss.coloured_for = view.data
        if not dataset_of(view.data).labelled:
            ss.colour_by = "elbo"
    state.keep_in(view.window)
    state.keep_choices(len(view.labels), len(view.classes))
    sidebar.panel(shown)
    with st.sidebar:
        own_images.open_button()
        board.open_button()
    board.section(shown)
    tour.section(shown)  # before the tabs: a step may open one
    tabs = st.tabs(
        [language.tab_label(i) for i in range(len(TAB_KEYS))], key="tab", on_change="rerun"
    )
    for tab, (_key, section, always) in zip(tabs, TAB_SECTIONS, strict=True):
        if always or tab.open:
            with tab:
                section.section(shown)


if __name__ == "__main__":  # each session's run of the page: Streamlit runs it as __main__
    main()
else:
    # `streamlit run app.py` finds this App and serves it with uvicorn, which imports this
    # module once at server start: torch and the sections are then loaded before the first
    # visitor arrives instead of during their visit. What is alive now lives as long as the
    # server: frozen, it is left out of the collector's full passes (~0.1 s each otherwise).
    configure(sys.argv[1:])  # the operator's limits; a bad one stops the server here
    gc.freeze()
    app = st.App("app.py")
