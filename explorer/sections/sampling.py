"""The sampling lens: new images from the prior, and the reparameterization trick.

Both mark their z on the latent plane (the session's overlay), so the learner sees where
generated images come from: prior draws scatter over the whole plane where p(z) has mass,
draws from q(z|x) stay inside the selected image's ellipses. A conditional VAE (Sohn et al.
2015) decodes the prior's draws with the class chosen on the page, and the draws from
q(z|x, y) with the selected image's own class.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from i18n import _, lazy, lazy_ngettext, nouns

from .. import images, lenses, state
from ..latent_view import mark
from ..model_view import Shown

SAMPLE_COUNTS = [9, 16, 25, 36]
PICTURE_PX = 84


def _resample() -> None:
    st.session_state.sample_seed = int(st.session_state.get("sample_seed", 0)) + 1


def section(shown: Shown) -> None:
    ss, view, row = st.session_state, shown.view, st.session_state.selected_row
    theme = state.page_theme()
    prior, reparam = st.columns(2, gap="large")
    label = state.chosen_class(view.conditional)
    with prior:
        st.subheader(_("New {nouns} from the prior").format(**nouns(view.noun)))
        if label is None:
            st.caption(
                _(
                    "A VAE generates by drawing z from the prior p(z) = N(0, I) and decoding "
                    "it. Each cell below is one draw."
                )
            )
        else:
            st.caption(
                _(
                    "A conditional VAE generates by drawing z from the prior p(z) = N(0, I) "
                    "and decoding it with a class: here **{name}**, the class chosen. Each "
                    "cell below is one draw: z sets the style, the class stays the same."
                ).format(name=view.classes[label])
            )
        a, b = st.columns(2)
        k = a.select_slider(_("How many"), SAMPLE_COUNTS, value=16, key="sample_count")
        seed = b.number_input(_("Seed"), 0, 1_000_000, key="sample_seed")
        samples = lenses.prior_samples(shown.model, view.model_id, k, int(seed), theme, label)
        with st.container(key="prior_samples"):
            st.image(
                samples["png"],
                width=min(440, 90 * int(np.ceil(np.sqrt(k)))),
                alt=_("{k} {nouns} decoded from z drawn from the prior").format(
                    k=k, **nouns(view.noun)
                ),
            )
        c, d = st.columns(2)
        c.button(_("Resample"), key="resample", width="stretch", on_click=_resample)
        d.button(
            _("Mark their z on the plane"),
            key="mark_samples",
            width="stretch",
            on_click=mark,
            args=(
                # TRANSLATORS: the name of the marks on the latent plane.
                lazy_ngettext("{k} prior sample", "{k} prior samples", k, k=k),
                samples["z"],
                None,
            ),
        )
    with reparam:
        called = images.called(view, view.labels[row])
        st.subheader(
            _("The reparameterization trick: test image #{row} ({called})").format(
                row=row, called=called
            )
        )
        mu, sigma = view.mu[row], view.sigma[row]
        q = "q(z|x, y)" if view.conditional else "q(z|x)"
        if view.conditional:
            trick_text = _(
                "{q} = N(μ, σ²) with μ = ({mu1:.3f}, {mu2:.3f}), σ = ({sigma1:.3f}, "
                "{sigma2:.3f}). A draw is written z = μ + σ·ε with ε ~ N(0, I) drawn apart, so "
                "the randomness sits in ε and z is a smooth function of μ and σ: gradients "
                "reach the encoder through it (Kingma & Welling 2014, §2.4). Each draw is "
                "decoded with the image's own class."
            )
        else:
            trick_text = _(
                "{q} = N(μ, σ²) with μ = ({mu1:.3f}, {mu2:.3f}), σ = ({sigma1:.3f}, "
                "{sigma2:.3f}). A draw is written z = μ + σ·ε with ε ~ N(0, I) drawn apart, so "
                "the randomness sits in ε and z is a smooth function of μ and σ: gradients "
                "reach the encoder through it (Kingma & Welling 2014, §2.4)."
            )
        st.caption(trick_text.format(q=q, mu1=mu[0], mu2=mu[1], sigma1=sigma[0], sigma2=sigma[1]))
        draw_seed = st.number_input(_("Seed of ε"), 0, 1_000_000, key="trick_seed")
        draws = lenses.trick(shown, row, int(draw_seed), theme)
        for start in range(0, lenses.DRAWS, 3):
            for cell, i in zip(st.columns(3), range(start, start + 3), strict=True):
                eps, z = draws["eps"][i], draws["z"][i]
                cell.image(
                    draws["pngs"][i],
                    width=PICTURE_PX,
                    alt=_("decoded at z = ({z1:.2f}, {z2:.2f})").format(z1=z[0], z2=z[1]),
                )
                cell.caption(f"ε = ({eps[0]:+.2f}, {eps[1]:+.2f})  \nz = ({z[0]:.3f}, {z[1]:.3f})")
        st.button(
            _("Mark these z on the plane"),
            key="mark_draws",
            on_click=mark,
            # TRANSLATORS: the name of the marks on the latent plane; #{row} is a test image.
            args=(lazy("draws from {q} of #{row}", q=q, row=row), draws["z"], view.model_id),
        )
    if ss.get("overlay"):
        st.caption(_("Marked on the latent plane: {name}.").format(name=ss.overlay["name"]))
        st.button(_("Clear the marks"), key="clear_marks", on_click=mark, args=(None,))
