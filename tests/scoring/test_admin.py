import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_set_moderator
from scoring.models import Score, ScoreVoiding
from scoring.services import scores_void
from tests.conftest import run_action, session_queries
from tests.factories import CreationFactory, ScoreFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_score_in_the_admin_updates_the_aggregates(moderator_client, creation):
    abusive = ScoreFactory(creation=creation, creativity=1, uniqueness=1)
    ScoreFactory(creation=creation, creativity=5, uniqueness=5)

    response = moderator_client.post(
        reverse("admin:scoring_score_delete", args=[abusive.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Score.objects.filter(pk=abusive.pk).exists()
    creation.refresh_from_db()
    assert (creation.score_count, creation.rating) == (1, 5.0)


def test_bulk_deleting_scores_updates_the_aggregates(moderator_client, creation):
    scores = ScoreFactory.create_batch(2, creation=creation)
    response = run_action(
        moderator_client, "admin:scoring_score_changelist", "delete_selected", scores, post="yes"
    )
    assert response.status_code == 302
    creation.refresh_from_db()
    assert (creation.score_count, creation.rating) == (0, None)


# Voiding and restoring, the audit and the suspects pages.

AGGREGATES = ("score_count", "creativity_avg", "uniqueness_avg", "rating", "top", "trending")


def aggregates(creation):
    creation.refresh_from_db()
    return tuple(getattr(creation, name) for name in (*AGGREGATES, "calibrated"))


def staff_user(*permissions):
    """A staff member outside the moderators group, with only the given permissions."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *(
            Permission.objects.get(content_type__app_label="scoring", codename=codename)
            for codename in permissions
        )
    )
    return user


@pytest.fixture
def honest_scores(creation):
    return [
        ScoreFactory(creation=creation, creativity=c, uniqueness=u)
        for c, u in [(4, 3), (2, 5), (5, 4)]
    ]


@pytest.fixture
def abusive(creation, honest_scores):
    return ScoreFactory(creation=creation, creativity=1, uniqueness=1)


def audit_url(creation):
    return reverse("admin:scoring_score_audit", args=[creation.pk])


def test_the_changelist_shows_voided_scores_their_reason_and_audit_links(
    moderator_client, moderator, creation, abusive, honest_scores
):
    scores_void(scores=[abusive], actor=moderator, reason="Sock puppet of the owner")
    page = reverse("admin:scoring_score_changelist")

    response = moderator_client.get(page)
    voided_only = moderator_client.get(page, {"voided": "yes"})
    counting_only = moderator_client.get(page, {"voided": "no"})

    content = response.content.decode()
    assert "Sock puppet of the owner" in content
    assert audit_url(creation) in content
    assert reverse("admin:scoring_score_suspects") in content
    assert 'alt="False"' in content and 'alt="True"' in content  # the voided column
    assert list(voided_only.context["cl"].result_list) == [abusive]
    assert set(counting_only.context["cl"].result_list) == set(honest_scores)


def test_voiding_through_the_admin_action_is_as_if_the_score_never_existed(
    moderator_client, moderator, creation, honest_scores
):
    before = aggregates(creation)
    abusive = ScoreFactory(creation=creation, creativity=1, uniqueness=1)
    assert aggregates(creation) != before
    page = "admin:scoring_score_changelist"

    asked = run_action(moderator_client, page, "void_selected", [abusive])
    assert asked.status_code == 200 and b"Reason" in asked.content
    assert b'value="Void these scores"' in asked.content
    assert f'name="_selected_action" value="{abusive.pk}"'.encode() in asked.content
    assert b'href="/admin/scoring/score/" class="button cancel-link"' in asked.content
    assert not Score.objects.get(pk=abusive.pk).is_voided  # only asked so far

    response = run_action(
        moderator_client, page, "void_selected", [abusive], apply="1", reason=" Vote ring "
    )

    assert response.status_code == 302
    assert aggregates(creation) == before
    abusive.refresh_from_db()
    assert (abusive.is_voided, abusive.voided_by, abusive.void_reason) == (
        True,
        moderator,
        "Vote ring",
    )
    log = ScoreVoiding.objects.get()
    assert (log.action, log.actor, log.reason, log.score, log.rater) == (
        ScoreVoiding.Action.VOID,
        moderator,
        "Vote ring",
        abusive,
        abusive.user,
    )
    assert timezone.now() - log.created_at < datetime.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("", "Say why: the reason is kept in the log."),
        ("   ", "Say why: the reason is kept in the log."),
        ("ring\x07", "U+0007"),
        ("ring\x00", "U+0000"),
        ("ring\u202e", "U+202E"),
        ("x" * 501, "at most 500 characters"),
    ],
)
def test_the_void_action_refuses_a_bad_reason_and_changes_nothing(
    moderator_client, creation, abusive, reason, error
):
    before = aggregates(creation)

    response = run_action(
        moderator_client,
        "admin:scoring_score_changelist",
        "void_selected",
        [abusive],
        apply="1",
        reason=reason,
    )

    assert response.status_code == 200
    assert error in response.context["form"].errors["reason"][0]
    assert error in response.content.decode()
    assert not Score.objects.get(pk=abusive.pk).is_voided
    assert not ScoreVoiding.objects.exists()
    assert aggregates(creation) == before


def test_restoring_through_the_admin_action_puts_the_score_back(
    moderator_client, moderator, creation, abusive
):
    counted = aggregates(creation)
    scores_void(scores=[abusive], actor=moderator, reason="Looked like a ring")
    assert aggregates(creation) != counted

    response = run_action(
        moderator_client,
        "admin:scoring_score_changelist",
        "restore_selected",
        [abusive],
        apply="1",
        reason="Cleared on appeal",
    )

    assert response.status_code == 302
    assert aggregates(creation) == counted
    abusive.refresh_from_db()
    assert (abusive.is_voided, abusive.voided_by, abusive.void_reason) == (False, None, "")
    assert list(ScoreVoiding.objects.values_list("action", "reason")) == [
        ("restore", "Cleared on appeal"),
        ("void", "Looked like a ring"),
    ]


def test_the_audit_page_shows_the_timeline_and_its_signs(moderator_client, creation, abusive):
    young = ScoreFactory(creation=creation, user=UserFactory(username="newcomer"))

    response = moderator_client.get(audit_url(creation))

    assert response.status_code == 200
    audit = response.context["audit"]
    assert [row.score for row in audit.timeline][-2:] == [abusive, young]
    content = response.content.decode()
    assert '<h2 id="timeline-heading">Timeline</h2>' in content
    assert f'name="scores" value="{young.pk}"' in content
    assert "newcomer" in content and "Young account" in content


def test_voiding_on_the_audit_page_is_as_if_the_score_never_existed(
    moderator_client, moderator, creation, honest_scores
):
    before = aggregates(creation)
    ring = [ScoreFactory(creation=creation, creativity=5, uniqueness=5) for _ in range(2)]

    response = moderator_client.post(
        audit_url(creation),
        {"scores": [score.pk for score in ring], "reason": "Vote ring", "change": "void"},
    )

    assert response.status_code == 302 and response["Location"] == audit_url(creation)
    assert aggregates(creation) == before
    assert set(Score.objects.voided()) == set(ring)
    assert set(ScoreVoiding.objects.values_list("score", "actor", "reason")) == {
        (score.pk, moderator.pk, "Vote ring") for score in ring
    }

    restored = moderator_client.post(
        audit_url(creation),
        {"scores": [ring[0].pk], "reason": "One was genuine", "change": "restore"},
    )
    assert restored.status_code == 302
    assert list(Score.objects.voided()) == [ring[1]]


@pytest.mark.parametrize(
    ("posted", "field", "error"),
    [
        ({"reason": ""}, "reason", "Say why"),
        ({"reason": "ring\x1b"}, "reason", "U+001B"),
        ({"reason": "ring", "scores": []}, "scores", "Choose at least one score."),
        ({"reason": "ring", "scores": ["nope"]}, "scores", "is not a valid value"),
        ({"reason": "ring", "change": "delete"}, "change", "Select a valid choice"),
    ],
)
def test_the_audit_page_refuses_bad_input_and_changes_nothing(
    moderator_client, creation, abusive, posted, field, error
):
    before = aggregates(creation)
    data = {"scores": [abusive.pk], "change": "void", **posted}

    response = moderator_client.post(audit_url(creation), data)

    assert response.status_code == 200
    assert error in response.context["form"].errors[field][0]
    assert error in response.content.decode()
    assert not Score.objects.voided().exists() and not ScoreVoiding.objects.exists()
    assert aggregates(creation) == before


def test_the_audit_page_voids_only_scores_of_its_creation(moderator_client, creation, abusive):
    elsewhere = ScoreFactory()
    response = moderator_client.post(
        audit_url(creation), {"scores": [elsewhere.pk], "reason": "ring", "change": "void"}
    )
    assert response.status_code == 200 and "scores" in response.context["form"].errors
    assert not Score.objects.voided().exists()


def test_the_suspects_page_links_each_creation_to_its_audit(moderator_client, creation):
    for _ in range(5):  # five fresh accounts within minutes
        ScoreFactory(creation=creation, creativity=5, uniqueness=5)

    response = moderator_client.get(reverse("admin:scoring_score_suspects"))

    assert response.status_code == 200
    assert [s.creation for s in response.context["suspects"].creations] == [creation]
    assert f'href="{audit_url(creation)}"' in response.content.decode()


@pytest.mark.parametrize("days", ["0", "91", "abc", "3\x00"])
def test_the_suspects_page_refuses_a_bad_window_with_an_error(moderator_client, days):
    response = moderator_client.get(reverse("admin:scoring_score_suspects"), {"days": days})
    assert response.status_code == 200
    assert response.context["form"].errors["days"]
    assert response.context["days"] == 30


@pytest.mark.parametrize(
    "url",
    [
        lambda creation: reverse("admin:scoring_score_audit", args=[creation.pk]),
        lambda creation: reverse("admin:scoring_score_suspects"),
    ],
    ids=["audit", "suspects"],
)
def test_only_staff_with_permission_see_the_moderators_pages(client, creation, url):
    page = url(creation)
    login = reverse("admin:login")

    anonymous = client.get(page)
    client.force_login(UserFactory())
    member = client.get(page)
    client.force_login(UserFactory(is_staff=True))
    staff_without_view = client.get(page)
    client.force_login(user_set_moderator(user=UserFactory(), is_moderator=True))
    moderator = client.get(page)

    assert anonymous.status_code == 302 and anonymous["Location"].startswith(login)
    assert member.status_code == 302 and member["Location"].startswith(login)
    assert staff_without_view.status_code == 403
    assert moderator.status_code == 200


def test_a_staff_member_without_void_score_reads_but_cannot_void(client, creation, abusive):
    client.force_login(staff_user("view_score"))
    page = "admin:scoring_score_changelist"

    changelist = client.get(reverse(page))
    audit = client.get(audit_url(creation))
    posted = client.post(
        audit_url(creation), {"scores": [abusive.pk], "reason": "ring", "change": "void"}
    )
    action = run_action(client, page, "void_selected", [abusive], apply="1", reason="ring")

    assert changelist.status_code == 200
    assert b"void_selected" not in changelist.content
    assert b"restore_selected" not in changelist.content
    assert audit.status_code == 200 and audit.context["form"] is None
    assert b'name="scores"' not in audit.content
    assert posted.status_code == 403
    assert action.status_code in (200, 302)
    assert not Score.objects.voided().exists() and not ScoreVoiding.objects.exists()


def test_a_moderator_gets_the_void_actions(moderator_client):
    response = moderator_client.get(reverse("admin:scoring_score_changelist"))
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices]
    assert {"void_selected", "restore_selected", "delete_selected"} <= set(actions)


@pytest.mark.parametrize("count", [2, 20])
def test_the_audit_page_query_count_is_flat(
    moderator_client, moderator, creation, count, django_assert_num_queries
):
    scores = ScoreFactory.create_batch(count, creation=creation)
    scores_void(scores=scores[:1], actor=moderator, reason="ring")
    # Each rater owns a creation the owner scored: every score is in a reciprocal pair.
    for score in scores:
        ScoreFactory(creation=CreationFactory(owner=score.user), user=creation.owner)

    # Session, user, the user's permissions and groups' permissions, the creation, the
    # scores, the reciprocal pairs.
    with django_assert_num_queries(6 + session_queries()):
        response = moderator_client.get(audit_url(creation))

    assert len(response.context["audit"].timeline) == count
    assert len(response.context["audit"].pairs) == count - 1


@pytest.mark.parametrize("count", [2, 20])
def test_the_suspects_page_query_count_is_flat(moderator_client, count, django_assert_num_queries):
    members = UserFactory.create_batch(count)
    works = [CreationFactory(owner=member) for member in members]
    for i, member in enumerate(members):  # each scores the next one's creation, and back
        ScoreFactory(user=member, creation=works[(i + 1) % count], creativity=5, uniqueness=5)
        ScoreFactory(user=members[(i + 1) % count], creation=works[i], creativity=5)

    # Session, user, permissions (user's, groups'), the window's scores, creations, members.
    with django_assert_num_queries(6 + session_queries()):
        response = moderator_client.get(reverse("admin:scoring_score_suspects"))

    assert len(response.context["suspects"].creations) == count
    assert response.context["suspects"].pairs


def test_moderators_read_the_voiding_log_but_cannot_change_it(moderator_client, moderator, abusive):
    scores_void(scores=[abusive], actor=moderator, reason="Vote ring")
    log = ScoreVoiding.objects.get()

    listing = moderator_client.get(reverse("admin:scoring_scorevoiding_changelist"))
    searched = moderator_client.get(
        reverse("admin:scoring_scorevoiding_changelist"), {"q": "nothing like it"}
    )
    detail = moderator_client.get(reverse("admin:scoring_scorevoiding_change", args=[log.pk]))
    add = moderator_client.get(reverse("admin:scoring_scorevoiding_add"))
    delete = moderator_client.post(
        reverse("admin:scoring_scorevoiding_delete", args=[log.pk]), {"post": "yes"}
    )
    changed = moderator_client.post(
        reverse("admin:scoring_scorevoiding_change", args=[log.pk]), {"reason": "Edited"}
    )

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [log]
    assert b"Vote ring" in listing.content and b"1 / 1" in listing.content
    assert list(searched.context["cl"].result_list) == []
    assert detail.status_code == 200
    assert add.status_code == 403 and delete.status_code == 403
    assert changed.status_code == 403
    log.refresh_from_db()
    assert log.reason == "Vote ring"
