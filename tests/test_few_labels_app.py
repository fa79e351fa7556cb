"""The Few labels tab through Streamlit's AppTest: the chart, the table, the marks."""

import json

import numpy as np
import pytest

from explorer.model_view import ModelSettings
from explorer.sections.few_labels import ERRORS_A_ROW, MOST_MARKS, errors_by_class, usable_ks
from tests.test_app import run_app, view_data
from tests.test_manifold_classes import (  # noqa: F401
    CLASSES,
    offered,
    open_tab,
    store_model,
)
from vae_core import encode, load_model, load_split
from vae_core.few_labels import KS, labelled_subset


@pytest.fixture(scope="module")
def page():
    at = run_app()
    at.session_state["tab"] = "Few labels"
    at.run()
    assert not at.exception, at.exception
    return at


def table_rows(at) -> dict[int, list[float]]:
    table = next(m.value for m in at.main.markdown if m.value.startswith("| labels a class"))
    rows = [line.strip("| ").split(" | ") for line in table.splitlines()[2:]]
    return {int(r[0]): [float(v.rstrip(" %")) for v in r[1:]] for r in rows}


def test_the_tab_charts_and_tabulates_accuracy_against_k_for_codes_and_pixels(page):
    spec = json.loads(page.get_by_key("few_labels_chart").proto.spec)
    lines = {trace["name"]: trace for trace in spec["data"]}
    assert set(lines) == {"codes · kNN", "codes · logistic", "pixels · kNN", "pixels · logistic"}
    assert spec["layout"]["xaxis"]["type"] == "log"
    figures = table_rows(page)
    assert list(figures) == list(KS)
    for column, name in enumerate(lines):
        assert lines[name]["x"] == list(KS)
        assert lines[name]["y"] == pytest.approx([figures[k][column] for k in KS], abs=0.05)
    # With one label a class the codes read far more digits than the pixels.
    codes_knn, _, pixels_knn, _ = figures[1]
    assert codes_knn > pixels_knn + 5
    assert all(10 < v < 100 for row in figures.values() for v in row)


def test_the_labelled_images_are_marked_on_the_plane_at_their_codes(page):
    at = page
    at.select_slider(key="few_k").set_value(5).run()
    at.button(key="mark_labelled").click().run()
    assert not at.exception, at.exception
    overlay = view_data(at)["overlay"]
    assert overlay["name"] == "labelled images, k = 5" and overlay["path"] is False
    train = load_split(None, "train")
    rows = labelled_subset(train.labels, 5, seed=0)
    expected = encode(load_model(), train.images[rows])[0]
    assert np.array(overlay["points"]) == pytest.approx(expected, abs=1e-3)
    assert "Marked on the latent plane: labelled images, k = 5." in [
        c.value for c in at.main.caption
    ]
    # Another seed, other images.
    at.number_input(key="few_seed").set_value(1).run()
    at.button(key="mark_labelled").click().run()
    assert np.array(view_data(at)["overlay"]["points"]) != pytest.approx(expected, abs=1e-3)
    at.button(key="few_clear_marks").click().run()
    assert view_data(at)["overlay"] is None


def test_the_misread_digits_show_their_reading_on_hover_and_are_marked(page):
    at = page
    at.number_input(key="few_seed").set_value(0).run()
    at.select_slider(key="few_k").set_value(100).run()
    at.radio(key="few_classifier").set_value("logistic").run()
    assert not at.exception, at.exception
    heading = next(m.value for m in at.main.markdown if "gets wrong" in m.value)
    wrong = int(heading.split(": ")[1].split(" of ")[0].replace(",", ""))
    accuracy = table_rows(at)[100][1]  # codes · logistic
    assert wrong == pytest.approx(10_000 * (1 - accuracy / 100), abs=5)
    spec = json.loads(at.get_by_key("few_labels_errors").proto.spec)
    hover = spec["data"][1]["hovertext"]
    assert len(hover) == 10 * ERRORS_A_ROW  # every class has that many misread digits
    labels = load_split(None, "test").labels
    for text in hover:  # "test #123: a 4, read as 9"
        row = int(text.split("#")[1].split(":")[0])
        true, read = text.split(": a ")[1].split(", read as ")
        assert int(true) == labels[row] != int(read)
    at.button(key="mark_misread").click().run()
    overlay = view_data(at)["overlay"]
    assert wrong > MOST_MARKS  # a 2-D code's linear classifier misreads a quarter
    assert overlay["name"] == f"the first {MOST_MARKS} of {wrong:,} misread by logistic, k = 100"
    assert len(overlay["points"]) == MOST_MARKS


def test_errors_by_class_takes_each_classs_first_misread_rows():
    labels = np.array([0, 1, 0, 1, 0, 2, 2])
    predicted = np.array([1, 1, 2, 0, 0, 2, 0])
    assert errors_by_class(labels, predicted, 1, 3) == [[0], [3], [6]]
    assert errors_by_class(labels, predicted, 5, 3)[0] == [0, 2]
    assert errors_by_class(labels, predicted, 5, 4)[3] == []  # a class with no test image


def test_only_the_ks_every_class_can_give_are_offered():
    assert usable_ks(np.repeat([0, 1, 2], [100, 250, 120])) == KS
    assert usable_ks(np.repeat([0, 1, 2], [99, 250, 120])) == (1, 5, 10)
    assert usable_ks(np.repeat([0, 1], [3, 9])) == (1,)


def test_a_conditional_model_is_refused_with_the_reason_and_what_to_do():
    cvae = ModelSettings(1.0, 64, 1, 3, conditional=True)
    store_model(cvae)
    at = open_tab(cvae, "Few labels")
    [info] = at.main.info
    assert "conditional VAE" in info.value and "Pick a plain model in the sidebar" in info.value
    with pytest.raises(KeyError):
        at.get_by_key("few_labels_chart")


def test_other_data_are_read_class_by_class_in_their_own_words(offered):  # noqa: F811
    settings = ModelSettings(1.0, 64, 1, 3, data=offered.key)
    store_model(settings)
    at = open_tab(settings, "Few labels")
    train = load_split(offered.directory, "train")
    # Fewer than 100 training images of some class: k stops where every class can give it.
    assert np.bincount(train.labels).min() < 100
    assert list(table_rows(at)) == list(usable_ks(train.labels)) == [1, 5, 10]
    assert any(c.value.endswith("Chance is 33.3 %.") for c in at.main.caption)
    heading = next(m.value for m in at.main.markdown if "gets wrong" in m.value)
    assert heading.startswith("**The test images the codes' kNN gets wrong")
    spec = json.loads(at.get_by_key("few_labels_errors").proto.spec)
    assert spec["layout"]["yaxis"]["ticktext"] == list(CLASSES)
    test = load_split(offered.directory, "test")
    for text in spec["data"][1]["hovertext"]:  # "test #12: two, read as zero"
        row = int(text.split("#")[1].split(":")[0])
        true, read = text.split(": ")[1].split(", read as ")
        assert true == CLASSES[test.labels[row]] != read and read in CLASSES
