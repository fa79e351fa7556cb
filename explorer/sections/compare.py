"""Two models side by side: their planes, metrics and manifolds, and one z decoded by both.

A teacher compares settings (β = 1 beside β = 4, a plain VAE beside a conditional one): the
shown model against any other model of the same dataset and the same recipe (like for like)
that ships with the repository or is in the server's cache. Both planes are
the latent view's component, in one sync group: the z one of them previews or commits, the
other decodes at once, in the browser, each with its own decoder (a conditional one drawing
the class chosen on the page).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import streamlit as st

from i18n import _, label_of, nouns
from training import TrainConfig, default_cache_dir
from training.cache import ENTRY, NotCached
from training.recipes import recipe_of
from vae_core import CheckpointError, VAEConfig, load_checkpoint
from vae_core.checkpoint import PACK_DIR

from .. import latent_view, state
from ..lenses import manifold_pictures
from ..model_requests import shown_settings
from ..model_view import (
    RECIPE_NAMES,
    ModelSettings,
    ModelView,
    Shown,
    load_settings,
    model_view,
)
from ..server import dataset_of

SYNC = "compare"
MANIFOLD_N = 12


def settings_of(checkpoint: dict, data: str = "mnist") -> ModelSettings | None:
    """The sidebar's settings that name this checkpoint's model, if the sidebar can name it as
    a model of dataset `data`: they must also give the cache key it was stored under, which
    holds the data's fingerprint."""
    config = VAEConfig.from_dict(checkpoint["config"])
    train = TrainConfig(**checkpoint["extra"]["train_config"])
    recipe = recipe_of(config, train)
    if config.latent_dim != 2 or recipe is None:
        return None
    settings = ModelSettings(
        config.beta,
        config.hidden[0],
        train.epochs,
        train.seed,
        data,
        config.conditional,
        recipe.name,
        config.labelled if config.semi_supervised else 0,
    )
    if settings.key != checkpoint["extra"].get("cache_key"):
        return None
    return settings


@lru_cache(maxsize=256)
def _settings_in(path: Path, mtime: float, data: str) -> ModelSettings | None:
    """`mtime` keys the memo: each entry is read once per server and dataset, again if
    rewritten."""
    try:
        return settings_of(load_checkpoint(path)[1], data)
    except (CheckpointError, OSError, KeyError, TypeError, ValueError):
        return None


def cached_settings(cache_dir: Path, data: str = "mnist") -> list[ModelSettings]:
    """The settings of every model of dataset `data` that the sidebar can name: in the cache,
    in the lesson pack, and the shipped default's if it is of that dataset."""
    found = {state.DEFAULT_SETTINGS} if state.DEFAULT_SETTINGS.data == data else set()
    for directory in (PACK_DIR, cache_dir):
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            if ENTRY.fullmatch(path.name) and path.suffix == ".pt":
                try:
                    settings = _settings_in(path, path.stat().st_mtime, data)
                except OSError:  # pruned meanwhile
                    continue
                if settings is not None:
                    found.add(settings)
    return sorted(
        found,
        key=lambda s: (s.recipe, s.conditional, s.labelled, s.beta, s.width, s.epochs, s.seed),
    )


def describe(s: ModelSettings) -> str:
    if s.labelled:
        text = _(
            "β = {beta:g}, width {width}, {epochs} epochs, seed {seed}, semi-supervised "
            "(M2, {labelled} labels)"
        )
    elif s.conditional:
        text = _("β = {beta:g}, width {width}, {epochs} epochs, seed {seed}, conditional")
    else:
        text = _("β = {beta:g}, width {width}, {epochs} epochs, seed {seed}")
    return text.format(
        beta=s.beta, width=s.width, epochs=s.epochs, seed=s.seed, labelled=f"{s.labelled:,}"
    )


def _metrics(checkpoint: dict, noun: str) -> None:
    m = checkpoint["metrics"]
    per = _("nats per test {noun}").format(**nouns(noun))
    a, b, c = st.columns(3)
    a.metric(_("test −ELBO"), f"{m['test_neg_elbo']:.1f}", help=per)
    b.metric(_("reconstruction"), f"{m['test_reconstruction']:.1f}", help=per)
    c.metric(_("KL"), f"{m['test_kl']:.2f}", help=per)


def section(shown: Shown) -> None:
    ss, view = st.session_state, shown.view
    st.subheader(_("Two models side by side"))
    dataset = dataset_of(view.data)
    settings = shown_settings()  # a model still training is compared as it stands
    recipe = _(RECIPE_NAMES[settings.recipe])
    others = [
        s
        for s in cached_settings(default_cache_dir(), view.data)
        if s != settings and s.recipe == settings.recipe
    ]
    if not others:
        st.info(
            _(
                "No other model of {dataset} trained by the {recipe} recipe is on this server "
                "yet. Train one from the sidebar (for instance β = 4, or a conditional VAE, "
                "beside the shown one), then come back to compare them."
            ).format(dataset=dataset.name, recipe=recipe)
        )
        return
    other = st.selectbox(
        _("Compare the shown model with"),
        others,
        format_func=label_of(others, describe),
        key="compare_with",
        help=_(
            "Any model of {dataset} on this server trained by the same recipe as the shown one "
            "({recipe}), so that only the settings you see differ. One z is decoded by both as "
            "it moves."
        ).format(dataset=dataset.name, recipe=recipe),
    )
    try:
        other_model, other_checkpoint = load_settings(other)
    except (NotCached, CheckpointError) as exc:
        st.warning(
            _("That model cannot be loaded any more ({error}); pick another.").format(error=exc)
        )
        return
    other_view = model_view(other_model, other.key, other.data)
    latent_view.component()(key="compare_data", data=other_view.payload, height=0)
    st.caption(
        _(
            "Hover either plane: the same z is decoded by both models, each from its own weights. "
            "A click sets the page's latent point; the planes keep their own scales."
        )
    )
    if view.conditional != other_view.conditional:
        k = len(view.classes)
        st.caption(
            _(
                "A conditional model is given the class, so it draws the class chosen on the page "
                "and its figures bound −log p(x|y), not −log p(x): knowing the class is worth at "
                "most log {k} = {nats:.1f} nats per {noun} (classes equally common), so a larger "
                "gap comes from the models themselves."
            ).format(k=k, nats=np.log(k), **nouns(view.noun))
        )
    _planes(view, other_view)
    theme = state.page_theme()
    for column, (m, v, c, name) in zip(
        st.columns(2, gap="medium"),
        [
            (shown.model, view, shown.checkpoint, describe(settings)),
            (other_model, other_view, other_checkpoint, describe(other)),
        ],
        strict=True,
    ):
        cls = ss.cls if v.conditional else None
        with column:
            st.markdown(f"**{name}**")
            _metrics(c, v.noun)
            _grid, picture = manifold_pictures(
                m, v.model_id, MANIFOLD_N, "normal", 3.0, None, theme, cls
            )
            if cls is None:
                caption = _("{n}×{n} manifold").format(n=MANIFOLD_N)
            else:
                caption = _("{n}×{n} manifold, class {name}").format(
                    n=MANIFOLD_N, name=v.classes[cls]
                )
            st.image(
                picture,
                caption=caption,
                width=360,
                alt=_("{name}: its decoder's {nouns} over a grid of z").format(
                    name=name, **nouns(v.noun)
                ),
            )


@st.fragment
def _planes(view: ModelView, other_view: ModelView) -> None:
    """A commit from either plane reruns these two alone."""
    ss = st.session_state
    for column, (v, key) in zip(
        st.columns(2, gap="medium"), [(view, "compare_a"), (other_view, "compare_b")], strict=True
    ):
        data = latent_view.view_data(
            v, (ss.z1, ss.z2), ss.z_rev, ss.selected_row, sync=SYNC, cls=ss.cls, palette=ss.palette
        )
        with column:
            latent_view.component()(
                key=key,
                data=json.dumps(data).encode(),
                on_commit_change=lambda v=v, key=key: latent_view.on_commit(v, key),
                on_select_change=lambda v=v, key=key: latent_view.on_select(v, key),
            )
    if ss.pop("rerun_page", False):
        st.rerun()
