"""The page's tabs: each one's label and its name in a link.

Below the sections, so that the session's state (a lesson link's `tab=`), the language switch
and the tour can name a tab without importing the module that draws it (app.py pairs each tab
with its section).
"""

from i18n import N_

# The page's tabs, in order; shown with i18n's `_()`.
TABS = (
    N_("Latent plane"),
    N_("Posterior"),
    N_("Sample"),
    N_("Interpolate"),
    N_("Outliers"),
    N_("Few labels"),
    N_("Manifold"),
    N_("VAE vs PCA"),
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
    "maps",
    "compare",
    "training",
    "about",
)


def label_of(key: str) -> str:
    """The label (a message, for `_()`) of the tab named `key` in links."""
    return TABS[TAB_KEYS.index(key)]
