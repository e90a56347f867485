from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from community.models import Comment, CommentReport, PendingEvent
from community.services.comments import (
    CommentDeleteRefused,
    CommentEditRefused,
    CommentNotAllowed,
    OwnCommentReportError,
    comment_create,
    comment_delete,
    comment_report_create,
    comment_reports_resolve,
    comment_update,
)
from creations.models import Creation
from npu_site import caching
from tests.community.factories_comments import CommentFactory
from tests.factories import CreationFactory, UserFactory

pytestmark = pytest.mark.django_db


def count_of(creation) -> int:
    creation.refresh_from_db(fields=["comment_count"])
    return creation.comment_count


def later(monkeypatch, seconds):
    """Move the clock `seconds` ahead for everything that asks django.utils.timezone."""
    moved = timezone.now() + timedelta(seconds=seconds)
    monkeypatch.setattr(timezone, "now", lambda: moved)


# Creating -----------------------------------------------------------------------------------


def test_a_comment_is_stored_trimmed_counted_and_recorded_as_an_event(creation, member):
    comment = comment_create(user=member, creation=creation, body="  Nice hinge!\r\nReally.  ")
    assert comment.body == "Nice hinge!\nReally."
    assert comment.user == member and comment.parent is None
    assert count_of(creation) == 1
    event = PendingEvent.objects.get(kind="comment_created")
    assert event.data == {"comment_id": comment.pk}


def test_creating_a_comment_replaces_the_creation_page_token(creation, member, monkeypatch):
    changed = []
    monkeypatch.setattr(
        "community.services.comments.object_changed", lambda *args: changed.append(args)
    )
    comment_create(user=member, creation=creation, body="Hi")
    assert changed == [("creation", creation.pk)]


def test_the_cached_creation_page_token_really_changes(creation, member):
    key = caching._object_key("creation", creation.pk)
    first = caching._versions([key])[0]
    comment_create(user=member, creation=creation, body="Hi")
    assert caching._versions([key])[0] != first


@pytest.mark.parametrize(
    "body, message",
    [
        ("", "Write something first."),
        ("   \n\t ", "Write something first."),
        ("x" * 2001, "at most 2,000"),
        ("Roof\x00tile", "U+0000"),
        ("Roof gpj.\u202eexe", "U+202E"),
        ("Roof \ud800 tile", "U+D800"),
        ("\x1b[31mred", "U+001B"),
    ],
)
def test_bad_text_is_refused_on_body(creation, member, body, message):
    with pytest.raises(ValidationError) as refused:
        comment_create(user=member, creation=creation, body=body)
    assert message in " ".join(refused.value.message_dict["body"])
    assert not Comment.objects.exists()
    assert count_of(creation) == 0


def test_two_thousand_characters_and_line_breaks_are_fine(creation, member):
    body = ("line\n" * 400)[:2000]
    comment = comment_create(user=member, creation=creation, body=body)
    assert comment.body == body.strip()


def test_anonymous_visitors_cannot_comment(creation):
    with pytest.raises(CommentNotAllowed):
        comment_create(user=AnonymousUser(), creation=creation, body="Hi")


def test_a_hidden_creation_takes_comments_from_owner_and_moderators_only(owner, member, moderator):
    hidden = CreationFactory(owner=owner, status=Creation.Status.HIDDEN)
    with pytest.raises(CommentNotAllowed):
        comment_create(user=member, creation=hidden, body="Hi")
    comment_create(user=owner, creation=hidden, body="Note to self")
    comment_create(user=moderator, creation=hidden, body="Hidden for spam")
    assert count_of(hidden) == 2


def test_a_reply_names_a_top_level_comment_of_the_same_creation(creation, member, other_member):
    top = CommentFactory(creation=creation, user=member)
    reply = comment_create(user=other_member, creation=creation, body="Thanks", parent=top)
    assert reply.parent == top
    by_id = comment_create(user=member, creation=creation, body="By id", parent=top.pk)
    assert by_id.parent_id == top.pk
    assert count_of(creation) == 3


@pytest.mark.parametrize("case", ["reply", "other creation", "missing", "deleted", "text", "huge"])
def test_a_bad_parent_is_refused_on_parent(creation, member, other_member, case):
    top = CommentFactory(creation=creation, user=member)
    reply = CommentFactory(creation=creation, user=other_member, parent=top)
    elsewhere = CommentFactory(creation=CreationFactory(), user=member)
    if case == "deleted":
        comment_delete(comment=top, actor=member)  # a placeholder: it has a reply
    parent = {
        "reply": reply,
        "other creation": elsewhere,
        "missing": 10**6,
        "deleted": top,
        "text": "first",
        "huge": 10**30,
    }[case]
    before = count_of(creation)
    with pytest.raises(ValidationError) as refused:
        comment_create(user=member, creation=creation, body="Hi", parent=parent)
    assert set(refused.value.message_dict) == {"parent"}
    assert count_of(creation) == before


# Editing ------------------------------------------------------------------------------------


def test_the_author_edits_within_the_window_and_it_shows_as_edited(creation, member, monkeypatch):
    comment = CommentFactory(creation=creation, user=member)
    later(monkeypatch, 14 * 60)
    edited = comment_update(comment=comment, actor=member, body=" Better words ")
    assert edited.body == "Better words" and edited.edited_at is not None
    comment.refresh_from_db()
    assert comment.body == "Better words" and comment.edited_at is not None


def test_the_author_cannot_edit_after_the_window(creation, member, monkeypatch, settings):
    settings.NPU_COMMENT_EDIT_SECONDS = 900
    comment = CommentFactory(creation=creation, user=member)
    later(monkeypatch, 901)
    with pytest.raises(CommentEditRefused, match="15 minutes"):
        comment_update(comment=comment, actor=member, body="Too late")
    comment.refresh_from_db()
    assert comment.edited_at is None


def test_moderators_edit_at_any_time(creation, member, moderator, monkeypatch):
    comment = CommentFactory(creation=creation, user=member)
    later(monkeypatch, 86400)
    comment_update(comment=comment, actor=moderator, body="[removed a phone number]")
    comment.refresh_from_db()
    assert comment.body == "[removed a phone number]"


def test_other_members_and_the_creation_owner_cannot_edit(creation, owner, member, other_member):
    comment = CommentFactory(creation=creation, user=member)
    for actor in (owner, other_member, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            comment_update(comment=comment, actor=actor, body="Mine now")


def test_a_deleted_comment_cannot_be_edited(creation, member, moderator):
    comment = CommentFactory(creation=creation, user=member)
    CommentFactory(creation=creation, parent=comment)
    placeholder = comment_delete(comment=comment, actor=member)
    for actor in (member, moderator):
        with pytest.raises(CommentEditRefused, match="deleted"):
            comment_update(comment=placeholder, actor=actor, body="Back")


def test_an_edit_checks_the_text_too(creation, member):
    comment = CommentFactory(creation=creation, user=member)
    with pytest.raises(ValidationError) as refused:
        comment_update(comment=comment, actor=member, body="bad\x07bell")
    assert set(refused.value.message_dict) == {"body"}


# Deleting -----------------------------------------------------------------------------------


def test_a_comment_without_replies_is_removed(creation, member):
    comment = CommentFactory(creation=creation, user=member)
    assert comment_delete(comment=comment, actor=member) is None
    assert not Comment.objects.exists()
    assert count_of(creation) == 0


def test_a_comment_with_replies_becomes_a_placeholder(creation, member, other_member, moderator):
    top = CommentFactory(creation=creation, user=member)
    reply = CommentFactory(creation=creation, user=other_member, parent=top)
    placeholder = comment_delete(comment=top, actor=moderator)
    top.refresh_from_db()
    assert placeholder.pk == top.pk
    assert top.body == "" and top.deleted_at is not None and top.deleted_by == moderator
    assert Comment.objects.filter(pk=reply.pk).exists()
    assert count_of(creation) == 1  # the reply


def test_the_last_reply_of_a_placeholder_takes_it_along(creation, member, other_member):
    top = CommentFactory(creation=creation, user=member)
    first = CommentFactory(creation=creation, user=other_member, parent=top)
    second = CommentFactory(creation=creation, user=other_member, parent=top)
    comment_delete(comment=top, actor=member)
    assert count_of(creation) == 2
    comment_delete(comment=first, actor=other_member)
    assert Comment.objects.filter(pk=top.pk).exists()  # one reply left
    comment_delete(comment=second, actor=other_member)
    assert not Comment.objects.exists()
    assert count_of(creation) == 0


def test_deleting_a_reply_keeps_a_live_parent(creation, member, other_member):
    top = CommentFactory(creation=creation, user=member)
    reply = CommentFactory(creation=creation, user=other_member, parent=top)
    comment_delete(comment=reply, actor=other_member)
    assert list(Comment.objects.all()) == [top]
    assert count_of(creation) == 1


def test_deleting_a_deleted_comment_changes_nothing(creation, member, other_member):
    top = CommentFactory(creation=creation, user=member)
    CommentFactory(creation=creation, user=other_member, parent=top)
    comment_delete(comment=top, actor=member)
    top.refresh_from_db()
    comment_delete(comment=top, actor=member)
    assert count_of(creation) == 1
    assert Comment.objects.count() == 2


def test_deleting_a_comment_that_is_gone_changes_nothing(creation, member):
    comment = CommentFactory(creation=creation, user=member)
    CommentFactory(creation=creation, user=member)
    stale = Comment.objects.get(pk=comment.pk)
    comment_delete(comment=comment, actor=member)
    assert comment_delete(comment=stale, actor=member) is None
    assert count_of(creation) == 1


def test_only_the_author_or_a_moderator_deletes(creation, owner, member, other_member, moderator):
    comment = CommentFactory(creation=creation, user=member)
    for actor in (owner, other_member, AnonymousUser()):
        with pytest.raises(CommentDeleteRefused):
            comment_delete(comment=comment, actor=actor)
    comment_delete(comment=comment, actor=moderator)
    assert not Comment.objects.exists()


def test_the_count_stays_exact_through_a_whole_conversation(creation, member, other_member):
    tops = CommentFactory.create_batch(3, creation=creation, user=member)
    replies = [CommentFactory(creation=creation, user=other_member, parent=top) for top in tops[:2]]
    assert count_of(creation) == 5
    comment_delete(comment=tops[0], actor=member)  # placeholder
    comment_delete(comment=tops[2], actor=member)  # removed
    assert count_of(creation) == 3
    comment_delete(comment=replies[0], actor=other_member)  # and the placeholder goes
    live = Comment.objects.filter(creation=creation, deleted_at__isnull=True).count()
    assert count_of(creation) == live == 2


def test_a_placeholder_resolves_its_open_reports(creation, member, other_member, moderator):
    top = CommentFactory(creation=creation, user=member)
    CommentFactory(creation=creation, user=other_member, parent=top)
    comment_report_create(reporter=other_member, comment=top, reason="spam")
    comment_delete(comment=top, actor=moderator)
    report = CommentReport.objects.get()
    assert report.status == CommentReport.Status.RESOLVED and report.resolved_by == moderator


# Reports ------------------------------------------------------------------------------------


def test_a_member_reports_a_comment_once(creation, member, other_member):
    comment = CommentFactory(creation=creation, user=member)
    report = comment_report_create(
        reporter=other_member, comment=comment, reason="offensive", note=" rude "
    )
    assert report.note == "rude" and report.status == CommentReport.Status.OPEN
    with pytest.raises(ValidationError, match="already reported"):
        comment_report_create(reporter=other_member, comment=comment, reason="spam")
    assert CommentReport.objects.count() == 1


def test_nobody_reports_their_own_comment(creation, member):
    comment = CommentFactory(creation=creation, user=member)
    with pytest.raises(OwnCommentReportError):
        comment_report_create(reporter=member, comment=comment, reason="spam")


def test_a_report_checks_its_reason_and_note(creation, member, other_member):
    comment = CommentFactory(creation=creation, user=member)
    with pytest.raises(ValidationError) as refused:
        comment_report_create(reporter=other_member, comment=comment, reason="boring")
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        comment_report_create(reporter=other_member, comment=comment, reason="other", note="a\x00b")
    assert "note" in refused.value.message_dict


def test_resolving_reports_changes_open_ones_only(creation, member, moderator):
    comment = CommentFactory(creation=creation, user=member)
    reports = [
        comment_report_create(reporter=UserFactory(), comment=comment, reason="spam")
        for _ in range(3)
    ]
    assert comment_reports_resolve(reports=reports[:2], moderator=moderator) == 2
    assert comment_reports_resolve(reports=reports, moderator=moderator) == 1
    assert not CommentReport.objects.filter(status=CommentReport.Status.OPEN).exists()
    assert set(CommentReport.objects.values_list("resolved_by", flat=True)) == {moderator.pk}
