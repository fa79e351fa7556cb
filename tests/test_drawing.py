"""The drawing pad's server side: what it accepts from the browser, and what it shows."""

import base64

import numpy as np
import pytest

from explorer.lenses import nearest_rows
from explorer.sections.latent_plane.drawing import parse_image


def test_parse_image_takes_784_base64_bytes_and_nothing_else():
    pixels = np.arange(784, dtype=np.uint16).astype(np.uint8).tobytes()
    assert parse_image(base64.b64encode(pixels).decode()) == pixels
    for bad in [
        None,
        42,
        ["AAAA"],
        "not base64!",
        base64.b64encode(pixels[:-1]).decode(),  # 783 pixels
        base64.b64encode(pixels + b"\0").decode(),
        "A" * 100_000,
    ]:
        assert parse_image(bad) is None, bad


def test_nearest_rows_are_the_closest_means_nearest_first():
    mu = np.array([[0.0, 0.0], [3.0, 0.0], [1.0, 1.0], [0.5, 0.0], [-2.0, -2.0]])
    assert nearest_rows(mu, np.array([0.6, 0.1]), k=3) == [3, 0, 2]


@pytest.mark.slow
def test_the_pad_shows_what_the_model_makes_of_a_drawing():
    from tests.test_app import run_app, view_data
    from vae_core import load_split

    at = run_app()
    at.toggle(key="drawing").set_value(True).run()
    assert not at.exception, at.exception
    assert at.get_by_key("draw") is not None
    assert "Draw a digit above" in at.get_by_key("draw_result").caption[0].value
    # A test digit's own pixels, as if drawn: its nearest test digit in the plane is itself.
    row = 3
    at.session_state["drawn"] = load_split(None, "test").images[row].tobytes()
    at.run()
    assert not at.exception, at.exception
    result = at.get_by_key("draw_result")
    text = " ".join(m.value for m in result.markdown)
    assert "more unusual than **" in text and "of test digits" in text
    captions = [i.proto.imgs[0].caption for i in result.get("image")]
    nearest = [c for c in captions if c.startswith("#")]
    label = int(load_split(None, "test").labels[row])
    assert len(nearest) == 6 and nearest[0] == f"#{row}: {label}"
    assert result.get("plotly_chart")  # the posterior lens of the drawing
    assert view_data(at)["selected"]["row"] == 0  # the selection is left as it was
    # Putting the pad away forgets the drawing.
    at.toggle(key="drawing").set_value(False).run()
    assert at.session_state["drawn"] is None
    assert at.get_by_key("selection") is not None
