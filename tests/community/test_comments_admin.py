import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.models import MODERATORS_GROUP
from community.models import Comment, CommentReport
from community.services.comments import comment_report_create
from tests.community.factories_comments import CommentFactory
from tests.conftest import run_action
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

QUEUE = "admin:community_comment_changelist"
REPORTS = "admin:community_commentreport_changelist"

# What the moderators group needs for the comment queue (community's data migration grants
# them; granted here again so these tests say what the queue relies on).
COMMENT_PERMISSIONS = {
    "comment": ["view", "change", "delete"],
    "commentreport": ["view", "change"],
}


@pytest.fixture
def queue_client(moderator_client):
    group = Group.objects.get(name=MODERATORS_GROUP)
    for model, actions in COMMENT_PERMISSIONS.items():
        for action in actions:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label="community", codename=f"{action}_{model}"
                )
            )
    return moderator_client


def report(comment, reporter=None, reason="spam"):
    return comment_report_create(reporter=reporter or UserFactory(), comment=comment, reason=reason)


def test_the_queue_lists_reported_comments_first_oldest_report_first(
    queue_client, creation, member
):
    quiet = CommentFactory(creation=creation, user=member, body="Nice")
    later_reported = CommentFactory(creation=creation, user=member, body="Buy cheap bricks")
    first_reported = CommentFactory(creation=creation, user=member, body="Rude words")
    report(first_reported)
    report(later_reported)
    report(later_reported)
    response = queue_client.get(reverse(QUEUE))
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows == [first_reported, later_reported, quiet]
    assert [row.open_report_total for row in rows] == [1, 2, 0]
    html = response.content.decode()
    assert "Buy cheap bricks" in html and creation.title in html


def test_the_queue_filters_comments_with_open_reports(queue_client, creation, member):
    reported = CommentFactory(creation=creation, user=member)
    CommentFactory(creation=creation, user=member)
    report(reported)
    listed = queue_client.get(reverse(QUEUE), {"open_reports": "yes"}).context["cl"].result_list
    assert list(listed) == [reported]


def test_the_delete_action_goes_through_the_service(
    queue_client, moderator, creation, member, other_member
):
    with_reply = CommentFactory(creation=creation, user=member, body="Spam with a reply")
    reply = CommentFactory(creation=creation, user=other_member, parent=with_reply)
    alone = CommentFactory(creation=creation, user=member, body="Spam alone")
    kept = CommentFactory(creation=creation, user=other_member)
    report(with_reply)
    run_action(queue_client, QUEUE, "delete_comments", [with_reply, alone])
    with_reply.refresh_from_db()
    assert with_reply.is_deleted and with_reply.deleted_by == moderator
    assert not Comment.objects.filter(pk=alone.pk).exists()
    assert set(Comment.objects.values_list("pk", flat=True)) == {with_reply.pk, reply.pk, kept.pk}
    creation.refresh_from_db()
    assert creation.comment_count == 2
    assert not CommentReport.objects.filter(status=CommentReport.Status.OPEN).exists()


def test_the_delete_action_can_take_a_whole_thread(queue_client, creation, member, other_member):
    top = CommentFactory(creation=creation, user=member)
    reply = CommentFactory(creation=creation, user=other_member, parent=top)
    run_action(queue_client, QUEUE, "delete_comments", [top, reply])
    assert not Comment.objects.exists()
    creation.refresh_from_db()
    assert creation.comment_count == 0


def test_djangos_bulk_delete_is_not_offered(queue_client):
    actions = (
        queue_client.get(reverse(QUEUE))
        .context["cl"]
        .model_admin.get_actions(queue_client.get(reverse(QUEUE)).wsgi_request)
    )
    assert "delete_selected" not in actions
    assert {"delete_comments", "resolve_reports"} <= set(actions)


def test_the_delete_page_goes_through_the_service(queue_client, creation, member, other_member):
    top = CommentFactory(creation=creation, user=member)
    CommentFactory(creation=creation, user=other_member, parent=top)
    url = reverse("admin:community_comment_delete", args=[top.pk])
    assert queue_client.post(url, {"post": "yes"}).status_code == 302
    top.refresh_from_db()
    assert top.is_deleted
    assert Comment.objects.count() == 2


def test_the_resolve_action_resolves_the_comments_open_reports(
    queue_client, moderator, creation, member
):
    comment = CommentFactory(creation=creation, user=member)
    other = CommentFactory(creation=creation, user=member)
    reports = [report(comment), report(comment)]
    untouched = report(other)
    run_action(queue_client, QUEUE, "resolve_reports", [comment])
    for item in reports:
        item.refresh_from_db()
        assert item.status == CommentReport.Status.RESOLVED and item.resolved_by == moderator
    untouched.refresh_from_db()
    assert untouched.status == CommentReport.Status.OPEN


def test_the_report_admin_resolves_reports(queue_client, moderator, creation, member):
    comment = CommentFactory(creation=creation, user=member)
    item = report(comment, reason="offensive")
    response = queue_client.get(reverse(REPORTS))
    assert response.status_code == 200 and "Offensive" in response.content.decode()
    run_action(queue_client, REPORTS, "resolve_selected", [item])
    item.refresh_from_db()
    assert item.status == CommentReport.Status.RESOLVED


def test_the_change_page_shows_the_comment_and_its_reports_read_only(
    queue_client, creation, member
):
    comment = CommentFactory(creation=creation, user=member, body="Original words")
    comment_report_create(reporter=UserFactory(), comment=comment, reason="other", note="Looks off")
    url = reverse("admin:community_comment_change", args=[comment.pk])
    html = queue_client.get(url).content.decode()
    assert "Original words" in html and "Looks off" in html
    queue_client.post(url, {"body": "Changed"})
    comment.refresh_from_db()
    assert comment.body == "Original words"


def test_members_have_no_queue(client, member):
    client.force_login(member)
    assert client.get(reverse(QUEUE)).status_code == 302  # to the admin's log-in


def test_staff_without_the_delete_permission_cannot_delete(queue_client, creation, member):
    Group.objects.get(name=MODERATORS_GROUP).permissions.remove(
        Permission.objects.get(content_type__app_label="community", codename="delete_comment")
    )
    comment = CommentFactory(creation=creation, user=member)
    run_action(queue_client, QUEUE, "delete_comments", [comment])
    assert Comment.objects.filter(pk=comment.pk).exists()
