"""The Training tab: the training replay (the latent plane and a small manifold after every
epoch, on a slider), then the per-epoch curves.

The frames come from the shown model's checkpoint (vae_core.replay), or, for a model this
session is training, from its worker as each epoch ends, growing live. The test set's codes are
drawn into a PNG here, once per model, epoch, window and theme: a plotly figure of 10k points
would cost ~150 ms of server CPU on every step of the slider.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from i18n import _, nouns
from training.cache import cached_path
from vae_core import Replay, replay_of
from vae_core.replay import REPLAY_CLASS

from .. import images, payload
from ..figures import loss_curves
from ..model_requests import shown_settings, training_now
from ..model_view import ModelSettings, ModelView, Shown, plane_window, test_set
from ..server import dataset_of, training_queue
from ..state import page_theme

SCATTER_PX = 520
MANIFOLD_SCALE = 2  # the 8×8 manifold at 448 px, beside the plane
GIF_PX = 360  # the plane in the animation, beside the manifold at 224 px
LIVE_EVERY = 2.0  # seconds between two looks at a training's new frames
REPO = Path(__file__).resolve().parent.parent
PLAY_MS, HOLD_MS = 150, 1500  # the animation's frames, and its last one before it loops


@dataclass(frozen=True)
class Replayed:
    """What a replay's pictures and words need of the model replayed, besides its frames."""

    labels: np.ndarray  # (N,) the test labels, in the frames' order of codes
    classes: tuple[str, ...]  # each label's name
    noun: str  # "digit" or "image"
    conditional: bool  # its manifold is then class REPLAY_CLASS's
    palette: str  # the page's class colours (explorer.payload.PALETTES), as the plane's

    @property
    def colours(self) -> np.ndarray:
        """(classes, 3) uint8: the latent view's colour of each class."""
        hexes = payload.palette_colours(self.palette, len(self.classes))
        return np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in hexes], np.uint8)


def _shown(view: ModelView) -> Replayed:
    return Replayed(
        view.labels, view.classes, view.noun, view.conditional, st.session_state.palette
    )


def _training(settings: ModelSettings) -> Replayed:
    """A model being trained may be of other data than the one shown."""
    dataset = dataset_of(settings.data)
    labels = test_set(settings.data)[1]
    palette = st.session_state.palette
    return Replayed(labels, dataset.classes, dataset.noun, settings.conditional, palette)


@st.cache_data(show_spinner=False, max_entries=32)
def window(_codes: np.ndarray, name: str, frames: int) -> tuple[float, float]:
    """One square window for every frame, so the motion across epochs is seen on fixed axes."""
    return plane_window(_codes.reshape(-1, 2).astype(np.float32))


def _draw_order(count: int) -> np.ndarray:
    """The latent view's order of drawing, so that no class hides another here either."""
    return np.random.default_rng(payload.DRAW_ORDER_SEED).permutation(count)


def _scatter(
    codes: np.ndarray, replayed: Replayed, bounds, theme: str, size: int = SCATTER_PX
) -> np.ndarray:
    order = _draw_order(len(codes))
    colours = replayed.colours[replayed.labels[order]]
    return images.scatter(codes[order], colours, bounds, size, theme)


def _manifold(pixels: np.ndarray, theme: str) -> np.ndarray:
    return images.themed(pixels / 255.0, theme)


@st.cache_data(show_spinner=False, max_entries=256)
def frame_pictures(
    _codes: np.ndarray,
    _manifold_pixels: np.ndarray,
    _replayed: Replayed,
    name: str,
    epoch: int,
    bounds: tuple[float, float],
    theme: str,
    palette: str,
) -> tuple[bytes, bytes]:
    """(the plane, the manifold) of one epoch as PNGs."""
    return (
        images.png(_scatter(_codes, _replayed, bounds, theme)),
        images.png(_manifold(_manifold_pixels, theme), scale=MANIFOLD_SCALE),
    )


@st.cache_data(show_spinner=False, max_entries=8)  # its spinner is the caller's
def animation(
    _replay: Replay, _replayed: Replayed, name: str, frames: int, bounds, theme: str, palette: str
) -> bytes:
    """Every epoch's plane beside its manifold, as one looping GIF (smaller than the stills:
    60 frames at their size would make ~5 MB)."""
    side = GIF_PX
    pictures = []
    for codes, pixels in zip(_replay.codes, _replay.manifold, strict=True):
        manifold = _manifold(pixels, theme)
        strip = np.full((side, side + 8 + manifold.shape[1], 3), images.PAPER[theme], np.uint8)
        strip[:, :side] = _scatter(codes, _replayed, bounds, theme, side)
        top = (side - manifold.shape[0]) // 2
        strip[top : top + manifold.shape[0], side + 8 :] = manifold
        pictures.append(strip)
    return images.animation(pictures, [PLAY_MS] * (len(pictures) - 1) + [HOLD_MS])


def section(shown: Shown) -> None:
    """The Training tab: the replay of the shown model's epochs (or of one training now), then
    its per-epoch curves."""
    checkpoint = shown.checkpoint
    _replay(checkpoint, shown.view)
    st.subheader(_("Training curves of this model"))
    st.plotly_chart(loss_curves(checkpoint["metrics"]["history"]), key="model_curves")


def _replay(checkpoint: dict, view: ModelView) -> None:
    ss = st.session_state
    st.subheader(_("Training replay"))
    if checkpoint["extra"].get("snapshot") is not None:  # the page shows a training: so far
        _live(checkpoint["extra"]["cache_key"], _training(shown_settings()))
        return
    live = training_now()
    if live is not None:
        settings, job = live
        shown = {
            "shown": _("the model shown"),
            "training": _("the model training now ({model})").format(model=settings.describe()),
        }
        source = st.radio(
            _("Replay of"),
            ["shown", "training"],
            horizontal=True,
            key="replay_source",
            format_func=shown.get,
        )
        if source == "training":
            _live(job.key, _training(settings))
            return
    replay = replay_of(checkpoint)
    if replay is None:
        st.info(_no_replay(ss.settings), icon="🎞️")
        return
    history = checkpoint["metrics"]["history"]
    _stored(replay, history, _shown(view), ss.settings.key)


def _no_replay(settings: ModelSettings) -> str:
    model_config, train_config, data_dir = settings.configs()
    path = cached_path(model_config, train_config, data_dir)
    if path.is_relative_to(REPO):
        path = path.relative_to(REPO)  # the shipped model: run from the repository
    options = " --conditional" if settings.conditional else ""
    if data_dir is not None:
        options += f" --data-dir {data_dir}"
    command = (
        f"python -m training --hidden {' '.join(map(str, settings.hidden))} --beta "
        f"{settings.beta:g}{options} --epochs {settings.epochs} --seed {settings.seed} "
        f"--output {path}"
    )
    return _(
        "This model was trained before training replays were recorded, so it has none: its "
        "checkpoint keeps the final weights and the curves below, not the epochs on the way. "
        "Every model trained from now on records one. Whoever runs the server can train this "
        "one again, with its replay: `{command}`."
    ).format(command=command)


@st.fragment
def _stored(replay: Replay, history: list[dict], replayed: Replayed, name: str) -> None:
    _player(replay, history, replayed, name, "replay_epoch", follow=False)


@st.fragment(run_every=LIVE_EVERY)
def _live(key: str, replayed: Replayed) -> None:
    job = training_queue().job(key)
    frames = [] if job is None else job.replay_frames
    if not frames:
        st.caption(_("The first frame comes as the first epoch ends."))
        return
    replay = _live_replay(key, len(frames), frames)
    history = [r.to_dict() for r in job.history]
    _player(replay, history, replayed, key, "replay_live_epoch", follow=True)


@st.cache_resource(show_spinner=False, max_entries=4)
def _live_replay(key: str, count: int, _frames) -> Replay:
    """The frames so far as one replay, stacked once per new frame."""
    return Replay.from_frames(_frames)


def _player(
    replay: Replay, history: list[dict], replayed: Replayed, name: str, key: str, follow: bool
) -> None:
    """The slider over epochs, and the chosen epoch's plane, manifold and test metrics.

    `follow`: a slider left at the latest epoch moves on to each new one (a live replay).
    """
    ss = st.session_state
    count = len(replay)
    first, last = int(replay.epochs[0]), int(replay.epochs[-1])
    seen = f"{key}_latest"
    # Set before the slider each run: a new epoch changes its range, which makes it a new
    # widget that would otherwise start over at its default.
    epoch = ss.get(key)
    if epoch is None:
        epoch = last if follow else first
    elif epoch > last or (follow and epoch == ss.get(seen)):
        epoch = last  # beyond this model's epochs, or following the training
    ss[seen] = last
    stored = [int(e) for e in replay.epochs]
    if count > 1 and stored == list(range(first, last + 1)):
        ss[key] = epoch
        epoch = st.slider(_("Epoch"), first, last, key=key)
    elif count > 1:
        # A shipped model keeps some epochs only (training.pack): the slider steps over those.
        ss[key] = stored[min(int(np.searchsorted(replay.epochs, epoch)), count - 1)]
        epoch = st.select_slider(_("Epoch"), stored, key=key)
    else:
        epoch = last
    i = stored.index(epoch)
    bounds = window(replay.codes, name, count)
    theme = page_theme()
    plane_png, manifold_png = frame_pictures(
        replay.codes[i], replay.manifold[i], replayed, name, epoch, bounds, theme, replayed.palette
    )
    plane, side = st.columns([SCATTER_PX, 460], gap="medium")
    with plane, st.container(key="replay_plane"):
        st.image(
            plane_png,
            width=SCATTER_PX,
            alt=_("the test {nouns}' codes after epoch {epoch}").format(
                epoch=epoch, **nouns(replayed.noun)
            ),
        )
        if replayed.conditional:
            caption = _(
                "The {count} test {nouns} at their encoded means after epoch {epoch}, on the same "
                "axes for every epoch; the circles are the prior's 1σ and 2σ. With a large β the "
                "KL term pulls every code towards the centre: the classes overlap as the plane "
                "collapses towards the prior. A conditional model is given each class, so its "
                "codes need not separate the classes at all."
            )
        else:
            caption = _(
                "The {count} test {nouns} at their encoded means after epoch {epoch}, on the same "
                "axes for every epoch; the circles are the prior's 1σ and 2σ. With a large β the "
                "KL term pulls every code towards the centre: the classes overlap as the plane "
                "collapses towards the prior."
            )
        st.caption(
            caption.format(count=f"{len(replayed.labels):,}", epoch=epoch, **nouns(replayed.noun))
        )
        st.html(_legend(replayed.classes, replayed.palette))
    with side:
        with st.container(key="replay_manifold"):
            st.image(
                manifold_png,
                width=28 * len(replay.axis) * MANIFOLD_SCALE,
                alt=_("the decoder's {nouns} over a grid of z after epoch {epoch}").format(
                    epoch=epoch, **nouns(replayed.noun)
                ),
            )
        lo, hi = float(replay.axis[0]), float(replay.axis[-1])
        if replayed.conditional:
            caption = _(
                "The decoder at the same {n}×{n} points z every epoch, drawing class {name}, from "
                "{lo:.2f} to {hi:.2f} on each axis (the prior's quantiles)."
            )
        else:
            caption = _(
                "The decoder at the same {n}×{n} points z every epoch, from {lo:.2f} to {hi:.2f} "
                "on each axis (the prior's quantiles)."
            )
        drawn = replayed.classes[REPLAY_CLASS] if replayed.conditional else ""
        st.caption(caption.format(n=len(replay.axis), name=drawn, lo=lo, hi=hi))
        _metrics(history, epoch)
        # Nothing moves until asked, and the same switch stops it (WCAG 2.2.2).
        if count > 1 and st.toggle(
            _("Play every epoch"),
            key=f"{key}_play",
            help=_("A looping animation of every epoch; switch it off to stop it."),
        ):
            with st.spinner(_("Drawing every epoch…")):
                gif = animation(replay, replayed, name, count, bounds, theme, replayed.palette)
            st.image(
                gif,
                width=420,
                alt=_(
                    "animation: the codes and the decoder's grid after each of the {count} epochs"
                ).format(count=count),
            )
            st.download_button(
                _("Download the replay (GIF)"),
                gif,
                file_name="replay.gif",
                mime="image/gif",
                key=f"{key}_gif",
                on_click="ignore",
            )


def _metrics(history: list[dict], epoch: int) -> None:
    by_epoch = {int(h["epoch"]): h for h in history}
    now, before = by_epoch.get(epoch), by_epoch.get(epoch - 1)
    if now is None:
        return

    def delta(field: str) -> str | None:
        return None if before is None else f"{now[field] - before[field]:+.2f}"

    a, b, c = st.columns(3)
    a.metric(
        _("test −ELBO"),
        f"{now['test_neg_elbo']:.1f}",
        delta=delta("test_neg_elbo"),
        delta_color="inverse",
        help=_("nats per test image after this epoch, one draw of z; lower is better"),
    )
    b.metric(_("KL"), f"{now['test_kl']:.2f}", delta=delta("test_kl"), delta_color="off")
    c.metric(
        _("reconstruction"),
        f"{now['test_reconstruction']:.1f}",
        delta=delta("test_reconstruction"),
        delta_color="inverse",
    )


def _legend(classes: tuple[str, ...], palette: str) -> str:
    chips = "".join(
        f"<span style='margin-right:0.7em'><span style='color:{c}'>●</span> "
        f"{html.escape(name)}</span>"
        for name, c in zip(classes, payload.palette_colours(palette, len(classes)), strict=True)
    )
    return f"<div style='font-size:0.85rem'>{chips}</div>"
