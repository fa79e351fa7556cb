"""The sidebar: which model the page shows, training new ones, and their test metrics."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from i18n import N_, _, label_of, ngettext
from training.cache import shipped_path
from training.recipes import RECIPES

from .. import figures, language, model_requests, state
from ..model_requests import shown_settings
from ..model_view import RECIPE_NAMES, ModelSettings, Shown
from ..server import (
    data_problems,
    dataset_of,
    datasets,
    default_data,
    holds,
    limits,
    training_queue,
)
from ..words import duration


def _on_submit() -> None:
    model_requests.request(state.form_settings())


def expected_wait(name: str, labelled: int = 0) -> float:
    """Seconds a training of this recipe's suggested settings takes on this server once it
    starts, from the step rates measured here (training.queue); with `labelled`, that of a
    semi-supervised VAE (M2) of as many labels, on ten classes."""
    recipe = RECIPES[name]
    semi = {"conditional": True, "semi_supervised": True, "labelled": labelled} if labelled else {}
    return training_queue().expected_seconds(
        recipe.model_config(recipe.width, **semi), recipe.train_config(recipe.epochs, 0)
    )


def _recipe_choice() -> None:
    """The recipe, above the form (a form's widgets cannot change each other), with each
    recipe's expected wait on this server."""
    ss = st.session_state
    names = list(RECIPES)
    chosen = st.radio(
        _("Recipe"),
        names,
        format_func=label_of(names, lambda name: _(RECIPE_NAMES[name]).capitalize()),
        key="recipe",
        horizontal=True,
        help=_(
            "How a model is trained. Quick: two hidden layers, 25 epochs of width 256, to "
            "explore a new setting in a minute or two. Full: three hidden layers, 100 epochs of "
            "width 512, the shipped model's quality. Models are compared with models of the "
            "same recipe."
        ),
    )
    # A recipe picked: the form, drawn below, takes the width and the length it suggests. Not
    # an on_change: a switch of language relabels the options, and Streamlit's callback then
    # sees the old label rather than the value.
    if ss.get("recipe_drawn") not in (None, chosen):
        ss.width, ss.epochs = RECIPES[chosen].width, RECIPES[chosen].epochs
    ss.recipe_drawn = chosen
    waits = " · ".join(
        _("{recipe}: about {wait}").format(
            recipe=_(RECIPE_NAMES[name]).capitalize(), wait=duration(expected_wait(name))
        )
        for name in names
    )
    st.caption(
        _("A new model's training on this server, at each recipe's settings: {waits}.").format(
            waits=waits
        )
        + " "
        + _(
            "A semi-supervised VAE (M2) reads every image once for each class: about {wait} at "
            "the {recipe} recipe."
        ).format(
            wait=duration(expected_wait(chosen, state.LABELLED[0])),
            recipe=_(RECIPE_NAMES[chosen]),
        )
    )


# Each kind of model (explorer.state.KINDS) on the page.
KIND_NAMES = {
    "plain": N_("Plain"),
    "conditional": N_("Conditional"),
    "semi": N_("Semi-supervised (M2)"),
}


def _delta(now: float, before: dict | None, field: str) -> str | None:
    return None if before is None else f"{now - before[field]:+.2f}"


def trained_where(checkpoint: dict, shipped: bool = False) -> str:
    """Where, how and how fast the model was trained, in words, from its checkpoint."""
    m = checkpoint["metrics"]
    epochs = len(m["history"])
    snapshot = checkpoint["extra"].get("snapshot")
    if snapshot is not None:
        return _(
            "Training now: epoch {epoch} of {epochs}, {seconds:.0f} s so far; test −ELBO of "
            "one draw of z."
        ).format(epoch=snapshot["epoch"], epochs=snapshot["epochs"], seconds=m["train_seconds"])
    fields = {"epochs": epochs, "seconds": m["train_seconds"], "rate": m["train_seconds"] / epochs}
    if "device" not in m:  # trained before checkpoints recorded where
        if shipped:
            return _(
                "The shipped model: trained ahead of time, {epochs} epochs in {seconds:.0f} s "
                "({rate:.1f} s an epoch); nothing was trained for this page."
            ).format(**fields)
        return _("Trained: {epochs} epochs in {seconds:.0f} s ({rate:.1f} s an epoch).").format(
            **fields
        )
    if m["device"] == "cuda":
        kind = _("GPU")
    else:
        kind = ngettext("CPU of {cores} core", "CPU of {cores} cores", m["cores"]).format(
            cores=m["cores"]
        )
    fields.update(kind=kind, device=m["device_name"], precision=m["precision"])
    if shipped:
        return _(
            "The shipped model: trained ahead of time on a {kind} ({device}, {precision}), "
            "{epochs} epochs in {seconds:.0f} s ({rate:.1f} s an epoch); nothing was trained "
            "for this page."
        ).format(**fields)
    return _(
        "Trained on a {kind} ({device}, {precision}): {epochs} epochs in {seconds:.0f} s "
        "({rate:.1f} s an epoch)."
    ).format(**fields)


def _model_form() -> None:
    """The model's settings and "Load or train"; a lesson link may hide the data, or the whole
    form (a new setting trains a model)."""
    ss = st.session_state
    if ss.get("own_switch"):  # an upload just kept: the choice of data moves to it
        ss.data = ss.pop("own_switch")
    _recipe_choice()
    with st.form("model_settings", border=False):
        offered = {d.key: d.name for d in datasets()}
        offered |= {key: "📤 " + dataset_of(key).name for key in ss.own if holds(key)}
        if "data" not in ss.hide and ss.get("data") not in offered:  # an upload deleted since
            ss.data = default_data()
        if "data" not in ss.hide:
            st.selectbox(
                _("Data"),
                list(offered),
                format_func=offered.__getitem__,
                key="data",
                help=_(
                    "The bundled MNIST, a directory of MNIST-format files named by whoever "
                    "runs the server, or your own images (📤, below). Each dataset has models "
                    "of its own."
                ),
            )
        st.selectbox(
            _("Kind of VAE"),
            state.KINDS,
            format_func=label_of(state.KINDS, lambda kind: _(KIND_NAMES[kind])),
            key="kind",
            help=_(
                "Plain: the VAE of Kingma & Welling (2014), no labels. Conditional (Sohn et "
                "al. 2015): the encoder and the decoder are also given the class, so the "
                "latent plane holds the style and you choose the class to draw. "
                "Semi-supervised (M2, Kingma et al. 2014): the class is a hidden variable "
                "beside z, learnt from a few labelled images and all the others unlabelled; "
                "it also classifies."
            ),
        )
        st.selectbox(
            _("Labelled images (semi-supervised)"),
            state.LABELLED,
            format_func=lambda n: f"{n:,}",
            key="labelled",
            help=_(
                "How many training images a semi-supervised VAE keeps the labels of, the same "
                "number of each class; the others it sees unlabelled. Read only by that kind."
            ),
        )
        st.select_slider(
            _("β (KL weight)"), state.BETAS, key="beta", help=_("1 trains the true ELBO.")
        )
        st.selectbox(
            _("Hidden width"),
            state.WIDTHS,
            key="width",
            help=_("Every hidden layer, encoder and decoder; the recipe says how many."),
        )
        st.number_input(
            _("Epochs"),
            min_value=1,
            max_value=state.MAX_EPOCHS,
            step=1,
            key="epochs",
            help=_("This server trains new models for up to {epochs} epochs.").format(
                epochs=limits().max_epochs
            ),
        )
        st.number_input(_("Seed"), min_value=0, max_value=state.MAX_SEED, step=1, key="seed")
        st.form_submit_button(
            _("Load or train"), on_click=_on_submit, type="primary", width="stretch"
        )


def panel(shown: Shown) -> None:
    """The sidebar, as far as the model goes: the language, the model's settings and "Load or
    train", the requests in line, what is shown and how it scores, the lesson link."""
    ss, checkpoint = st.session_state, shown.checkpoint
    m = checkpoint["metrics"]
    snapshot = checkpoint["extra"].get("snapshot")
    with st.sidebar:
        language.switch()
        st.header(_("Model"))
        if "training" not in ss.hide:
            _model_form()
        for problem in data_problems():
            st.error(str(problem), icon="📁")
        if ss.request_error:
            st.error(str(ss.request_error), icon="🚫")
        if ss.requests:
            progress()
        s = shown_settings()
        if snapshot is not None:
            showing = _("Showing: 2-D latent, {model} (still training).")
        else:
            showing = _("Showing: 2-D latent, {model}.")
        st.caption(showing.format(model=s.describe()))
        before = ss.previous_metrics if snapshot is None else None
        a, b = st.columns(2)
        a.metric(
            _("test −ELBO"),
            f"{m['test_neg_elbo']:.1f}",
            delta=_delta(m["test_neg_elbo"], before, "test_neg_elbo"),
            delta_color="inverse",
            help=ngettext(
                "nats per test image, mean of {n} draw of z; lower is better",
                "nats per test image, mean of {n} draws of z; lower is better",
                m["eval_samples"],
            ).format(n=m["eval_samples"]),
        )
        b.metric(
            "KL",
            f"{m['test_kl']:.2f}",
            delta=_delta(m["test_kl"], before, "test_kl"),
            delta_color="off",
        )
        shipped = snapshot is None and shipped_path(s.key) is not None
        reconstruction = _("Reconstruction {nats:.1f} nats.").format(nats=m["test_reconstruction"])
        # TRANSLATORS: two sentences side by side (a language without spaces joins them so).
        st.caption(
            _("{reconstruction} {trained}").format(
                reconstruction=reconstruction, trained=trained_where(checkpoint, shipped)
            )
        )
        if before is not None:
            st.caption(
                _(
                    "Changes against the previous model ({model}): test −ELBO {neg_elbo:.1f}, "
                    "KL {kl:.2f}."
                ).format(
                    model=before["settings"].describe(),
                    neg_elbo=before["test_neg_elbo"],
                    kl=before["test_kl"],
                )
            )
        lesson_link()


def lesson_link() -> None:
    """A teacher's link to this view as an exercise: the view (the tour's step with it), the
    open tab, the colouring, and the controls the teacher hides from the students who open
    it."""
    ss = st.session_state
    with st.popover(_("🔗 Copy a lesson link"), width="stretch"):
        hide = st.multiselect(
            _("Hide from the students"),
            list(state.HIDEABLE),
            format_func=label_of(state.HIDEABLE, lambda name: _(state.HIDEABLE[name])),
            key="lesson_hide",
            placeholder=_("Nothing hidden"),  # else Streamlit's own English
        )
        link = state.lesson_link(state.view_link(), language.tab_index(), ss.colour_by, hide)
        st.code(f"{st.context.url or ''}?{urlencode(link)}", language=None, wrap_lines=True)
        st.caption(
            _(
                "Students who open it land on this tab, at this point, with these controls "
                "hidden. It is a convenience, not a permission: what any page may train is "
                "bounded by the server's limits."
            )
        )


# English ordinals' suffixes, each a message: other languages write all of them alike.
ORDINALS = {"st": N_("{n}st"), "nd": N_("{n}nd"), "rd": N_("{n}rd"), "th": N_("{n}th")}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return _(ORDINALS[suffix]).format(n=n)


@st.fragment(run_every=1.0)
def progress() -> None:
    """Each model this session asked for: in line, training, failed; the page switches when
    one is ready."""
    queue = training_queue()
    for settings, job in model_requests.poll():
        with st.container(border=True, key=f"request_{job.key}"):
            _request_status(settings, job, queue.place(job.key), queue.estimate(job.key))


def _request_status(settings: ModelSettings, job, place: int | None, estimate) -> None:
    ss = st.session_state
    name = settings.describe()
    if job.error:
        st.error(
            _(
                "Training {model} failed: {problem}. The page still shows the previous model."
            ).format(model=name, problem=job.error)
        )
        if st.button(_("Dismiss"), key=f"dismiss_{job.key}"):
            model_requests.leave(settings)
            st.rerun()
        return
    if place is not None:
        start, finish = estimate if estimate is not None else (None, None)
        st.markdown(
            _("**Waiting: {place} in line** for {model}.").format(place=_ordinal(place), model=name)
        )
        at_once = limits().max_trainings
        st.caption(
            ngettext(
                "Starts in about {start} · ready in about {finish}. This server trains one "
                "model at a time.",
                "Starts in about {start} · ready in about {finish}. This server trains {n} "
                "models at a time.",
                at_once,
            ).format(start=duration(start), finish=duration(finish), n=at_once)
        )
    else:
        history = job.history
        label = _("Training {model}: epoch {epoch} of {epochs}").format(
            model=name, epoch=min(len(history) + 1, settings.epochs), epochs=settings.epochs
        )
        st.progress(job.progress(), text=label)
        text = _("{done:.0%} · elapsed {elapsed} · left {left}").format(
            done=job.progress(), elapsed=duration(job.elapsed()), left=duration(job.eta())
        )
        if history:
            text += _(" · test −ELBO {nats:.1f} nats").format(nats=history[-1].test_neg_elbo)
        st.caption(text)
        if job.key in ss.preview_off:
            if st.button(
                _("Explore it while it trains"),
                key=f"preview_{job.key}",
                help=_(
                    "Show this model's latest weights on the whole page, refreshed as epochs "
                    "end, until the finished model takes their place."
                ),
            ):
                model_requests.resume(job.key)
                st.rerun()
        elif not history:
            st.caption(_("The page shows this model from the end of its first epoch."))
        curves = figures.sparkline_svg(
            {
                _("test −ELBO"): [h.test_neg_elbo for h in history],
                _("train objective"): [h.train_loss for h in history],
            }
        )
        if curves:
            st.html(curves)
    if st.button(
        _("Cancel"),
        key=f"cancel_{job.key}",
        help=_("Withdraw this request; other pages asking for the same model keep theirs."),
    ):
        model_requests.leave(settings)
        st.rerun()
    if len(ss.requests) == 1:
        st.caption(_("Keep exploring the current model; the page switches when training is done."))
