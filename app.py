"""The VAE latent explorer: `streamlit run app.py`.

UI only: the maths lives in vae_core, training and caching in training, figures, pictures and
the browser-side decoder in explorer.
"""

from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from explorer import figures, images, overlay, pad
from training import DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG, TrainConfig, cache_key, is_cached
from training.cache import get_or_train
from training.job import TrainingJob
from vae_core import (
    CheckpointError,
    DataError,
    decode,
    elbo_terms,
    encode,
    grid_axis,
    load_split,
    manifold,
)
from vae_core.inference import decoder_layers
from vae_core.model import VAE, VAEConfig

st.set_page_config(page_title="VAE latent explorer", page_icon="🔢", layout="wide")

BETAS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
WIDTHS = [64, 128, 256, 512]
SELECTION_SAMPLES = 64  # draws of z behind a clicked digit's reconstruction term


# ---------------------------------------------------------------- models, jobs and cached data


def settings_of(model_config: VAEConfig, train_config: TrainConfig) -> dict:
    return {"model": model_config.to_dict(), "train": train_config.to_dict()}


def configs(settings: dict) -> tuple[VAEConfig, TrainConfig]:
    return VAEConfig.from_dict(settings["model"]), TrainConfig(**settings["train"])


@st.cache_resource(show_spinner="Loading the model…")
def load_model(key: str, settings: dict) -> tuple[VAE, dict]:
    return get_or_train(*configs(settings))


@st.cache_resource
def job_registry() -> tuple[dict[str, TrainingJob], threading.Lock]:
    """Training jobs by cache key, shared by every session of this server."""
    return {}, threading.Lock()


def job_for(key: str, settings: dict, restart_failed: bool = False) -> TrainingJob:
    jobs, lock = job_registry()
    with lock:
        job = jobs.get(key)
        if job is None or (restart_failed and job.error):
            job = jobs[key] = TrainingJob(*configs(settings)).start()
        return job


@st.cache_resource(show_spinner=False)  # shared read-only, so not copied on every call
def test_set() -> tuple[np.ndarray, np.ndarray]:
    split = load_split(None, "test")
    return split.images, split.labels


@st.cache_data(show_spinner="Encoding the 10,000 test digits…")
def codes(_model: VAE, key: str) -> tuple[np.ndarray, np.ndarray]:
    return encode(_model, test_set()[0])


@st.cache_resource(show_spinner=False)  # the same figure object for every rerun and session
def scatter_figure(_model: VAE, key: str):
    mu, _ = codes(_model, key)
    return figures.latent_scatter(mu, test_set()[1], figures.plane_range(mu), height=470)


@st.cache_data(show_spinner=False)
def pad_payload(_model: VAE, key: str) -> dict:
    mu, _ = codes(_model, key)
    return pad.payload(key, decoder_layers(_model), mu, test_set()[1], figures.plane_range(mu))


@st.cache_data(show_spinner=False, max_entries=32)
def digit_details(_model: VAE, key: str, row: int) -> dict:
    image = test_set()[0][row]
    mu, sigma = (a[row] for a in codes(_model, key))
    reconstruction = decode(_model, mu[None])[0]
    terms = elbo_terms(_model, image[None], samples=SELECTION_SAMPLES, seed=row)
    return {
        "image": image / 255.0,
        "reconstructed": reconstruction,
        "mu": mu,
        "sigma": sigma,
        **{name: float(value[0]) for name, value in terms.items()},
    }


@st.cache_data(show_spinner="Decoding the grid…", max_entries=16)
def manifold_pictures(
    _model: VAE, key: str, n: int, spacing: str, extent: float, window: tuple[float, float]
) -> tuple[bytes, bytes]:
    """(the grid as a PNG to download, the grid laid on the latent window as a PNG)."""
    axis = grid_axis(n, spacing, extent)
    grid = manifold(_model, axis)
    plane = images.manifold_on_plane(grid, axis, *window, size=28 * max(n, 24))
    return images.png(grid), images.png(plane)


# ---------------------------------------------------------------- state


def init_state() -> None:
    defaults = {
        "active": settings_of(DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG),
        "pending": None,
        "z1": 0.0,
        "z2": 0.0,
        "selected_row": None,
        "beta": DEFAULT_MODEL_CONFIG.beta,
        "width": DEFAULT_MODEL_CONFIG.hidden[0],
        "epochs": DEFAULT_TRAIN_CONFIG.epochs,
        "seed": DEFAULT_TRAIN_CONFIG.seed,
    }
    for name, value in defaults.items():
        st.session_state.setdefault(name, value)


def request_model() -> None:
    """The settings form was sent: switch to that model, training it first if need be."""
    ss = st.session_state
    model_config = VAEConfig(latent_dim=2, hidden=(ss.width, ss.width), beta=float(ss.beta))
    train_config = TrainConfig(
        epochs=int(ss.epochs),
        batch_size=DEFAULT_TRAIN_CONFIG.batch_size,
        lr=DEFAULT_TRAIN_CONFIG.lr,
        seed=int(ss.seed),
    )
    settings = settings_of(model_config, train_config)
    if is_cached(model_config, train_config):
        ss.active, ss.pending = settings, None
    else:
        ss.pending = settings
        job_for(cache_key(model_config, train_config), settings, restart_failed=True)


def move_to(z1: float, z2: float) -> None:
    st.session_state.z1, st.session_state.z2 = float(z1), float(z2)


def on_pad_release() -> None:
    value = st.session_state.get("latent_pad")
    z = value.get("z") if isinstance(value, dict) else getattr(value, "z", None)
    if z is not None:
        move_to(*z)


def selected_row_from(event) -> int | None:
    """The dataset row of a clicked point, from the selection plotly sent (or None)."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    if not points:
        return None
    custom = points[0].get("customdata")
    if isinstance(custom, dict):
        custom = next(iter(custom.values()), None)
    if isinstance(custom, (list, tuple)):
        custom = custom[0] if custom else None
    return int(custom) if custom is not None else None


# ---------------------------------------------------------------- page parts


def sidebar(checkpoint: dict) -> None:
    with st.sidebar:
        st.header("Model")
        with st.form("model_settings", border=False):
            st.select_slider("β (KL weight)", BETAS, key="beta", help="1 trains the true ELBO.")
            st.selectbox(
                "Hidden width", WIDTHS, key="width", help="Both hidden layers, encoder and decoder."
            )
            st.number_input("Epochs", min_value=1, max_value=200, step=1, key="epochs")
            st.number_input("Seed", min_value=0, max_value=10_000, step=1, key="seed")
            st.form_submit_button(
                "Load or train", on_click=request_model, type="primary", width="stretch"
            )
        m = checkpoint["metrics"]
        config, train = checkpoint["config"], checkpoint["extra"]["train_config"]
        st.caption(
            f"Showing: 2-D latent, hidden {config['hidden']}, β = {config['beta']}, "
            f"{train['epochs']} epochs, seed {train['seed']}."
        )
        a, b = st.columns(2)
        a.metric(
            "test −ELBO",
            f"{m['test_neg_elbo']:.1f}",
            help=f"nats per image, mean of {m['eval_samples']} draws of z",
        )
        b.metric("KL", f"{m['test_kl']:.2f}")
        st.caption(
            f"Reconstruction {m['test_reconstruction']:.1f} nats · trained in "
            f"{m['train_seconds']:.0f} s on {len(m['history'])} epochs."
        )


@st.fragment(run_every=1.0)
def training_progress() -> None:
    ss = st.session_state
    if ss.pending is None:  # finished while this fragment was polling
        return
    model_config, train_config = configs(ss.pending)
    key = cache_key(model_config, train_config)
    job = job_for(key, ss.pending)
    if job.error:
        st.error(f"Training failed: {job.error}. The page still shows the previous model.")
        if st.button("Dismiss", key="dismiss_error"):
            ss.pending = None
            st.rerun()
        return
    if job.result is not None:
        ss.active, ss.pending = ss.pending, None
        st.rerun()
    history = job.history
    done = len(history)
    label = f"Training β = {model_config.beta}, hidden {list(model_config.hidden)}, "
    label += f"{train_config.epochs} epochs: epoch {done}/{train_config.epochs}"
    if history:
        label += f", test −ELBO {history[-1].test_neg_elbo:.1f} nats"
    status, curves = st.columns([2, 3], vertical_alignment="center")
    with status:
        st.progress(job.progress(), text=label)
        st.caption(
            "Training runs on the server; keep exploring the current model meanwhile. "
            "The page switches to the new one when it is done."
        )
    if history:
        with curves:
            st.plotly_chart(
                figures.loss_curves([h.to_dict() for h in history], height=170),
                key="live_curves",
            )


@st.fragment
def explorer(model: VAE, key: str) -> None:
    ss = st.session_state
    mu, sigma = codes(model, key)
    window = figures.plane_range(mu)
    row = selected_row_from(ss.get("latent_scatter"))
    if row is not None:
        ss.selected_row = row
    for name in ("z1", "z2"):
        # Written only when out of range: writing a widget's value from code overrides what the
        # browser sent meanwhile, and would swallow fast key presses.
        if not window[0] <= ss[name] <= window[1]:
            ss[name] = float(np.clip(ss[name], *window))

    left, middle, right = st.columns([4.6, 3.0, 2.6], gap="medium")
    # Filled out of page order: what a slider or a click changes (the decoded digit, the
    # selection) is computed and sent first; the scatter and the pad, the heaviest, last.
    with middle:
        pad_slot = st.container()
        st.slider("z1", *window, step=0.01, key="z1")
        st.slider("z2", *window, step=0.01, key="z2")
        with st.container(key="decoded", horizontal=True, vertical_alignment="center"):
            st.image(
                images.png(decode(model, [[ss.z1, ss.z2]])[0], scale=4),
                width=112,
                output_format="PNG",
            )
            st.markdown(f"**decoded at**  \nz = ({ss.z1:.2f}, {ss.z2:.2f})")
    with right, st.container(key="selection"):
        selection_panel(model, key)
    with left:
        st.plotly_chart(
            scatter_figure(model, key),
            key="latent_scatter",
            on_select="rerun",
            selection_mode="points",
            config={"displaylogo": False},
        )
        selected = None
        if ss.selected_row is not None:
            selected = (mu[ss.selected_row], sigma[ss.selected_row])
        overlay_component()(key="scatter_overlay", data=overlay.payload((ss.z1, ss.z2), selected))
    with pad_slot:
        pad_component()(
            key="latent_pad",
            data=pad_payload(model, key),
            default={"z": None},
            on_z_change=on_pad_release,
        )


def selection_panel(model: VAE, key: str) -> None:
    row = st.session_state.selected_row
    if row is None:
        st.markdown(
            "**Click a point** on the scatter to see that test digit, its reconstruction "
            "and its share of the ELBO."
        )
        return
    d = digit_details(model, key, row)
    st.markdown(f"**Test image #{row}: a {int(test_set()[1][row])}**")
    pictures = st.columns(3, gap="small")
    for column, (picture, caption) in zip(
        pictures,
        (
            (images.png(d["image"], scale=4), "input"),
            (images.png(d["reconstructed"], scale=4), "recon."),
            (
                images.png(images.difference_rgb(d["image"], d["reconstructed"]), scale=4),
                "diff.",
            ),
        ),
        strict=True,
    ):
        column.image(picture, caption=caption, width="stretch", output_format="PNG")
    st.caption("diff.: red where the reconstruction adds ink, blue where it misses ink.")
    st.markdown(
        f"mean μ = ({d['mu'][0]:.2f}, {d['mu'][1]:.2f})  \n"
        f"std σ = ({d['sigma'][0]:.3f}, {d['sigma'][1]:.3f})  \n"
        f"reconstruction **{d['reconstruction']:.1f}** + KL **{d['kl']:.2f}**  \n"
        f"= −ELBO **{d['neg_elbo']:.1f}** nats"
    )
    st.button(
        "Move the latent point here",
        key="goto_selected",
        on_click=move_to,
        args=(float(d["mu"][0]), float(d["mu"][1])),
    )


@st.cache_resource
def overlay_component():
    return st.components.v2.component("scatter_overlay", js=overlay.js_source())


@st.cache_resource
def pad_component():
    return st.components.v2.component("latent_pad", html=pad.HTML, css=pad.CSS, js=pad.js_source())


@st.fragment
def manifold_section(model: VAE, key: str) -> None:
    mu, _ = codes(model, key)
    plot, controls = st.columns([6.2, 3.8], gap="medium")
    with controls:
        st.subheader("Manifold")
        st.caption(
            "Each digit decodes the centre of its cell, drawn where that cell lies in the latent "
            "plane. Normal spacing gives every cell the same prior mass (Kingma & Welling 2014, "
            "fig. 4), so central cells are small; linear spacing covers a range evenly."
        )
        n = st.slider("Grid size n", 5, 40, 20, key="manifold_n")
        spacing = st.radio(
            "Spacing",
            ["normal", "linear"],
            horizontal=True,
            key="manifold_spacing",
            format_func={"normal": "inverse normal CDF", "linear": "linear"}.get,
        )
        scatter_window = figures.plane_range(mu)
        extent = st.slider(
            "Linear range ±",
            0.5,
            float(scatter_window[1]),
            min(3.0, float(scatter_window[1])),
            step=0.25,
            key="manifold_extent",
            disabled=spacing != "linear",
        )
        zoom = st.toggle(
            "Zoom to the grid",
            key="manifold_zoom",
            help="Off: the scatter's window, to read the two together. Same scale either way.",
        )
        axis = grid_axis(n, spacing, extent)
        edge = float(np.abs(images.cell_edges(axis)).max())
        window = (-edge, edge) if zoom else scatter_window
        grid_png, plane_png = manifold_pictures(model, key, n, spacing, extent, window)
        st.download_button(
            f"Download the {n}×{n} grid (PNG)",
            grid_png,
            file_name=f"manifold_{n}x{n}.png",
            mime="image/png",
            key="manifold_png",
            on_click="ignore",
        )
    with plot, st.container(key="manifold"):
        st.plotly_chart(figures.manifold_figure(plane_png, window, height=640), key="manifold_plot")


def explanation() -> None:
    with st.expander("What am I looking at?"):
        st.markdown(
            """
- The **encoder** maps each image *x* to a Gaussian q(z|x) in a 2-D latent plane: a mean
  (the dot on the scatter) and a standard deviation (the ellipses around a clicked digit).
- The **prior** p(z) is a standard normal: the plane's centre holds most of its mass.
- The **decoder** maps any point z to pixel probabilities p(x|z): the sliders and the pad show it.
- Training maximises the **ELBO** = E<sub>q</sub>[log p(x|z)] − KL(q(z|x) ‖ p(z)). The first
  term (*reconstruction*, in nats) rewards faithful reconstructions; the **KL** term pulls each
  q(z|x) towards the prior, which keeps the plane dense and every point decodable. β > 1
  weighs the KL more: smoother plane, blurrier digits.
            """,
            unsafe_allow_html=True,
        )


# ---------------------------------------------------------------- the page


# Less white space above and beside the page, so the main views fit a 1400x1000 window.
PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding: 2.2rem 1.5rem 1rem 1.5rem; }
</style>
"""


def main() -> None:
    init_state()
    st.html(PAGE_CSS)
    st.markdown(
        "### VAE latent explorer  \n"
        "<span style='opacity:0.75'>10,000 MNIST test digits where the encoder puts them; "
        "click one, drag the sliders, or move over the pad to decode any point.</span>",
        unsafe_allow_html=True,
    )
    model_config, train_config = configs(st.session_state.active)
    key = cache_key(model_config, train_config)
    try:
        model, checkpoint = load_model(key, st.session_state.active)
    except (CheckpointError, DataError) as exc:
        st.error(
            f"Cannot load the model: {exc}\n\nRestore the file (for the shipped model: "
            "`git checkout assets/`), or rebuild it with `python -m training --output "
            "assets/default_model.pt`."
        )
        st.stop()
    sidebar(checkpoint)
    if st.session_state.pending is not None:  # only then does the page poll every second
        training_progress()
    explorer(model, key)
    manifold_section(model, key)
    explanation()
    # A toggle, not an expander: a collapsed expander would still draw the chart at page load.
    if st.toggle("Show the training curves of this model", key="show_curves"):
        st.plotly_chart(figures.loss_curves(checkpoint["metrics"]["history"]), key="model_curves")
    st.caption(
        "Data: MNIST (Y. LeCun, C. Cortes, C. J. C. Burges), CC BY-SA 3.0. "
        "Model: Kingma & Welling, Auto-Encoding Variational Bayes (2014)."
    )


main()
