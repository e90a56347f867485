"""End-to-end: two members talk about a creation in real Chromium, and the header's
notification badge tells each of them when the other has answered."""

import re

import pytest

from community.models import Comment, Favourite, Follow, Notification
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
from tests.factories import UserFactory
from tests.images import image_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]


def badge(page) -> str:
    """The header's notification link text: "Notifications" and the unread count, if any."""
    return " ".join(page.locator(".nav-notifications").inner_text().split())


def test_two_members_talk_about_a_creation_and_hear_back(browser, site):  # noqa: F811
    ann = UserFactory(username="ann", display_name="Ann")
    bob = UserFactory(username="bob", display_name="Bob")
    creation = creation_create(owner=ann, title="Hand lamp", image=upload(image_bytes()))
    url = f"{site}/creations/{creation.pk}/"

    # Bob asks how it was built, mentioning Ann, saves the creation and follows Ann.
    bobs = new_page(browser)
    log_in(bobs, site, "bob")
    assert badge(bobs) == "Notifications"
    bobs.goto(url)
    bobs.get_by_label("Add a comment").fill("How is that hand attached, @ann?\nLove it.")
    bobs.get_by_role("button", name="Post comment").click()
    question = bobs.locator(".comment").filter(has_text="How is that hand attached")
    question.wait_for()
    assert question.get_by_role("link", name="@ann").get_attribute("href") == "/u/ann/"
    bobs.get_by_role("button", name="Save “Hand lamp”", exact=True).click()
    bobs.get_by_role("button", name=re.compile("^Saved ✓")).wait_for()
    bobs.goto(f"{site}/u/ann/")
    bobs.get_by_role("button", name=re.compile("^Follow ")).click()
    bobs.get_by_role("button", name=re.compile("^Following ✓")).wait_for()

    # Ann sees one notification for the comment (not a second one for the mention), and one
    # for the new follower, opens the comment from her notifications and replies.
    anns = new_page(browser)
    log_in(anns, site, "ann")
    assert badge(anns) == "Notifications 2 unread"
    anns.get_by_role("link", name=re.compile("^Notifications")).click()
    anns.get_by_text(re.compile("Bob commented on")).wait_for()
    anns.get_by_text(re.compile("Bob (now )?follows you|Bob started following you")).wait_for()
    anns.screenshot(path=OUTPUT / "notifications-desktop.png", full_page=True)
    comment_item = anns.locator(".notification").filter(has_text="commented on")
    comment_item.get_by_role("button", name=re.compile("^Open")).click()
    question_id = Comment.objects.get(parent=None).pk
    anns.wait_for_url(re.compile(rf"/creations/{creation.pk}/.*#comment-{question_id}$"))
    assert badge(anns) == "Notifications 1 unread"
    anns.get_by_text("Reply", exact=True).click()
    anns.get_by_label("Your reply").fill("A clip on a bar holder, @bob. See https://example.com/x")
    anns.get_by_role("button", name="Post reply").click()
    reply = anns.locator(".comment-replies .comment").filter(has_text="A clip on a bar holder")
    reply.wait_for()
    link = reply.get_by_role("link", name="https://example.com/x")
    assert link.get_attribute("rel") == "nofollow ugc"

    # Bob's badge shows the reply (one notification, though the reply also mentions him);
    # he reads it, marks everything read, and the badge goes.
    bobs.goto(f"{site}/")
    assert badge(bobs) == "Notifications 1 unread"
    bobs.get_by_role("link", name=re.compile("^Notifications")).click()
    bobs.get_by_text(re.compile("Ann replied to your comment")).wait_for()
    bobs.get_by_role("button", name="Mark all read").click()
    bobs.get_by_text("Nothing unread.").wait_for()
    assert badge(bobs) == "Notifications"

    # The conversation, as a visitor on a phone sees it.
    visitor = new_page(browser, PHONE)
    visitor.goto(url)
    visitor.locator("#comments").get_by_text("A clip on a bar holder").wait_for()
    visitor.screenshot(path=OUTPUT / "conversation-phone.png", full_page=True)
    assert not has_horizontal_scroll(visitor)

    assert [c.body.split("\n")[0] for c in Comment.objects.order_by("pk")] == [
        "How is that hand attached, @ann?",
        "A clip on a bar holder, @bob. See https://example.com/x",
    ]
    assert Favourite.objects.filter(user=bob, creation=creation).exists()
    assert Follow.objects.filter(follower=bob, followed_user=ann).exists()
    kinds = sorted(Notification.objects.values_list("recipient__username", "kind"))
    assert kinds == [("ann", "comment"), ("ann", "follower"), ("bob", "reply")]
    for page in (bobs, anns, visitor):
        page.context.close()
