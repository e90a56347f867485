"""End-to-end: real Chromium, driven by Playwright, against a live server.

Screenshots go to $NPU_TEST_OUTPUT (default: test-output/ in the project) under e2e/.
Without Chromium the tests skip, except under CI=true, where they must run.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.core import mail

from accounts.models import User
from creations.models import Creation
from demo.pictures import draw_creation
from moderation.models import Report
from scoring.models import Score
from tests.factories import PASSWORD, UserFactory
from tests.images import image_bytes

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
OUTPUT = Path(os.environ.get("NPU_TEST_OUTPUT", Path(__file__).parents[2] / "test-output")) / "e2e"

# "__all__": with a read replica configured, the live server reads through it too.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must run the browser tests.")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); skipping.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
    # themselves (factories, assertions, database teardown) are still plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, transactional_db):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return live_server.url


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "hand-lamp.jpg"
    path.write_bytes(draw_creation(7))
    return path


def new_page(browser, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    return context.new_page()


def log_in(page, site, username, password=PASSWORD):
    page.goto(f"{site}/accounts/login/")
    field(page, "Username or e-mail").fill(username)
    page.get_by_label(re.compile(r"^Password:?$")).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}/")


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out.").wait_for()


def field(page, label: str):
    """The form field labelled exactly `label` (Django adds a colon to labels)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_sign_up_upload_find_score_edit_and_report(browser, site, photo):
    scorer = UserFactory(username="scorer")
    reporter = UserFactory(username="reporter")

    # A visitor signs up and uploads a creation with tags, then logs out.
    page = new_page(browser)
    page.goto(site)
    page.get_by_role("link", name="Sign up").click()
    field(page, "Username").fill("lampmaker")
    field(page, "Email").fill("lampmaker@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill("a-long-brick-password")
    page.get_by_label(re.compile(r"^Password confirmation")).fill("a-long-brick-password")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_text("Check your e-mail").wait_for()
    # The mailed link confirms the address, which uploading needs.
    page.goto(re.search(r"https?://\S+/accounts/verify/\S+/", mail.outbox[-1].body)[0])
    page.get_by_text("Your address is confirmed").first.wait_for()
    # A moderator trusts the new member, so the upload skips the review of first uploads
    # (which has tests of its own).
    User.objects.filter(username="lampmaker").update(trusted=True)
    log_in(page, site, "lampmaker", "a-long-brick-password")
    page.get_by_text("Welcome back, lampmaker.").wait_for()

    page.get_by_role("link", name="Upload").click()
    field(page, "Title").fill("Minifig hand lamp bracket")
    field(page, "Description").fill("A minifig hand holds a 1x1 round tile.\nSecond line.")
    field(page, "Tags").fill("Minifig Hand,  castle ")
    field(page, "Photo").set_input_files(photo)
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Your creation is published. Tags: minifig hand, castle.").wait_for()
    creation = Creation.objects.get(title="Minifig hand lamp bracket")
    assert page.url == f"{site}/creations/{creation.pk}/"
    assert page.get_by_role("img", name="Minifig hand lamp bracket").is_visible()
    log_out(page)

    # A second member finds it by tag, scores it, sees the rating, changes the score.
    log_in(page, site, scorer.username)
    page.get_by_role("link", name="Tags", exact=True).click()
    page.get_by_role("link", name=re.compile(r"^minifig hand")).click()
    page.get_by_role("link", name="Minifig hand lamp bracket").click()
    page.get_by_text("Not scored yet").first.wait_for()
    page.locator("label[for=id_creativity_3]").click()  # 4
    page.locator("label[for=id_uniqueness_4]").click()  # 5
    page.get_by_role("button", name="Save my score").click()
    page.get_by_text("Your score is saved.").wait_for()
    assert page.locator(".detail .rating").inner_text() == "★ 4.5"
    assert page.get_by_label("4 out of 5 for creativity").is_checked()

    page.locator("label[for=id_creativity_1]").click()  # 2
    page.locator("label[for=id_uniqueness_1]").click()  # 2
    page.get_by_role("button", name="Change my score").click()
    page.get_by_text("Your score is updated.").wait_for()
    assert page.locator(".detail .rating").inner_text() == "★ 2.0"
    assert Score.objects.get(creation=creation).creativity == 2
    log_out(page)

    # The owner edits the title.
    log_in(page, site, "lampmaker", "a-long-brick-password")
    page.goto(f"{site}/creations/{creation.pk}/")
    page.get_by_role("link", name="Edit").click()
    field(page, "Title").fill("Minifig hand as a lamp bracket")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("heading", name="Minifig hand as a lamp bracket").wait_for()
    log_out(page)

    # A third member reports it.
    log_in(page, site, reporter.username)
    page.goto(f"{site}/creations/{creation.pk}/")
    page.get_by_role("link", name="Report this creation").click()
    page.get_by_label("Stolen (not the uploader's work)").check()
    page.get_by_role("button", name="Send report").click()
    page.get_by_text("Thank you. A moderator will look at it.").wait_for()
    report = Report.objects.get()
    assert (report.reporter, report.reason) == (reporter, "stolen")

    # Screenshots of the gallery and the creation page, phone and desktop sized.
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        viewer = new_page(browser, viewport)
        for page_name, path in (("gallery", "/"), ("creation", f"/creations/{creation.pk}/")):
            viewer.goto(f"{site}{path}")
            viewer.wait_for_load_state("networkidle")
            viewer.screenshot(path=OUTPUT / f"{page_name}-{name}.png", full_page=True)
            if viewport is PHONE:
                assert not has_horizontal_scroll(viewer), f"{path} scrolls sideways on a phone"
        viewer.context.close()
    page.context.close()


def test_keyboard_users_can_skip_to_content_and_score(browser, site):
    owner = UserFactory(username="keyowner")
    from creations.services import creation_create
    from tests.creations.test_images import upload

    creation = creation_create(owner=owner, title="Keyboard test", image=upload(image_bytes()))
    member = UserFactory(username="keyboarder")

    page = new_page(browser, PHONE)
    log_in(page, site, member.username)
    page.goto(f"{site}/creations/{creation.pk}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.get_by_label("3 out of 5 for creativity").focus()
    page.keyboard.press("Space")
    page.get_by_label("4 out of 5 for uniqueness").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save my score").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Your score is saved.").wait_for()
    score = Score.objects.get()
    assert (score.creativity, score.uniqueness) == (3, 4)
    assert not has_horizontal_scroll(page)
    page.context.close()


def test_swagger_ui_renders_and_runs_a_request_under_the_sites_csp(browser, site, transactional_db):
    page = new_page(browser)
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    response = page.goto(f"{site}/api/v1/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title").filter(has_text="NPU API").wait_for()
    operation = page.locator("#operations-creations-creations_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    operation.locator(".responses-table .response-col_status").filter(
        has_text="200"
    ).first.wait_for()
    page.screenshot(path=OUTPUT / "swagger-ui.png")
    assert blocked == []
