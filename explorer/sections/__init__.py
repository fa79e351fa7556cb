"""One module per part of the page: each tab, the sidebar, the banner while a model trains."""

from i18n import N_

# The page's tabs, in order. The first (the latent view, which keeps its zoom) and the last
# (a few lines of text) always run; the others only while open. Shown with i18n's `_()`.
TABS = (
    N_("Latent plane"),
    N_("Posterior"),
    N_("Sample"),
    N_("Interpolate"),
    N_("Outliers"),
    N_("Few labels"),
    N_("Manifold"),
    N_("Compare"),
    N_("Training"),
    N_("What am I looking at?"),
)
# Each tab's name in a link (`tab=`), in the same order.
TAB_KEYS = (
    "plane",
    "posterior",
    "sample",
    "interpolate",
    "outliers",
    "few_labels",
    "manifold",
    "compare",
    "training",
    "about",
)
