"""A teacher's lesson link: the view, the open tab, the colouring and what it hides."""

from urllib.parse import parse_qs, urlparse

from explorer import state
from explorer.model_view import ModelSettings
from tests.test_app import run_app


def test_a_lesson_link_adds_the_tab_the_colouring_and_what_it_hides():
    view = state.link_of(ModelSettings(1.0, 256, 25, 0), (0.5, -1.0), 7, lang="zh")
    link = state.lesson_link(view, 1, "elbo", ["tabs", "sidebar"])
    assert link == {**view, "tab": "posterior", "colour": "elbo", "hide": "sidebar,tabs"}
    assert "hide" not in state.lesson_link(view, 0, "digit", [])
    values, notices = state.parse_link(link)
    assert not notices
    assert (values["tab"], values["colour"], values["hide"]) == (
        "posterior",
        "elbo",
        ("sidebar", "tabs"),
    )


def test_a_lesson_links_bad_values_are_refused_with_a_notice():
    values, notices = state.parse_link({"tab": "../etc", "colour": "red", "hide": "sidebar,x"})
    assert values == {}
    text = " ".join(str(n) for n in notices)
    assert "`tab` must be one of plane, posterior" in text
    assert "`colour` must be one of digit, elbo" in text
    assert "`hide` must be a comma list among sidebar, training, data, tabs" in text
    _, notices = state.parse_link({"hide": "<script>"})
    assert "`hide` must be a comma list of names" in str(notices[0])


def test_a_student_lands_on_the_lessons_tab_with_its_controls_hidden():
    at = run_app({"lang": "zh", "tab": "posterior", "colour": "elbo", "hide": "training,data"})
    assert at.session_state["tab"] == "后验" and at.session_state["colour_by"] == "elbo"
    assert not [b for b in at.sidebar.button if b.label == "加载或训练"]
    assert not at.sidebar.selectbox  # neither the data nor the width
    assert at.sidebar.metric  # the model's figures stay
    assert at.multiselect(key="lesson_hide").placeholder == "不隐藏任何控件"  # not Streamlit's


def test_the_teacher_copies_a_link_of_the_view_with_the_controls_chosen():
    at = run_app({"z1": "1.5", "z2": "-0.5", "digit": "42"})
    at.session_state["tab"] = "Sample"
    at.run()
    at.multiselect(key="lesson_hide").set_value(["sidebar", "tabs"]).run()
    [code] = [c.value for c in at.sidebar.code]
    query = parse_qs(urlparse(code).query)
    assert query["tab"] == ["sample"] and query["hide"] == ["sidebar,tabs"]
    assert (query["z1"], query["digit"], query["lang"]) == (["1.5"], ["42"], ["en"])
    # The teacher's own page hides nothing.
    assert at.sidebar.button and at.session_state["hide"] == frozenset()


def test_a_lesson_link_carries_the_tours_step():
    view = state.link_of(ModelSettings(1.0, 256, 25, 0), (0.0, 0.0), 0, tour=3)
    link = state.lesson_link(view, 2, "digit", [])
    assert link["tour"] == "3" and link["tab"] == "sample"
    values, notices = state.parse_link(link)
    assert values["tour"] == 3 and not notices
    assert "tour" not in state.link_of(ModelSettings(1.0, 256, 25, 0), (0.0, 0.0), 0)
