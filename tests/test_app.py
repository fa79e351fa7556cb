"""The app through Streamlit's AppTest: rendering, sliders, a scatter selection, training."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def decoded_image(at: AppTest):
    images = at.get_by_key("decoded").get("imgs")
    assert len(images) == 1
    return images[0].proto


def selection_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.get_by_key("selection").markdown)


def click_point(at: AppTest, row: int, curve: int = 0) -> None:
    """What plotly sends when a point is clicked: the row travels in customdata."""
    at.session_state["latent_scatter"] = {
        "selection": {
            "points": [
                {
                    "curve_number": curve,
                    "point_number": 4,
                    "point_index": 4,
                    "x": 0.1,
                    "y": -0.2,
                    "customdata": row,
                }
            ],
            "point_indices": [4],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    assert not at.exception, at.exception


def test_page_renders_the_default_model_without_training():
    at = run_app()
    assert {s.key for s in at.slider} >= {"z1", "z2", "manifold_n"}
    assert at.get_by_key("latent_scatter") is not None
    assert at.get_by_key("manifold") is not None
    assert at.get_by_key("latent_pad") is not None or any(
        "latent_pad" in str(e.proto) for e in at.main.get("bidi_component")
    )
    metrics = {m.label: m.value for m in at.sidebar.metric}
    assert float(metrics["test −ELBO"]) <= 137
    assert "Click a point" in selection_text(at)
    assert not at.progress  # nothing is training


def test_sliders_change_the_decoded_image():
    at = run_app()
    before = decoded_image(at)
    at.slider(key="z1").set_value(1.5).run()
    after_z1 = decoded_image(at)
    at.slider(key="z2").set_value(-1.5).run()
    after_z2 = decoded_image(at)
    assert not at.exception
    assert len({str(before), str(after_z1), str(after_z2)}) == 3
    assert "z = (1.50, -1.50)" in at.get_by_key("decoded").markdown[0].value


def test_a_scatter_selection_shows_that_digit_and_can_move_the_point():
    at = run_app()
    click_point(at, row=0)
    text = selection_text(at)
    assert "Test image #0: a 7" in text  # the first MNIST test digit is a 7
    assert "reconstruction" in text and "KL" in text and "−ELBO" in text
    assert len(at.get_by_key("selection").get("imgs")) == 3  # input, reconstruction, difference
    click_point(at, row=1, curve=2)
    assert "Test image #1: a 2" in selection_text(at)
    at.button(key="goto_selected").click().run()
    z1, z2 = at.slider(key="z1").value, at.slider(key="z2").value
    assert (z1, z2) != (0.0, 0.0)
    assert f"z = ({z1:.2f}, {z2:.2f})" in at.get_by_key("decoded").markdown[0].value


@pytest.mark.slow
def test_new_settings_train_on_demand_and_switch_the_model():
    at = run_app()
    at.selectbox(key="width").set_value(64)
    at.number_input(key="epochs").set_value(1)
    at.sidebar.button[0].click().run()
    deadline = time.time() + 300
    while time.time() < deadline:
        captions = " ".join(c.value for c in at.sidebar.caption)
        if "hidden [64, 64]" in captions:
            break
        assert not at.error, at.error[0].value
        time.sleep(1)
        at.run()
    else:
        pytest.fail("the new model never replaced the default one")
    assert "1 epochs" in captions
    assert not at.exception
    metrics = {m.label: m.value for m in at.sidebar.metric}
    assert float(metrics["test −ELBO"]) > 137  # a 1-epoch, 64-wide model: not the default
    # The second request for the same settings loads from the cache at once.
    at2 = run_app()
    at2.selectbox(key="width").set_value(64)
    at2.number_input(key="epochs").set_value(1)
    at2.sidebar.button[0].click().run()
    assert "hidden [64, 64]" in " ".join(c.value for c in at2.sidebar.caption)
