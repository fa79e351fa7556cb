"""The app through Streamlit's AppTest: rendering, sliders, a scatter selection, training."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from training import cache as training_cache

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def decoded_image(at: AppTest):
    images = at.get_by_key("decoded").get("image")
    assert len(images) == 1
    return images[0].proto.imgs[0].url


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
    assert at.get_by_key("latent_pad") is not None
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
    assert len(at.get_by_key("selection").get("image")) == 3  # input, reconstruction, difference
    click_point(at, row=1, curve=2)
    assert "Test image #1: a 2" in selection_text(at)
    at.button(key="goto_selected").click().run()
    z1, z2 = at.slider(key="z1").value, at.slider(key="z2").value
    assert (z1, z2) != (0.0, 0.0)
    assert f"z = ({z1:.2f}, {z2:.2f})" in at.get_by_key("decoded").markdown[0].value


def submit_settings(at: AppTest, width: int, epochs: int) -> None:
    at.selectbox(key="width").set_value(width)
    at.number_input(key="epochs").set_value(epochs)
    at.sidebar.button[0].click().run()
    assert not at.exception, at.exception


def showing(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


@pytest.mark.slow
def test_new_settings_train_once_for_two_sessions_and_switch_the_model(monkeypatch):
    calls = []
    real_train = training_cache.train

    def counting_train(*args, **kwargs):
        calls.append(args[:2])
        return real_train(*args, **kwargs)

    monkeypatch.setattr(training_cache, "train", counting_train)
    first, second = run_app(), run_app()
    submit_settings(first, width=64, epochs=3)
    submit_settings(second, width=64, epochs=3)
    seen_progress = bool(first.progress) or bool(second.progress)
    deadline = time.time() + 300
    while time.time() < deadline:
        if all("hidden [64, 64]" in showing(at) for at in (first, second)):
            break
        for at in (first, second):
            assert not at.error, at.error[0].value
            seen_progress |= bool(at.progress)
        time.sleep(0.5)
        first.run()
        second.run()
    else:
        pytest.fail("the new model never replaced the default one")
    assert len(calls) == 1  # trained once for both sessions
    assert seen_progress
    assert "3 epochs" in showing(first)
    metrics = {m.label: m.value for m in first.sidebar.metric}
    assert float(metrics["test −ELBO"]) > 137  # a 3-epoch, 64-wide model, not the default
    # The settings are cached now: a third session switches at once, without training.
    third = run_app()
    submit_settings(third, width=64, epochs=3)
    assert "hidden [64, 64]" in showing(third) and len(calls) == 1
    assert not third.progress


def test_a_failed_training_is_shown_as_an_error(monkeypatch):
    def broken(*args, **kwargs):
        raise FloatingPointError("training diverged in epoch 1")

    monkeypatch.setattr(training_cache, "train", broken)
    at = run_app()
    submit_settings(at, width=128, epochs=2)
    deadline = time.time() + 60
    while not at.error and time.time() < deadline:
        time.sleep(0.2)
        at.run()
    assert at.error and "training diverged" in at.error[0].value
    assert "hidden [512, 512]" in showing(at)  # still the default model
    at.button(key="dismiss_error").click().run()
    assert not at.error


def test_manifold_controls_rerender_the_grid_and_offer_a_png():
    at = run_app()
    download = at.get_by_key("manifold_png")
    assert download is not None
    at.slider(key="manifold_n").set_value(30).run()
    at.radio(key="manifold_spacing").set_value("linear").run()
    at.slider(key="manifold_extent").set_value(2.0).run()
    assert not at.exception
    assert at.get_by_key("manifold") is not None
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the 30×30 grid (PNG)" in labels


def overlay_data(at: AppTest) -> dict:
    return json.loads(at.get_by_key("scatter_overlay").proto.json)


def test_the_scatter_figure_stays_put_while_its_overlay_follows():
    """Streamlit re-creates a chart whose figure changes, losing zoom and legend clicks."""
    from vae_core import encode, load_model, load_split

    at = run_app()
    spec = at.get_by_key("latent_scatter").proto.spec
    assert overlay_data(at)["z"] == [0.0, 0.0] and overlay_data(at)["selected"] is None
    at.slider(key="z1").set_value(1.25).run()
    at.slider(key="z2").set_value(-0.5).run()
    click_point(at, row=0)
    assert at.get_by_key("latent_scatter").proto.spec == spec
    data = overlay_data(at)
    assert data["z"] == [1.25, -0.5]
    mu, sigma = encode(load_model(), load_split(None, "test").images[:1])
    assert data["selected"]["mu"] == pytest.approx(mu[0].tolist(), abs=1e-5)
    assert data["selected"]["sigma"] == pytest.approx(sigma[0].tolist(), abs=1e-5)
