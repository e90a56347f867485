from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Comment, CommentReport
from community.services.comments import comment_delete
from creations.models import Creation
from tests.community.factories_comments import CommentFactory
from tests.conftest import client_for
from tests.factories import CreationFactory, UserFactory
from tests.hostile import BY_NAME, json_body

pytestmark = pytest.mark.django_db

FIELDS = {"id", "creation", "parent", "user", "body", "created_at", "edited_at", "is_deleted"}


def thread_url(creation):
    return f"/api/v1/creations/{creation.pk}/comments/"


def comment_url(comment):
    return f"/api/v1/comments/{comment.pk}/"


@pytest.fixture
def hidden(owner):
    return CreationFactory(owner=owner, status=Creation.Status.HIDDEN)


# Reading ------------------------------------------------------------------------------------


def test_the_thread_is_one_flat_list_oldest_first(creation, member, other_member):
    top = CommentFactory(creation=creation, user=member, body="How?")
    reply = CommentFactory(creation=creation, user=other_member, parent=top, body="Clips")
    later = CommentFactory(creation=creation, user=other_member, body="Nice")
    CommentFactory()  # another creation's
    response = client_for(None).get(thread_url(creation))
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert [row["id"] for row in data["results"]] == [top.pk, reply.pk, later.pk]
    first, second = data["results"][:2]
    assert set(first) == FIELDS
    assert first == {
        "id": top.pk,
        "creation": creation.pk,
        "parent": None,
        "user": {"username": "member", "display_name": "Member"},
        "body": "How?",
        "created_at": first["created_at"],
        "edited_at": None,
        "is_deleted": False,
    }
    assert second["parent"] == top.pk and second["user"]["username"] == "other"


def test_a_deleted_comment_with_replies_shows_as_a_placeholder(creation, member, other_member):
    top = CommentFactory(creation=creation, user=member, body="Secret")
    CommentFactory(creation=creation, user=other_member, parent=top)
    comment_delete(comment=top, actor=member)
    row = client_for(None).get(thread_url(creation)).json()["results"][0]
    assert row["id"] == top.pk
    assert row["is_deleted"] is True and row["body"] == "" and row["user"] is None


def test_a_deleted_members_comment_has_no_user(creation, member):
    CommentFactory(creation=creation, user=member)
    member.delete()
    row = client_for(None).get(thread_url(creation)).json()["results"][0]
    assert row["user"] is None and row["is_deleted"] is False


def test_the_thread_is_paginated(creation, member):
    CommentFactory.create_batch(5, creation=creation, user=member)
    client = client_for(None)
    page = client.get(thread_url(creation), {"page_size": 2, "page": 3}).json()
    assert page["count"] == 5 and len(page["results"]) == 1 and page["next"] is None
    assert client.get(thread_url(creation), {"page": 9}).status_code == 404


@pytest.mark.parametrize("count", [1, 20])
def test_the_thread_uses_a_fixed_number_of_queries(
    creation, member, django_assert_num_queries, count
):
    for top in CommentFactory.create_batch(count, creation=creation, user=UserFactory()):
        CommentFactory(creation=creation, parent=top)
    client = client_for(member)
    # The token, the creation, the count, the page (with the authors).
    with django_assert_num_queries(4):
        response = client.get(thread_url(creation))
    assert len(response.json()["results"]) == min(2 * count, 24)
    # Anonymous: no token.
    with django_assert_num_queries(3):
        client_for(None).get(thread_url(creation))


def test_a_hidden_creations_thread_is_404_for_others(hidden, owner, member, moderator):
    CommentFactory(creation=hidden, user=owner)
    for user in (None, member):
        assert client_for(user).get(thread_url(hidden)).status_code == 404
    for user in (owner, moderator):
        assert client_for(user).get(thread_url(hidden)).json()["count"] == 1


def test_a_missing_creation_is_404(member):
    assert client_for(member).get("/api/v1/creations/999999/comments/").status_code == 404
    assert (
        client_for(member).get("/api/v1/creations/99999999999999999999999/comments/").status_code
        == 404
    )


# Writing ------------------------------------------------------------------------------------


def test_a_member_comments_and_replies(creation, member, other_member):
    response = client_for(member).post(thread_url(creation), {"body": "  How is it held?  "})
    assert response.status_code == 201
    data = response.json()
    assert set(data) == FIELDS and data["body"] == "How is it held?" and data["parent"] is None
    reply = client_for(other_member).post(
        thread_url(creation), {"body": "Clips", "parent": data["id"]}
    )
    assert reply.status_code == 201 and reply.json()["parent"] == data["id"]
    creation.refresh_from_db()
    assert creation.comment_count == 2


def test_anonymous_writes_are_401(creation):
    response = client_for(None).post(thread_url(creation), {"body": "Hi"})
    assert response.status_code == 401
    assert not Comment.objects.exists()


def test_nobody_but_owner_and_moderators_comments_on_a_hidden_creation(hidden, member):
    assert client_for(member).post(thread_url(hidden), {"body": "Hi"}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"body": ""},
        {"body": "   "},
        {"body": "x" * 2001},
        {"body": None},
        {"body": ["a", "b"]},
        {"body": {"text": "a"}},
    ],
)
def test_a_missing_or_bad_body_is_400_naming_body(creation, member, body):
    response = client_for(member).post(thread_url(creation), body)
    assert response.status_code == 400
    assert "body" in response.json()


@pytest.mark.parametrize(
    "name", ["nul", "bel", "esc", "bidi-rlo", "bidi-lri", "lone-surrogate", "invalid-byte"]
)
def test_hostile_text_is_400_naming_body(creation, member, name):
    response = client_for(member).generic(
        "POST",
        thread_url(creation),
        json_body({"body": BY_NAME[name]}),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    data = response.json()
    if BY_NAME[name].json_literal is not None:  # bytes that are not UTF-8: not JSON at all
        assert "JSON parse error" in data["detail"]
    else:
        assert "body" in data
    assert not Comment.objects.exists()


@pytest.mark.parametrize("name", ["html-img-onerror", "script", "newlines", "emoji-zwj", "cjk"])
def test_plain_text_that_looks_hostile_is_stored_as_it_is(creation, member, name):
    response = client_for(member).post(thread_url(creation), {"body": BY_NAME[name].text})
    assert response.status_code == 201
    assert response.json()["body"] == BY_NAME[name].text.replace("\r\n", "\n")


def test_a_megabyte_is_400(creation, member):
    response = client_for(member).post(thread_url(creation), {"body": BY_NAME["megabyte"].text})
    assert response.status_code in (400, 413)
    assert not Comment.objects.exists()


@pytest.mark.parametrize("case", ["other creation", "reply", "missing", "huge", "text", "zero"])
def test_a_bad_parent_is_400_naming_parent(creation, member, other_member, case):
    top = CommentFactory(creation=creation, user=member)
    reply = CommentFactory(creation=creation, user=other_member, parent=top)
    elsewhere = CommentFactory(user=member)
    parent = {
        "other creation": elsewhere.pk,
        "reply": reply.pk,
        "missing": 10**6,
        "huge": 10**30,
        "text": "first",
        "zero": 0,
    }[case]
    response = client_for(member).post(thread_url(creation), {"body": "Hi", "parent": parent})
    assert response.status_code == 400
    assert "parent" in response.json()


def test_comments_are_throttled_per_member_with_retry_after(settings, creation, member):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "comment": "2/m"}
    client = client_for(member)
    for _ in range(2):
        assert client.post(thread_url(creation), {"body": "Hi"}).status_code == 201
    response = client.post(thread_url(creation), {"body": "Hi"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Comment.objects.count() == 2
    # Reading is not writing, and another member has a budget of their own.
    assert client.get(thread_url(creation)).status_code == 200
    assert client_for(UserFactory()).post(thread_url(creation), {"body": "Hi"}).status_code == 201


def test_pages_and_api_share_one_comment_budget(settings, client, creation, member):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "comment": "1/m"}
    client.force_login(member)
    assert client.post(f"/creations/{creation.pk}/comments/", {"body": "Hi"}).status_code == 302
    assert client_for(member).post(thread_url(creation), {"body": "Hi"}).status_code == 429


# Editing and deleting -----------------------------------------------------------------------


def test_the_author_edits_within_15_minutes(creation, member, monkeypatch):
    comment = CommentFactory(creation=creation, user=member)
    client = client_for(member)
    response = client.patch(comment_url(comment), {"body": "Edited"})
    assert response.status_code == 200
    assert response.json()["body"] == "Edited" and response.json()["edited_at"] is not None
    moved = timezone.now() + timedelta(minutes=16)
    monkeypatch.setattr(timezone, "now", lambda: moved)
    response = client.patch(comment_url(comment), {"body": "Too late"})
    assert response.status_code == 403
    assert "15 minutes" in response.json()["detail"]


def test_moderators_edit_and_delete_any_comment(creation, member, moderator, monkeypatch):
    comment = CommentFactory(creation=creation, user=member)
    moved = timezone.now() + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: moved)
    client = client_for(moderator)
    assert client.patch(comment_url(comment), {"body": "[removed]"}).status_code == 200
    assert client.delete(comment_url(comment)).status_code == 204
    assert not Comment.objects.exists()


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_others_get_403_and_anonymous_401(creation, owner, member, other_member, method):
    comment = CommentFactory(creation=creation, user=member)
    for user, expected in ((None, 401), (other_member, 403), (owner, 403)):
        response = getattr(client_for(user), method)(comment_url(comment), {"body": "Mine"})
        assert response.status_code == expected, (user, response.content)
    comment.refresh_from_db()
    assert comment.body != "Mine"


def test_an_edit_by_someone_else_is_403_before_the_body_is_read(creation, member, other_member):
    comment = CommentFactory(creation=creation, user=member)
    response = client_for(other_member).patch(comment_url(comment), {"body": "\x00"})
    assert response.status_code == 403


def test_a_bad_edit_is_400_naming_body(creation, member):
    comment = CommentFactory(creation=creation, user=member)
    for body in ({"body": ""}, {"body": "a\u202eb"}, {}):
        response = client_for(member).patch(comment_url(comment), body)
        assert response.status_code == 400 and "body" in response.json()


def test_the_author_deletes_and_a_placeholder_stays_for_replies(creation, member, other_member):
    top = CommentFactory(creation=creation, user=member)
    CommentFactory(creation=creation, user=other_member, parent=top)
    assert client_for(member).delete(comment_url(top)).status_code == 204
    row = client_for(None).get(thread_url(creation)).json()["results"][0]
    assert row["is_deleted"] is True
    # Deleting it again changes nothing; editing it is refused.
    assert client_for(member).delete(comment_url(top)).status_code == 204
    assert client_for(member).patch(comment_url(top), {"body": "Back"}).status_code == 403


def test_comments_of_a_hidden_creation_are_404_to_others(hidden, owner, member, moderator):
    comment = CommentFactory(creation=hidden, user=owner)
    for method in ("patch", "delete"):
        response = getattr(client_for(member), method)(comment_url(comment), {"body": "x"})
        assert response.status_code == 404
    response = client_for(member).post(f"{comment_url(comment)}reports/", {"reason": "spam"})
    assert response.status_code == 404
    assert client_for(moderator).patch(comment_url(comment), {"body": "ok"}).status_code == 200


def test_unknown_comments_are_404(member):
    client = client_for(member)
    assert client.patch("/api/v1/comments/999999/", {"body": "x"}).status_code == 404
    assert client.delete("/api/v1/comments/99999999999999999999999/").status_code == 404


def test_there_is_no_put_or_get_on_a_comment(creation, member):
    comment = CommentFactory(creation=creation, user=member)
    client = client_for(member)
    assert client.put(comment_url(comment), {"body": "x"}).status_code == 405
    assert client.get(comment_url(comment)).status_code == 405


# Reports ------------------------------------------------------------------------------------


def test_a_member_reports_a_comment_once(creation, member, other_member):
    comment = CommentFactory(creation=creation, user=member)
    client = client_for(other_member)
    url = f"{comment_url(comment)}reports/"
    response = client.post(url, {"reason": "offensive", "note": "Rude"})
    assert response.status_code == 201
    assert set(response.json()) == {"id", "reason", "note", "created_at"}
    second = client.post(url, {"reason": "spam"})
    assert second.status_code == 400 and "already reported" in second.json()["detail"]
    assert CommentReport.objects.count() == 1


def test_reporting_ones_own_comment_is_403_and_anonymous_401(creation, member):
    comment = CommentFactory(creation=creation, user=member)
    url = f"{comment_url(comment)}reports/"
    assert client_for(member).post(url, {"reason": "spam"}).status_code == 403
    assert client_for(None).post(url, {"reason": "spam"}).status_code == 401


def test_a_bad_report_is_400_naming_the_field(creation, member, other_member):
    comment = CommentFactory(creation=creation, user=member)
    url = f"{comment_url(comment)}reports/"
    response = client_for(other_member).post(url, {"reason": "boring"})
    assert response.status_code == 400 and "reason" in response.json()
    response = client_for(other_member).post(url, {"reason": "other", "note": "a\x00b"})
    assert response.status_code == 400 and "note" in response.json()


def test_the_schema_documents_the_comment_endpoints():
    schema = client_for(None).get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/creations/{id}/comments/"]) == {"get", "post"}
    assert set(paths["/api/v1/comments/{id}/"]) == {"patch", "delete"}
    assert set(paths["/api/v1/comments/{id}/reports/"]) == {"post"}
    listed = paths["/api/v1/creations/{id}/comments/"]["get"]["responses"]["200"]
    assert "PaginatedCommentList" in str(listed)
    comment = schema["components"]["schemas"]["Comment"]
    assert set(comment["properties"]) == {
        "id",
        "creation",
        "parent",
        "user",
        "body",
        "created_at",
        "edited_at",
        "is_deleted",
    }
    for path, item in paths.items():
        if "comment" in path:
            for method, operation in item.items():
                assert operation.get("summary"), (method, path)
