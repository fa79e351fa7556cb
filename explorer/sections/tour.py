"""The guided tour: ten steps through what a VAE learns, each on the live model shown.

Each step sets the page up itself (the tab, the selected image, z, marks on the plane), says in
a few sentences what to look at, and three of them ask the learner to predict before they see:
where an image's code lands, which of two β has the larger KL, whether an image is unusual.
The step is in the link (`tour=k`), so a reload or a shared link resumes it. Any dataset and
kind of model: a step that cannot be shown on this one says why, and Next moves on.
"""

from __future__ import annotations

import random
from dataclasses import replace

import streamlit as st

from i18n import _, lazy, nouns
from training import is_cached
from training.cache import NotCached
from vae_core import CheckpointError

from .. import images, lenses, model_requests, state
from ..class_board import send_button
from ..latent_view import mark
from ..model_view import ModelView, Shown, load_settings
from ..server import dataset_of
from ..tabs import label_of
from ..tour_steps import (
    STEPS,
    UNUSUAL_SHARE,
    Step,
    nearest_classes,
    partner,
    pick_unusual,
    placement,
    target_row,
)

PICTURE_PX = 96


# ---------------------------------------------------------------- the page's state


def start(step: int = 1) -> None:
    """Open the tour on `step`; the step sets the page up on the run that follows."""
    ss = st.session_state
    ss.tour = int(step)
    ss.tour_set_up = False
    ss.tour_answer = None
    ss.clicked = None


def close() -> None:
    st.session_state.tour = None
    mark(None)


def set_up(step: Step, shown: Shown) -> None:
    """Put the page where the step looks: its tab, image, z and marks."""
    ss, view = st.session_state, shown.view
    ss.tab = _(label_of(step.tab))
    mark(None)
    row = target_row(view)
    label = state.chosen_class(view.conditional)
    if step.key == "decoder":
        _a, _b, mid = nearest_classes(view)
        state.move_to(*mid, view.window)
    elif step.key == "prior":
        samples = lenses.prior_samples(shown.model, view.model_id, 16, 0, state.page_theme(), label)
        # TRANSLATORS: the name of the marks on the latent plane.
        mark(lazy("16 prior samples"), samples["z"], view.model_id)
    elif step.key == "reparameterization":
        ss.selected_row = row
        draws = lenses.trick(shown, row, 0, state.page_theme())
        mark(lazy("draws from q(z|x) of #{row}", row=row), draws["z"], view.model_id)
    elif step.key in ("elbo", "posterior", "interpolate"):
        ss.selected_row = row
        state.move_to(*view.mu[row], view.window)
    elif step.key == "beta" and is_cached(*partner(ss.settings).configs()):
        ss.compare_with = partner(ss.settings)  # the Compare tab opens on the pair
    elif step.key == "unusual":
        scores = lenses.neg_elbo(shown)
        rng = random.Random()
        ss.tour_pick = pick_unusual(scores, rng.random() < 0.5, rng)


def open_button() -> None:
    """The header's way in: opens the tour on its first step (or closes it)."""
    ss = st.session_state
    if ss.get("tour"):
        st.button(_("✕ Close the tour"), key="tour_toggle", on_click=close)
    else:
        st.button(_("🎓 Guided tour"), key="tour_toggle", on_click=start, type="primary")


# ---------------------------------------------------------------- the panel


def section(shown: Shown) -> None:
    """The open step's panel, above the tabs; nothing while the tour is closed."""
    ss, view = st.session_state, shown.view
    if not ss.get("tour"):
        return
    number = min(max(int(ss.tour), 1), len(STEPS))
    step = STEPS[number - 1]
    if not ss.get("tour_set_up"):
        set_up(step, shown)
        ss.tour_set_up = True
    words = nouns(view.noun)
    # Outside the f-string, where the message extractor finds it.
    where = _("Step {k} of {n}").format(k=number, n=len(STEPS))
    with st.container(border=True, key="tour"):
        st.markdown(f"**{where} · {_(step.title).format(**words)}**")
        BODIES[step.key](shown)
        back, forward, _gap = st.columns([1, 1, 4])
        back.button(
            _("← Back"),
            key="tour_back",
            disabled=number == 1,
            on_click=start,
            args=(number - 1,),
            width="stretch",
        )
        if number < len(STEPS):
            forward.button(
                _("Next →"),
                key="tour_next",
                on_click=start,
                args=(number + 1,),
                type="primary",
                width="stretch",
            )
        else:
            forward.button(_("Finish"), key="tour_next", on_click=close, width="stretch")


def _picture(view: ModelView, row: int) -> None:
    image = images.themed(view.images[row] / 255.0, state.page_theme())
    st.image(
        images.png(image, scale=4),
        width=PICTURE_PX,
        alt=_("test image #{row}, {called}").format(
            row=row, called=images.called(view, view.labels[row])
        ),
    )


def _reveal_button(on_click, args=()) -> None:
    st.button(_("Reveal"), key="tour_reveal", on_click=on_click, args=args)


def _encoder(shown: Shown) -> None:
    view = shown.view
    ss = st.session_state
    row = target_row(view)
    words = nouns(view.noun)
    called = images.called(view, view.labels[row])
    text, picture = st.columns([5, 1])
    with picture:
        _picture(view, row)
    answer = ss.get("tour_answer")
    with text:
        st.markdown(
            _(
                "The encoder reads an image and gives a Gaussian q(z|x) on the plane: a centre "
                "μ, the image's code, and a spread σ. Every dot on the plane is the code of one "
                "test {noun}. **Where will this {called} (test image #{row}) land? Click your "
                "guess on the plane, then press Reveal.**"
            ).format(called=called, row=row, **words)
        )
        if answer is None:
            _reveal_button(_reveal_place, (view,))
        elif "error" in answer:
            st.warning(str(answer["error"]))
            _reveal_button(_reveal_place, (view,))
        else:
            _placed(view, row, answer)


def _reveal_place(view: ModelView) -> None:
    ss = st.session_state
    guess = ss.get("clicked")
    if guess is None:
        ss.tour_answer = {"error": lazy("Click your guess on the plane first.")}
        return
    row = target_row(view)
    found = placement(view, row, guess)
    ss.tour_answer = {"guess": tuple(guess), **found}
    ss.selected_row = row
    # TRANSLATORS: the name of the marks on the latent plane: the learner's guess, then the code.
    mark(lazy("your guess → the code"), [guess, found["truth"]], view.model_id, path=True)


def _placed(view: ModelView, row: int, answer: dict) -> None:
    (t1, t2), (s1, s2) = answer["truth"], answer["sigma"]
    st.success(
        _(
            "Its code is ({t1:.2f}, {t2:.2f}) with σ = ({s1:.2f}, {s2:.2f}): the rings on the "
            "plane. Your guess was {d:.2f} away, {k:.1f} times its σ."
        ).format(t1=t1, t2=t2, s1=s1, s2=s2, d=answer["distance"], k=answer["in_sigmas"])
    )
    cls = int(view.labels[row])
    if view.conditional:
        st.caption(
            _(
                "This model is a conditional VAE: it is given the class, so its codes do not "
                "gather by class, and z holds only the style. A guess by class cannot work here."
            )
        )
    else:
        c1, c2 = answer["centre"]
        st.caption(
            _(
                "The codes of {class_name} gather around ({c1:.2f}, {c2:.2f}), and your guess "
                "lies nearest the mean code of {guessed}. Nobody told the model the classes: "
                "similar images get nearby codes because the decoder must draw them alike."
            ).format(
                class_name=view.classes[cls],
                c1=c1,
                c2=c2,
                guessed=view.classes[answer["nearest_class"]],
            )
        )
    send_button(
        "tour",
        kind="prediction",
        z=answer["guess"],
        truth=answer["truth"],
        step=int(st.session_state.tour),
        model_id=view.model_id,
    )


def _decoder(shown: Shown) -> None:
    view = shown.view
    a, b, _mid = nearest_classes(view)
    st.markdown(
        _(
            "The decoder turns any point z into an image. Hover anywhere on the plane: the "
            "picture beside it is the decoder's image of that z, computed in your browser. The "
            "crosshair now sits halfway between the mean codes of {a} and {b}, the two classes "
            "whose codes lie closest: the decoder draws something between the two, since the "
            "plane has no gaps."
        ).format(a=view.classes[a], b=view.classes[b])
    )


def _prior(shown: Shown) -> None:
    view = shown.view
    st.markdown(
        _(
            "Training pulls every q(z|x) towards the prior p(z) = N(0, I), so z drawn from the "
            "prior lands where the codes are and decodes to a new {noun}, one that is in no data "
            "set: that is sampling. The Sample tab shows 16 such draws, and the plane marks "
            "their z. Do the marks fall among the dots, or in the gaps?"
        ).format(**nouns(view.noun))
    )


def _reparameterization(shown: Shown) -> None:
    view = shown.view
    st.markdown(
        _(
            "Training needs gradients through a random draw. The trick writes the draw as "
            "z = μ + σ·ε with ε ~ N(0, I): the randomness sits in ε, and z is a smooth function "
            "of μ and σ (Kingma & Welling 2014, §2.4). The Sample tab's right half shows draws "
            "for test image #{row}, and the plane marks their z around its code."
        ).format(row=target_row(view))
    )


def _elbo(shown: Shown) -> None:
    view = shown.view
    row = target_row(view)
    st.markdown(
        _(
            "The ELBO of one image has two terms: the reconstruction (how well the decoded "
            "draws of z match the image, in nats) and the KL (how far q(z|x) is from the "
            "prior). The panel beside the plane shows both for {called}, test image #{row}: "
            "their sum is its −ELBO, an upper bound on −log p(x). Click other dots and watch "
            "which term grows."
        ).format(called=images.called(view, view.labels[row]), row=row)
    )


def _beta(shown: Shown) -> None:
    view = shown.view
    ss = st.session_state
    settings, other = ss.settings, partner(ss.settings)
    try:
        _other_model, other_checkpoint = load_settings(other)
    except (NotCached, CheckpointError):
        other_checkpoint = None
    st.markdown(
        _(
            "β weighs the KL in training: the loss is reconstruction + β·KL, and β = 1 is the "
            "true ELBO. The Compare tab shows two models that differ only in β."
        )
    )
    if other_checkpoint is None:
        st.info(
            _(
                "This step needs the same model with β = {beta:g}, which is not in this "
                "server's cache yet. Train it, and the page shows it when it is ready; or press "
                "Next to go on without it."
            ).format(beta=other.beta)
        )
        st.button(
            _("Train the model with β = {beta:g}").format(beta=other.beta),
            key="tour_train_beta",
            on_click=model_requests.request,
            args=(other,),
        )
        return
    metrics = {
        settings.beta: shown.checkpoint["metrics"],
        other.beta: other_checkpoint["metrics"],
    }
    low, high = sorted(metrics)
    choice = st.radio(
        _("Which has the larger KL per {noun}?").format(**nouns(view.noun)),
        [low, high],
        format_func=lambda b: f"β = {b:g}",
        index=None,
        horizontal=True,
        key="tour_beta_choice",
    )
    if not _revealed(choice):
        return
    larger = max(metrics, key=lambda b: metrics[b]["test_kl"])
    st.success(
        _(
            "{verdict} The KL is {kl_low:.2f} nats per {noun} at β = {low:g} and {kl_high:.2f} "
            "at β = {high:g}; the reconstruction costs {rec_low:.1f} and {rec_high:.1f} nats."
        ).format(
            verdict=_("Right.") if ss.tour_answer["choice"] == larger else _("Not this time."),
            kl_low=metrics[low]["test_kl"],
            kl_high=metrics[high]["test_kl"],
            rec_low=metrics[low]["test_reconstruction"],
            rec_high=metrics[high]["test_reconstruction"],
            low=low,
            high=high,
            **nouns(view.noun),
        )
    )
    st.caption(
        _(
            "A larger β makes every nat of KL dearer, so the model spends fewer: its codes stay "
            "closer to the prior, and it pays for that with blurrier reconstructions."
        )
    )
    chosen = ss.tour_answer["choice"]
    send_button(
        "tour_beta",
        kind="choice",
        step=int(ss.tour),
        answer=f"β = {chosen:g}",
        right=chosen == larger,
        model_id=view.model_id,
    )


def _revealed(choice) -> bool:
    """The Reveal button of a choice, and whether the learner's answer is revealed."""
    ss = st.session_state
    answer = ss.get("tour_answer")
    if answer is not None and answer.get("choice") is not None:
        return True
    if answer is not None:
        st.warning(_("Choose an answer first."))
    _reveal_button(_reveal_choice, (choice,))
    return False


def _reveal_choice(choice) -> None:
    st.session_state.tour_answer = {"choice": choice}


def _posterior(shown: Shown) -> None:
    view = shown.view
    row = target_row(view)
    st.markdown(
        _(
            "The encoder's Gaussian q(z|x) is only a guess at the true posterior p(z|x). With a "
            "2-D latent the true one can be computed on a grid, and the Posterior tab shows both "
            "for test image #{row}. The gap between log p(x) and the ELBO is exactly "
            "KL(q(z|x) ‖ p(z|x)): how far the guess is from the truth."
        ).format(row=row)
    )


def _unusual(shown: Shown) -> None:
    view = shown.view
    ss = st.session_state
    row = int(ss.tour_pick)
    text, picture = st.columns([5, 1])
    with picture:
        _picture(view, row)
    with text:
        st.markdown(
            _(
                "The −ELBO is high for images unlike those the model trained on, so it flags "
                "unusual ones. **Is this test {noun} (#{row}) usual or unusual for the model?**"
            ).format(row=row, **nouns(view.noun))
        )
        choice = st.radio(
            _("Your answer"),
            ["usual", "unusual"],
            format_func=lambda c: _("usual") if c == "usual" else _("unusual"),
            index=None,
            horizontal=True,
            key="tour_unusual_choice",
            label_visibility="collapsed",
        )
        if not _revealed(choice):
            return
        scores = lenses.neg_elbo(shown)
        share = lenses.percentile(scores, float(scores[row]))
        truth = "unusual" if share >= UNUSUAL_SHARE else "usual"
        st.success(
            _(
                "{verdict} Its −ELBO is {value:.1f} nats, more than that of {share:.0f}% of the "
                "test {nouns}. The Outliers tab ranks them all; select an image there to see "
                "where it stands."
            ).format(
                verdict=_("Right.") if ss.tour_answer["choice"] == truth else _("Not this time."),
                value=float(scores[row]),
                share=share,
                **nouns(view.noun),
            )
        )
        send_button(
            "tour_unusual",
            kind="choice",
            step=int(ss.tour),
            answer=ss.tour_answer["choice"],
            right=ss.tour_answer["choice"] == truth,
            model_id=view.model_id,
        )


def _interpolate(shown: Shown) -> None:
    view = shown.view
    st.markdown(
        _(
            "A straight line from one code to another decodes to a morph between the two "
            "images. The Interpolate tab picks the two ends, marks the path on the plane and "
            "shows the {nouns} along it. Where the path crosses a gap between clusters the "
            "decoder has to invent; the KL term is what keeps such gaps few."
        ).format(**nouns(view.noun))
    )


def _conditional(shown: Shown) -> None:
    view = shown.view
    ss = st.session_state
    if view.conditional:
        st.markdown(
            _(
                "This model is a conditional VAE (Sohn et al. 2015): its encoder and decoder "
                "are also given the class. The chooser above the plane picks the class the "
                "decoder draws, and z holds only the style: slant, thickness, width. Hover "
                "across the plane to see one class in every style."
            )
        )
        return
    st.markdown(
        _(
            "A conditional VAE (Sohn et al. 2015) is also given each image's class, so z no "
            "longer has to say which class an image is and holds only its style. The model "
            "shown is a plain VAE, so this step cannot show one on it: switch to the "
            "conditional VAE of the same settings (trained first if the server has none), or "
            "finish the tour here."
        )
    )
    if not dataset_of(view.data).labelled:
        st.info(
            _(
                "These pictures have no classes (they were uploaded without class folders), so "
                "no conditional VAE can be trained on them: upload them in one folder per "
                "class to see one."
            ),
            icon="🏷️",
        )
        return
    other = replace(ss.settings, conditional=True)
    st.button(
        _("Show the conditional VAE"),
        key="tour_conditional",
        on_click=model_requests.request,
        args=(other,),
    )


BODIES = {
    "encoder": _encoder,
    "decoder": _decoder,
    "prior": _prior,
    "reparameterization": _reparameterization,
    "elbo": _elbo,
    "beta": _beta,
    "posterior": _posterior,
    "unusual": _unusual,
    "interpolate": _interpolate,
    "conditional": _conditional,
}
