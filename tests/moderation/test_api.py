import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_second_report_is_a_400(creation, member):
    client = client_for(member)
    url = f"/api/v1/creations/{creation.pk}/reports/"
    assert client.post(url, {"reason": "spam", "note": "ads"}).status_code == 201
    again = client.post(url, {"reason": "other"})
    assert again.status_code == 400 and "already reported" in again.json()["detail"]
    assert client.post(url.replace(str(creation.pk), "1"), {"reason": "x"}).status_code in (
        400,
        404,
    )


# Query budgets ------------------------------------------------------------------------------
