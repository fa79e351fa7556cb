"""The page around the latent view through Streamlit's AppTest: presentation mode from the
header's switch and from a link, and the pictures' text alternatives in the page's language."""

import pytest

from tests.test_app import run_app

pytestmark = pytest.mark.usefixtures("no_training_left")


def presenting(at) -> bool:
    """Whether the page carries the presentation mode's style: the latent view's text scaled."""
    return any("--lv-scale: 1.5" in h.proto.body for h in at.get("html"))


def selection_alts(at) -> list[str]:
    return [
        img.alt for image in at.get_by_key("selection").get("image") for img in image.proto.imgs
    ]


def test_the_present_switch_gives_the_plane_the_screen_and_the_link_keeps_it():
    at = run_app()
    assert not presenting(at) and "present" not in at.query_params
    at.toggle(key="present").set_value(True).run()
    assert presenting(at)
    assert at.query_params["present"] == "1"
    at.toggle(key="present").set_value(False).run()
    assert not presenting(at) and "present" not in at.query_params


def test_a_link_with_present_opens_presenting_and_a_bad_value_gets_a_notice():
    at = run_app({"present": "1"})
    assert presenting(at) and at.toggle(key="present").value
    at = run_app({"present": "yes"})
    assert not presenting(at) and not at.toggle(key="present").value
    assert "`present` must be a whole number" in " ".join(w.value for w in at.warning)
    at = run_app({"present": "2"})
    assert not presenting(at)
    assert "`present` must be one of 0, 1" in " ".join(w.value for w in at.warning)


def test_the_selected_digits_pictures_say_what_they_are_in_the_pages_language():
    at = run_app({"lang": "en"})
    assert selection_alts(at) == [
        "test image #0, a 7",
        "its reconstruction, decoded from its posterior mean",
        "the difference between the image and its reconstruction",
    ]
    at = run_app({"lang": "zh"})
    alts = selection_alts(at)
    assert len(alts) == 3 and "#0" in alts[0]
    assert all(any("\u4e00" <= c <= "\u9fff" for c in alt) for alt in alts), alts
