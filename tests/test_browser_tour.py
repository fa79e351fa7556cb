"""The guided tour in headless Chromium: opened from the header, a guess clicked on the plane
and revealed, Next and Back setting the page up, and the step resumed from the link."""

import pytest

from benchmarks import latent_page as lp
from tests.test_browser import chromium, open_page, server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("tour_cache")


def _step(page, number: int) -> None:
    page.locator(".st-key-tour").get_by_text(f"Step {number} of 10").wait_for(timeout=60_000)
    page.wait_for_function(f"() => location.search.includes('tour={number}')", timeout=20_000)


# What the server holds of the plane, as the view shows it: the committed z and the selected
# test image.
HELD = f"[{lp.VIEW_DATA}.committed, ({lp.VIEW_DATA}.inset || '').split(',')[0]]"


def _guess(page, z: tuple[float, float]) -> None:
    """Click the learner's guess at z on the plane, until the server holds it: a click on empty
    plane commits z, one on a test image's code selects that image."""
    lp.wait_run_finished(page)  # the plane laid out below the run's warning
    held = page.evaluate(f"() => {HELD}")
    page.mouse.click(*lp.pixel(page, *z))
    page.wait_for_function(
        f"(held) => {{ const [z, row] = {HELD}; return z !== held[0] || row !== held[1]; }}",
        arg=held,
        timeout=20_000,
    )


def test_the_tour_asks_for_a_guess_reveals_it_and_walks_on_from_the_link(server, chromium):  # noqa: F811
    page = open_page(chromium, f"{server}/?lang=en")
    try:
        page.get_by_role("button", name="🎓 Guided tour").click()
        _step(page, 1)
        tour = page.locator(".st-key-tour")
        tour.get_by_role("button", name="Reveal").click()
        tour.get_by_text("Click your guess on the plane first.").wait_for(timeout=20_000)
        _guess(page, (2.0, 2.0))
        tour.get_by_role("button", name="Reveal").click()
        tour.get_by_text("Your guess was").wait_for(timeout=20_000)
        page.wait_for_function(
            f"() => ({lp.VIEW_DATA}.overlay || '').startsWith('your guess → the code:2')",
            timeout=20_000,
        )
        tour.get_by_role("button", name="Next →").click()
        _step(page, 2)
        tour.get_by_text("halfway between the mean codes").wait_for(timeout=20_000)
        tour.get_by_role("button", name="Next →").click()
        _step(page, 3)
        page.get_by_role("tab", name="Sample", selected=True).wait_for(timeout=20_000)
        # The view draws the step's marks once its tab is shown (out of sight it draws nothing):
        # a look at the plane, then back to the step's tab.
        page.get_by_role("tab", name="Latent plane").click()
        page.wait_for_function(
            f"() => {lp.VIEW_DATA}.overlay === '16 prior samples:16'", timeout=20_000
        )
        page.get_by_role("tab", name="Sample").click()
        page.get_by_role("tab", name="Sample", selected=True).wait_for(timeout=20_000)
        tour.get_by_role("button", name="← Back").click()
        _step(page, 2)
        page.get_by_role("tab", name="Latent plane", selected=True).wait_for(timeout=20_000)
        page.reload()  # the link resumes the step
        _step(page, 2)
        page.get_by_role("button", name="✕ Close the tour").click()
        page.locator(".st-key-tour").wait_for(state="detached", timeout=20_000)
        page.wait_for_function("() => !location.search.includes('tour=')", timeout=20_000)
    finally:
        page.context.close()
