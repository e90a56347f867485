import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_second_report_is_a_400(creation, member):
    client = client_for(member)
    url = f"/api/v1/creations/{creation.pk}/reports/"
    assert client.post(url, {"reason": "spam", "note": "ads"}).status_code == 201
    again = client.post(url, {"reason": "other"})
    assert again.status_code == 400 and "already reported" in again.json()["detail"]
    missing = client.post(f"/api/v1/creations/{creation.pk + 1}/reports/", {"reason": "spam"})
    assert missing.status_code == 404


def test_the_owner_cannot_report_through_the_api(creation, owner):
    response = client_for(owner).post(
        f"/api/v1/creations/{creation.pk}/reports/", {"reason": "spam"}
    )
    assert response.status_code == 403
    assert "own creation" in response.json()["detail"]


def test_anonymous_reports_are_a_401(creation):
    response = client_for(None).post(
        f"/api/v1/creations/{creation.pk}/reports/", {"reason": "spam"}
    )
    assert response.status_code == 401
