"""Paths between two images: a straight line in the latent plane, and the pixel cross-fade.

Decoding evenly spaced points on the segment from z_A to z_B morphs one digit into the other
through shapes the decoder has learned to draw; blending the two images' pixels instead
passes through double exposures that are no digit at all. Together they show why the latent
space, not pixel space, is where interpolation means something.
"""

from __future__ import annotations

import numpy as np


def latent_path(z_a, z_b, n: int) -> np.ndarray:
    """n evenly spaced points from z_a to z_b, both included: (n, D)."""
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    z_a = np.asarray(z_a, dtype=np.float32).reshape(-1)
    z_b = np.asarray(z_b, dtype=np.float32).reshape(-1)
    if z_a.shape != z_b.shape:
        raise ValueError(f"the endpoints differ in size: {z_a.shape} and {z_b.shape}")
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None]
    return (1 - t) * z_a + t * z_b


def cross_fade(image_a, image_b, n: int) -> np.ndarray:
    """n pixel-space blends (1 - t) a + t b, t from 0 to 1: (n, H, W) floats in [0, 1].

    uint8 images are read as x / 255."""
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    a, b = (np.asarray(x, dtype=np.float32) for x in (image_a, image_b))
    if a.shape != b.shape:
        raise ValueError(f"the images differ in shape: {a.shape} and {b.shape}")
    if np.asarray(image_a).dtype == np.uint8:
        a, b = a / 255.0, b / 255.0
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None, None]
    return (1 - t) * a + t * b
