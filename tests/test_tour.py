"""The guided tour: what each step computes, and the page it sets up (AppTest)."""

import random

import numpy as np
import pytest

from explorer import tour_steps
from explorer.model_view import ModelSettings, ModelView
from explorer.sections import tour
from explorer.tabs import TAB_KEYS, TABS
from tests.test_app import run_app, view_data


def small_view(conditional: bool = False) -> ModelView:
    mu = np.array([[0.0, 0.0], [0.2, 0.0], [3.0, 3.0], [3.2, 3.0], [-3.0, 0.0]])
    return ModelView(
        model_id="m",
        mu=mu,
        sigma=np.full_like(mu, 0.1),
        labels=np.array([1, 1, 7, 7, 2], dtype=np.uint8),
        window=(-4.0, 4.0),
        payload=b"",
        conditional=conditional,
    )


def test_the_tour_has_eight_to_twelve_steps_and_three_predictions_each_on_a_tab():
    assert 8 <= len(tour_steps.STEPS) <= 12
    assert sum(s.predict is not None for s in tour_steps.STEPS) >= 3
    assert {s.tab for s in tour_steps.STEPS} <= set(TAB_KEYS)
    assert set(tour.BODIES) == {s.key for s in tour_steps.STEPS}


def test_the_first_step_follows_the_first_seven_and_measures_a_guess_in_its_sigmas():
    view = small_view()
    assert tour_steps.target_row(view) == 2
    found = tour_steps.placement(view, 2, (3.0, 3.4))
    assert found["truth"] == (3.0, 3.0)
    assert found["distance"] == pytest.approx(0.4)
    assert found["in_sigmas"] == pytest.approx(4.0)
    assert found["centre"] == pytest.approx((3.1, 3.0))
    assert found["nearest_class"] == 7
    assert tour_steps.placement(view, 2, (-2.5, 0.1))["nearest_class"] == 2


def test_the_decoder_step_sits_halfway_between_the_two_closest_classes():
    a, b, mid = tour_steps.nearest_classes(small_view())
    assert (a, b) == (1, 2)
    assert mid == pytest.approx((-1.45, 0.0))


def test_the_beta_step_compares_with_beta_four_or_one():
    s = ModelSettings(1.0, 256, 25, 0)
    assert tour_steps.partner(s).beta == 4.0 and tour_steps.partner(s).width == 256
    assert tour_steps.partner(ModelSettings(8.0, 256, 25, 0)).beta == 1.0


def test_the_usual_or_unusual_image_comes_from_the_tail_or_the_middle():
    scores = np.arange(1000.0)
    rng = random.Random(0)
    assert all(tour_steps.pick_unusual(scores, True, rng) >= 980 for _ in range(50))
    assert all(400 <= tour_steps.pick_unusual(scores, False, rng) < 600 for _ in range(50))


def _tab(at) -> str:
    return TAB_KEYS[TABS.index(at.session_state["tab"])]


def test_next_and_back_walk_every_step_each_setting_up_its_tab_and_link():
    at = run_app({"lang": "en"})
    at.button(key="tour_toggle").click().run()
    for number, step in enumerate(tour_steps.STEPS, start=1):
        assert not at.exception, at.exception
        assert at.query_params["tour"] == str(number)
        assert _tab(at) == step.tab
        heading = at.get_by_key("tour").markdown[0].value
        assert f"Step {number} of {len(tour_steps.STEPS)}" in heading
        if step.key == "prior":
            assert view_data(at)["overlay"]["name"] == "16 prior samples"
        if step.key == "elbo":
            assert at.session_state["selected_row"] == 0  # MNIST's first test image is a 7
        if number < len(tour_steps.STEPS):
            at.button(key="tour_next").click().run()
    at.button(key="tour_back").click().run()
    assert at.session_state["tour"] == len(tour_steps.STEPS) - 1
    at.button(key="tour_next").click().run()
    at.button(key="tour_next").click().run()  # Finish
    assert at.session_state["tour"] is None and "tour" not in at.query_params


def test_a_guess_is_asked_for_then_revealed_beside_the_true_code():
    at = run_app({"lang": "en", "tour": "1"})
    at.button(key="tour_reveal").click().run()
    assert "Click your guess on the plane first." in [w.value for w in at.warning]
    at.session_state["clicked"] = (1.0, 1.0)  # what a click on the plane leaves
    at.button(key="tour_reveal").click().run()
    [success] = at.success
    assert "Its code is" in success.value and "Your guess was" in success.value
    overlay = view_data(at)["overlay"]
    assert overlay["name"] == "your guess → the code" and overlay["path"]
    assert overlay["points"][0] == [1.0, 1.0]
    assert at.session_state["selected_row"] == 0  # MNIST's first test image, a 7


def test_the_unusual_step_reveals_the_images_percentile_and_judges_the_answer():
    at = run_app(
        {"lang": "en", "tour": str(1 + [s.key for s in tour_steps.STEPS].index("unusual"))}
    )
    assert _tab(at) == "outliers"
    at.radio(key="tour_unusual_choice").set_value("unusual").run()
    at.button(key="tour_reveal").click().run()
    [success] = at.success
    assert "Its −ELBO is" in success.value
    assert success.value.startswith(("Right.", "Not this time."))


def test_the_beta_steps_second_model_ships_so_it_asks_at_once():
    at = run_app({"lang": "en", "tour": str(1 + [s.key for s in tour_steps.STEPS].index("beta"))})
    assert _tab(at) == "compare"
    assert not at.get("button") or all(b.key != "tour_train_beta" for b in at.button)
    assert at.get_by_key("tour_beta_choice") is not None


def test_the_beta_step_without_its_second_model_offers_to_train_it(monkeypatch, tmp_path):
    from explorer.model_view import load_model
    from training import cache

    monkeypatch.setattr(cache, "PACK_DIR", tmp_path / "no-pack")  # a server without the pack
    load_model.clear()  # nor the pack's models loaded by earlier tests
    try:
        at = run_app(
            {"lang": "en", "tour": str(1 + [s.key for s in tour_steps.STEPS].index("beta"))}
        )
        assert _tab(at) == "compare"
        assert any("β = 4" in i.value for i in at.info)
        assert at.button(key="tour_train_beta").label == "Train the model with β = 4"
    finally:
        load_model.clear()


def test_a_links_step_out_of_range_is_refused_with_a_notice():
    at = run_app({"lang": "en", "tour": "99"})
    assert at.session_state["tour"] is None
    assert any("`tour` must be between 1 and" in w.value for w in at.warning)


def test_the_tour_speaks_chinese():
    at = run_app({"lang": "zh", "tour": "1"})
    heading = at.get_by_key("tour").markdown[0].value
    assert "第" in heading or "步" in heading or "编码器" in heading
    assert at.button(key="tour_next").label == "下一步 →"
