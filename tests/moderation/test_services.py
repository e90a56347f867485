import pytest
from django.core.exceptions import ValidationError

from moderation.models import Report
from moderation.services import OwnCreationReportError, report_create, report_resolve
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def test_nobody_reports_their_own_creation_whoever_calls(creation, owner):
    with pytest.raises(OwnCreationReportError):
        report_create(reporter=owner, creation=creation, reason="spam")
    assert not Report.objects.exists()


def test_a_member_reports_a_creation_once(creation, member):
    report_create(reporter=member, creation=creation, reason="spam", note="  ads  ")
    with pytest.raises(ValidationError, match="already reported"):
        report_create(reporter=member, creation=creation, reason="other")
    assert list(Report.objects.values_list("reason", "note")) == [("spam", "ads")]


def test_an_unknown_reason_is_refused(creation, member):
    with pytest.raises(ValidationError) as refused:
        report_create(reporter=member, creation=creation, reason="boring")
    assert "reason" in refused.value.message_dict
    assert not Report.objects.exists()


def test_resolving_counts_only_open_reports(creation, moderator):
    first, second = ReportFactory.create_batch(2, creation=creation)
    assert report_resolve(reports=[first], moderator=moderator) == 1
    assert report_resolve(reports=[first, second], moderator=moderator) == 1
