"""End-to-end: a visitor signs up in real Chromium, may browse but not upload until they open
the link mailed to them (read from the test mail outbox), and then sees the upload form."""

import re

import pytest
from django.core import mail

from accounts.models import User

# The fixtures `browser` and `site` come from the browser tests' module.
from tests.e2e.test_browser import (  # noqa: F401
    OUTPUT,
    browser,
    field,
    log_in,
    new_page,
    site,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]

PASSWORD = "a-long-brick-password"


def test_sign_up_log_in_confirm_the_address_then_upload(browser, site):  # noqa: F811
    page = new_page(browser)
    page.goto(site)
    page.get_by_role("link", name="Sign up").click()
    field(page, "Username").fill("verifier")
    field(page, "Email").fill("verifier@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"^Password confirmation")).fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    page.screenshot(path=OUTPUT / "signup-check-your-mail.png")
    assert not User.objects.get(username="verifier").email_verified

    # Logged in, the member is told to confirm the address instead of seeing the form.
    log_in(page, site, "verifier", PASSWORD)
    page.get_by_role("link", name="Upload").click()
    page.get_by_text("is not confirmed yet").wait_for()
    assert page.get_by_role("button", name="Send the link again").is_visible()
    assert page.get_by_role("button", name="Publish").count() == 0
    page.screenshot(path=OUTPUT / "upload-needs-a-confirmed-address.png")

    # The link from the mail confirms it; the upload page then shows the form.
    (message,) = mail.outbox
    assert message.to == ["verifier@example.com"]
    link = re.search(r"https?://\S+/accounts/verify/\S+/", message.body)[0]
    page.goto(link)
    page.get_by_role("heading", name="Your address is confirmed").wait_for()
    page.get_by_role("link", name="Upload a creation").click()
    page.wait_for_url(f"{site}/creations/new/")
    field(page, "Title").wait_for()
    assert page.get_by_role("button", name="Publish").is_visible()
    assert page.get_by_text("is not confirmed yet").count() == 0
    assert User.objects.get(username="verifier").email_verified

    # The link works once.
    page.goto(link)
    page.get_by_role("heading", name="This link is not valid").wait_for()
    page.screenshot(path=OUTPUT / "verification-link-used.png")
