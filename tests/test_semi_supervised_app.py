"""The semi-supervised VAE (M2) through the page (AppTest): the sidebar's kind and labels, the
link, the Few labels tab's accuracy beside the paper's, the drawing pad's q(y|x)."""

import shutil

import numpy as np
import pytest

from explorer.model_view import ModelSettings
from tests.test_app import run_app, showing
from training import TrainingRequest, get_or_train
from training.cache import cached_path, load_cached
from vae_core import classify, load_split

M2 = ModelSettings(beta=1.0, width=64, epochs=1, seed=0, labelled=100)
LINK = {"labels": "100", "width": "64", "epochs": "1", "recipe": "quick"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def m2_entry(tmp_path_factory):
    """The M2 of M2's settings, trained once for the module: its cache entry's file."""
    cache = tmp_path_factory.mktemp("m2_cache")
    get_or_train(TrainingRequest(*M2.configs(), cache_dir=cache))
    return cached_path(*M2.configs(), cache_dir=cache)


def trained(entry, cache):
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copy(entry, cache / entry.name)


def test_m2_settings_are_conditional_and_name_their_labels():
    assert M2.conditional and M2.configs()[0].semi_supervised and M2.configs()[0].labelled == 100
    assert "semi-supervised VAE (M2, 100 labels)" in M2.describe()


def test_the_few_labels_tab_scores_m2s_classifier_beside_the_paper(m2_entry, isolated_cache):
    trained(m2_entry, isolated_cache)
    at = run_app({**LINK, "tab": "few_labels"})
    assert "semi-supervised VAE (M2, 100 labels)" in showing(at)
    assert at.sidebar.selectbox(key="kind").value == "semi"
    assert at.sidebar.selectbox(key="labelled").value == 100
    assert at.query_params["labels"] == "100" and at.query_params["cvae"] == "1"
    model, checkpoint = load_cached(*M2.configs())
    test = load_split(None, "test")
    accuracy = float(np.mean(classify(model, test.images).argmax(1) == test.labels))
    assert checkpoint["metrics"]["test_accuracy"] == pytest.approx(accuracy)
    metric = next(m for m in at.metric if "q(y|x)" in m.label)
    assert metric.value == f"{100 * accuracy:.1f} %"
    table = next(m.value for m in at.markdown if "M2, Kingma et al." in m.value)
    rows = {line.split("|")[1].strip(): line for line in table.splitlines()[2:]}
    assert list(rows) == ["100", "600", "1,000", "3,000"]
    assert f"**{100 * accuracy:.1f} %**" in rows["100"] and "88.0 %" in rows["100"]
    assert "| – |" in rows["600"]  # no M2 of 600 labels on this server
    assert "M1 classifies from codes" not in " ".join(i.value for i in at.info)


def test_the_pad_shows_what_m2s_classifier_reads_a_drawing_as(m2_entry, isolated_cache):
    trained(m2_entry, isolated_cache)
    at = run_app(LINK)
    at.toggle(key="drawing").set_value(True).run()
    test = load_split(None, "test")
    at.session_state["drawn"] = test.images[0].tobytes()
    at.run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.get_by_key("draw_result").markdown)
    probs = classify(load_cached(*M2.configs())[0], test.images[:1])[0]
    best = int(probs.argmax())
    assert f"Its classifier q(y|x) reads it as **{best}** {100 * probs[best]:.0f} %" in text


def test_the_sidebar_trains_m2_of_the_labels_chosen(isolated_cache, monkeypatch):
    asked = []

    class Queue:
        def submit(self, model_config, train_config, data_dir, waiter):
            asked.append(model_config)
            from training.queue import LimitError

            raise LimitError("the test's queue trains nothing")

        def expected_seconds(self, model_config, train_config):
            return 60.0 * (10 if model_config.semi_supervised else 1)

    monkeypatch.setattr("explorer.model_requests.training_queue", lambda: Queue())
    monkeypatch.setattr("explorer.sections.sidebar.training_queue", lambda: Queue())
    at = run_app()
    assert any("(M2) reads every image once for each class" in c.value for c in at.sidebar.caption)
    at.sidebar.selectbox(key="kind").set_value("semi")
    at.sidebar.selectbox(key="labelled").set_value(600)
    at.sidebar.button[0].click().run()
    assert not at.exception, at.exception
    assert asked and asked[-1].semi_supervised and asked[-1].labelled == 600
