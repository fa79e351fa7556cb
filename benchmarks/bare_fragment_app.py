"""The baseline for benchmarks.class_load: the least a slider fragment can cost the server.

    streamlit run benchmarks/bare_fragment_app.py

One `@st.fragment` with two sliders (keys a and b), a 112 px picture of 28x28 pixels that
depends on them, and a caption: what one slider rerun of any Streamlit page pays at least.
The picture is a Gaussian blob drawn with numpy, so no model or torch import adds to its cost.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

SIDE = 28
GRID = np.arange(SIDE, dtype=np.float32)


def picture(a: float, b: float) -> np.ndarray:
    """A 28x28 blob whose centre follows (a, b) over [-3, 3]: every step changes the pixels."""
    cx = (a + 3.0) / 6.0 * (SIDE - 1)
    cy = (3.0 - b) / 6.0 * (SIDE - 1)
    blob = np.exp(-((GRID[None, :] - cx) ** 2 + (GRID[:, None] - cy) ** 2) / 18.0)
    return (255 * blob).astype(np.uint8)


@st.fragment
def view() -> None:
    a = st.slider("a", -3.0, 3.0, 0.0, 0.01, key="a")
    b = st.slider("b", -3.0, 3.0, 0.0, 0.01, key="b")
    st.image(picture(a, b), width=112)
    st.caption(f"z = ({a:.2f}, {b:.2f})")


view()
