"""The latent view as a script driving a browser sees it (the browser tests, the benchmarks,
docs/make_screenshots.py): readiness, its data attributes, pixels, and points to click."""

from __future__ import annotations

VIEW = ".st-key-latent_scatter .lv"
MARKS = ".st-key-latent_scatter canvas.marks"
SLIDER = ".st-key-latent_scatter .st-key-{} input[type=range]"
# The view's root element, from page JavaScript: the component renders in an open shadow root.
LV_JS = (
    "document.querySelector('.st-key-latent_scatter [data-testid=stBidiComponentIsolated]')"
    "?.shadowRoot?.querySelector('.lv')"
)

# The view's data attributes from page JavaScript, never null: while Streamlit swaps the view's
# element (a rerun that remounts it, a switch of data) a wait reads an empty object, not a TypeError.
VIEW_DATA = f"({LV_JS}?.dataset ?? {{}})"

# The page between two runs of its script: every element the last run sent is on the page.
RUN_FINISHED = "[data-testid=stApp][data-test-script-state=notRunning]"

# The drawing pad's root element (its own component, in its own shadow root).
PAD_JS = (
    "document.querySelector('.st-key-draw [data-testid=stBidiComponentIsolated]')"
    "?.shadowRoot?.querySelector('.pad')"
)


def wait_until_ready(page, timeout_ms: int = 60_000) -> None:
    """The view has its model and has drawn, and the selection's pictures are shown."""
    page.locator(f"{VIEW}[data-model-id][data-area]").wait_for(timeout=timeout_ms)
    page.wait_for_function(
        "() => document.querySelectorAll('.st-key-selection img').length === 3",
        timeout=timeout_ms,
    )


def wait_run_finished(page, timeout_ms: int = 60_000) -> None:
    """Until the page's script run has finished, for a run that has begun: what it changed on
    the page has arrived. (Streamlit marks a run begun only when the server says so, so right
    after a click this may still read the run before.)"""
    page.locator(RUN_FINISHED).wait_for(timeout=timeout_ms)


def attribute(page, name: str) -> str:
    return page.locator(VIEW).get_attribute(f"data-{name}")


def point(page, name: str) -> tuple[float, float]:
    """A "z1,z2" attribute of the view (z, committed) as numbers."""
    a, b = attribute(page, name).split(",")
    return float(a), float(b)


def pixel(page, z1: float, z2: float) -> tuple[float, float]:
    """Page coordinates of the latent point (z1, z2) on the plane, as the view maps it now."""
    z1, z2 = float(z1), float(z2)
    box = page.locator(MARKS).bounding_box()
    left, top, side = (float(v) for v in attribute(page, "area").split(","))
    x0, x1, y0, y1 = (float(v) for v in attribute(page, "range").split(","))
    return (
        float(box["x"] + left + (z1 - x0) / (x1 - x0) * side),
        float(box["y"] + top + (y1 - z2) / (y1 - y0) * side),
    )


def wait_committed(page, z: tuple[float, float], tolerance: float = 1e-6, timeout_ms=20_000):
    """Until the server has confirmed z (the view's data-committed)."""
    page.wait_for_function(
        f"([z, tol]) => {{ const root = {LV_JS}; if (!root || !root.dataset.committed) return false;"
        " const [a, b] = root.dataset.committed.split(',').map(Number);"
        " return Math.abs(a - z[0]) <= tol && Math.abs(b - z[1]) <= tol; }",
        arg=[[float(v) for v in z], float(tolerance)],
        timeout=timeout_ms,
    )


def draw_stroke(page, points) -> None:
    """A stroke on the drawing pad through `points`, each a fraction of its width and height."""
    box = page.locator(".st-key-draw canvas.ink").bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=6)
    page.mouse.up()


def isolated_points(mu, count: int = 1) -> list[int]:
    """Rows whose codes lie farthest from any other, within |z| < 2 (well inside the plot), most
    isolated first: a click on one of them lands on that point alone."""
    import numpy as np

    inner = np.where(np.abs(mu).max(axis=1) < 2.0)[0][:3000]
    d = np.linalg.norm(mu[inner, None, :] - mu[None, :, :], axis=-1)
    d[np.arange(len(inner)), inner] = np.inf
    return [int(r) for r in inner[np.argsort(-d.min(axis=1))[:count]]]
