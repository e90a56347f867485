"""The moderators' API: suspend, ban, lift and trust members, and read the moderation log,
through the same services (and so the same checks and log rows) as the admin's member pages."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Restriction
from accounts.services import user_set_moderator
from creations.models import Creation
from moderation.models import ModerationAction
from tests.conftest import client_for
from tests.factories import PASSWORD, CreationFactory, UserFactory

pytestmark = pytest.mark.django_db

RESTRICTION = "/api/v1/users/{}/restriction/"
LOG = "/api/v1/moderation/actions/"
SUSPEND = {"restriction": "suspended", "reason": "Spam links", "category": "spam"}


def state(member) -> tuple:
    member.refresh_from_db()
    return (
        member.restriction,
        member.restriction_reason,
        member.restriction_ends_at,
        member.trusted,
    )


def test_a_moderator_suspends_until_a_date_and_lifts_through_the_api(owner, moderator):
    creation = CreationFactory(owner=owner, title="Lamp")
    owner_api = client_for(owner)
    api = client_for(moderator)
    ends_at = timezone.now() + datetime.timedelta(days=3)

    response = api.put(
        RESTRICTION.format("owner"), {**SUSPEND, "ends_at": ends_at.isoformat()}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "owner" and body["restriction"] == "suspended"
    assert body["reason"] == "Spam links" and body["restricted_at"]
    assert abs(datetime.datetime.fromisoformat(body["ends_at"]) - ends_at).total_seconds() < 1
    creation.refresh_from_db()
    assert creation.status == Creation.Status.HIDDEN and creation.hidden_with_owner
    refused = owner_api.get("/api/v1/users/me/")
    assert refused.status_code == 401 and "Spam links" in refused.json()["detail"]
    token = client_for(None).post(
        "/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json"
    )
    assert token.status_code == 400 and "suspended until" in str(token.json())
    assert api.get(RESTRICTION.format("owner")).json()["restriction"] == "suspended"

    lifted = api.delete(RESTRICTION.format("owner"), {"reason": "Appeal accepted"}, format="json")

    assert lifted.status_code == 200
    assert lifted.json()["restriction"] == "" and lifted.json()["ends_at"] is None
    assert owner_api.get("/api/v1/users/me/").status_code == 200
    creation.refresh_from_db()
    assert creation.status == Creation.Status.PUBLISHED
    rows = ModerationAction.objects.order_by("id").values_list(
        "actor_name", "action", "category", "target_repr", "reason"
    )
    assert list(rows) == [
        ("moderator", "suspend", "spam", "owner", "Spam links"),
        ("moderator", "lift", "other", "owner", "Appeal accepted"),
    ]


def test_a_ban_through_the_api_has_no_end_and_a_lift_needs_no_body(owner, moderator):
    api = client_for(moderator)
    banned = api.put(
        RESTRICTION.format("owner"),
        {"restriction": "banned", "reason": "Score ring", "category": "manipulation"},
        format="json",
    )
    assert banned.status_code == 200 and banned.json()["restriction"] == "banned"
    assert state(owner)[:3] == (Restriction.BANNED, "Score ring", None)
    assert api.delete(RESTRICTION.format("owner")).status_code == 200
    assert state(owner)[:3] == ("", "", None)
    # Lifting a member who is free answers the same and logs nothing more.
    assert api.delete(RESTRICTION.format("owner")).status_code == 200
    assert ModerationAction.objects.filter(action="lift").count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({**SUSPEND, "reason": ""}, "reason"),
        ({**SUSPEND, "reason": "   "}, "reason"),
        ({**SUSPEND, "reason": "Spam\x00links"}, "reason"),
        ({**SUSPEND, "reason": "Spam\x07links"}, "reason"),
        ({**SUSPEND, "reason": "x" * 1001}, "reason"),
        ({**SUSPEND, "reason": ["Spam"]}, "reason"),
        ({**SUSPEND, "category": "gossip"}, "category"),
        ({**SUSPEND, "restriction": "exiled"}, "restriction"),
        ({**SUSPEND, "ends_at": "tomorrow"}, "ends_at"),
        ({**SUSPEND, "ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),
        ({**SUSPEND, "ends_at": "9999-12-31T23:59:59Z"}, "ends_at"),
        ({**SUSPEND, "ends_at": "9999-12-31T23:59:59-23:59"}, "ends_at"),
        ({**SUSPEND, "ends_at": True}, "ends_at"),
        (
            {
                "restriction": "banned",
                "reason": "x",
                "category": "spam",
                "ends_at": "2999-01-01T00:00:00Z",
            },
            "ends_at",
        ),
        ({"reason": "Spam", "category": "spam"}, "restriction"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(owner, moderator, body, field):
    before = state(owner)
    response = client_for(moderator).put(RESTRICTION.format("owner"), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert state(owner) == before
    assert not ModerationAction.objects.exists()


def test_a_lone_surrogate_in_the_reason_is_a_400(owner, moderator):
    body = b'{"restriction": "suspended", "reason": "Spam \\ud800", "category": "spam"}'
    response = client_for(moderator).generic(
        "PUT", RESTRICTION.format("owner"), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert state(owner)[0] == ""


def test_an_unknown_or_inactive_member_is_a_404(moderator):
    api = client_for(moderator)
    assert api.put(RESTRICTION.format("nobody"), SUSPEND, format="json").status_code == 404
    UserFactory(username="gone", is_active=False)
    assert api.get(RESTRICTION.format("gone")).status_code == 404


def test_only_a_superuser_restricts_a_moderator(moderator, superuser):
    peer = UserFactory(username="peer")
    user_set_moderator(user=peer, is_moderator=True)
    refused = client_for(moderator).put(RESTRICTION.format("peer"), SUSPEND, format="json")
    assert refused.status_code == 403 and state(peer)[0] == ""
    done = client_for(superuser).put(RESTRICTION.format("peer"), SUSPEND, format="json")
    assert done.status_code == 200 and state(peer)[0] == Restriction.SUSPENDED


def test_trust_and_untrust_through_the_api(moderator):
    newcomer = UserFactory(username="newcomer", trusted=False)
    api = client_for(moderator)
    response = api.put("/api/v1/users/newcomer/trust/")
    assert response.status_code == 200 and response.json() == {"trusted": True}
    assert state(newcomer)[3] is True
    assert api.put("/api/v1/users/newcomer/trust/").json() == {"trusted": True}  # idempotent
    response = api.delete("/api/v1/users/newcomer/trust/")
    assert response.status_code == 200 and response.json() == {"trusted": False}
    assert state(newcomer)[3] is False
    assert list(
        ModerationAction.objects.order_by("id").values_list("action", "category", "target_repr")
    ) == [("trust", "review", "newcomer"), ("untrust", "review", "newcomer")]


# The log ---------------------------------------------------------------------------------


@pytest.fixture
def log_rows(owner, member, moderator):
    api = client_for(moderator)
    api.put(RESTRICTION.format("owner"), SUSPEND, format="json")
    api.put(
        RESTRICTION.format("member"),
        {"restriction": "banned", "reason": "Score ring", "category": "manipulation"},
        format="json",
    )
    api.delete(RESTRICTION.format("owner"), {"reason": "Appeal accepted"}, format="json")
    return api


def test_the_log_lists_newest_first_and_names_no_address(log_rows, owner):
    response = log_rows.get(LOG)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    first = body["results"][0]
    assert {key: first[key] for key in ("actor", "action", "category", "target", "reason")} == {
        "actor": "moderator",
        "action": "lift",
        "category": "other",
        "target": "owner",
        "reason": "Appeal accepted",
    }
    assert first["target_type"] == "accounts.user" and first["target_id"] == owner.pk
    assert [row["action"] for row in body["results"]] == ["lift", "ban", "suspend"]
    assert "@" not in response.content.decode()


def test_the_log_is_filtered_and_bad_filters_are_a_400(log_rows):
    assert [row["action"] for row in log_rows.get(LOG, {"action": "ban"}).json()["results"]] == [
        "ban"
    ]
    spam = log_rows.get(LOG, {"category": "spam"}).json()["results"]
    assert [row["action"] for row in spam] == ["suspend"]
    assert log_rows.get(LOG, {"target_type": "creations.creation"}).json()["count"] == 0
    assert log_rows.get(LOG, {"action": "explode"}).status_code == 400
    assert log_rows.get(LOG, {"target_type": "x" * 41}).status_code == 400


def test_the_log_reads_a_fixed_number_of_queries(moderator, django_assert_num_queries):
    api = client_for(moderator)
    members = UserFactory.create_batch(12, trusted=False)
    # The token with its user, the moderator's own and group permissions, the count, the page.
    for count in (2, 12):
        for member in members[:count]:
            api.put(f"/api/v1/users/{member.username}/trust/")
        with django_assert_num_queries(5):
            response = api.get(LOG)
        assert response.status_code == 200
    assert response.json()["count"] == 12  # the first two were trusted once only
