"""The selection panel: one test image, its reconstruction, and its share of the ELBO.

A conditional VAE (Sohn et al. 2015) judges an image given its class y: the reconstruction is
decoded from z and y, and the terms bound −log p(x|y).
"""

from __future__ import annotations

import streamlit as st

from i18n import N_, _, nouns

from ... import images, lenses, state
from ...model_view import Shown

PICTURE_PX = 112


def _swatch(colour: str) -> str:
    return f"<span style='color:{colour}'>■</span>"


def key() -> str:
    """The difference picture's colours, in words (HTML)."""
    # TRANSLATORS: the key under the difference picture: each {…} is a coloured square.
    return _(
        "{added} ink added by the reconstruction · {missed} ink it misses · {agree} the two agree"
    ).format(
        added=_swatch(images.hex_colour(images.ADDED)),
        missed=_swatch(images.hex_colour(images.MISSED)),
        agree=_swatch("#808080"),
    )


def panel(shown: Shown) -> None:
    view, row = shown.view, st.session_state.selected_row
    if row is None:
        st.markdown(
            _("**Click {a_noun}** on the plane to see it, its reconstruction and its ELBO.").format(
                **nouns(view.noun)
            )
        )
        return
    d = lenses.details(shown, row, state.page_theme())
    mu, sigma = view.mu[row], view.sigma[row]
    st.markdown(
        # TRANSLATORS: the selection's title: a test image's row and its class ("a 7",
        # "Sneaker").
        _("**Test image #{row}: {called}**").format(
            row=row, called=images.called(view, view.labels[row])
        )
    )
    called = images.called(view, view.labels[row])
    alt = {
        "input": _("test image #{row}, {called}").format(row=row, called=called),
        "reconstruction": _("its reconstruction, decoded from its posterior mean"),
        "difference": _("the difference between the image and its reconstruction"),
    }
    with st.container(horizontal=True, gap="small"):
        for name, picture in d["pictures"].items():
            st.image(picture, caption=_(name), width=PICTURE_PX, output_format="PNG", alt=alt[name])
    st.caption(key(), unsafe_allow_html=True)
    st.markdown(
        _(
            "posterior mean μ = ({mu1:.2f}, {mu2:.2f}), "
            "standard deviation σ = ({sigma1:.3f}, {sigma2:.3f})  \n"
            "reconstruction **{reconstruction:.1f}** + KL **{kl:.2f}** "
            "= −ELBO **{neg_elbo:.1f}** nats"
        ).format(
            mu1=mu[0],
            mu2=mu[1],
            sigma1=sigma[0],
            sigma2=sigma[1],
            reconstruction=d["reconstruction"],
            kl=d["kl"],
            neg_elbo=d["neg_elbo"],
        )
    )
    if view.conditional:
        why = _(
            "A nat is a unit of information: −ELBO is an upper bound on −log p(x|y), natural "
            "log, given the image's own class y = {cls}: a conditional VAE encodes and decodes "
            "with the class. Lower means the model finds the {noun} more likely. The inset on "
            "the plane zooms on this {noun}'s q(z|x, y)."
        )
    else:
        why = _(
            "A nat is a unit of information: −ELBO is an upper bound on −log p(x), natural "
            "log. Lower means the model finds the {noun} more likely. The inset on the plane "
            "zooms on this {noun}'s q(z|x)."
        )
    st.caption(why.format(cls=view.classes[int(view.labels[row])], **nouns(view.noun)))
    st.button(
        _("Move the latent point here"),
        key="goto_selected",
        on_click=state.move_to,
        args=(float(mu[0]), float(mu[1]), view.window),
    )
    with st.container(horizontal=True, gap="small"):
        for which, label in (("a", N_("Set as A")), ("b", N_("Set as B"))):
            st.button(
                _(label),
                key=f"set_{which}",
                on_click=state.set_endpoint,
                args=(which, {"row": int(row)}),
                help=_("An endpoint of the path on the Interpolate tab."),
            )
