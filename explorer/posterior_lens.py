"""The posterior lens: for one image, the exact p(z|x) beside the encoder's q(z|x), computed
and drawn; the Posterior tab shows it for the selected test image, a drawing's result for the
drawing.

With a 2-D latent the true posterior can be computed on a grid (vae_core.exact_posterior), so
the learner sees where the Gaussian guess misses, and how much that costs: the ELBO's gap,
log p(x) - ELBO = KL(q(z|x) || p(z|x)) (Kingma & Welling 2014, eq. 1). IWAE (Burda et al.
2016) closes part of it with 100 importance samples.

`lens` (a test image, by row) and `lens_of_image` (any 28x28 image, such as a drawn one) compute
the same plain values; `show` draws them, wide for the Posterior tab or compact for a side
column. A conditional VAE (Sohn et al. 2015) is given a class y throughout: p(z|x, y) beside
q(z|x, y), and log p(x|y); a test image's own class, or for a drawing the class chosen.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from i18n import N_, Deferred, _, label_of
from vae_core import encode, exact_posterior, iwae_log_px
from vae_core.posterior import DecodedPlane, Posterior, decode_plane

from . import figures
from .lenses import lens_of
from .model_view import Shown

SCALES = (N_("linear"), N_("log"))  # the colour scales offered, as shown in English

GRID = 96  # cells a side of the picture's grid
SEARCH_GRID = 48  # cells a side of the grid over the posterior's mass that places the picture
IWAE_K = 100
IWAE_REPEATS = 10  # independent IWAE estimates averaged
IWAE_SEED = 0  # one seed for all: an image gets the same estimate however it reached the lens
VIEW_NATS = 12.0  # the picture holds p(z|x) down to e^-12 of its peak (the log scale's floor)
HELD = 0.99  # and at least this share of its mass, which log p(x) counts in full
SEARCH_HELD = 0.999  # the search's cells that hold this share place the picture
WIDENINGS = 4  # times the picture's box may grow by half when its grid holds less than HELD

LEGEND = N_(
    "Colour: p(z|x), computed exactly on a grid. White: the encoder's guess q(z|x), its mean "
    "and 1σ / 2σ ellipses."
)
GIVEN = N_(
    "Colour: p(z|x, y), computed exactly on a grid. White: the encoder's guess q(z|x, y), its "
    "mean and 1σ / 2σ ellipses. A conditional VAE reads the class y = {name} in both encoder "
    "and decoder, so everything here is given it: log p(x|y), and its bounds."
)
EXPLAINED = N_("""
- **Exact log p(x)**: how likely the model finds this image, from p(x|z) p(z) summed over the
  whole plane; possible only because z has two dimensions.
- **IWAE (k = 100)**: a tighter lower bound on log p(x), from 100 draws of q(z|x) weighted by
  how well each explains x (a bound on average: one estimate scatters, so 10 are averaged).
- **ELBO**: the bound training maximises, E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)), averaged over
  draws of z.
- **Gap**: log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)), how far the encoder's Gaussian is from the
  true posterior; zero only if q(z|x) matched p(z|x) exactly.
""")


def view_window(
    search: Posterior, mu, sigma, floor: float = VIEW_NATS
) -> tuple[float, float, float, float]:
    """A square box around q(z|x)'s 3σ and the cells of p(z|x) within `floor` nats of its peak
    or among those holding SEARCH_HELD of its mass (a flat tail far below the peak can hold
    more than the contour does), with a margin: what the picture shows, on a grid of its own.

    `search` is coarser than the picture: its cells kept are grown by one cell, since the
    mass can run up to the next cell centre."""
    mass = np.exp(search.log_density) * search.cell_area * search.held
    by_mass = np.sort(mass.ravel())[::-1]
    least = by_mass[min(np.searchsorted(np.cumsum(by_mass), SEARCH_HELD), by_mass.size - 1)]
    keep = (search.log_density > search.log_density.max() - floor) | (mass >= least)
    j, i = np.nonzero(keep)
    d1, d2 = search.z1[1] - search.z1[0], search.z2[1] - search.z2[0]
    lo1 = min(search.z1[i.min()] - d1, mu[0] - 3 * sigma[0])
    hi1 = max(search.z1[i.max()] + d1, mu[0] + 3 * sigma[0])
    lo2 = min(search.z2[j.min()] - d2, mu[1] - 3 * sigma[1])
    hi2 = max(search.z2[j.max()] + d2, mu[1] + 3 * sigma[1])
    half = 0.6 * max(hi1 - lo1, hi2 - lo2)
    c1, c2 = (lo1 + hi1) / 2, (lo2 + hi2) / 2
    return c1 - half, c1 + half, c2 - half, c2 + half


def widened(window: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The same square box, half as wide again, about its centre."""
    lo1, hi1, lo2, hi2 = window
    c1, c2, half = (lo1 + hi1) / 2, (lo2 + hi2) / 2, 0.75 * (hi1 - lo1)
    return c1 - half, c1 + half, c2 - half, c2 + half


# A conditional model has a plane per class (0.4 s and ~30 MB each at width 512): room for
# a few models' planes, or most of one conditional model's classes.
@st.cache_resource(show_spinner=False, max_entries=8)
def decoded_plane(_model, model_id: str, label: int | None) -> DecodedPlane:
    """The decoder over the whole plane, for class `label` of a conditional model (None for a
    plain one), shared by every image's lens."""
    return decode_plane(_model, label)


def compute(model, plane: DecodedPlane, image: np.ndarray, label: int | None = None) -> dict:
    """The lens of one 28x28 uint8 image: p(z|x) on the picture's grid, log p(x), IWAE, and
    q(z|x)'s mean and standard deviations, as plain values. A conditional model's are given
    class `label` (and `plane` decoded for it): p(z|x, y), log p(x|y), q(z|x, y)."""
    mu, sigma = (a[0] for a in encode(model, image[None], label))
    # A cheap pass over the posterior's mass places the picture; log p(x) then comes from the
    # picture's finer grid, with the plane's coarse cells for the little mass outside it.
    search = exact_posterior(model, image, label, n=SEARCH_GRID, plane=plane)
    window = view_window(search, mu, sigma)
    post = exact_posterior(model, image, label, n=GRID, window=window, plane=plane)
    for _step in range(WIDENINGS):  # so the picture leaves out little of what log p(x) counts
        if post.held >= HELD:
            break
        window = widened(window)
        post = exact_posterior(model, image, label, n=GRID, window=window, plane=plane)
    # One IWAE estimate scatters by ~0.2 nats, sometimes above log p(x): show the mean of
    # several, and their spread.
    estimates = iwae_log_px(
        model, np.repeat(image[None], IWAE_REPEATS, 0), label, k=IWAE_K, seed=IWAE_SEED
    )
    return {
        "z1": post.z1,
        "z2": post.z2,
        "log_density": post.log_density,
        "log_px": post.log_px,
        "held": post.held,
        "iwae": float(estimates.mean()),
        "iwae_spread": float(estimates.std(ddof=1) / np.sqrt(IWAE_REPEATS)),
        "mu": mu.tolist(),
        "sigma": sigma.tolist(),
    }


@lens_of(show_spinner=Deferred(N_("Computing p(z|x) on the plane…")), max_entries=64)
def lens(shown: Shown, row: int) -> dict:
    """The lens of test image `row`, a conditional model's given the image's own class (see
    compute)."""
    model, view = shown.model, shown.view
    label = int(view.labels[row]) if view.conditional else None
    return compute(model, decoded_plane(model, shown.model_id, label), view.images[row], label)


@st.cache_data(show_spinner=Deferred(N_("Computing p(z|x) on the plane…")), max_entries=64)
def lens_of_image(_model, model_id: str, pixels: bytes, label: int | None = None) -> dict:
    """The lens of any image given as 784 uint8 bytes, row-major 28x28, given class `label`
    for a conditional model (see compute)."""
    if len(pixels) != 28 * 28:
        raise ValueError(f"a lens takes 784 pixel bytes (28x28), got {len(pixels)}")
    # A copy: frombuffer's array is read-only, which torch warns of when it wraps it.
    image = np.frombuffer(pixels, dtype=np.uint8).reshape(28, 28).copy()
    return compute(_model, decoded_plane(_model, model_id, label), image, label)


def show(
    data: dict, elbo: float, key: str, compact: bool = False, given: str | None = None
) -> None:
    """Draw a lens (from `lens` or `lens_of_image`) with the image's ELBO: the heatmap under
    q(z|x)'s ellipses, log p(x), IWAE, ELBO and gap, and the bound bars.

    `compact` fits a side column about 300 px wide: one column, a shorter figure, no
    explanation. `given` is the name of the class a conditional model's lens was given (None
    for a plain model). Element keys are `key` + "_lens", "_bounds" and "_scale"."""
    px, posterior = ("p(x)", "p(z|x)") if given is None else ("p(x|y)", "p(z|x, y)")
    if compact:
        head, plot, numbers = st.container(), st.container(), st.container()
    else:
        plot, numbers = st.columns([6, 4], gap="medium")
        head = numbers
    with head:
        st.caption(_(LEGEND) if given is None else _(GIVEN).format(name=given))
        scale = st.radio(
            _("Colour scale"),
            SCALES,
            horizontal=True,
            key=f"{key}_scale",
            format_func=label_of(SCALES),
            help=_("The log scale shows the tails and any second mode."),
        )
    with numbers:
        # Two by two where there is room; stacked in a narrow column.
        cells = [st.container()] * 4 if compact else st.columns(2) * 2
        # TRANSLATORS: {px} is p(x), or p(x|y) for a conditional model.
        cells[0].metric(_("exact log {px}").format(px=px), f"{data['log_px']:.2f}")
        cells[1].metric(
            "IWAE, k = 100",
            f"{data['iwae']:.2f}",
            help=_(
                "Mean of {repeats} estimates, each from {k} draws of z; its standard error "
                "± {spread:.2f} nats."
            ).format(repeats=IWAE_REPEATS, k=IWAE_K, spread=data["iwae_spread"]),
        )
        cells[2].metric("ELBO", f"{elbo:.2f}")
        cells[3].metric(
            _("gap = KL(q ‖ {posterior})").format(posterior=posterior),
            f"{data['log_px'] - elbo:.2f}",
        )
        st.plotly_chart(
            figures.bound_bars(data["log_px"], data["iwae"], elbo, given is not None),
            key=f"{key}_bounds",
        )
        if not compact:
            st.markdown(_(EXPLAINED))
        st.caption(
            _(
                "All in nats (natural-log units) for this one image. The picture holds "
                "{held:.1%} of {posterior}; log {px} counts the whole plane."
            ).format(held=data["held"], posterior=posterior, px=px)
        )
    figure = figures.posterior_figure(
        data["z1"],
        data["z2"],
        data["log_density"],
        data["mu"],
        data["sigma"],
        scale,
        given=given is not None,
    )
    if compact:
        # In a narrow column the legend's entries would stack above the plot and a side
        # colour bar take a fifth of its width: no legend (the caption names the white
        # lines) and the bar below.
        figure.update_layout(height=340, showlegend=False)
        figure.update_traces(
            colorbar=dict(orientation="h", thickness=8, y=-0.22, yanchor="top"),
            selector=dict(type="heatmap"),
        )
    with plot:
        st.plotly_chart(figure, key=f"{key}_lens")
