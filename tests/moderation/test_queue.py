"""The moderators' queue (/admin/moderation/queue/) and the counts on the admin index."""

import datetime

import pytest
from django.utils import timezone

from community.models import Comment, CommentReport
from community.services.comments import comment_create
from creations.models import Creation
from creations.services import creation_update
from moderation.appeals import appeal_create
from moderation.models import Appeal, Report
from tests.conftest import session_queries
from tests.factories import CreationFactory, ReportFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = "/admin/moderation/queue/"


def aged(model, obj, days: int) -> None:
    """Make `obj` look `days` old (auto_now_add fields cannot be set on create)."""
    model.objects.filter(pk=obj.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )


def hidden_and_appealed(owner, moderator, title: str) -> Appeal:
    creation = CreationFactory(owner=owner, title=title)
    creation_update(creation=creation, actor=moderator, status="hidden", hidden_reason="Why")
    creation.refresh_from_db()
    return appeal_create(owner=owner, creation=creation, note=f"Appeal on {title}")


def comment_report(creation, body: str) -> CommentReport:
    comment = comment_create(user=UserFactory(), creation=creation, body=body)
    return CommentReport.objects.create(
        comment=comment, reporter=UserFactory(), reason=CommentReport.Reason.SPAM
    )


@pytest.fixture
def waiting(owner, moderator):
    """Two of each kind, the second made first (older), plus one of each already done."""
    published = CreationFactory(owner=owner, title="Reported creation")
    reports = [ReportFactory(creation=published, note=f"Report {n}") for n in (1, 2)]
    aged(Report, reports[1], 3)
    done = ReportFactory(creation=published, note="Resolved one")
    Report.objects.filter(pk=done.pk).update(status="resolved", resolved_at=timezone.now())
    appeals = [hidden_and_appealed(owner, moderator, f"Appealed {n}") for n in (1, 2)]
    aged(Appeal, appeals[1], 3)
    Appeal.objects.filter(pk=hidden_and_appealed(owner, moderator, "Decided").pk).update(
        status="denied"
    )
    newcomer = UserFactory(trusted=False)
    uploads = [CreationFactory(owner=newcomer, title=f"Upload {n}") for n in (1, 2)]
    Creation.objects.filter(pk__in=[upload.pk for upload in uploads]).update(status="pending")
    aged(Creation, uploads[1], 3)
    comments = [comment_report(published, f"Spam comment {n}") for n in (1, 2)]
    aged(CommentReport, comments[1], 3)
    return {"reports": reports, "appeals": appeals, "uploads": uploads, "comments": comments}


def positions(body: str, *texts: str) -> list[int]:
    found = [body.index(text) for text in texts]
    return found


def test_queue_lists_each_kind_oldest_first_with_links(moderator_client, waiting):
    response = moderator_client.get(QUEUE)
    assert response.status_code == 200
    body = response.content.decode()
    reports, appeals = waiting["reports"], waiting["appeals"]
    uploads, comments = waiting["uploads"], waiting["comments"]
    a, b = positions(body, "Report 2", "Report 1")
    assert a < b and "Resolved one" not in body
    a, b = positions(body, "Appeal on Appealed 2", "Appeal on Appealed 1")
    assert a < b and "Appeal on Decided" not in body
    a, b = positions(body, "Upload 2", "Upload 1")
    assert a < b
    a, b = positions(body, "Spam comment 2", "Spam comment 1")
    assert a < b
    assert f"/admin/moderation/report/{reports[0].pk}/change/" in body
    assert f"/admin/moderation/appeal/{appeals[0].pk}/change/" in body
    assert f"/admin/creations/creation/{uploads[0].pk}/change/" in body
    assert f"/admin/community/comment/{comments[0].comment_id}/change/" in body
    for heading in (
        "Open reports: 2",
        "Open appeals: 2",
        "Uploads to review: 2",
        "Reported comments: 2",
    ):
        assert heading in body


def test_index_shows_the_counts_with_links(moderator_client, waiting):
    body = moderator_client.get("/admin/").content.decode()
    assert "Waiting for moderators" in body
    for label, url in (
        ("Open reports", "/admin/moderation/report/?status__exact=open"),
        ("Open appeals", "/admin/moderation/appeal/?status__exact=open"),
        ("Uploads to review", "/admin/creations/creation/?status__exact=pending"),
        ("Reported comments", "/admin/community/comment/?open_reports=yes"),
    ):
        assert f'<a href="{url}">{label}</a></th><td>2</td>' in body, label


def test_the_index_links_lead_to_the_filtered_lists(moderator_client, waiting):
    appeals = moderator_client.get("/admin/moderation/appeal/?status__exact=open")
    assert len(appeals.context["cl"].result_list) == 2
    uploads = moderator_client.get("/admin/creations/creation/?status__exact=pending")
    assert len(uploads.context["cl"].result_list) == 2
    comments = moderator_client.get("/admin/community/comment/?open_reports=yes")
    assert len(comments.context["cl"].result_list) == 2


def test_a_reported_comment_counts_once_however_many_reports(moderator_client, creation):
    report = comment_report(creation, "Buy now")
    CommentReport.objects.create(
        comment=report.comment, reporter=UserFactory(), reason=CommentReport.Reason.OFFENSIVE
    )
    body = moderator_client.get("/admin/").content.decode()
    assert 'open_reports=yes">Reported comments</a></th><td>1</td>' in body


def test_queue_and_counts_are_for_moderators_only(client, member, superuser, waiting):
    assert client.get(QUEUE).status_code == 302  # to the admin's log-in
    client.force_login(member)
    assert client.get(QUEUE).status_code == 302
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(QUEUE).status_code == 403
    assert "Waiting for moderators" not in client.get("/admin/").content.decode()
    client.force_login(superuser)
    assert client.get(QUEUE).status_code == 200
    assert "Waiting for moderators" in client.get("/admin/").content.decode()


def test_an_empty_queue_says_so(moderator_client):
    body = moderator_client.get(QUEUE).content.decode()
    assert body.count("Nothing waiting.") == 4


@pytest.mark.parametrize("count", [1, 5])
def test_queue_query_count_is_flat(
    moderator_client, owner, moderator, count, django_assert_num_queries
):
    published = CreationFactory(owner=owner)
    for n in range(count):
        ReportFactory(creation=published)
        hidden_and_appealed(owner, moderator, f"Appealed {n}")
        Creation.objects.filter(pk=CreationFactory(owner=owner).pk).update(status="pending")
        comment_report(published, f"Comment {n}")
    # user, groups (is_moderator), permissions (2, the admin's navigation), and a count and
    # the rows for each of reports, appeals, uploads and reported comments
    with django_assert_num_queries(12 + session_queries()):
        response = moderator_client.get(QUEUE)
    assert response.status_code == 200
    assert Comment.objects.count() == count


@pytest.mark.parametrize("count", [1, 5])
def test_index_query_count_is_flat(
    moderator_client, owner, moderator, count, django_assert_num_queries
):
    published = CreationFactory(owner=owner)
    for n in range(count):
        ReportFactory(creation=published)
        hidden_and_appealed(owner, moderator, f"Appealed {n}")
        comment_report(published, f"Comment {n}")
    # user, permissions (2, the app list), one count each for reports, appeals, uploads and
    # reported comments, the recent actions
    with django_assert_num_queries(8 + session_queries()):
        response = moderator_client.get("/admin/")
    assert response.status_code == 200
