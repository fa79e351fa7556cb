"""The VAE latent explorer: `streamlit run app.py`.

The page's table of contents: configuration, layout, and which sections go where. Each section
lives in its own module of explorer/, over one cached view of the model shown.
"""

from __future__ import annotations

import gc
import html
import sys

import streamlit as st

from explorer import (
    compare,
    drawing,
    few_labels,
    interpolation,
    latent_view,
    manifold,
    outliers,
    posterior_lens,
    preview,
    replay,
    sampling,
    sidebar,
    state,
)
from explorer.figures import loss_curves
from explorer.model_view import (
    configure,
    dataset_of,
    load_model,
    model_id,
    model_view,
    note_shown,
)
from training.cache import NotCached
from vae_core import CheckpointError, DataError

# Less white space around the page, so the latent view fits the window; the payload mounts
# have nothing to show.
PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding: 1rem 1rem 1rem 1rem; }
.st-key-latent_data, .st-key-latent_scores, .st-key-compare_data, .st-key-draw_encoder { display: none; }
</style>
"""

ABOUT = """
- The **encoder** maps each image *x* to a Gaussian q(z|x) on a 2-D latent plane: a mean (the
  dot on the plane) and a standard deviation (the ellipses of a clicked {noun}, in the inset).
- The **prior** p(z) is a standard normal: the plane's centre holds most of its mass.
- The **decoder** maps any point z to pixel probabilities p(x|z): hover the plane or move the
  sliders to see it, computed in your browser from the model's own weights.
- Training maximises the **ELBO** = E<sub>q</sub>[log p(x|z)] − KL(q(z|x) ‖ p(z)), in nats
  (natural-log units). The first term (*reconstruction*) rewards faithful reconstructions; the
  **KL** term pulls each q(z|x) towards the prior, which keeps the plane dense and every point
  decodable. β > 1 weighs the KL more: a smoother plane, blurrier {noun}s.
- A **conditional VAE** also gives the encoder and the decoder the class y: q(z|x, y) and
  p(x|z, y). The class no longer has to be written into z, so z holds the style, and the
  bound is on log p(x|y).
"""


CREDITS = {
    "MNIST": "MNIST (Y. LeCun, C. Cortes, C. J. C. Burges), CC BY-SA 3.0",
    "Fashion-MNIST": "Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf, 2017), MIT licence",
    "KMNIST": "Kuzushiji-MNIST (T. Clanuwat et al., 2018), CC BY-SA 4.0",
}


def cannot_load(exc: Exception) -> None:
    st.error(
        f"Cannot load the model: {exc}\n\nRestore the file (for the shipped model: "
        "`git checkout assets/`), or rebuild it with `python -m training --output "
        "assets/default_model.pt`."
    )
    st.stop()


def preview_banner(shown: preview.Preview) -> None:
    """Says that the page shows a model still training, and how to go back."""
    job, metrics = shown.job, shown.checkpoint()["metrics"]
    left = job.eta()
    when = f"in about {sidebar.duration(left + 2)}" if left is not None else "when it ends"
    with st.container(key="preview"):
        words, back = st.columns([5, 1], vertical_alignment="center")
        words.info(
            f"**Training: epoch {shown.epoch} of {shown.epochs}** · {shown.settings.describe()}. "
            f"You are exploring this model as it trains: the plane, hover, the sliders and every "
            f"tab use its weights after epoch {shown.epoch} (test −ELBO {metrics['test_neg_elbo']:.1f} "
            f"nats, one draw of z), refreshed as epochs end. The finished model takes their "
            f"place {when}, z kept.",
            icon="⏳",
        )
        if back.button(
            "Show the previous model",
            key="preview_stop",
            help="Explore the model shown before this training until it has finished; the "
            "sidebar can bring the training back.",
        ):
            preview.stop(job.key)
            st.rerun()


def main() -> None:
    st.set_page_config(page_title="VAE latent explorer", page_icon="🔢", layout="wide")
    first_run = state.init_state()
    ss = st.session_state
    st.html(PAGE_CSS)
    title = st.empty()
    for notice in ss.notices:
        st.warning(f"The link's {notice}", icon="🔗")
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
        notice = (
            "The model this page showed is no longer in the server's model cache (removed to "
            "keep the cache within its size, or deleted); the default is shown meanwhile."
        )
        ss.request_error = " ".join(filter(None, [notice, ss.request_error]))
        st.rerun()
    except (CheckpointError, DataError) as exc:
        cannot_load(exc)
    note_shown(state.session_id(), name)  # kept from pruning while a snapshot is shown, too
    try:
        view = model_view(model, name, ss.settings.data)
    except DataError as exc:  # the data directory changed on disk since the server started
        gone = dataset_of(ss.settings.data).name
        ss.settings = state.DEFAULT_SETTINGS
        ss.request_error = f"Cannot read the data of {gone}: {exc} The bundled MNIST is shown."
        st.rerun()
    if shown is not None:
        model, view, checkpoint = shown.model, shown.view, shown.checkpoint()
        preview_banner(shown)
    title.markdown(
        "#### VAE latent explorer "
        "<span style='font-weight:normal;opacity:0.7;font-size:0.9rem'>· "
        f"{len(view.labels):,} {html.escape(dataset_of(view.data).name)} test {view.noun}s "
        "where the encoder puts them</span>",
        unsafe_allow_html=True,
    )
    state.keep_in(view.window)
    state.keep_choices(len(view.labels), len(view.classes))
    sidebar.panel(checkpoint)

    # Only the open tab's content runs (the latent view always does, so it keeps its zoom):
    # the first visit then loads no plotly at all.
    plane, posterior, samples, path, unusual, fewlabels, grid, side_by_side, curves, about = (
        st.tabs(
            [
                "Latent plane",
                "Posterior",
                "Sample",
                "Interpolate",
                "Outliers",
                "Few labels",
                "Manifold",
                "Compare",
                "Training",
                "What am I looking at?",
            ],
            key="tab",
            on_change="rerun",
        )
    )
    with plane:
        latent_view.section(model, view)
    if posterior.open:
        with posterior:
            posterior_lens.section(model, view, ss.selected_row)
    if samples.open:
        with samples:
            sampling.section(model, view, ss.selected_row)
    if path.open:
        with path:
            interpolation.section(model, view)
    if unusual.open:
        with unusual:
            outliers.section(model, view, ss.selected_row, drawing.current(model, view))
    if fewlabels.open:
        with fewlabels:
            few_labels.section(model, view)
    if grid.open:
        with grid:
            manifold.section(model, view)
    if side_by_side.open:
        with side_by_side:
            compare.section(model, view, checkpoint)
    if curves.open:
        with curves:
            replay.section(checkpoint, view)
            st.subheader("Training curves of this model")
            st.plotly_chart(loss_curves(checkpoint["metrics"]["history"]), key="model_curves")
    with about:
        st.markdown(ABOUT.format(noun=view.noun), unsafe_allow_html=True)
        name = dataset_of(view.data).name
        st.caption(
            f"Data: {html.escape(CREDITS.get(name, name))}. "
            "Model: Kingma & Welling, Auto-Encoding Variational Bayes (2014); the conditional "
            "VAE: Sohn, Lee & Yan, Learning Structured Output Representation using Deep "
            "Conditional Generative Models (2015)."
        )


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
