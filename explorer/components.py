"""The page's custom components' sources, in explorer/web/.

Each component is one ES module joined from several files: the shared payload reader and
MLPs, then the component's own parts, in an order where every top-level constant comes before
the code that runs at the module's evaluation.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

WEB = Path(__file__).resolve().parent / "web"

MODULES = {
    "latent_view": (
        "payload.js",
        "latent_view/model.js",  # the payload parsed into the registry, the colour map
        "latent_view/geometry.js",  # theme colours, ticks, pixels against latent coordinates
        "latent_view/view.js",  # the elements and their layout
        "latent_view/plane.js",  # the plane's points, axes and marks
        "latent_view/overlays.js",  # lenses' points, the drawn digit, the posterior inset
        "latent_view/digit.js",  # the digit decoded at z, the sliders
        "latent_view/input.js",  # pointer, wheel and keys; commits to the server
        "latent_view/legend.js",  # class chips, the colour bar, the data's words
        "latent_view/main.js",  # the component's entry
    ),
    "drawing": ("payload.js", "drawing.js"),
    "board": ("board.js",),
}


@cache
def source(name: str) -> str:
    """One file of explorer/web/, as text."""
    return (WEB / name).read_text()


def script(component: str) -> str:
    """A component's ES module: its files of MODULES, joined."""
    return "\n".join(source(name) for name in MODULES[component])
