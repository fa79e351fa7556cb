"""Two models side by side: which cached models are offered, and the Compare tab."""

import json
from pathlib import Path

import pytest

from explorer.model_view import ModelSettings
from explorer.sections.compare import cached_settings, describe, settings_of
from explorer.state import DEFAULT_SETTINGS
from tests.test_manifold_classes import offered, store_model  # noqa: F401
from training import TrainingRequest, get_or_train
from training.cache import cached_path
from vae_core import VAEConfig, load_checkpoint
from vae_core.checkpoint import DEFAULT_CHECKPOINT

SMALL = ModelSettings(beta=4.0, width=64, epochs=1, seed=3)
QUICK_PAGE = {"width": "256", "epochs": "25"}  # the quick recipe's shipped model


def shipped_settings() -> set[ModelSettings]:
    """What every server offers: the default and the lesson pack."""
    return set(cached_settings(Path("/no/such/cache")))


@pytest.fixture
def small_model(isolated_cache):
    """A second model in the (test's own) cache, as the sidebar would have trained it."""
    get_or_train(TrainingRequest(*SMALL.configs(), cache_dir=isolated_cache))
    return isolated_cache


def test_settings_of_names_the_shipped_model_and_refuses_what_the_sidebar_cannot_name():
    checkpoint = load_checkpoint(DEFAULT_CHECKPOINT)[1]
    assert settings_of(checkpoint) == DEFAULT_SETTINGS
    other_lr = {
        **checkpoint,
        "extra": {
            **checkpoint["extra"],
            "train_config": {**checkpoint["extra"]["train_config"], "lr": 1e-4},
        },
    }
    assert settings_of(other_lr) is None
    wide = {**checkpoint, "config": VAEConfig(hidden=(512, 256)).to_dict()}
    assert settings_of(wide) is None


def test_cached_settings_lists_the_cache_the_pack_and_the_default(small_model):
    (small_model / "notes.txt").write_text("not a model")
    (small_model / ("0" * 20 + ".pt")).write_bytes(b"damaged")
    shipped = shipped_settings()
    assert DEFAULT_SETTINGS in shipped and ModelSettings(4.0, 256, 25, 0) in shipped
    found = cached_settings(small_model)
    assert set(found) == shipped | {SMALL} and len(found) == len(shipped) + 1
    assert found == sorted(found, key=lambda s: (s.recipe, s.conditional, s.beta, s.width))


@pytest.mark.slow
def test_the_compare_tab_shows_both_models_in_one_sync_group(small_model):
    from tests.test_app import run_app, view_data

    at = run_app(QUICK_PAGE)
    at.session_state["tab"] = "Compare"
    at.run()
    assert not at.exception, at.exception
    choices = at.selectbox(key="compare_with").options
    assert all("width" in o for o in choices) and len(choices) >= 3  # the pack's quick ones too
    at.selectbox(key="compare_with").set_value(SMALL).run()
    assert not at.exception, at.exception
    a = json.loads(at.get_by_key("compare_a").proto.bytes)
    b = json.loads(at.get_by_key("compare_b").proto.bytes)
    assert a["model_id"] == view_data(at)["model_id"] and b["model_id"] != a["model_id"]
    assert a["sync"] == b["sync"] == "compare" and a["z"] == b["z"]
    assert at.get_by_key("compare_data") is not None  # the second model's payload
    labels = [m.label for m in at.main.metric]
    assert labels.count("test −ELBO") == 2 and labels.count("KL") == 2
    assert any("β = 4, width 64, 1 epochs, seed 3" in m.value for m in at.main.markdown)


def test_models_are_compared_like_for_like_only(small_model):
    from tests.test_app import run_app

    at = run_app()  # the full recipe's default: SMALL, of the quick recipe, is not offered
    at.session_state["tab"] = "Compare"
    at.run()
    assert not at.exception, at.exception
    full = [s for s in shipped_settings() if s.recipe == "full" and s != DEFAULT_SETTINGS]
    assert at.selectbox(key="compare_with").value in full
    assert len(at.selectbox(key="compare_with").options) == len(full)
    assert "same recipe as the shown one (full)" in at.selectbox(key="compare_with").help


def test_the_compare_tab_says_how_to_get_a_second_model(monkeypatch, tmp_path):
    from explorer.sections import compare
    from tests.test_app import run_app

    monkeypatch.setattr(compare, "PACK_DIR", tmp_path / "no-pack")
    at = run_app()
    at.session_state["tab"] = "Compare"
    at.run()
    assert not at.exception, at.exception
    assert "No other model of MNIST trained by the full recipe is on this server yet" in (
        at.main.info[0].value
    )


def test_settings_of_names_the_data_and_the_conditional_flag(offered, isolated_cache):  # noqa: F811
    settings = ModelSettings(2.0, 64, 3, 7, data=offered.key, conditional=True)
    store_model(settings)
    checkpoint = load_checkpoint(cached_path(*settings.configs()))[1]
    assert checkpoint["config"]["conditional"] is True
    assert settings_of(checkpoint, offered.key) == settings
    # Of other data than these: its cache key, which holds the data's fingerprint, differs.
    assert settings_of(checkpoint, "mnist") is None
    assert describe(settings) == "β = 2, width 64, 3 epochs, seed 7, conditional"


def test_only_models_of_the_shown_data_are_offered(offered, isolated_cache):  # noqa: F811
    mnist = [
        ModelSettings(4.0, 64, 1, 3),
        ModelSettings(1.0, 64, 1, 3, conditional=True),
    ]
    others = [
        ModelSettings(4.0, 64, 1, 3, data=offered.key),
        ModelSettings(1.0, 64, 1, 3, data=offered.key, conditional=True),
    ]
    for settings in mnist + others:
        store_model(settings)
    # Plain models first, then the conditional ones; the shipped models are MNIST's.
    found = cached_settings(isolated_cache, "mnist")
    assert [s for s in found if s not in shipped_settings()] == mnist
    assert cached_settings(isolated_cache, offered.key) == others


def test_a_conditional_model_sits_beside_a_plain_one_drawing_the_chosen_class():
    from tests.test_app import run_app, view_data

    cvae = ModelSettings(1.0, 64, 1, 3, conditional=True)
    store_model(cvae)
    at = run_app({"class": "6", **QUICK_PAGE})
    at.session_state["tab"] = "Compare"
    at.run()
    at.selectbox(key="compare_with").set_value(cvae).run()
    assert not at.exception, at.exception
    a = json.loads(at.get_by_key("compare_a").proto.bytes)
    b = json.loads(at.get_by_key("compare_b").proto.bytes)
    assert a["model_id"] == view_data(at)["model_id"] and "cls" not in a
    assert b["cls"] == at.session_state["cls"] == 6
    assert any(
        "β = 1, width 64, 1 epochs, seed 3, conditional" in m.value for m in at.main.markdown
    )
    manifolds = [i.caption for e in at.main.get("image") for i in e.proto.imgs]
    assert "12×12 manifold" in manifolds and "12×12 manifold, class 6" in manifolds
    assert any("−log p(x|y)" in c.value for c in at.main.caption)
