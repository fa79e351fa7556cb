"""The page through Streamlit's AppTest: rendering, the latent point, links, training."""

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer import payload
from training import cache as training_cache
from training.process import ProcessJob
from vae_core import encode, load_model, load_split

APP = str(Path(__file__).resolve().parent.parent / "app.py")

pytestmark = pytest.mark.usefixtures("no_training_left")


def run_app(link: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in (link or {}).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def view_data(at: AppTest) -> dict:
    return json.loads(at.get_by_key("latent_scatter").proto.bytes)


def selection_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.get_by_key("selection").markdown)


def showing(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


@pytest.fixture(scope="module")
def codes():
    return encode(load_model(), load_split(None, "test").images)


def test_page_renders_the_default_model_without_training():
    at = run_app()
    for key in ("latent_scatter", "latent_data", "selection"):
        assert at.get_by_key(key) is not None, key
    metrics = {m.label: m.value for m in at.sidebar.metric}
    assert float(metrics["test −ELBO"]) <= 134.5  # the shipped full-recipe model
    assert not at.progress  # nothing is training
    assert "The shipped model: trained ahead of time on a CPU" in showing(at)
    assert "nothing was trained for this page" in showing(at)
    # The selection column is not empty on arrival: test digit 0 is selected.
    assert "Test image #0: a 7" in selection_text(at)
    assert len(at.get_by_key("selection").get("image")) == 3
    # The view gets a few hundred bytes; the model's payload goes to its own mount, as bytes.
    data = view_data(at)
    assert data["z"] == [0.0, 0.0] and data["selected"]["row"] == 0
    header, arrays = payload.unpack(at.get_by_key("latent_data").proto.bytes)
    assert header["model_id"] == data["model_id"] and len(arrays["x"]) == 10_000
    assert dict(at.query_params) == {
        "lang": "en",  # no link or browser asked for another
        "data": "mnist",
        "recipe": "full",
        "beta": "1",
        "width": "512",
        "epochs": "100",
        "seed": "0",
        "z1": "0",
        "z2": "0",
        "digit": "0",
    }


@pytest.mark.parametrize(
    ("link", "shown"),
    [
        ({"beta": "4"}, "hidden [512, 512, 512], β = 4, 100 epochs, seed 0, full recipe"),
        ({"cvae": "1"}, "conditional VAE, hidden [512, 512, 512], β = 1, 100 epochs"),
        # A lesson link made before recipes had names, for the default model then.
        (
            {"beta": "1", "width": "256", "epochs": "25", "seed": "0"},
            "hidden [256, 256], β = 1, 25 epochs, seed 0, quick recipe",
        ),
        ({"recipe": "quick", "beta": "4"}, "hidden [256, 256], β = 4, 25 epochs"),
    ],
)
def test_a_lesson_links_model_ships_and_shows_at_once(link, shown, monkeypatch):
    from training import queue

    monkeypatch.setattr(queue.TrainingQueue, "submit", lambda *a, **k: pytest.fail("trained"))
    at = run_app(link)
    at.run()  # the link's model is switched to once the page is up
    assert shown in showing(at) and "nothing was trained for this page" in showing(at)
    assert not at.session_state["requests"] and not at.progress


def test_a_fresh_page_offers_the_quick_recipe_with_each_recipes_wait():
    at = run_app()
    assert at.radio(key="recipe").value == "quick"
    assert (at.selectbox(key="width").value, at.number_input(key="epochs").value) == (256, 25)
    waits = sidebar_text(at)
    # From this server's measured step rates, which the tests' own trainings move.
    assert re.search(r"Quick: about \d+ (s|min)", waits) and re.search(r"Full: about \d", waits)
    at.radio(key="recipe").set_value("full").run()
    assert (at.selectbox(key="width").value, at.number_input(key="epochs").value) == (512, 100)
    assert at.query_params["recipe"] == "full"  # the shown model's, not the form's


def test_the_committed_point_reaches_the_view_and_the_link():
    at = run_app()
    at.session_state["z1"] = 1.25
    at.session_state["z2"] = -0.5
    at.run()
    assert view_data(at)["z"] == [1.25, -0.5]
    assert at.query_params["z1"] == "1.25" and at.query_params["z2"] == "-0.5"


def test_a_link_restores_the_point_and_the_digit(codes):
    at = run_app({"z1": "1.5", "z2": "-0.5", "digit": "42"})
    assert (at.session_state["z1"], at.session_state["z2"]) == (1.5, -0.5)
    data = view_data(at)
    assert data["z"] == [1.5, -0.5] and data["selected"]["row"] == 42
    assert data["selected"]["mu"] == pytest.approx(codes[0][42].tolist(), abs=1e-5)
    assert "Test image #42: a 4" in selection_text(at)
    assert not at.warning


def test_a_bad_link_gets_a_notice_and_the_defaults():
    at = run_app({"z1": "banana", "digit": "99999", "width": "7", "beta": "1e400"})
    notices = " ".join(w.value for w in at.warning)
    assert "`z1` must be a number" in notices and "`digit` must be between 0 and 9999" in notices
    assert "`width` must be one of 64, 128, 256, 512" in notices
    assert "`beta` must be a number" in notices
    # A link that names a width meant the quick recipe, the only one before recipes had names.
    assert view_data(at)["z"] == [0.0, 0.0] and "hidden [256, 256]" in showing(at)
    at.run()
    assert not at.warning  # said once


def test_a_link_outside_the_plane_is_clamped_to_it():
    at = run_app({"z1": "9.5", "z2": "-9.5"})
    lo, hi = payload.unpack(at.get_by_key("latent_data").proto.bytes)[0]["window"]
    assert view_data(at)["z"] == [hi, lo]
    assert view_data(at)["z_rev"] > 0  # the browser adopts a point the server moved


def test_move_here_sends_the_selected_digits_mean_to_the_view(codes):
    at = run_app({"digit": "1"})
    assert "Test image #1: a 2" in selection_text(at)
    rev = view_data(at)["z_rev"]
    at.button(key="goto_selected").click().run()
    data = view_data(at)
    assert data["z"] == pytest.approx(codes[0][1].tolist(), abs=1e-5)
    assert data["z_rev"] == rev + 1
    assert at.session_state["z1"] == pytest.approx(float(codes[0][1][0]), abs=1e-6)


def submit_settings(at: AppTest, width: int, epochs: int) -> None:
    at.selectbox(key="width").set_value(width)
    at.number_input(key="epochs").set_value(epochs)
    at.sidebar.button[0].click().run()
    assert not at.exception, at.exception


def wait_for(at: AppTest, done, timeout: float = 900) -> None:
    """Rerun the page (as its polling fragment does) until done(at) or the time is up."""
    deadline = time.time() + timeout
    while not done(at):
        assert time.time() < deadline, "timed out"
        time.sleep(0.5)
        at.run()
        assert not at.exception, at.exception


def sidebar_text(at: AppTest) -> str:
    return " ".join(
        e.value for kind in ("markdown", "caption", "error") for e in at.sidebar.get(kind)
    )


@pytest.mark.slow
def test_new_settings_train_once_for_two_sessions_and_keep_the_point(monkeypatch):
    starts = []
    real_start = ProcessJob.start

    def counting_start(job):
        starts.append(job.key)
        return real_start(job)

    monkeypatch.setattr(ProcessJob, "start", counting_start)
    first, second = run_app({"z1": "0.5", "z2": "-0.3"}), run_app()
    submit_settings(first, width=64, epochs=2)
    submit_settings(second, width=64, epochs=2)
    seen_progress = bool(first.progress) or bool(second.progress)
    deadline = time.time() + 900
    while time.time() < deadline:
        # Past the training's snapshots (explorer.preview), to the finished model.
        if all(
            "hidden [64, 64]" in showing(at) and "still training" not in showing(at)
            for at in (first, second)
        ):
            break
        for at in (first, second):
            assert not at.error, at.error[0].value
            seen_progress |= bool(at.progress)
        time.sleep(0.5)
        first.run()
        second.run()
    else:
        pytest.fail("the new model never replaced the default one")
    assert len(starts) == 1  # trained once for both sessions
    assert seen_progress
    assert "2 epochs" in showing(first)
    # z survives the switch, and the new model's metrics sit beside the previous model's.
    assert view_data(first)["z"] == [0.5, -0.3]
    assert first.query_params["width"] == "64" and first.query_params["z1"] == "0.5"
    metrics = {m.label: m for m in first.sidebar.metric}
    assert float(metrics["test −ELBO"].value) > 137  # a 2-epoch, 64-wide model
    assert metrics["test −ELBO"].proto.delta.startswith("+")
    assert "Changes against the previous model (MNIST VAE, hidden [512, 512, 512]" in showing(first)
    # The settings are cached now: a link to them switches at once, without training.
    third = run_app({"width": "64", "epochs": "2"})
    assert "hidden [64, 64]" in showing(third) and len(starts) == 1
    assert not third.progress


def test_a_failed_training_is_shown_as_an_error(monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", "/proc/no-such-cache")
    at = run_app()
    submit_settings(at, width=128, epochs=2)
    wait_for(at, lambda at: at.error)
    assert "the model cache /proc/no-such-cache failed" in at.error[0].value
    assert "VAE_EXPLORER_CACHE" in at.error[0].value
    assert "hidden [512, 512, 512]" in showing(at)  # still the default model
    dismiss = [b for b in at.sidebar.button if b.label == "Dismiss"]
    dismiss[0].click().run()
    assert not at.error and not at.session_state["requests"]


@pytest.mark.slow
def test_a_second_request_waits_in_line_with_its_estimate_and_can_be_cancelled(monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_MAX_TRAININGS", "1")
    first, second = run_app(), run_app()
    submit_settings(first, width=512, epochs=20)  # long enough to stay in the way
    # In line behind the first once that one trains: until then the two wait in Dask's line.
    wait_for(first, lambda at: bool(at.progress))
    submit_settings(second, width=64, epochs=1)
    text = sidebar_text(second)
    assert "Waiting: 1st in line" in text and "Starts in about" in text
    assert "ready in about" in text and "one model at a time" in text
    cancel = [b for b in second.sidebar.button if b.label == "Cancel"]
    cancel[0].click().run()
    assert "Waiting" not in sidebar_text(second) and not second.session_state["requests"]
    [b for b in first.sidebar.button if b.label == "Cancel"][0].click().run()
    assert not first.progress and not first.session_state["requests"]


def test_requests_over_the_servers_limits_are_refused_with_who_sets_them(monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_MAX_EPOCHS", "5")
    monkeypatch.setenv("VAE_EXPLORER_MAX_PENDING", "1")
    at = run_app()
    assert "hidden [512, 512, 512], β = 1, 100 epochs" in showing(at)  # shipped models still load
    submit_settings(at, width=64, epochs=10)
    assert "at most 5 epochs" in at.sidebar.error[0].value
    assert "VAE_EXPLORER_MAX_EPOCHS" in at.sidebar.error[0].value
    assert not at.session_state["requests"]
    submit_settings(at, width=64, epochs=5)
    assert not at.sidebar.error and len(at.session_state["requests"]) == 1
    submit_settings(at, width=128, epochs=5)
    assert "1 model waiting or training" in at.sidebar.error[0].value
    assert "VAE_EXPLORER_MAX_PENDING" in at.sidebar.error[0].value
    [b for b in at.sidebar.button if b.label == "Cancel"][0].click().run()


def test_other_views_run_only_when_their_tab_is_open():
    at = run_app()
    assert not at.get("plotly_chart")  # the first visit loads no plotly
    at.session_state["tab"] = "Training"
    at.run()
    assert at.get_by_key("model_curves") is not None
    assert at.get_by_key("latent_scatter") is not None  # the latent view always runs


def test_colouring_by_elbo_sends_each_digits_score_once_and_tells_the_view():
    from explorer.lenses import SAMPLES
    from vae_core import elbo_terms, load_split

    at = run_app()
    assert view_data(at)["colour_by"] == "digit"
    with pytest.raises(KeyError):  # nothing to send until asked
        at.get_by_key("latent_scores")
    at.session_state["colour_by"] = "elbo"
    at.run()
    assert not at.exception, at.exception
    assert view_data(at)["colour_by"] == "elbo"
    header, arrays = payload.unpack(at.get_by_key("latent_scores").proto.bytes)
    model = load_model()
    scores = elbo_terms(model, load_split(None, "test").images, samples=SAMPLES)["neg_elbo"]
    np.testing.assert_allclose(arrays["scores"], scores, rtol=1e-6)
    assert header["low"] == pytest.approx(np.percentile(scores, 1))
    assert header["high"] == pytest.approx(np.percentile(scores, 99))


def test_manifold_controls_rerender_the_grid_and_offer_a_png():
    at = run_app()
    at.session_state["tab"] = "Manifold"
    at.run()
    assert at.get_by_key("manifold") is not None
    at.slider(key="manifold_n").set_value(30).run()
    at.radio(key="manifold_spacing").set_value("linear").run()
    at.slider(key="manifold_extent").set_value(2.0).run()
    at.toggle(key="manifold_on_plane").set_value(True).run()
    assert not at.exception
    assert at.get_by_key("manifold") is not None
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the 30×30 grid (PNG)" in labels


@pytest.mark.slow
def test_a_model_removed_from_the_cache_trains_again_while_the_default_is_shown(
    isolated_cache,
):
    from explorer.model_view import load_model

    at = run_app()
    submit_settings(at, width=64, epochs=1)
    wait_for(at, lambda at: "hidden [64, 64]" in showing(at) and "still" not in showing(at))
    for entry in isolated_cache.glob("*.pt"):
        entry.unlink()  # as pruning, or a person, would
    load_model.clear()
    at.run()
    assert not at.exception, at.exception
    assert "hidden [512, 512, 512]" in showing(at)
    assert "no longer in the server's model cache" in at.sidebar.error[0].value
    assert len(at.session_state["requests"]) == 1
    wait_for(at, lambda at: "hidden [64, 64]" in showing(at) and "still" not in showing(at))


def test_an_unreadable_shipped_model_gets_its_message_not_a_loop(monkeypatch):
    from explorer.model_view import load_model

    monkeypatch.setattr(training_cache, "_shipped_key", lambda: None)  # as if damaged
    load_model.clear()
    try:
        at = run_app()
        assert "Cannot load the model" in at.error[0].value
        assert "git checkout assets/" in at.error[0].value
    finally:
        load_model.clear()


def test_the_posterior_lens_shows_the_exact_posterior_and_ordered_bounds_for_the_selection():
    at = run_app({"digit": "30"})  # a 3 whose posterior q(z|x) misses by some 44 nats
    at.session_state["tab"] = "Posterior"
    at.run()
    assert not at.exception, at.exception
    assert at.get_by_key("posterior_lens") is not None
    assert at.get_by_key("posterior_bounds") is not None
    assert "test image #30: a 3" in " ".join(h.value for h in at.main.subheader)
    numbers = {m.label: float(m.value) for m in at.main.metric}
    log_px, elbo = numbers["exact log p(x)"], numbers["ELBO"]
    assert elbo < numbers["IWAE, k = 100"] < log_px + 0.05  # the IWAE mean, within its scatter
    gap = numbers["gap = KL(q ‖ p(z|x))"]
    assert gap > 0 and gap == pytest.approx(log_px - elbo, abs=0.011)
    at.radio(key="posterior_scale").set_value("log").run()
    assert not at.exception, at.exception
    # Another digit, another posterior.
    at.session_state["selected_row"] = 1
    at.run()
    assert "test image #1: a 2" in " ".join(h.value for h in at.main.subheader)
    assert {m.label: m.value for m in at.main.metric}["exact log p(x)"] != f"{log_px:.2f}"


def test_the_sample_tab_draws_from_the_prior_and_shows_the_trick_and_marks_the_plane(codes):
    at = run_app({"digit": "42"})
    at.session_state["tab"] = "Sample"
    at.run()
    assert not at.exception, at.exception
    subheaders = " ".join(h.value for h in at.main.subheader)
    assert "New digits from the prior" in subheaders and "test image #42 (a 4)" in subheaders
    captions = " ".join(c.value for c in at.main.caption)
    mu = codes[0][42]
    assert f"μ = ({mu[0]:.3f}, {mu[1]:.3f})" in captions and captions.count("ε = (") == 6

    def grid_picture():
        return at.get_by_key("prior_samples").get("image")[0].proto.imgs[0].url

    before = grid_picture()
    at.button(key="resample").click().run()
    assert at.session_state["sample_seed"] == 1 and grid_picture() != before
    assert view_data(at)["overlay"] is None
    at.button(key="mark_samples").click().run()
    overlay = view_data(at)["overlay"]
    assert overlay["name"] == "16 prior samples" and len(overlay["points"]) == 16
    at.button(key="mark_draws").click().run()
    overlay = view_data(at)["overlay"]
    assert len(overlay["points"]) == 6
    # The draws stay inside q(z|x): within 4σ of μ.
    sigma = codes[1][42]
    assert all(abs(z[d] - mu[d]) < 4 * sigma[d] for z in overlay["points"] for d in (0, 1))
    at.button(key="clear_marks").click().run()
    assert view_data(at)["overlay"] is None


def test_the_interpolate_tab_decodes_the_path_between_two_digits_and_offers_a_gif(codes):

    at = run_app({"digit": "42"})
    at.button(key="set_b").click().run()
    at.session_state["tab"] = "Interpolate"
    at.run()
    assert not at.exception, at.exception
    assert [h.value for h in at.main.subheader] == [
        "From test image #0 (a 7) to test image #42 (a 4)"
    ]
    for key in ("path_latent", "path_pixels"):
        assert len(at.get_by_key(key).get("image")) == 1
    at.slider(key="path_steps").set_value(5).run()
    at.button(key="mark_path").click().run()
    overlay = view_data(at)["overlay"]
    assert overlay["path"] is True and len(overlay["points"]) == 5
    assert overlay["points"][0] == pytest.approx(codes[0][0].tolist(), abs=1e-5)
    assert overlay["points"][-1] == pytest.approx(codes[0][42].tolist(), abs=1e-5)
    # A = the current point: the path now starts where z is.
    at.session_state["z1"], at.session_state["z2"] = 1.5, -0.5
    at.run()
    at.button(key="path_a_here").click().run()
    assert at.main.subheader[0].value.startswith("From the point (1.50, -0.50) to test image #42")


@pytest.mark.slow
def test_the_outliers_tab_ranks_unusual_digits_and_selects_one():
    from explorer.sections.outliers import GALLERY

    at = run_app()
    at.session_state["tab"] = "Outliers"
    at.run()
    assert not at.exception, at.exception
    gallery = [c.value for c in at.main.caption if " nats" in c.value and c.value.startswith("#")]
    assert len(gallery) == GALLERY
    scores = [float(c.split("· ")[1].split(" ")[0]) for c in gallery]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 300
    first = int(gallery[0].split(",")[0][1:])
    at.button(key=f"select_outlier_{first}").click().run()
    assert at.session_state["selected_row"] == first
    assert view_data(at)["selected"]["row"] == first
    text = next(m.value for m in at.main.markdown if "more unusual" in m.value)
    assert f"test image #{first}" in text and "more unusual than 100 % of test digits" in text
    assert at.get_by_key("outlier_histogram") is not None
    at.radio(key="outlier_ranking").set_value("exact").run()
    assert not at.exception, at.exception
    exact = [c.value for c in at.main.caption if " nats" in c.value and c.value.startswith("#")]
    exact_scores = [float(c.split("· ")[1].split(" ")[0]) for c in exact]
    assert len(exact) == GALLERY and exact_scores == sorted(exact_scores, reverse=True)
