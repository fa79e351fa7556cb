"""vae_core.paths: the latent segment and the pixel cross-fade."""

import numpy as np
import pytest

from vae_core import cross_fade, latent_path


def test_the_latent_path_runs_evenly_from_a_to_b():
    z = latent_path([1.0, -2.0], [3.0, 2.0], 5)
    assert z.shape == (5, 2)
    assert np.allclose(z[0], [1, -2]) and np.allclose(z[-1], [3, 2])
    steps = np.diff(z, axis=0)
    assert np.allclose(steps, [0.5, 1.0])
    with pytest.raises(ValueError, match="at least 2"):
        latent_path([0, 0], [1, 1], 1)
    with pytest.raises(ValueError, match="differ in size"):
        latent_path([0, 0], [1, 1, 1], 3)


def test_the_cross_fade_blends_pixels_from_a_to_b():
    a = np.zeros((28, 28), np.uint8)
    b = np.full((28, 28), 255, np.uint8)
    frames = cross_fade(a, b, 3)
    assert frames.shape == (3, 28, 28)
    assert frames[0].max() == 0 and frames[-1].min() == 1.0
    assert np.allclose(frames[1], 0.5)
    floats = cross_fade(np.zeros((2, 2)), np.ones((2, 2)), 5)
    assert np.allclose(floats[:, 0, 0], [0, 0.25, 0.5, 0.75, 1])
    with pytest.raises(ValueError, match="differ in shape"):
        cross_fade(np.zeros((2, 2)), np.zeros((3, 3)), 3)
