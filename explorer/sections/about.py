"""The "What am I looking at?" tab: the model's parts and its objective in a few lines, and
where the data and the maths come from."""

from __future__ import annotations

import html

import streamlit as st

from i18n import N_, _, nouns

from ..model_view import Shown
from ..server import dataset_of

# One message a bullet; a line break inside one continues the bullet (two spaces of indent).
ABOUT = (
    # TRANSLATORS: a bullet of markdown; its line breaks only wrap the English: write one line.
    N_(
        "The **encoder** maps each image *x* to a Gaussian q(z|x) on a 2-D latent plane: a mean "
        "(the\n  dot on the plane) and a standard deviation (the ellipses of a clicked {noun}, in "
        "the inset)."
    ),
    N_("The **prior** p(z) is a standard normal: the plane's centre holds most of its mass."),
    # TRANSLATORS: a bullet of markdown; its line breaks only wrap the English: write one line.
    N_(
        "The **decoder** maps any point z to pixel probabilities p(x|z): hover the plane or move "
        "the\n  sliders to see it, computed in your browser from the model's own weights."
    ),
    # TRANSLATORS: a bullet of markdown; its line breaks only wrap the English: write one line.
    N_(
        "Training maximises the **ELBO** = E<sub>q</sub>[log p(x|z)] − KL(q(z|x) ‖ p(z)), in "
        "nats\n  (natural-log units). The first term (*reconstruction*) rewards faithful "
        "reconstructions; the\n  **KL** term pulls each q(z|x) towards the prior, which keeps "
        "the plane dense and every point\n  decodable. β > 1 weighs the KL more: a smoother "
        "plane, blurrier {nouns}."
    ),
    # TRANSLATORS: a bullet of markdown; its line breaks only wrap the English: write one line.
    N_(
        "A **conditional VAE** also gives the encoder and the decoder the class y: q(z|x, y) "
        "and\n  p(x|z, y). The class no longer has to be written into z, so z holds the style, "
        "and the\n  bound is on log p(x|y)."
    ),
)


CREDITS = {
    "MNIST": N_("MNIST (Y. LeCun, C. Cortes, C. J. C. Burges), CC BY-SA 3.0"),
    "Fashion-MNIST": N_("Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf, 2017), MIT licence"),
    "KMNIST": N_("Kuzushiji-MNIST (T. Clanuwat et al., 2018), CC BY-SA 4.0"),
}


def about(noun: str) -> str:
    """The tab's bullets in the current language, for examples called `noun`."""
    words = nouns(noun)
    return "\n" + "".join(f"- {_(bullet).format(**words)}\n" for bullet in ABOUT)


def section(shown: Shown) -> None:
    view = shown.view
    st.markdown(about(view.noun), unsafe_allow_html=True)
    name = dataset_of(view.data).name
    credit = _(CREDITS[name]) if name in CREDITS else name
    st.caption(
        _(
            "Data: {credit}. Model: Kingma & Welling, Auto-Encoding Variational Bayes (2014); "
            "the conditional VAE: Sohn, Lee & Yan, Learning Structured Output Representation "
            "using Deep Conditional Generative Models (2015)."
        ).format(credit=html.escape(credit))
    )
