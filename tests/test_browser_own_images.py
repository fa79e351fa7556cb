"""Your own images end to end in headless Chromium (issue 32): a zip of three classes made
here is uploaded, previewed, trained on; the plane's legend names its classes, hover decodes,
a student's drawing reaches a class board on that data, and a reload restores the view from
the link alone. The helpers are test_browser's and test_browser_board's."""

import io
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from benchmarks import latent_page as lp
from benchmarks.own_images import shapes_zip
from deploy import launch
from tests.test_browser import chromium, open_page  # noqa: F401 (a fixture)
from tests.test_browser_access import (  # noqa: F401 (a fixture)
    DESKTOP,
    PHONE,
    assert_no_serious_violation,
    axe_source,
)
from tests.test_browser_board import open_board, send_drawing, wait_items

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CLASSES = ("bar", "circle", "cross")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    cache = tmp_path_factory.mktemp("own_cache")
    with launch.streamlit_server({"VAE_EXPLORER_CACHE": str(cache)}) as (url, _):
        yield url


def test_a_zip_of_three_classes_is_previewed_trained_explored_and_shared(server, chromium):  # noqa: F811
    teacher = open_page(chromium, f"{server}/?lang=en&width=64&epochs=2")
    student = None
    try:
        default_id = lp.attribute(teacher, "model-id")
        teacher.get_by_role("button", name="📤 Your own images…").click()
        dialog = teacher.get_by_role("dialog")
        dialog.locator("input[type=file]").set_input_files(
            files=[
                {
                    "name": "shapes.zip",
                    "mimeType": "application/zip",
                    "buffer": shapes_zip(40, CLASSES, extras=True),
                }
            ]
        )
        # The preview: the classes by their folders' names, the split, what was left out.
        dialog.get_by_text("3 classes").wait_for(timeout=60_000)
        table = dialog.locator("[data-testid=stTable]").first.inner_text()
        assert all(name in table for name in CLASSES)
        dialog.get_by_text("1 file left out").click()
        dialog.get_by_text("notes.txt").wait_for()
        assert "__MACOSX" not in dialog.inner_text()
        dialog.get_by_role("button", name="Train a VAE on these pictures").click()
        dialog.wait_for(state="detached", timeout=30_000)

        # Trained and shown, explorable as MNIST: the legend names the classes, hover decodes.
        legend = teacher.locator(f"{lp.VIEW} .legend")
        legend.filter(has_text="circle").wait_for(timeout=240_000)
        teacher.wait_for_function(
            f"() => !({lp.VIEW_DATA}.modelId || '@').includes('@')", timeout=240_000
        )
        lp.wait_run_finished(teacher)
        assert all(name in legend.inner_text() for name in CLASSES)
        assert lp.attribute(teacher, "model-id") != default_id
        draws = int(lp.attribute(teacher, "draws"))
        teacher.mouse.move(*lp.pixel(teacher, 0.5, -0.5))
        teacher.wait_for_function(f"() => Number({lp.VIEW_DATA}.draws) > {draws}")
        own_id = lp.attribute(teacher, "model-id")
        teacher.wait_for_function("() => location.search.includes('data=own-')", timeout=20_000)
        data = parse_qs(urlsplit(teacher.url).query)["data"][0]
        assert data.startswith("own-") and len(data) == 20

        # A reload restores the view from the link alone.
        teacher.goto(teacher.url)
        lp.wait_until_ready(teacher)
        teacher.wait_for_function(f"() => {lp.VIEW_DATA}.modelId === '{own_id}'", timeout=60_000)

        # A class board on that data: a student's drawing reaches the teacher's plane.
        join = open_board(teacher)
        assert f"data={data}" in join
        student = open_page(chromium, f"{server}/?{join}&lang=en")
        student.wait_for_function(f"() => {lp.VIEW_DATA}.modelId === '{own_id}'", timeout=60_000)
        send_drawing(student, "Ada")
        wait_items(teacher, 1)
    finally:
        teacher.context.close()
        if student is not None:
            student.context.close()


@pytest.mark.parametrize(
    "lang, context", [("en", DESKTOP), ("zh", PHONE)], ids=["desktop-english", "phone-chinese"]
)
def test_the_dialog_and_its_preview_pass_axe_and_the_keyboard_reaches_the_train_button(
    axe_source,  # noqa: F811
    server,
    chromium,  # noqa: F811
    lang,
    context,
):
    page = chromium.new_context(**context).new_page()
    try:
        page.goto(f"{server}/?lang={lang}")
        lp.wait_until_ready(page)
        lp.wait_run_finished(page)
        if context is PHONE:  # the sidebar starts closed on a phone
            page.get_by_test_id("stExpandSidebarButton").click()
        page.locator(".st-key-own_open button").click()
        dialog = page.get_by_role("dialog")
        dialog.locator("input[type=file]").set_input_files(
            files=[{"name": "s.zip", "mimeType": "application/zip", "buffer": shapes_zip(12)}]
        )
        dialog.locator("[data-testid=stTable]").first.wait_for(timeout=60_000)
        assert_no_serious_violation(page, axe_source, f"the own images dialog, {lang}")
        train = dialog.locator(".st-key-own_train button")
        for _ in range(40):  # Tab, from the dialog's start, until the train button has focus
            page.keyboard.press("Tab")
            if train.evaluate("b => b === document.activeElement"):
                break
        else:
            pytest.fail("Tab never reached the train button")
    finally:
        page.context.close()


def test_on_a_phone_pictures_are_added_a_class_at_a_time(server, chromium):  # noqa: F811
    from benchmarks.own_images import shape

    rng = np.random.default_rng(1)

    def pictures(kind: str, n: int = 12) -> list[dict]:
        files = []
        for i in range(n):
            encoded = io.BytesIO()
            shape(kind, rng).save(encoded, format="PNG")
            files.append(
                {"name": f"IMG_{i}.png", "mimeType": "image/png", "buffer": encoded.getvalue()}
            )
        return files

    page = chromium.new_context(**PHONE).new_page()
    try:
        page.goto(f"{server}/?lang=en")
        lp.wait_until_ready(page)
        lp.wait_run_finished(page)
        page.get_by_test_id("stExpandSidebarButton").click()
        page.locator(".st-key-own_open button").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("A class at a time").click()
        for count, kind in enumerate(("circle", "cross"), start=1):
            name = dialog.get_by_label("Class name")
            name.fill(kind)
            name.press("Enter")
            dialog.locator("input[type=file]").set_input_files(files=pictures(kind))
            add = dialog.get_by_role("button", name="Add to the class")
            page.wait_for_function(
                "() => [...document.querySelectorAll('[role=dialog] button')]"
                ".some(b => b.innerText.includes('Add to the class') && !b.disabled)",
                timeout=30_000,
            )
            add.click()
            dialog.get_by_text(f"{kind}: 12 pictures").wait_for(timeout=30_000)
            if count == 1:
                dialog.get_by_text("Add a second class").wait_for()
        dialog.get_by_role("button", name="Preview these classes").click()
        dialog.get_by_text("2 classes").wait_for(timeout=60_000)
        table = dialog.locator("[data-testid=stTable]").first.inner_text()
        assert "circle" in table and "cross" in table
        dialog.get_by_role("button", name="Train a VAE on these pictures").wait_for()
    finally:
        page.context.close()
