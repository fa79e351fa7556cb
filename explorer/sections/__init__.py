"""One module per part of the page: each tab, the sidebar, the banner while a model trains."""

# The page's tabs, in order. The first (the latent view, which keeps its zoom) and the last
# (a few lines of text) always run; the others only while open.
TABS = (
    "Latent plane",
    "Posterior",
    "Sample",
    "Interpolate",
    "Outliers",
    "Few labels",
    "Manifold",
    "Compare",
    "Training",
    "What am I looking at?",
)
