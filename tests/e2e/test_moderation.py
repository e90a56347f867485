"""End-to-end: a moderator suspends a member in the admin with a reason; the member, trying to
log in, is told why; the moderator lifts it and the member logs in. The moderation log holds
exactly the two actions."""

import re

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.models import MODERATORS_GROUP
from accounts.services import user_set_moderator
from moderation.models import ModerationAction

# The fixtures `browser` and `site` come from the browser tests' module.
from tests.e2e.test_browser import browser, field, log_in, new_page, site  # noqa: F401
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]


def _run_action(page, base, member, action_label):
    page.goto(f"{base}/admin/moderation/member/")
    page.locator(f'input[name="_selected_action"][value="{member.pk}"]').check()
    page.locator('select[name="action"]').select_option(label=action_label)
    page.get_by_role("button", name="Go").click()


def test_a_moderator_suspends_and_lifts_and_the_log_keeps_both(browser, site):  # noqa: F811
    # A transactional test's flush drops the group its data migration made; what this test
    # needs of it comes back here.
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="moderation",
            codename__in=["view_member", "restrict_member", "trust_member"],
        )
    )
    user_set_moderator(user=UserFactory(username="warden"), is_moderator=True)
    member = UserFactory(username="spammer")

    admin_page = new_page(browser)
    log_in(admin_page, site, "warden")
    _run_action(admin_page, site, member, "Suspend selected members…")
    admin_page.get_by_label("Reason").fill("Posting the same advert under every creation.")
    admin_page.locator('select[name="category"]').select_option(value="spam")
    admin_page.get_by_role("button", name=re.compile("^Suspend")).click()
    admin_page.wait_for_url(f"{site}/admin/moderation/member/")

    member_page = new_page(browser)
    member_page.goto(f"{site}/accounts/login/")
    field(member_page, "Username or e-mail").fill("spammer")
    member_page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    member_page.get_by_role("button", name="Log in").click()
    member_page.get_by_text(
        re.compile("suspended.*Posting the same advert under every creation", re.S)
    ).first.wait_for()

    _run_action(admin_page, site, member, "Lift suspension or ban")
    admin_page.get_by_role("button", name=re.compile("^Lift")).click()
    admin_page.wait_for_url(f"{site}/admin/moderation/member/")

    log_in(member_page, site, "spammer")

    entries = list(
        ModerationAction.objects.order_by("id").values_list(
            "actor_name", "action", "category", "target_type", "target_repr", "reason"
        )
    )
    assert entries == [
        (
            "warden",
            "suspend",
            "spam",
            "accounts.user",
            "spammer",
            "Posting the same advert under every creation.",
        ),
        ("warden", "lift", "other", "accounts.user", "spammer", ""),
    ]
