import pytest
from django.urls import reverse

from moderation.models import Report

pytestmark = pytest.mark.django_db


def test_member_reports_a_creation_once(client, creation, member):
    client.force_login(member)
    url = reverse("moderation:report", args=[creation.pk])
    response = client.post(url, {"reason": "stolen", "note": "Seen on a forum"})
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.reporter, report.reason, report.note) == (member, "stolen", "Seen on a forum")

    again = client.post(url, {"reason": "spam"}, follow=True)
    assert "already reported" in again.content.decode()
    assert Report.objects.count() == 1
    assert (
        "You have reported this creation."
        in client.get(creation.get_absolute_url()).content.decode()
    )


def test_report_needs_a_valid_reason(client, creation, member):
    client.force_login(member)
    response = client.post(reverse("moderation:report", args=[creation.pk]), {"reason": "meh"})
    assert "reason" in response.context["form"].errors
    assert not Report.objects.exists()


def test_owner_cannot_report_own_creation(client, creation):
    client.force_login(creation.owner)
    client.post(reverse("moderation:report", args=[creation.pk]), {"reason": "spam"})
    assert not Report.objects.exists()


# Profile ------------------------------------------------------------------------------------
