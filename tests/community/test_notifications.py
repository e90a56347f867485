"""Who hears of what: the rules that turn events into notifications, grouping, idempotence,
the tasks and the sweep."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from community import notifications as rules
from community.models import Comment, Follow, Notification, PendingEvent
from community.notifications import (
    EMAIL_BY_DEFAULT,
    event_process,
    events_process_pending,
    notification_text,
    notifications_mark_read,
    preferences_for,
    preferences_update,
)
from community.tasks import process_event, process_pending_events
from creations.models import Creation
from creations.services import creation_update
from moderation.services import report_resolve
from tests.factories import CreationFactory, ReportFactory, ScoreFactory, UserFactory

from .factories_notifications import (
    comment_on,
    follow,
    kinds_of,
    notifications_of,
    unprocessed_event,
)

Kind = Notification.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", display_name="Ann")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", display_name="")


# Comments, replies, mentions ----------------------------------------------------------------


def test_owner_hears_of_a_comment_by_someone_else(creation, ann):
    comment = comment_on(creation, ann)
    [notification] = notifications_of(creation.owner)
    assert notification.kind == Kind.COMMENT
    assert notification.actor == ann
    assert notification.comment == comment and notification.creation == creation
    viewer = creation.owner
    assert notification_text(notification, viewer=viewer) == (
        "Ann commented on “Cheese slope roof”"
    )
    assert PendingEvent.objects.get().processed_at is not None


def test_nobody_hears_of_their_own_comment(creation):
    comment_on(creation, creation.owner)
    assert Notification.objects.count() == 0


def test_reply_tells_the_parent_author_and_the_owner(creation, ann, bob):
    parent = comment_on(creation, ann, "How is that hand attached?")
    comment_on(creation, bob, "With a clip.", parent=parent)
    [reply] = notifications_of(ann)
    assert reply.kind == Kind.REPLY and reply.actor == bob
    assert notification_text(reply, viewer=ann) == (
        "bob replied to your comment on “Cheese slope roof”"
    )
    assert kinds_of(creation.owner) == [Kind.COMMENT, Kind.COMMENT]


def test_owner_replying_to_a_comment_tells_only_its_author(creation, ann):
    parent = comment_on(creation, ann)
    comment_on(creation, creation.owner, "Thanks!", parent=parent)
    assert kinds_of(ann) == [Kind.REPLY]
    assert kinds_of(creation.owner) == [Kind.COMMENT]  # Ann's, not their own reply


def test_reply_to_the_owners_comment_makes_one_notification_not_two(creation, ann):
    parent = comment_on(creation, creation.owner, "Ask me anything.")
    comment_on(creation, ann, "Which hinge?", parent=parent)
    assert kinds_of(creation.owner) == [Kind.REPLY]


def test_reply_to_ones_own_comment_tells_nobody_but_the_owner(creation, ann):
    parent = comment_on(creation, ann)
    comment_on(creation, ann, "And another thing.", parent=parent)
    assert kinds_of(ann) == []
    assert kinds_of(creation.owner) == [Kind.COMMENT, Kind.COMMENT]


def test_mentions_tell_each_member_once_case_insensitively(creation, ann, bob):
    carol = UserFactory(username="Carol")
    comment = comment_on(
        creation, ann, "@BOB and @carol, look! Also @bob again, @nobody and @ann (me)."
    )
    [to_bob] = notifications_of(bob)
    assert to_bob.kind == Kind.MENTION and to_bob.comment == comment
    assert notification_text(to_bob, viewer=bob) == (
        "Ann mentioned you in a comment on “Cheese slope roof”"
    )
    assert kinds_of(carol) == [Kind.MENTION]
    assert kinds_of(ann) == []  # not the author
    assert Notification.objects.count() == 3  # bob, carol and the owner's comment


def test_a_mentioned_owner_hears_once_as_owner(creation, ann):
    comment_on(creation, ann, "@owner how?")
    assert kinds_of(creation.owner) == [Kind.COMMENT]


def test_a_mentioned_parent_author_hears_once_of_the_reply(creation, ann, bob):
    parent = comment_on(creation, ann)
    comment_on(creation, bob, "@ann it's a clip", parent=parent)
    assert kinds_of(ann) == [Kind.REPLY]


def test_at_most_ten_mentions_count(creation, ann):
    members = [UserFactory(username=f"fan{n}") for n in range(12)]
    comment_on(creation, ann, " ".join(f"@{member.username}" for member in members))
    mentioned = Notification.objects.filter(kind=Kind.MENTION)
    assert mentioned.count() == 10
    assert {row.recipient.username for row in mentioned} == {f"fan{n}" for n in range(10)}


def test_a_mention_on_a_hidden_creation_tells_only_who_can_see_it(owner, ann, moderator):
    hidden = CreationFactory(owner=owner, status=Creation.Status.HIDDEN)
    comment_on(hidden, owner, "@ann @moderator look")
    assert kinds_of(ann) == []
    assert kinds_of(moderator) == [Kind.MENTION]


def test_inactive_members_are_not_mentioned(creation, ann):
    gone = UserFactory(username="gone", is_active=False)
    comment_on(creation, ann, "@gone?")
    assert kinds_of(gone) == []


def test_a_comment_deleted_before_processing_tells_nobody(creation, ann):
    comment = Comment.objects.create(creation=creation, user=ann, body="Soon gone")
    event = unprocessed_event("comment_created", comment_id=comment.pk)
    comment.delete()
    assert event_process(event_id=event.pk) is True
    assert Notification.objects.count() == 0
    event.refresh_from_db()
    assert event.processed_at is not None


# Follows ------------------------------------------------------------------------------------


def test_followed_member_hears_of_a_new_follower(ann, bob):
    follow(ann, bob)
    [notification] = notifications_of(bob)
    assert notification.kind == Kind.FOLLOWER and notification.actor == ann
    assert notification_text(notification, viewer=bob) == "Ann started following you"


def test_a_follow_gone_before_processing_tells_nobody(ann, bob):
    row = Follow.objects.create(follower=ann, followed_user=bob)
    event = unprocessed_event("follow_created", follow_id=row.pk)
    row.delete()
    event_process(event_id=event.pk)
    assert Notification.objects.count() == 0


# Scores -------------------------------------------------------------------------------------


def test_five_scores_make_one_grouped_notification(creation):
    scorers = UserFactory.create_batch(5)
    for scorer in scorers:
        ScoreFactory(creation=creation, user=scorer)
    [group] = notifications_of(creation.owner)
    assert group.kind == Kind.SCORE and group.count == 5
    assert group.actor == scorers[-1]
    assert notification_text(group, viewer=creation.owner) == (
        "5 new scores on “Cheese slope roof”"
    )


def test_one_score_names_the_scorer(creation, ann):
    ScoreFactory(creation=creation, user=ann)
    [notification] = notifications_of(creation.owner)
    assert notification_text(notification, viewer=creation.owner) == (
        "Ann scored “Cheese slope roof”"
    )


def test_a_grouped_score_bumps_the_group_to_the_top(creation, owner):
    other = CreationFactory(owner=owner, title="Other")
    ScoreFactory(creation=creation)
    ScoreFactory(creation=other)
    group = Notification.objects.get(creation=creation)
    Notification.objects.filter(pk=group.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    ScoreFactory(creation=creation)
    newest = Notification.objects.filter(recipient=owner).order_by("-updated_at").first()
    assert newest.pk == group.pk and newest.count == 2


def test_scores_on_two_creations_make_two_groups(creation, owner):
    other = CreationFactory(owner=owner)
    ScoreFactory(creation=creation)
    ScoreFactory(creation=other)
    ScoreFactory(creation=other)
    assert sorted(row.count for row in notifications_of(owner)) == [1, 2]


def test_a_score_after_the_group_is_read_opens_a_new_group(creation, owner):
    ScoreFactory.create_batch(2, creation=creation)
    notifications_mark_read(user=owner)
    ScoreFactory(creation=creation)
    groups = notifications_of(owner)
    assert [(row.count, row.is_read) for row in groups] == [(2, True), (1, False)]
    ScoreFactory(creation=creation)
    assert [row.count for row in notifications_of(owner)] == [2, 2]


def test_a_score_after_the_group_is_mailed_opens_a_new_group(creation, owner):
    ScoreFactory(creation=creation)
    Notification.objects.update(emailed_at=timezone.now())
    ScoreFactory(creation=creation)
    assert [row.count for row in notifications_of(owner)] == [1, 1]


def test_a_score_on_a_deleted_creation_is_skipped(creation, ann):
    event = unprocessed_event(
        "creation_scored", creation_id=creation.pk, user_id=ann.pk, score_id=1
    )
    Creation.objects.filter(pk=creation.pk).delete()
    assert event_process(event_id=event.pk) is True
    assert Notification.objects.count() == 0


# Moderation ---------------------------------------------------------------------------------


def test_owner_hears_that_a_moderator_hid_their_creation_and_why(creation, moderator):
    creation_update(creation=creation, status="hidden", actor=moderator, hidden_reason="Not LEGO.")
    [notification] = notifications_of(creation.owner)
    assert notification.kind == Kind.CREATION_HIDDEN
    assert notification.reason == "Not LEGO."
    assert notification.actor is None  # which moderator is not the member's business
    assert notification_text(notification, viewer=creation.owner) == (
        "A moderator hid your creation “Cheese slope roof”: Not LEGO."
    )


def test_owner_hiding_their_own_creation_hears_nothing(creation):
    creation_update(creation=creation, status="hidden", actor=creation.owner)
    assert Notification.objects.count() == 0


def test_a_hide_undone_before_processing_tells_nobody(creation, moderator):
    event = unprocessed_event(
        "creation_hidden", creation_id=creation.pk, actor_id=moderator.pk, reason="x"
    )
    event_process(event_id=event.pk)  # still published: nothing to say
    assert Notification.objects.count() == 0


def test_reporter_hears_that_their_report_was_resolved(creation, moderator, ann):
    report = ReportFactory(creation=creation, reporter=ann)
    report_resolve(reports=[report], moderator=moderator)
    [notification] = notifications_of(ann)
    assert notification.kind == Kind.REPORT_RESOLVED and notification.creation == creation
    assert notification.actor is None
    assert notification_text(notification, viewer=ann) == (
        "A moderator resolved your report about “Cheese slope roof”. Thank you."
    )
    assert kinds_of(moderator) == [] and kinds_of(creation.owner) == []


# Idempotence --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    ["comment_created", "follow_created", "creation_scored", "creation_hidden", "report_resolved"],
)
def test_processing_an_event_twice_changes_nothing_more(creation, ann, bob, moderator, kind):
    if kind == "comment_created":
        parent = Comment.objects.create(creation=creation, user=bob, body="Hi")
        comment = Comment.objects.create(
            creation=creation, user=ann, body="@bob hello", parent=parent
        )
        data = {"comment_id": comment.pk}
    elif kind == "follow_created":
        data = {"follow_id": Follow.objects.create(follower=ann, followed_user=bob).pk}
    elif kind == "creation_scored":
        data = {"creation_id": creation.pk, "user_id": ann.pk, "score_id": 1}
    elif kind == "creation_hidden":
        Creation.objects.filter(pk=creation.pk).update(status="hidden")
        data = {"creation_id": creation.pk, "actor_id": moderator.pk, "reason": "spam"}
    else:
        data = {
            "report_id": 7,
            "creation_id": creation.pk,
            "reporter_id": ann.pk,
            "moderator_id": moderator.pk,
        }
    event = unprocessed_event(kind, **data)
    assert event_process(event_id=event.pk) is True
    made = list(Notification.objects.values_list("recipient", "kind", "count", "source"))
    assert made
    assert event_process(event_id=event.pk) is False
    process_event.apply(args=[event.pk], throw=True)
    assert list(Notification.objects.values_list("recipient", "kind", "count", "source")) == made


def test_a_rerun_that_lost_its_processed_mark_still_adds_no_row(creation, ann, bob):
    # Even if an event were processed twice, each recipient has one row per comment.
    comment = comment_on(creation, ann, "@bob look")
    PendingEvent.objects.update(processed_at=None)
    event_process(event_id=PendingEvent.objects.get().pk)
    assert Notification.objects.filter(comment=comment).count() == 2


def test_running_the_task_twice_makes_one_notification(creation, ann):
    event = unprocessed_event(
        "creation_scored", creation_id=creation.pk, user_id=ann.pk, score_id=1
    )
    process_event.apply(args=[event.pk], throw=True)
    process_event.apply(args=[event.pk], throw=True)
    [group] = notifications_of(creation.owner)
    assert group.count == 1


def test_an_event_with_bad_data_is_dropped_not_retried_forever(creation):
    event = unprocessed_event("comment_created", comment_id="1; DROP TABLE")
    assert event_process(event_id=event.pk) is True
    other = PendingEvent.objects.create(kind="no_such_kind", data=["not", "a", "dict"])
    assert event_process(event_id=other.pk) is True
    assert Notification.objects.count() == 0
    assert PendingEvent.objects.filter(processed_at__isnull=True).count() == 0


def test_a_failing_rule_counts_an_attempt_and_leaves_the_event_pending(creation, ann, monkeypatch):
    def broken(event):
        raise RuntimeError("boom")

    monkeypatch.setitem(rules.RULES, "creation_scored", broken)
    event = unprocessed_event(
        "creation_scored", creation_id=creation.pk, user_id=ann.pk, score_id=1
    )
    with pytest.raises(RuntimeError):
        process_event.apply(args=[event.pk], throw=True)
    event.refresh_from_db()
    assert event.processed_at is None and event.attempts == 1


# The sweep ----------------------------------------------------------------------------------


def _age(event, seconds):
    PendingEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_the_sweep_processes_events_whose_queueing_failed(creation, ann, bob):
    old = unprocessed_event("creation_scored", creation_id=creation.pk, user_id=ann.pk, score_id=1)
    fresh = unprocessed_event(
        "creation_scored", creation_id=creation.pk, user_id=bob.pk, score_id=2
    )
    _age(old, 120)
    assert events_process_pending() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.processed_at is not None and fresh.processed_at is None
    assert process_pending_events.apply().get() == 0  # nothing old enough is left
    [group] = notifications_of(creation.owner)
    assert group.count == 1


def test_the_sweep_gives_up_on_an_event_that_keeps_failing(creation, ann, monkeypatch):
    monkeypatch.setitem(rules.RULES, "creation_scored", lambda event: 1 / 0)
    event = unprocessed_event(
        "creation_scored", creation_id=creation.pk, user_id=ann.pk, score_id=1
    )
    _age(event, 120)
    assert events_process_pending() == 0  # logged, not raised
    event.refresh_from_db()
    assert event.attempts == 1
    PendingEvent.objects.filter(pk=event.pk).update(attempts=rules.EVENT_MAX_ATTEMPTS)
    monkeypatch.setitem(rules.RULES, "creation_scored", rules._on_creation_scored)
    assert events_process_pending() == 0
    event.refresh_from_db()
    assert event.processed_at is None


def test_the_sweep_forgets_events_processed_long_ago(creation, ann):
    ScoreFactory(creation=creation, user=ann)
    PendingEvent.objects.update(processed_at=timezone.now() - timedelta(days=30))
    events_process_pending()
    assert PendingEvent.objects.count() == 0
    assert Notification.objects.count() == 1


def test_with_the_broker_down_the_event_waits_for_the_sweep(
    settings, creation, ann, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def broker_down(*args, **kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(process_event, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        ScoreFactory(creation=creation, user=ann)  # the request still succeeds
    assert Notification.objects.count() == 0
    event = PendingEvent.objects.get()
    _age(event, 120)
    assert events_process_pending() == 1
    assert kinds_of(creation.owner) == [Kind.SCORE]


# Preferences --------------------------------------------------------------------------------


def test_preferences_default_and_update(member):
    assert preferences_for(member) == EMAIL_BY_DEFAULT
    assert preferences_for(member)[Kind.SCORE] is False
    assert preferences_for(member)[Kind.REPLY] is True
    preferences_update(user=member, email_kinds={Kind.SCORE})
    assert preferences_for(member) == {kind: kind == Kind.SCORE for kind in EMAIL_BY_DEFAULT}
    preferences_update(user=member, email_kinds={Kind.COMMENT, Kind.MENTION})
    chosen = preferences_for(member)
    assert {kind for kind, email in chosen.items() if email} == {Kind.COMMENT, Kind.MENTION}


def test_preferences_refuse_unknown_kinds(member):
    with pytest.raises(ValidationError):
        preferences_update(user=member, email_kinds={"everything"})
    assert preferences_for(member) == EMAIL_BY_DEFAULT


def test_two_events_opening_a_group_at_once_end_in_one_group(creation, ann, bob, monkeypatch):
    # The first score opens a group; make it look as if a concurrent event had just opened it
    # (the name the second event will pick), and hide it from the second event's first look.
    ScoreFactory(creation=creation, user=ann)
    group = Notification.objects.get()
    Notification.objects.filter(pk=group.pk).update(source=f"score:{creation.pk}:after:{group.pk}")
    looks = []
    real_group = rules._score_group

    def racing(**kwargs):
        looks.append(kwargs)
        return None if len(looks) == 1 else real_group(**kwargs)

    monkeypatch.setattr(rules, "_score_group", racing)
    ScoreFactory(creation=creation, user=bob)
    assert len(looks) == 2
    [group] = notifications_of(creation.owner)
    assert group.count == 2 and group.actor == bob
