"""The page explores a model while it trains (explorer.preview), through AppTest."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from explorer import model_requests, payload, server
from explorer.tabs import TABS
from tests.test_app import APP, showing, view_data, wait_for
from training import cache_key
from training.job import RUNNING

pytestmark = pytest.mark.usefixtures("no_training_left")


def banner(at: AppTest) -> str:
    try:
        return " ".join(i.value for i in at.get_by_key("preview").info)
    except KeyError:
        return ""


@pytest.mark.slow
def test_a_training_model_is_explored_from_its_first_epoch_then_replaced_by_the_finished_one(
    monkeypatch,
):
    monkeypatch.setattr(model_requests, "REFRESH_SECONDS", 0.0)  # adopt every epoch's snapshot
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"z1": "0.5", "z2": "-0.3"})
    at.run()
    at.selectbox(key="width").set_value(64)
    at.number_input(key="epochs").set_value(8)
    at.sidebar.button[0].click().run()
    [settings] = at.session_state["requests"]
    key = cache_key(*settings.configs())
    wait_for(at, lambda at: "@epoch" in view_data(at)["model_id"])
    shown = view_data(at)["model_id"]
    header, _ = payload.unpack(at.get_by_key("latent_data").proto.bytes)
    epoch = header["snapshot"]["epoch"]
    assert shown.startswith(f"{key}@epoch{epoch}.") and 1 <= epoch < 8
    assert header["model_id"] == shown and header["snapshot"]["epochs"] == 8
    assert f"Training: epoch {epoch} of 8" in banner(at)
    assert "(still training)" in showing(at) and "Training now: epoch" in showing(at)
    assert at.query_params["width"] == "64"  # a shared link joins the same training
    assert view_data(at)["z"] == [0.5, -0.3]
    # Every lens works on the snapshot (the tabs that run only while open).
    for tab in TABS[1:-1]:
        at.session_state["tab"] = tab
        at.run()
        assert not at.exception, (tab, at.exception)
    at.session_state["tab"] = "Latent plane"
    at.run()
    # "Show the previous model" turns the preview off; the sidebar brings it back.
    at.button(key="preview_stop").click().run()
    assert "@epoch" not in view_data(at)["model_id"] and not banner(at)
    assert "hidden [512, 512, 512]" in showing(at)
    [again] = [b for b in at.sidebar.button if b.label == "Explore it while it trains"]
    again.click().run()
    job = server.training_queue().job(key)
    if job.state == RUNNING:
        assert "@epoch" in view_data(at)["model_id"]
    # The finished model takes the snapshot's place, z kept.
    wait_for(at, lambda at: view_data(at)["model_id"] == key)
    assert not banner(at) and "hidden [64, 64]" in showing(at)
    assert "(still training)" not in showing(at) and "Trained on a CPU" in showing(at)
    assert view_data(at)["z"] == [0.5, -0.3]
    assert "snapshot" not in payload.unpack(at.get_by_key("latent_data").proto.bytes)[0]
    assert json.loads(at.get_by_key("latent_scatter").proto.bytes)["model_id"] == key


@pytest.mark.slow
def test_a_finished_model_asked_for_or_a_cancel_takes_the_snapshot_off_the_page():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.selectbox(key="width").set_value(64)
    at.number_input(key="epochs").set_value(60)
    at.sidebar.button[0].click().run()
    wait_for(at, lambda at: "@epoch" in view_data(at)["model_id"])
    # Asking for a finished model meanwhile shows it; the training goes on in the sidebar.
    at.selectbox(key="width").set_value(256)
    at.number_input(key="epochs").set_value(25)
    at.sidebar.button[0].click().run()
    assert "@epoch" not in view_data(at)["model_id"] and not banner(at)
    assert len(at.session_state["requests"]) == 1
    [b for b in at.sidebar.button if b.label == "Cancel"][0].click().run()
    assert not at.exception, at.exception
    assert "@epoch" not in view_data(at)["model_id"] and not banner(at)
    assert "hidden [256, 256]" in showing(at) and not at.session_state["requests"]
