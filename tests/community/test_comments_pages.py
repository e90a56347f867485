import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community.models import Comment, CommentReport
from community.selectors import THREAD_PAGE_SIZE
from community.services.comments import comment_delete, comment_update
from creations.models import Creation
from tests.community.factories_comments import CommentFactory
from tests.conftest import session_queries
from tests.factories import CreationFactory, UserFactory
from tests.hostile import UNESCAPED

pytestmark = pytest.mark.django_db


def new_url(creation):
    return f"/creations/{creation.pk}/comments/"


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def hidden(owner):
    return CreationFactory(owner=owner, status=Creation.Status.HIDDEN)


# The thread on the creation page ------------------------------------------------------------


def test_the_thread_shows_comments_oldest_first_with_replies_beneath(
    client, creation, member, other_member
):
    first = CommentFactory(creation=creation, user=member, body="First, see https://example.com")
    reply = CommentFactory(creation=creation, user=other_member, parent=first, body="@member yes")
    second = CommentFactory(creation=creation, user=other_member, body="Second")
    html = client.get(creation.get_absolute_url()).content.decode()
    assert 'id="comments"' in html
    assert html.index(f'id="comment-{first.pk}"') < html.index(f'id="comment-{reply.pk}"')
    assert html.index(f'id="comment-{reply.pk}"') < html.index(f'id="comment-{second.pk}"')
    replies = html[html.index('class="comment-replies"') :]
    assert f'id="comment-{reply.pk}"' in replies.split("</ol>")[0]
    assert '<a href="https://example.com" rel="nofollow ugc">' in html
    assert '<a class="mention" href="/u/member/">@member</a>' in html
    assert 'href="/u/other/"' in html and "Other" in html  # author link and name
    assert "3 comments" in html or "(3)" in html


def test_anonymous_visitors_get_a_log_in_link_and_no_forms(client, creation, member):
    CommentFactory(creation=creation, user=member)
    html = client.get(creation.get_absolute_url()).content.decode()
    assert f'href="/accounts/login/?next=/creations/{creation.pk}/%23comments"' in html
    assert 'name="body"' not in html
    assert "/edit/" not in html and "/report/" not in html.replace("creations/", "")


def test_members_see_a_new_comment_form_reply_forms_and_the_actions_they_may_take(
    client, creation, member, other_member
):
    own = CommentFactory(creation=creation, user=member)
    theirs = CommentFactory(creation=creation, user=other_member)
    reply = CommentFactory(creation=creation, user=other_member, parent=theirs)
    client.force_login(member)
    html = client.get(creation.get_absolute_url()).content.decode()
    assert html.count(f'action="{new_url(creation)}"') == 3  # one new, two replies
    assert f'name="parent" value="{own.pk}"' in html
    assert f'name="parent" value="{reply.pk}"' not in html  # no replies to replies
    assert f"/comments/{own.pk}/edit/" in html and f"/comments/{own.pk}/delete/" in html
    assert f"/comments/{own.pk}/report/" not in html
    assert f"/comments/{theirs.pk}/report/" in html and f"/comments/{reply.pk}/report/" in html
    assert f"/comments/{theirs.pk}/edit/" not in html
    assert f"/comments/{theirs.pk}/delete/" not in html


def test_the_edit_link_goes_after_15_minutes(client, creation, member, monkeypatch):
    comment = CommentFactory(creation=creation, user=member)
    client.force_login(member)
    moved = timezone.now() + timedelta(minutes=16)
    monkeypatch.setattr(timezone, "now", lambda: moved)
    html = client.get(creation.get_absolute_url()).content.decode()
    assert f"/comments/{comment.pk}/edit/" not in html
    assert f"/comments/{comment.pk}/delete/" in html


def test_moderators_may_edit_and_delete_every_comment(client, creation, member, moderator):
    comment = CommentFactory(creation=creation, user=member)
    client.force_login(moderator)
    html = client.get(creation.get_absolute_url()).content.decode()
    assert f"/comments/{comment.pk}/edit/" in html and f"/comments/{comment.pk}/delete/" in html


def test_edited_comments_say_so_and_placeholders_keep_their_place(
    client, creation, member, other_member
):
    top = CommentFactory(creation=creation, user=member, body="Secret text")
    CommentFactory(creation=creation, user=other_member, parent=top)
    edited = CommentFactory(creation=creation, user=member)
    comment_update(comment=edited, actor=member, body="Better")
    comment_delete(comment=top, actor=member)
    html = client.get(creation.get_absolute_url()).content.decode()
    assert "(edited)" in html
    assert "This comment was deleted." in html and "Secret text" not in html
    assert f'id="comment-{top.pk}"' in html


def test_hostile_comment_text_is_escaped_on_the_page(client, creation, member):
    CommentFactory(
        creation=creation,
        user=member,
        body="<script>alert(1)</script> <img src=x onerror=alert(1)> <b>x</b> javascript:alert(1)",
    )
    html = client.get(creation.get_absolute_url()).content.decode()
    thread = html[html.index('id="comments"') :]
    for fragment in UNESCAPED:
        assert fragment not in thread
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread


def test_a_hidden_creations_thread_is_shown_to_owner_and_moderators_only(
    client, hidden, owner, member, moderator
):
    CommentFactory(creation=hidden, user=owner, body="Owner note")
    for user in (None, member):
        client.logout()
        if user:
            client.force_login(user)
        assert client.get(hidden.get_absolute_url()).status_code == 404
    for user in (owner, moderator):
        client.force_login(user)
        assert "Owner note" in client.get(hidden.get_absolute_url()).content.decode()


def test_a_long_thread_is_paged_by_top_level_comments(client, creation, member, settings):
    # Quicker than the service; the count is set as the service would have.
    Comment.objects.bulk_create(
        Comment(creation=creation, user=member, body=f"Comment number {n}")
        for n in range(THREAD_PAGE_SIZE + 2)
    )
    Creation.objects.filter(pk=creation.pk).update(comment_count=THREAD_PAGE_SIZE + 2)
    first = client.get(creation.get_absolute_url()).content.decode()
    assert "Comment number 0<" in first and f"Comment number {THREAD_PAGE_SIZE}<" not in first
    assert "?page=2#comments" in first
    second = client.get(creation.get_absolute_url() + "?page=2").content.decode()
    assert f"Comment number {THREAD_PAGE_SIZE + 1}<" in second and "Comment number 0<" not in second
    assert "Earlier comments" in second
    for junk in ("abc", "-1", "0", "99999999999999999999", "1e3"):
        assert client.get(creation.get_absolute_url(), {"page": junk}).status_code == 200
    assert (
        "No comments on this page"
        in client.get(creation.get_absolute_url(), {"page": 99}).content.decode()
    )


@pytest.mark.parametrize("count", [1, 12])
def test_the_creation_page_spends_the_same_queries_on_any_thread(
    client, creation, member, django_assert_num_queries, count
):
    alice = UserFactory(username="alice")
    for n in range(count):
        top = CommentFactory(creation=creation, user=UserFactory(), body=f"@alice look {n}")
        CommentFactory(creation=creation, parent=top, user=alice, body="https://example.com")
    client.force_login(member)
    # The page's own (the member, the creation, its tags and parts, the member's score,
    # whether they reported it, the ranking prior its score panel explains), the notification
    # badge and whether the member saved it; then the thread: top-level comments, their
    # replies, the members they mention.
    with django_assert_num_queries(12 + session_queries()) as captured:
        response = client.get(creation.get_absolute_url())
    assert response.content.decode().count('class="mention"') == count
    thread_queries = [
        query["sql"]
        for query in captured.captured_queries
        if '"community_comment"."body"' in query["sql"]
        or '"accounts_user"."username" IN' in query["sql"]
    ]
    assert len(thread_queries) == 3


def test_a_creation_without_comments_spends_no_query_on_its_thread(client, creation):
    with CaptureQueriesContext(connection) as captured:
        html = client.get(creation.get_absolute_url()).content.decode()
    assert "No comments yet." in html
    assert not [q for q in captured.captured_queries if "community_comment" in q["sql"]]


# Posting ------------------------------------------------------------------------------------


def test_a_member_posts_a_comment_and_lands_on_it(client, creation, member):
    client.force_login(member)
    response = client.post(new_url(creation), {"body": "How is the lamp held?"}, follow=True)
    comment = Comment.objects.get()
    assert response.redirect_chain[-1][0] == f"/creations/{creation.pk}/#comment-{comment.pk}"
    assert "Your comment is posted." in messages_of(response)
    assert "How is the lamp held?" in response.content.decode()


def test_a_member_replies_without_javascript(client, creation, member, other_member):
    top = CommentFactory(creation=creation, user=other_member)
    client.force_login(member)
    response = client.post(new_url(creation), {"body": "Clips!", "parent": top.pk})
    reply = Comment.objects.get(parent=top)
    assert response.status_code == 302
    assert response["Location"] == f"/creations/{creation.pk}/#comment-{reply.pk}"


def test_a_reply_on_a_later_page_lands_on_that_page(client, creation, member):
    for n in range(THREAD_PAGE_SIZE):
        Comment.objects.create(creation=creation, user=member, body=f"Old {n}")
    client.force_login(member)
    response = client.post(new_url(creation), {"body": "New"})
    comment = Comment.objects.latest("id")
    assert response["Location"] == f"/creations/{creation.pk}/?page=2#comment-{comment.pk}"


@pytest.mark.parametrize(
    "body, field_error",
    [
        ("", "This field is required."),
        ("Roof\x00tile", "Null characters are not allowed."),
        ("Roof gpj.\u202eexe", "U+202E"),
        ("x" * 2001, "at most 2000 characters"),
    ],
)
def test_bad_text_comes_back_on_a_form_with_400(client, creation, member, body, field_error):
    client.force_login(member)
    response = client.post(new_url(creation), {"body": body})
    assert response.status_code == 400
    assert field_error in " ".join(response.context["form"].errors["body"])
    assert 'name="body"' in response.content.decode()
    assert not Comment.objects.exists()


def test_a_bad_parent_comes_back_on_the_form(client, creation, member, other_member):
    top = CommentFactory(creation=creation, user=other_member)
    reply = CommentFactory(creation=creation, user=member, parent=top)
    client.force_login(member)
    for parent in (reply.pk, CommentFactory().pk, "abc", 10**30):
        response = client.post(new_url(creation), {"body": "Hi", "parent": parent})
        assert response.status_code == 400
    assert Comment.objects.filter(creation=creation).count() == 2


def test_the_comment_form_page_shows_the_comment_replied_to(client, creation, member, other_member):
    top = CommentFactory(creation=creation, user=other_member, body="Original question")
    client.force_login(member)
    response = client.get(new_url(creation), {"parent": top.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Original question" in html and f'value="{top.pk}"' in html
    for junk in ("x", "-5", "99999999999999999999999", "<script>"):
        response = client.get(new_url(creation), {"parent": junk})
        assert response.status_code == 200 and "<script>" not in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, creation):
    response = client.post(new_url(creation), {"body": "Hi"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Comment.objects.exists()


def test_nobody_comments_on_a_creation_they_cannot_see(client, hidden, member):
    client.force_login(member)
    assert client.post(new_url(hidden), {"body": "Hi"}).status_code == 404
    assert client.get(new_url(hidden)).status_code == 404


def test_comment_pages_are_rate_limited(client, creation, member, settings):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "comment": "2/m"}
    client.force_login(member)
    for _ in range(2):
        assert client.post(new_url(creation), {"body": "Hi"}).status_code == 302
    response = client.post(new_url(creation), {"body": "Hi"})
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 60
    assert Comment.objects.count() == 2


def test_posting_a_comment_refreshes_the_cached_page_for_anonymous_visitors(
    client, creation, member, settings
):
    settings.NPU_PAGE_CACHE_SECONDS = 300
    url = creation.get_absolute_url()
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"
    comment = CommentFactory(creation=creation, user=member, body="Fresh words")
    response = client.get(url)
    assert response["X-Page-Cache"] == "miss" and "Fresh words" in response.content.decode()
    comment_delete(comment=comment, actor=member)
    client.get(url)
    assert "Fresh words" not in client.get(url).content.decode()


# Editing ------------------------------------------------------------------------------------


def test_the_author_edits_through_a_form(client, creation, member):
    comment = CommentFactory(creation=creation, user=member, body="Typo")
    client.force_login(member)
    url = f"/comments/{comment.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 200 and "Typo" in page.content.decode()
    response = client.post(url, {"body": "Fixed"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/creations/{creation.pk}/#comment-{comment.pk}"
    assert "Your changes are saved." in messages_of(response)
    comment.refresh_from_db()
    assert comment.body == "Fixed" and comment.edited_at is not None
    bad = client.post(url, {"body": "a\x07b"})
    assert bad.status_code == 400 and "body" in bad.context["form"].errors


def test_editing_is_refused_with_a_message_after_15_minutes_or_for_others(
    client, creation, member, other_member, monkeypatch
):
    comment = CommentFactory(creation=creation, user=member, body="Original")
    url = f"/comments/{comment.pk}/edit/"
    client.force_login(other_member)
    response = client.post(url, {"body": "Mine"}, follow=True)
    assert "Only the author" in " ".join(messages_of(response))
    client.force_login(member)
    moved = timezone.now() + timedelta(minutes=16)
    monkeypatch.setattr(timezone, "now", lambda: moved)
    response = client.post(url, {"body": "Late"}, follow=True)
    assert "15 minutes" in " ".join(messages_of(response))
    comment.refresh_from_db()
    assert comment.body == "Original"


def test_comments_of_hidden_creations_are_404_on_every_page_for_others(
    client, hidden, owner, member
):
    comment = CommentFactory(creation=hidden, user=owner)
    client.force_login(member)
    for action in ("edit", "delete", "report"):
        assert client.get(f"/comments/{comment.pk}/{action}/").status_code == 404
        assert client.post(f"/comments/{comment.pk}/{action}/", {"body": "x"}).status_code == 404
    assert client.get("/comments/999999/edit/").status_code == 404
    assert client.get("/comments/99999999999999999999999/edit/").status_code == 404


# Deleting -----------------------------------------------------------------------------------


def test_the_author_deletes_after_confirming(client, creation, member):
    comment = CommentFactory(creation=creation, user=member, body="Regret")
    client.force_login(member)
    url = f"/comments/{comment.pk}/delete/"
    page = client.get(url)
    assert page.status_code == 200 and "Regret" in page.content.decode()
    assert Comment.objects.exists()
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == f"/creations/{creation.pk}/#comments"
    assert not Comment.objects.exists()


def test_deleting_a_reply_returns_to_its_comment(client, creation, member, other_member):
    top = CommentFactory(creation=creation, user=other_member)
    reply = CommentFactory(creation=creation, user=member, parent=top)
    client.force_login(member)
    response = client.post(f"/comments/{reply.pk}/delete/")
    assert response["Location"] == f"/creations/{creation.pk}/#comment-{top.pk}"


def test_a_moderator_deletes_a_comment_with_replies_and_a_placeholder_stays(
    client, creation, member, other_member, moderator
):
    top = CommentFactory(creation=creation, user=member)
    CommentFactory(creation=creation, user=other_member, parent=top)
    client.force_login(moderator)
    response = client.post(f"/comments/{top.pk}/delete/")
    assert response["Location"] == f"/creations/{creation.pk}/#comment-{top.pk}"
    top.refresh_from_db()
    assert top.is_deleted and top.deleted_by == moderator


def test_others_cannot_delete(client, creation, member, other_member):
    comment = CommentFactory(creation=creation, user=member)
    client.force_login(other_member)
    response = client.post(f"/comments/{comment.pk}/delete/", follow=True)
    assert "Only the author or a moderator" in " ".join(messages_of(response))
    assert Comment.objects.filter(pk=comment.pk).exists()


# Reporting ----------------------------------------------------------------------------------


def test_a_member_reports_a_comment_through_a_form(client, creation, member, other_member):
    comment = CommentFactory(creation=creation, user=member)
    client.force_login(other_member)
    url = f"/comments/{comment.pk}/report/"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"reason": "boring"})
    assert bad.status_code == 400 and "reason" in bad.context["form"].errors
    response = client.post(url, {"reason": "spam", "note": "Ads"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/creations/{creation.pk}/#comment-{comment.pk}"
    assert "Thank you" in " ".join(messages_of(response))
    assert CommentReport.objects.get().note == "Ads"
    again = client.get(url, follow=True)
    assert "already reported" in " ".join(messages_of(again))


def test_nobody_reports_their_own_comment_page(client, creation, member):
    comment = CommentFactory(creation=creation, user=member)
    client.force_login(member)
    response = client.post(f"/comments/{comment.pk}/report/", {"reason": "spam"}, follow=True)
    assert "your own comment" in " ".join(messages_of(response))
    assert not CommentReport.objects.exists()


def test_a_conversation_without_javascript(client, creation, member, other_member):
    """Ask, answer with a mention, edit, then delete the question: the answer stays."""
    client.force_login(member)
    client.post(new_url(creation), {"body": "How is the hand attached?"})
    question = Comment.objects.get()
    client.force_login(other_member)
    client.post(new_url(creation), {"body": "@member with a clip", "parent": question.pk})
    client.force_login(member)
    client.post(f"/comments/{question.pk}/edit/", {"body": "How is the left hand attached?"})
    client.post(f"/comments/{question.pk}/delete/")
    html = client.get(creation.get_absolute_url()).content.decode()
    assert "This comment was deleted." in html
    assert re.search(r'<a class="mention" href="/u/member/">@member</a> with a clip', html)
    creation.refresh_from_db()
    assert creation.comment_count == 1
