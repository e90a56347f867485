"""Suspending, banning, lifting and trusting members: what a restriction takes away (log-in,
sessions, tokens, creations, scores), what lifting gives back, who may do it, and the log."""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Restriction, User
from accounts.services import user_set_moderator
from creations.models import Creation
from creations.services import creation_update
from moderation.members import (
    member_ban,
    member_lift,
    member_suspend,
    member_trust,
    members_lift_expired,
)
from moderation.models import ModerationAction
from moderation.tasks import restrictions_expire
from scoring.audit import creation_audit, suspects
from scoring.models import RaterCalibration, Score
from scoring.services import creation_refresh_all_aggregates, score_upsert
from tests.conftest import client_for, run_action, session_queries
from tests.factories import PASSWORD, CreationFactory, ScoreFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:moderation_member_changelist"
SPAM = ModerationAction.Category.SPAM


def suspend(member, moderator, **extra):
    return member_suspend(
        member=member, moderator=moderator, reason="Spam links", category=SPAM, **extra
    )


def figures(creation):
    creation.refresh_from_db()
    return (
        creation.score_count,
        creation.creativity_avg,
        creation.uniqueness_avg,
        creation.rating,
        creation.top,
        creation.calibrated,
    )


@pytest.fixture
def scored(owner, member, other_member):
    """Two creations of `owner`, both scored by `member` and `other_member`."""
    first = CreationFactory(owner=owner, title="First")
    second = CreationFactory(owner=owner, title="Second")
    for creation, (mine, theirs) in ((first, (5, 2)), (second, (4, 1))):
        ScoreFactory(user=member, creation=creation, creativity=mine, uniqueness=mine)
        ScoreFactory(user=other_member, creation=creation, creativity=theirs, uniqueness=theirs)
    return first, second


# Creations --------------------------------------------------------------------------------


def test_suspending_hides_the_members_creations_and_lifting_shows_them_again(
    client, owner, member, moderator
):
    published = CreationFactory(owner=owner, title="Bley slope roof")
    own_hidden = CreationFactory(owner=owner, title="Work in progress")
    creation_update(creation=own_hidden, actor=owner, status=Creation.Status.HIDDEN)

    suspend(owner, moderator)

    published.refresh_from_db()
    assert published.status == Creation.Status.HIDDEN and published.hidden_with_owner
    assert "Bley slope roof" not in client.get("/").content.decode()
    api = client_for(member)
    listed = [item["id"] for item in api.get("/api/v1/creations/").json()["results"]]
    assert published.pk not in listed
    assert api.get(f"/api/v1/creations/{published.pk}/").status_code == 404
    assert client.get(f"/creations/{published.pk}/").status_code == 404

    assert member_lift(member=owner, moderator=moderator) is True

    published.refresh_from_db()
    own_hidden.refresh_from_db()
    assert published.status == Creation.Status.PUBLISHED and not published.hidden_with_owner
    assert own_hidden.status == Creation.Status.HIDDEN  # hidden for its own sake: stays
    assert "Bley slope roof" in client.get("/").content.decode()
    assert api.get(f"/api/v1/creations/{published.pk}/").status_code == 200


# Scores -------------------------------------------------------------------------------------


def test_a_restricted_members_scores_stop_counting_and_count_again_when_lifted(
    scored, member, moderator
):
    first, second = scored
    before = [figures(first), figures(second)]
    assert before[0][0] == 2

    member_ban(member=member, moderator=moderator, reason="Score ring", category="manipulation")

    assert set(Score.objects.filter(user=member).values_list("rater_restricted", flat=True)) == {
        True
    }
    restricted = [figures(first), figures(second)]
    assert restricted[0][:4] == (1, 2.0, 2.0, 2.0) and restricted[1][:4] == (1, 1.0, 1.0, 1.0)
    assert RaterCalibration.objects.get(user=member).score_count == 0
    # A full rebuild (recompute_scores, refresh_rankings) agrees: it leaves them out too.
    creation_refresh_all_aggregates()
    assert [figures(first)[:4], figures(second)[:4]] == [r[:4] for r in restricted]
    assert not RaterCalibration.objects.filter(user=member).exists()

    member_lift(member=member, moderator=moderator)

    assert not Score.objects.filter(user=member, rater_restricted=True).exists()
    assert figures(first)[:4] == before[0][:4] and figures(second)[:4] == before[1][:4]
    assert RaterCalibration.objects.get(user=member).score_count == 2


def test_the_manipulation_audit_leaves_a_restricted_raters_scores_out(scored, member, moderator):
    first, _ = scored
    young_before = {row.score.user_id for row in creation_audit(creation=first).young}
    assert member.pk in young_before  # every account here is young
    before = {row.creation.pk: row.scores for row in suspects().creations}
    suspend(member, moderator)
    young_after = {row.score.user_id for row in creation_audit(creation=first).young}
    assert young_after == young_before - {member.pk}
    after = {row.creation.pk: row.scores for row in suspects().creations}
    assert after[first.pk] == before[first.pk] - 1


def test_a_restricted_member_cannot_score(owner, member):
    creation = CreationFactory(owner=owner)
    User.objects.filter(pk=member.pk).update(restriction=Restriction.BANNED)
    member.refresh_from_db()
    with pytest.raises(PermissionDenied):
        score_upsert(user=member, creation=creation, creativity=5, uniqueness=5)
    assert not Score.objects.exists()


# Log-in, sessions, tokens ---------------------------------------------------------------------


def test_log_in_is_refused_with_the_reason_only_with_the_right_password(client, owner, moderator):
    ends = timezone.now() + datetime.timedelta(days=3)
    suspend(owner, moderator, ends_at=ends)
    url = reverse("accounts:login")

    right = client.post(url, {"username": "owner", "password": PASSWORD})
    body = right.content.decode()
    assert right.status_code == 200
    assert "Your account is suspended until" in body and "Spam links" in body
    assert "correct username and password" not in body
    assert "_auth_user_id" not in client.session

    by_email = client.post(url, {"username": "owner@example.com", "password": PASSWORD})
    assert "Spam links" in by_email.content.decode()

    wrong = client.post(url, {"username": "owner", "password": "wrong"})
    assert "correct username and password" in wrong.content.decode()
    assert "Spam links" not in wrong.content.decode()


def test_the_token_endpoint_refuses_with_the_reason(owner, moderator):
    member_ban(member=owner, moderator=moderator, reason="Stolen pictures", category="stolen")
    api = APIClient()
    right = api.post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD})
    assert right.status_code == 400
    assert right.json() == {"non_field_errors": ["Your account is banned. Reason: Stolen pictures"]}
    wrong = api.post("/api/v1/auth/token/", {"username": "owner", "password": "nope"})
    assert wrong.status_code == 400 and "Stolen" not in str(wrong.json())


def test_suspending_ends_the_members_sessions(client, owner, moderator):
    client.force_login(owner)
    assert client.get(reverse("accounts:settings")).status_code == 200
    suspend(owner, moderator)
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(owner.pk)
    ]
    response = client.get(reverse("accounts:settings"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_session_of_a_restricted_member_stops_working_on_the_next_request(client, owner):
    client.force_login(owner)
    # Restricted without the service (so the session is not ended): refused all the same.
    User.objects.filter(pk=owner.pk).update(restriction=Restriction.SUSPENDED)
    response = client.get(reverse("accounts:settings"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/api/v1/users/me/").status_code in (401, 403)  # anonymous


def test_a_restricted_members_token_is_refused_with_the_reason_and_works_after_lifting(
    owner, moderator
):
    api = client_for(owner)
    assert api.get("/api/v1/users/me/").status_code == 200
    suspend(owner, moderator)
    refused = api.get("/api/v1/users/me/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "Your account is suspended until a moderator lifts it. Reason: Spam links"
    )
    assert "Token" in refused["WWW-Authenticate"]
    member_lift(member=owner, moderator=moderator)
    assert api.get("/api/v1/users/me/").status_code == 200


def test_lifting_lets_the_member_log_in_again(client, owner, moderator):
    suspend(owner, moderator)
    member_lift(member=owner, moderator=moderator, reason="Appeal accepted")
    response = client.post(reverse("accounts:login"), {"username": "owner", "password": PASSWORD})
    assert response.status_code == 302


# Suspensions that end ---------------------------------------------------------------------------


def end_suspension(owner, moderator):
    """Suspend `owner` until an hour from now, then move that end to a second ago."""
    suspend(owner, moderator, ends_at=timezone.now() + datetime.timedelta(hours=1))
    User.objects.filter(pk=owner.pk).update(
        restriction_ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    owner.refresh_from_db()


def assert_lifted_by_the_site(owner, creation, scored_creation):
    owner.refresh_from_db()
    creation.refresh_from_db()
    scored_creation.refresh_from_db()
    assert owner.restriction == "" and owner.restriction_ends_at is None
    assert creation.status == Creation.Status.PUBLISHED and not creation.hidden_with_owner
    assert scored_creation.score_count == 1
    assert not Score.objects.filter(user=owner, rater_restricted=True).exists()
    lift = ModerationAction.objects.get(action=ModerationAction.Action.LIFT)
    assert lift.actor is None and lift.actor_name == "" and lift.reason == "suspension ended"


@pytest.fixture
def owner_with_work(owner, member):
    """A creation of `owner`'s, and a creation of `member`'s that `owner` scored."""
    creation = CreationFactory(owner=owner)
    scored_creation = CreationFactory(owner=member)
    ScoreFactory(user=owner, creation=scored_creation, creativity=4, uniqueness=4)
    return creation, scored_creation


def test_an_ended_suspension_is_lifted_by_the_sweep(owner, moderator, owner_with_work):
    creation, scored_creation = owner_with_work
    end_suspension(owner, moderator)
    assert not owner.is_restricted
    creation.refresh_from_db()
    scored_creation.refresh_from_db()
    assert creation.status == Creation.Status.HIDDEN and scored_creation.score_count == 0

    assert restrictions_expire() == 1
    assert members_lift_expired() == 0  # idempotent
    assert_lifted_by_the_site(owner, creation, scored_creation)


def test_logging_in_after_a_suspension_ended_lifts_it_at_once(
    client, owner, moderator, owner_with_work
):
    creation, scored_creation = owner_with_work
    end_suspension(owner, moderator)

    response = client.post(reverse("accounts:login"), {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302
    assert_lifted_by_the_site(owner, creation, scored_creation)
    assert client.get(f"/creations/{creation.pk}/").status_code == 200
    assert members_lift_expired() == 0


def test_a_token_log_in_after_a_suspension_ended_lifts_it_at_once(
    owner, moderator, owner_with_work
):
    creation, scored_creation = owner_with_work
    end_suspension(owner, moderator)

    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200 and response.json()["token"]
    assert_lifted_by_the_site(owner, creation, scored_creation)
    owner.refresh_from_db()
    assert owner.last_login is not None  # a token log-in is a log-in


def test_logging_in_during_a_suspension_lifts_nothing(client, owner, moderator):
    creation = CreationFactory(owner=owner)
    suspend(owner, moderator, ends_at=timezone.now() + datetime.timedelta(hours=1))
    client.post(reverse("accounts:login"), {"username": "owner", "password": PASSWORD})
    owner.refresh_from_db()
    creation.refresh_from_db()
    assert owner.is_restricted and creation.status == Creation.Status.HIDDEN
    assert not ModerationAction.objects.filter(action=ModerationAction.Action.LIFT).exists()


# Uploads approved or published while their owner is restricted ----------------------------


@pytest.mark.parametrize("restrict", ["suspend", "ban"])
def test_an_upload_approved_during_a_restriction_stays_hidden_until_it_is_lifted(
    settings, owner, moderator, restrict
):
    settings.NPU_REVIEW_FIRST_UPLOADS = 3
    User.objects.filter(pk=owner.pk).update(trusted=False)
    waiting = CreationFactory(owner=owner, status=Creation.Status.PENDING)
    if restrict == "suspend":
        suspend(owner, moderator)
    else:
        member_ban(member=owner, moderator=moderator, reason="Spam links", category=SPAM)
    waiting.refresh_from_db()
    assert waiting.status == Creation.Status.PENDING  # nobody sees it either way

    creation_update(creation=waiting, actor=moderator, status=Creation.Status.PUBLISHED)

    waiting.refresh_from_db()
    assert waiting.status == Creation.Status.HIDDEN and waiting.hidden_with_owner
    word = "suspended" if restrict == "suspend" else "banned"
    assert waiting.hidden_reason == f"The member's account is {word}."
    assert ModerationAction.objects.filter(action="approve", target_id=waiting.pk).exists()

    member_lift(member=owner, moderator=moderator)
    waiting.refresh_from_db()
    assert waiting.status == Creation.Status.PUBLISHED and not waiting.hidden_with_owner


def test_publishing_in_bulk_in_the_admin_keeps_a_restricted_members_creations_hidden(
    moderator_client, owner, member, moderator
):
    theirs = CreationFactory(owner=owner, title="Theirs")
    others = CreationFactory(owner=member, title="Others")
    for creation in (theirs, others):
        creation_update(
            creation=creation, actor=moderator, status=Creation.Status.HIDDEN, hidden_reason="x"
        )
    suspend(owner, moderator)

    run_action(
        moderator_client,
        "admin:creations_creation_changelist",
        "publish_selected",
        [theirs, others],
    )

    theirs.refresh_from_db()
    others.refresh_from_db()
    assert others.status == Creation.Status.PUBLISHED
    assert theirs.status == Creation.Status.HIDDEN and theirs.hidden_with_owner
    member_lift(member=owner, moderator=moderator)
    theirs.refresh_from_db()
    assert theirs.status == Creation.Status.PUBLISHED


def test_a_suspension_still_running_is_not_lifted(owner, moderator):
    suspend(owner, moderator, ends_at=timezone.now() + datetime.timedelta(hours=1))
    member_ban(
        member=UserFactory(username="banned"), moderator=moderator, reason="x", category=SPAM
    )
    assert members_lift_expired() == 0
    assert User.objects.filter(restriction__in=Restriction.values).count() == 2


def test_lift_expired_restrictions_command(manage):
    script = (
        "import datetime; from django.utils import timezone; "
        "from accounts.models import User; "
        "past = timezone.now() - datetime.timedelta(minutes=1); "
        "later = timezone.now() + datetime.timedelta(days=1); "
        "User.objects.create_user('ended', 'ended@example.com', 'pw-123456789', "
        "restriction='suspended', restriction_reason='x', restriction_ends_at=past); "
        "User.objects.create_user('running', 'running@example.com', 'pw-123456789', "
        "restriction='suspended', restriction_reason='x', restriction_ends_at=later)"
    )
    created = manage("manage.py", "shell", "-c", script)
    assert created.returncode == 0, created.stderr
    completed = manage("manage.py", "lift_expired_restrictions")
    assert completed.returncode == 0, completed.stderr
    assert "Lifted 1 ended suspension(s)." in completed.stdout
    rows = manage.sql("SELECT username, restriction FROM accounts_user ORDER BY username")
    assert rows == [("ended", ""), ("running", "suspended")]
    log = manage.sql("SELECT action, actor_name, reason FROM moderation_moderationaction")
    assert log == [("lift", "", "suspension ended")]


# Who may, and the log -------------------------------------------------------------------------


def test_every_action_is_logged_once(owner, moderator):
    suspend(owner, moderator)
    member_ban(member=owner, moderator=moderator, reason="Again", category=SPAM)
    member_lift(member=owner, moderator=moderator, reason="Appeal")
    member_lift(member=owner, moderator=moderator)  # nothing to lift: no row
    member_trust(member=owner, moderator=moderator, trusted=False)
    member_trust(member=owner, moderator=moderator, trusted=False)  # no change: no row
    member_trust(member=owner, moderator=moderator, trusted=True)
    log = list(
        ModerationAction.objects.order_by("id").values_list(
            "action", "actor_name", "target_type", "target_id", "reason", "category"
        )
    )
    assert log == [
        ("suspend", "moderator", "accounts.user", owner.pk, "Spam links", "spam"),
        ("ban", "moderator", "accounts.user", owner.pk, "Again", "spam"),
        ("lift", "moderator", "accounts.user", owner.pk, "Appeal", "other"),
        ("untrust", "moderator", "accounts.user", owner.pk, "", "review"),
        ("trust", "moderator", "accounts.user", owner.pk, "", "review"),
    ]


def test_only_moderators_restrict_and_not_themselves_or_their_peers(
    owner, member, moderator, superuser
):
    other_moderator = UserFactory(username="mod2", is_staff=True)
    user_set_moderator(user=other_moderator, is_moderator=True)
    for actor, target in (
        (member, owner),
        (moderator, moderator),
        (moderator, other_moderator),
        (moderator, superuser),
    ):
        with pytest.raises(PermissionDenied):
            suspend(target, actor)
        with pytest.raises(PermissionDenied):
            member_trust(member=owner, moderator=member, trusted=False)
    assert not User.objects.exclude(restriction="").exists()
    assert not ModerationAction.objects.exists()
    suspend(other_moderator, superuser)  # a superuser may
    assert User.objects.get(pk=other_moderator.pk).restriction == Restriction.SUSPENDED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 1001}, "reason"),
        ({"reason": "Spam\x07links"}, "reason"),
        ({"ends_at": timezone.now() - datetime.timedelta(hours=1)}, "ends_at"),
        ({"ends_at": datetime.datetime(2099, 1, 1)}, "ends_at"),  # no time zone
        ({"ends_at": timezone.now() + datetime.timedelta(days=3700)}, "ends_at"),
        ({"category": "whatever"}, "category"),
    ],
)
def test_bad_input_changes_nothing(owner, moderator, changes, field):
    creation = CreationFactory(owner=owner)
    arguments = {"reason": "Spam", "category": SPAM, "ends_at": None, **changes}
    with pytest.raises(ValidationError) as raised:
        member_suspend(member=owner, moderator=moderator, **arguments)
    assert field in raised.value.message_dict
    owner.refresh_from_db()
    creation.refresh_from_db()
    assert owner.restriction == "" and creation.status == Creation.Status.PUBLISHED
    assert not ModerationAction.objects.exists()


# The admin ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["moderator", "superuser"])
def test_moderators_suspend_ban_lift_and_trust_in_the_admin(client, owner, member, actor, request):
    client.force_login(request.getfixturevalue(actor))
    creation = CreationFactory(owner=owner)
    page = run_action(client, CHANGELIST, "suspend_selected", [owner])
    assert page.status_code == 200 and "Until" in page.content.decode()
    assert 'value="Suspend members"' in page.content.decode()
    assert 'href="/admin/moderation/member/" class="button cancel-link"' in page.content.decode()

    done = run_action(
        client,
        CHANGELIST,
        "suspend_selected",
        [owner, member],
        apply="1",
        reason="Spam links",
        category="spam",
        ends_at="2030-12-31 12:00",
    )
    assert done.status_code == 302
    owner.refresh_from_db()
    creation.refresh_from_db()
    assert owner.restriction == Restriction.SUSPENDED and owner.restriction_ends_at.year == 2030
    assert creation.status == Creation.Status.HIDDEN
    assert User.objects.get(pk=member.pk).restriction == Restriction.SUSPENDED

    run_action(
        client, CHANGELIST, "ban_selected", [owner], apply="1", reason="Worse", category="spam"
    )
    assert User.objects.get(pk=owner.pk).restriction == Restriction.BANNED

    run_action(client, CHANGELIST, "lift_selected", [owner, member], apply="1", reason="")
    assert not User.objects.exclude(restriction="").exists()
    creation.refresh_from_db()
    assert creation.status == Creation.Status.PUBLISHED

    run_action(client, CHANGELIST, "untrust", [owner])
    assert User.objects.get(pk=owner.pk).trusted is False
    run_action(client, CHANGELIST, "trust_selected", [owner])
    assert User.objects.get(pk=owner.pk).trusted is True
    actions = list(ModerationAction.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["suspend", "suspend", "ban", "lift", "lift", "untrust", "trust"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason": ""}, "Say why"),
        ({"reason": "Spam\x1blinks"}, "not allowed: U+001B"),
        ({"ends_at": "2001-01-01 10:00"}, "must be in the future"),
        ({"ends_at": "2099-12-31 12:00"}, "within ten years"),
        ({"ends_at": "not a date"}, "Enter a valid date/time"),
        ({"category": "nonsense"}, "Select a valid choice"),
    ],
)
def test_bad_input_in_the_admin_shows_the_error_and_changes_nothing(
    moderator_client, owner, data, error
):
    form = {"apply": "1", "reason": "Spam", "category": "spam", "ends_at": "", **data}
    page = run_action(moderator_client, CHANGELIST, "suspend_selected", [owner], **form)
    assert page.status_code == 200
    assert error.lower() in page.content.decode().lower()
    assert User.objects.get(pk=owner.pk).restriction == ""
    assert not ModerationAction.objects.exists()


def test_a_moderator_cannot_suspend_another_moderator_in_the_admin(moderator_client, superuser):
    page = run_action(
        moderator_client,
        CHANGELIST,
        "ban_selected",
        [superuser],
        apply="1",
        reason="No",
        category="other",
    )
    assert page.status_code == 200 and "Only a superuser" in page.content.decode()
    assert User.objects.get(pk=superuser.pk).restriction == ""


def test_the_member_list_never_shows_addresses_and_searches_names(
    moderator_client, owner, member, django_assert_num_queries
):
    CreationFactory.create_batch(2, owner=owner)
    suspend(member, User.objects.get(username="moderator"))
    UserFactory.create_batch(3)
    url = reverse(CHANGELIST)
    # The user, their permissions (two), the filtered and the total counts, the page with
    # each member's creation count; and the session, when it is read from the database.
    with django_assert_num_queries(6 + session_queries()):
        response = moderator_client.get(url)
    body = response.content.decode()
    assert "@example.com" not in body
    rows = {row.username: row for row in response.context["cl"].result_list}
    assert rows["owner"].creation_count == 2 and len(rows) == 6
    found = moderator_client.get(url, {"q": "owner@example.com"}).context["cl"].result_list
    assert list(found) == []
    restricted = moderator_client.get(url, {"restriction": "suspended"}).context["cl"]
    assert [row.username for row in restricted.result_list] == ["member"]


def test_the_member_page_is_read_only(moderator_client, owner):
    url = reverse("admin:moderation_member_change", args=[owner.pk])
    page = moderator_client.get(url)
    assert page.status_code == 200
    assert "owner@example.com" not in page.content.decode()
    moderator_client.post(url, {"username": "renamed", "display_name": "Renamed"})
    assert User.objects.get(pk=owner.pk).username == "owner"
    assert moderator_client.get(reverse("admin:moderation_member_add")).status_code == 403
    delete = reverse("admin:moderation_member_delete", args=[owner.pk])
    assert moderator_client.post(delete, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=owner.pk).exists()
