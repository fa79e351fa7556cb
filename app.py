"""The VAE latent explorer: `streamlit run app.py`.

The page's table of contents: configuration, layout, and which sections go where. Each section
lives in its own module of explorer/, over one cached view of the model shown.
"""

from __future__ import annotations

import gc
import html
import sys

import streamlit as st

from explorer import language, preview, state
from explorer.model_view import (
    configure,
    dataset_of,
    load_model,
    model_id,
    model_view,
    note_shown,
)
from explorer.sections import (
    TABS,
    about,
    board,
    compare,
    drawing,
    few_labels,
    interpolation,
    latent_plane,
    manifold,
    outliers,
    posterior,
    preview_banner,
    sampling,
    sidebar,
    tour,
    training_replay,
)
from i18n import _, lazy, nouns, said
from training.cache import NotCached
from vae_core import CheckpointError, DataError

# Less white space around the page, so the latent view fits the window; the payload mounts
# have nothing to show.
PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding: 1rem 1rem 1rem 1rem; }
.st-key-latent_data, .st-key-latent_words, .st-key-latent_scores, .st-key-compare_data, .st-key-draw_encoder { display: none; }
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
    heading, tour_button = st.columns([6, 1], vertical_alignment="center")
    title = heading.empty()
    with tour_button:
        tour.open_button()
    for notice in ss.notices:
        st.warning(str(notice), icon="🔗")
    ss.notices = []
    if first_run:
        sidebar.request(ss.pop("link_settings"))
    sidebar.show_finished()
    shown = preview.current()  # the model this page is training, as its latest snapshot
    configs = ss.settings.configs()
    name = model_id(*configs)
    try:
        model, checkpoint = load_model(name, configs)
    except NotCached as exc:
        if ss.settings == state.DEFAULT_SETTINGS:  # the shipped model itself is unreadable
            cannot_load(exc)
        # Removed from the cache since (pruned, or deleted by hand): train it again meanwhile.
        gone = ss.settings
        ss.settings = state.DEFAULT_SETTINGS
        sidebar.request(gone)
        notice = _(
            "The model this page showed is no longer in the server's model cache (removed to "
            "keep the cache within its size, or deleted); the default is shown meanwhile."
        )
        ss.request_error = " ".join(str(m) for m in (notice, ss.request_error) if m)
        st.rerun()
    except (CheckpointError, DataError) as exc:
        cannot_load(exc)
    note_shown(state.session_id(), name)  # kept from pruning while a snapshot is shown, too
    try:
        view = model_view(model, name, ss.settings.data)
    except DataError as exc:  # the data directory changed on disk since the server started
        gone = dataset_of(ss.settings.data).name
        ss.settings = state.DEFAULT_SETTINGS
        ss.request_error = lazy(
            "Cannot read the data of {name}: {problem} The bundled MNIST is shown.",
            name=gone,
            problem=said(exc),
        )
        st.rerun()
    if shown is not None:
        model, view, checkpoint = shown.model, shown.view, shown.checkpoint()
        preview_banner.section(shown)
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
    state.keep_in(view.window)
    state.keep_choices(len(view.labels), len(view.classes))
    sidebar.panel(checkpoint)
    board.section(view)
    tour.section(model, view, checkpoint)  # before the tabs: a step may open one

    # Only the open tab's content runs (the latent view always does, so it keeps its zoom):
    # the first visit then loads no plotly at all.
    (
        plane_tab,
        posterior_tab,
        sample_tab,
        interpolate_tab,
        outliers_tab,
        few_labels_tab,
        manifold_tab,
        compare_tab,
        training_tab,
        about_tab,
    ) = st.tabs(
        [language.tab_label(i) for i in range(len(TABS))],
        key="tab",
        on_change="rerun",
    )
    with plane_tab:
        latent_plane.section(model, view)
    if posterior_tab.open:
        with posterior_tab:
            posterior.section(model, view, ss.selected_row)
    if sample_tab.open:
        with sample_tab:
            sampling.section(model, view, ss.selected_row)
    if interpolate_tab.open:
        with interpolate_tab:
            interpolation.section(model, view)
    if outliers_tab.open:
        with outliers_tab:
            outliers.section(model, view, ss.selected_row, drawing.current(model, view))
    if few_labels_tab.open:
        with few_labels_tab:
            few_labels.section(model, view)
    if manifold_tab.open:
        with manifold_tab:
            manifold.section(model, view)
    if compare_tab.open:
        with compare_tab:
            compare.section(model, view, checkpoint)
    if training_tab.open:
        with training_tab:
            training_replay.section(checkpoint, view)
    with about_tab:
        about.section(view)


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
