"""The "What am I looking at?" tab: the model's parts and its objective in a few lines, and
where the data and the maths come from."""

from __future__ import annotations

import html

import streamlit as st

from ..model_view import ModelView, dataset_of

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


def section(view: ModelView) -> None:
    st.markdown(ABOUT.format(noun=view.noun), unsafe_allow_html=True)
    name = dataset_of(view.data).name
    st.caption(
        f"Data: {html.escape(CREDITS.get(name, name))}. "
        "Model: Kingma & Welling, Auto-Encoding Variational Bayes (2014); the conditional "
        "VAE: Sohn, Lee & Yan, Learning Structured Output Representation using Deep "
        "Conditional Generative Models (2015)."
    )
