"""The posterior lens: for the selected digit, the exact p(z|x) beside the encoder's q(z|x).

With a 2-D latent the true posterior can be computed on a grid (vae_core.exact_posterior), so
the learner sees where the Gaussian guess misses, and how much that costs: the ELBO's gap,
log p(x) - ELBO = KL(q(z|x) || p(z|x)) (Kingma & Welling 2014, eq. 1). IWAE (Burda et al.
2016) closes part of it with 100 importance samples.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import exact_posterior, iwae_log_px

from . import figures, selection
from .model_view import ModelView, test_set
from .state import page_theme

GRID = 96  # cells a side: within 1e-4 nats of a 192-cell grid on the shipped model's digits
IWAE_K = 100
VIEW_NATS = 12.0  # the picture holds p(z|x) down to e^-12 of its peak (the log scale's floor)
IWAE_REPEATS = 10  # independent IWAE estimates averaged

EXPLAINED = f"""
- **Exact log p(x)**: how likely the model finds this image, from p(x|z) p(z) summed over the
  whole plane; possible only because z has two dimensions.
- **IWAE (k = 100)**: a tighter lower bound on log p(x), from 100 draws of q(z|x) weighted by
  how well each explains x (a bound on average: one estimate scatters, so 10 are averaged).
- **ELBO**: the bound training maximises, E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)), averaged over
  {selection.SELECTION_SAMPLES} draws of z, as in the selection panel.
- **Gap**: log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)), how far the encoder's Gaussian is from the
  true posterior; zero only if q(z|x) matched p(z|x) exactly.
"""


def view_window(whole, mu, sigma, floor: float = VIEW_NATS) -> tuple[float, float, float, float]:
    """A square box around where p(z|x) is within `floor` nats of its peak and q(z|x)'s 3σ,
    with a margin: what the picture shows, on a grid of its own."""
    j, i = np.nonzero(whole.log_density > whole.log_density.max() - floor)
    lo1 = min(whole.z1[i.min()], mu[0] - 3 * sigma[0])
    hi1 = max(whole.z1[i.max()], mu[0] + 3 * sigma[0])
    lo2 = min(whole.z2[j.min()], mu[1] - 3 * sigma[1])
    hi2 = max(whole.z2[j.max()], mu[1] + 3 * sigma[1])
    half = 0.6 * max(hi1 - lo1, hi2 - lo2)
    c1, c2 = (lo1 + hi1) / 2, (lo2 + hi2) / 2
    return c1 - half, c1 + half, c2 - half, c2 + half


@st.cache_data(show_spinner="Computing p(z|x) on the plane…", max_entries=64)
def lens(_model, _view: ModelView, model_id: str, row: int) -> dict:
    """The exact posterior of test digit `row`, log p(x) and IWAE, as plain values."""
    pixels = test_set()[0][row]
    mu, sigma = _view.mu[row], _view.sigma[row]
    whole = exact_posterior(_model, pixels, n=GRID)  # log p(x), and where the mass lies
    post = exact_posterior(_model, pixels, n=GRID, window=view_window(whole, mu, sigma))
    # One IWAE estimate scatters by ~0.2 nats, sometimes above log p(x): show the mean of
    # several, and their spread.
    estimates = iwae_log_px(_model, np.repeat(pixels[None], IWAE_REPEATS, 0), k=IWAE_K, seed=row)
    return {
        "z1": post.z1,
        "z2": post.z2,
        "log_density": post.log_density,
        "log_px": whole.log_px,
        "iwae": float(estimates.mean()),
        "iwae_spread": float(estimates.std(ddof=1) / np.sqrt(IWAE_REPEATS)),
        "mu": mu.tolist(),
        "sigma": sigma.tolist(),
    }


def section(model, view: ModelView, row: int) -> None:
    label = int(view.labels[row])
    data = lens(model, view, view.model_id, row)
    # The selection panel's ELBO of this digit (cached there): the same figure on both.
    elbo = -selection.details(model, view, view.model_id, row, page_theme())["neg_elbo"]
    plot, numbers = st.columns([6, 4], gap="medium")
    with numbers:
        st.subheader(f"The true posterior of test image #{row}: a {label}")
        st.caption(
            "Colour: p(z|x), computed exactly on a grid. White: the encoder's guess q(z|x), "
            "its mean and 1σ / 2σ ellipses. Click another digit on the latent plane to see its "
            "posterior."
        )
        scale = st.radio(
            "Colour scale",
            ["linear", "log"],
            horizontal=True,
            key="posterior_scale",
            help="The log scale shows the tails and any second mode.",
        )
        a, b = st.columns(2)
        a.metric("exact log p(x)", f"{data['log_px']:.2f}")
        b.metric(
            "IWAE, k = 100",
            f"{data['iwae']:.2f}",
            help=f"Mean of {IWAE_REPEATS} estimates, each from {IWAE_K} draws of z; its "
            f"standard error ± {data['iwae_spread']:.2f} nats.",
        )
        a.metric("ELBO", f"{elbo:.2f}")
        b.metric("gap = KL(q ‖ p(z|x))", f"{data['log_px'] - elbo:.2f}")
        st.plotly_chart(
            figures.bound_bars(data["log_px"], data["iwae"], elbo), key="posterior_bounds"
        )
        st.markdown(EXPLAINED)
        st.caption("All in nats (natural-log units) for this one image.")
    with plot:
        st.plotly_chart(
            figures.posterior_figure(
                data["z1"], data["z2"], data["log_density"], data["mu"], data["sigma"], scale
            ),
            key="posterior_lens",
        )
