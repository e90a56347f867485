"""End-to-end: a member exports their data from the settings page, opens the notification and
downloads the zip, then deletes their account with their password and ends logged out on the
gallery, their profile gone."""

import json
import re
import zipfile

import pytest

from accounts.models import User
from creations.models import Creation
from creations.services import creation_create
from tests.creations.test_images import upload

# The fixtures `browser` and `site` come from the browser tests' module.
from tests.e2e.test_browser import browser, log_in, new_page, site  # noqa: F401
from tests.factories import PASSWORD, UserFactory
from tests.images import image_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_a_member_exports_their_data_then_deletes_their_account(browser, site, tmp_path):  # noqa: F811
    leaving = UserFactory(username="leaving", display_name="Leaving")
    creation = creation_create(owner=leaving, title="Farewell lamp", image=upload(image_bytes()))
    page = new_page(browser)
    log_in(page, site, "leaving")

    # The export, from the settings page.
    page.goto(f"{site}/accounts/settings/")
    page.get_by_role("button", name="Export your data").click()
    page.get_by_text(re.compile("Your data export is (ready|being prepared)")).first.wait_for()
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    item = page.locator(".notification").filter(has_text="Your data export is ready")
    item.wait_for()
    with page.expect_download() as opened:
        item.get_by_role("link", name="download the zip").click()
    saved = tmp_path / "export.zip"
    opened.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        creations = json.loads(archive.read("creations.json"))
        assert [row["title"] for row in creations] == ["Farewell lamp"]
        assert creations[0]["picture"] in archive.namelist()

    # The deletion: a wrong password first, then the right one.
    page.goto(f"{site}/accounts/settings/")
    page.get_by_role("link", name="Delete your account").click()
    page.wait_for_url(f"{site}/accounts/delete/")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Delete my account for good").click()
    page.get_by_text("That is not your password.").wait_for()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account for good").click()
    page.wait_for_url(f"{site}/")
    page.get_by_text("Your account and everything in it are deleted").wait_for()
    page.get_by_role("link", name="Log in").first.wait_for()
    assert not User.objects.filter(username="leaving").exists()
    assert not Creation.objects.filter(pk=creation.pk).exists()
    assert page.goto(f"{site}/u/leaving/").status == 404
