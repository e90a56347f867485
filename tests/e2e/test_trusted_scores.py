"""End-to-end: blind scoring in real Chromium. A member opens a scored creation and sees how
many scores it has but not what they say, asks to see them, then reads how ranking works."""

import pytest

from creations.services import creation_create
from tests.creations.test_images import upload

# The fixtures `browser` and `site` come from the browser tests' module.
from tests.e2e.test_browser import (  # noqa: F401
    OUTPUT,
    PHONE,
    browser,
    has_horizontal_scroll,
    log_in,
    new_page,
    site,
)
from tests.factories import ScoreFactory, UserFactory
from tests.images import image_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_member_sees_the_scores_only_when_asking_then_reads_about_ranking(
    browser,  # noqa: F811
    site,  # noqa: F811
):
    owner = UserFactory(username="lampowner")
    creation = creation_create(owner=owner, title="Hand lamp", image=upload(image_bytes()))
    ScoreFactory(creation=creation, creativity=5, uniqueness=4)
    ScoreFactory(creation=creation, creativity=4, uniqueness=3)
    UserFactory(username="curious")

    page = new_page(browser)
    log_in(page, site, "curious")
    page.goto(f"{site}/creations/{creation.pk}/")
    scores = page.locator("#scores")
    assert "2 scores" in scores.inner_text()
    assert scores.locator(".rating").count() == 0
    assert scores.locator(".histogram").count() == 0

    page.get_by_role("button", name="Show me the scores").click()
    page.get_by_text("Here are the scores.").wait_for()
    assert page.url == f"{site}/creations/{creation.pk}/#scores"
    assert page.locator("#scores .rating").inner_text() == "★ 4.0"
    assert page.locator("#scores .histogram").count() == 2
    assert page.get_by_role("heading", name="Ranking").is_visible()
    page.screenshot(path=OUTPUT / "scores-revealed-desktop.png", full_page=True)

    page.get_by_role("link", name="How ranking works").first.click()
    page.get_by_role("heading", name="How ranking works", level=1).wait_for()
    assert page.url == f"{site}/about/ranking/"
    assert page.get_by_role("heading", name="Top rated: a Bayesian average").is_visible()
    page.context.close()

    # The page reads on a phone without scrolling sideways.
    phone = new_page(browser, PHONE)
    phone.goto(f"{site}/about/ranking/")
    phone.screenshot(path=OUTPUT / "about-ranking-phone.png", full_page=True)
    assert not has_horizontal_scroll(phone)
    phone.context.close()
