"""A moderator's hide: recorded (who, when, why), shown to the owner, lifted by moderators only."""

import pytest

from creations.models import Creation
from creations.services import ModeratorHideError, creation_set_status, creation_update
from tests.conftest import client_for, run_action

pytestmark = pytest.mark.django_db


def hide_by_moderator(creation, moderator, reason="Shows a real person's face"):
    return creation_update(
        creation=creation, actor=moderator, status="hidden", hidden_reason=reason
    )


def test_a_moderators_hide_records_who_when_and_why(creation, moderator):
    hide_by_moderator(creation, moderator)
    creation.refresh_from_db()
    assert creation.status == "hidden" and creation.hidden_by == moderator
    assert creation.hidden_by_moderator and creation.hidden_at
    assert creation.hidden_reason == "Shows a real person's face"


def test_the_owner_cannot_republish_through_the_api(creation, owner, moderator):
    hide_by_moderator(creation, moderator)
    url = f"/api/v1/creations/{creation.pk}/"
    response = client_for(owner).patch(url, {"status": "published"})
    assert response.status_code == 403
    assert "only a moderator" in response.json()["detail"]
    creation.refresh_from_db()
    assert creation.status == "hidden"
    # Other changes stay possible while it is hidden.
    assert client_for(owner).patch(url, {"title": "Fixed"}).status_code == 200


def test_the_owner_sees_that_and_why_a_moderator_hid_it(client, creation, owner, moderator):
    hide_by_moderator(creation, moderator, reason="Photo <b>stolen</b> from a forum")
    data = client_for(owner).get(f"/api/v1/creations/{creation.pk}/").json()
    assert data["status"] == "hidden" and data["hidden_by_moderator"] is True
    assert data["hidden_reason"] == "Photo <b>stolen</b> from a forum"
    client.force_login(owner)
    page = client.get(creation.get_absolute_url()).content.decode()
    assert "A moderator hid this creation" in page
    assert "Photo &lt;b&gt;stolen&lt;/b&gt; from a forum" in page


def test_a_moderator_publishes_again_and_the_record_is_cleared(creation, moderator):
    hide_by_moderator(creation, moderator)
    response = client_for(moderator).patch(
        f"/api/v1/creations/{creation.pk}/", {"status": "published"}
    )
    assert response.status_code == 200
    creation.refresh_from_db()
    assert (creation.status, creation.hidden_by, creation.hidden_reason) == ("published", None, "")


def test_the_owner_may_republish_what_they_hid_themselves(creation, owner):
    client = client_for(owner)
    url = f"/api/v1/creations/{creation.pk}/"
    assert client.patch(url, {"status": "hidden"}).status_code == 200
    creation.refresh_from_db()
    assert creation.hidden_by == owner and not creation.hidden_by_moderator
    assert client.patch(url, {"status": "published"}).status_code == 200


def test_bulk_publish_by_a_member_refuses_a_moderators_hide(creation, owner, moderator):
    hide_by_moderator(creation, moderator)
    with pytest.raises(ModeratorHideError):
        creation_set_status(creations=[creation], status="published", actor=owner)
    assert Creation.objects.get().status == "hidden"


def test_the_admin_hide_action_records_the_reason(moderator_client, moderator, creation):
    page = "admin:creations_creation_changelist"
    run_action(moderator_client, page, "hide_selected", [creation], reason="Spam links")
    creation.refresh_from_db()
    assert (creation.status, creation.hidden_by, creation.hidden_reason) == (
        "hidden",
        moderator,
        "Spam links",
    )


def test_others_never_see_the_hide_record(creation, member, moderator):
    data = client_for(member).get(f"/api/v1/creations/{creation.pk}/").json()
    assert not {"status", "hidden_by_moderator", "hidden_reason"} & set(data)
