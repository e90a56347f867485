import pytest
from django.urls import reverse

from moderation.models import Report
from tests.conftest import run_action
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def test_creation_list_shows_thumbnail_and_report_counts(moderator_client, creation):
    ReportFactory(creation=creation)
    ReportFactory(creation=creation, reason=Report.Reason.STOLEN)
    response = moderator_client.get(reverse("admin:creations_creation_changelist"))
    body = response.content.decode()
    assert creation.thumbnail.url in body
    row = response.context["cl"].result_list.get(pk=creation.pk)
    assert (row.report_total, row.open_report_total) == (2, 2)


def test_creation_change_page_shows_reports_inline(moderator_client, creation):
    ReportFactory(creation=creation, note="Copied from a forum")
    response = moderator_client.get(reverse("admin:creations_creation_change", args=[creation.pk]))
    assert "Copied from a forum" in response.content.decode()


def test_bulk_resolve_reports(moderator_client, moderator, creation):
    reports = ReportFactory.create_batch(2, creation=creation)
    untouched = ReportFactory(creation=creation)

    run_action(moderator_client, "admin:moderation_report_changelist", "resolve_selected", reports)

    for report in reports:
        report.refresh_from_db()
        assert report.status == Report.Status.RESOLVED
        assert report.resolved_by == moderator and report.resolved_at
    untouched.refresh_from_db()
    assert untouched.status == Report.Status.OPEN


def test_reports_filter_open_and_resolved(moderator_client, moderator, creation):
    open_report, resolved = ReportFactory.create_batch(2, creation=creation)
    run_action(
        moderator_client, "admin:moderation_report_changelist", "resolve_selected", [resolved]
    )
    url = reverse("admin:moderation_report_changelist")
    listed = moderator_client.get(url, {"status__exact": "open"}).context["cl"].result_list
    assert list(listed) == [open_report]
