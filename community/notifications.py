"""Notifications: who hears of each event, how grouped, and what reaches them by e-mail.

Events (community.events) become notifications in `event_process`, run by the worker's
`process_event` task and, for events whose queueing failed, by the periodic sweep
(`events_process_pending`). Each event is processed once: its row is locked and marked
processed in the transaction that makes its notifications, and a notification is unique per
recipient and source, so a rerun adds nothing.

What each member wants by e-mail (`preferences_for`) is gathered into one digest mail per run
of the digest task (`digest_send`, `digests_send_all`), never one mail per event; each digest
carries a one-click unsubscribe link (`unsubscribe_token`).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import User
from creations.models import Creation
from npu_site.background import enqueue

from .models import Comment, Follow, Notification, NotificationPreference, PendingEvent
from .text import MAX_MENTIONS, mentioned_usernames

logger = logging.getLogger(__name__)

Kind = Notification.Kind

# What reaches a member by e-mail (in a digest) until they choose: what someone said to or about
# them, and what a moderator did; scores and new followers, which come in numbers, stay in the
# app.
EMAIL_BY_DEFAULT: dict[str, bool] = {
    Kind.SCORE.value: False,
    Kind.COMMENT.value: True,
    Kind.REPLY.value: True,
    Kind.MENTION.value: True,
    Kind.FOLLOWER.value: False,
    Kind.REPORT_RESOLVED.value: True,
    Kind.CREATION_HIDDEN.value: True,
    Kind.UPLOAD_APPROVED.value: True,
    Kind.APPEAL_DECIDED.value: True,
}

# An event whose processing failed this often is left alone by the sweep (and logged): a bug to
# fix, not something another try mends.
EVENT_MAX_ATTEMPTS = 20
# Processed events are kept this long (for looking into a report of a missing notification).
EVENT_KEEP_DAYS = 7

# The badge's count is cached per member: dropped by every write to their notifications, and
# at most this old when a creation they were notified about is hidden (which the core does
# without telling us).
UNREAD_CACHE_SECONDS = 120

# A digest lists at most this many notifications (newest first) and says how many more there
# are; it covers at most DIGEST_MAX_ROWS, the rest going into the next one.
DIGEST_MAX_LISTED = 50
DIGEST_MAX_ROWS = 1000

UNSUBSCRIBE_SALT = "community.notifications.unsubscribe"
UNSUBSCRIBE_TOKEN_MAX_LENGTH = 200


# Reading ------------------------------------------------------------------------------------


def can_see_creation(user, creation) -> bool:
    """Creation.objects.visible_to(user) for one creation already loaded, without a query
    for members (a moderator's status is one query, once per request)."""
    return (
        creation.status == Creation.Status.PUBLISHED
        or creation.owner_id == user.pk
        or user.is_moderator
    )


def _listable(user) -> Q:
    """The notifications `user` is shown: none about a creation they can no longer see (a
    resolved report says so without the creation). None is about a deleted comment either:
    deleting a comment deletes its notifications (`comment_notifications_delete`), so the
    list and its count need no look at the comments."""
    if user.is_moderator:
        return Q()
    return (
        Q(creation__isnull=True)
        | Q(creation__status=Creation.Status.PUBLISHED)
        | Q(creation__owner=user)
        | Q(kind=Kind.REPORT_RESOLVED)
    )


def comment_notifications_delete(*, comment_ids) -> int:
    """Forget the notifications about comments being deleted (community.services.comments
    calls this in its transaction); returns how many went."""
    notifications = Notification.objects.filter(comment_id__in=list(comment_ids))
    _unread_changed(notifications.values_list("recipient_id", flat=True))
    deleted, _ = notifications.delete()
    return deleted


def notifications_for(user):
    """A member's notifications as listed, newest (or newest grouped) first."""
    return (
        Notification.objects.filter(recipient=user)
        .filter(_listable(user))
        .select_related("actor", "creation", "comment")
        .order_by("-updated_at", "-id")
    )


def _unread_key(user_id) -> str:
    return f"npu:notifications:unread:{user_id}"


def unread_count(user) -> int:
    """How many listed notifications `user` has not read: cached, one COUNT on a miss (the
    partial index on unread rows)."""
    key = _unread_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = notifications_for(user).filter(read_at__isnull=True).count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count


def _unread_changed(user_ids) -> None:
    """Drop the cached unread counts of these members, now and once the change commits (a
    count read in between, from data as it was, must not outlive the commit)."""
    keys = [_unread_key(user_id) for user_id in set(user_ids)]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


# Sentences ----------------------------------------------------------------------------------


def _actor_part(notification) -> tuple[str, str | None]:
    actor = notification.actor
    if actor is None:
        return ("A former member", None)
    return (actor.public_name, actor.get_absolute_url())


def notification_parts(notification, *, viewer) -> list[tuple[str, str | None]]:
    """The sentence a notification says, as (text, link or None) pieces: joined, they are the
    plain text (API, e-mail); with their links, the page's HTML."""
    kind = notification.kind
    creation = notification.creation
    title = f"“{creation.title}”" if creation is not None else "a creation"
    creation_url = creation.get_absolute_url() if creation is not None else None
    comment_url = notification.comment.get_absolute_url() if notification.comment else None
    if kind == Kind.SCORE:
        if notification.count > 1:
            return [(f"{notification.count} new scores on ", None), (title, creation_url)]
        return [_actor_part(notification), (" scored ", None), (title, creation_url)]
    if kind == Kind.COMMENT:
        return [
            _actor_part(notification),
            (" ", None),
            ("commented", comment_url),
            (" on ", None),
            (title, creation_url),
        ]
    if kind == Kind.REPLY:
        return [
            _actor_part(notification),
            (" ", None),
            ("replied to your comment", comment_url),
            (" on ", None),
            (title, creation_url),
        ]
    if kind == Kind.MENTION:
        return [
            _actor_part(notification),
            (" ", None),
            ("mentioned you", comment_url),
            (" in a comment on ", None),
            (title, creation_url),
        ]
    if kind == Kind.FOLLOWER:
        return [_actor_part(notification), (" started following you", None)]
    if kind == Kind.CREATION_HIDDEN:
        reason = notification.reason.strip()
        return [
            ("A moderator hid your creation ", None),
            (title, creation_url),
            (f": {reason}" if reason else ".", None),
        ]
    if kind == Kind.UPLOAD_APPROVED:
        return [
            ("A moderator approved your upload ", None),
            (title, creation_url),
            (": it is published.", None),
        ]
    if kind == Kind.EXPORT_READY:
        return [
            ("Your data export is ready: ", None),
            ("download the zip", notification.url or None),
            (" (the link works for 7 days).", None),
        ]
    if kind == Kind.APPEAL_DECIDED:
        note = notification.reason.strip()
        if appeal_was_granted(notification):
            return [
                ("A moderator granted your appeal about ", None),
                (title, creation_url),
                (f": it is published again. {note}" if note else ": it is published again.", None),
            ]
        return [
            ("A moderator denied your appeal about ", None),
            (title, creation_url),
            (f": it stays hidden. {note}" if note else ": it stays hidden.", None),
        ]
    if kind == Kind.REPORT_RESOLVED:
        shown = creation is not None and can_see_creation(viewer, creation)
        return [
            ("A moderator resolved your report about ", None),
            (title, creation_url if shown else None),
            (". Thank you.", None),
        ]
    return [(notification.get_kind_display(), None)]


def appeal_was_granted(notification) -> bool:
    """An appeal's notification says how it was decided in its source (`appeal:<id>:granted`
    or `appeal:<id>:denied`): the row has no column of its own for it."""
    return notification.source.endswith(":granted")


def notification_text(notification, *, viewer) -> str:
    return "".join(text for text, _ in notification_parts(notification, viewer=viewer))


def notification_html(notification, *, viewer) -> str:
    """The sentence with its links (escaped; safe to show)."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html('<a href="{}">{}</a>', url, text) if url else text,)
            for text, url in notification_parts(notification, viewer=viewer)
        ),
    )


def notification_target(notification, *, viewer) -> str:
    """Where opening a notification leads: the comment, the creation, the new follower's
    profile; the notifications page when there is nothing (left) to show."""
    if notification.comment is not None:
        return notification.comment.get_absolute_url()
    creation = notification.creation
    if creation is not None and can_see_creation(viewer, creation):
        return creation.get_absolute_url()
    if notification.kind == Kind.FOLLOWER and notification.actor is not None:
        return notification.actor.get_absolute_url()
    if notification.url:
        return notification.url
    return reverse("community:notifications")


def absolute_url(path: str) -> str:
    """A link for outside the site (mail, API), on settings.NPU_SITE_URL."""
    return settings.NPU_SITE_URL.rstrip("/") + path


# Writing: reading and preferences -----------------------------------------------------------


@transaction.atomic
def notifications_mark_read(*, user, ids=None) -> int:
    """Mark the member's unread notifications read (only those in `ids`, when given); returns
    how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    marked = unread.update(read_at=timezone.now())
    if marked:
        _unread_changed([user.pk])
    return marked


def preferences_for(user) -> dict[str, bool]:
    """Per kind, whether the member also wants it by e-mail (True) or in the app only."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return {kind: chosen.get(kind, default) for kind, default in EMAIL_BY_DEFAULT.items()}


@transaction.atomic
def preferences_update(*, user, email_kinds) -> dict[str, bool]:
    """Choose which kinds also come by e-mail: exactly `email_kinds`; every other kind is in
    the app only."""
    email_kinds = {str(kind) for kind in email_kinds}
    unknown = email_kinds - set(EMAIL_BY_DEFAULT)
    if unknown:
        raise ValidationError(
            {"email_kinds": f"Unknown kinds: {', '.join(sorted(unknown)[:10])}."},
            code="invalid",
        )
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(user=user, kind=kind, email=kind in email_kinds)
            for kind in EMAIL_BY_DEFAULT
        ],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["email"],
    )
    return {kind: kind in email_kinds for kind in EMAIL_BY_DEFAULT}


def unsubscribe_token(user) -> str:
    """A link's proof that it was mailed to `user`: signed, never expiring."""
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_user(token: str):
    """The active member an unsubscribe token was made for, or None if it is not one."""
    if not isinstance(token, str) or len(token) > UNSUBSCRIBE_TOKEN_MAX_LENGTH:
        return None
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    if type(user_id) is not int:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def unsubscribe(*, user) -> dict[str, bool]:
    """Every kind in the app only: no more digests."""
    return preferences_update(user=user, email_kinds=set())


# Events -------------------------------------------------------------------------------------


def _id(data: dict, name: str) -> int | None:
    value = data.get(name) if isinstance(data, dict) else None
    return value if type(value) is int else None


def _insert(notifications) -> None:
    """Create notifications, skipping any a recipient has for its source already (a rerun)."""
    notifications = list(notifications)
    if not notifications:
        return
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    _unread_changed(notification.recipient_id for notification in notifications)


def export_ready_notify(*, user, export_id: int, url: str) -> None:
    """Tell a member their data export is ready, with the link to download it (once per
    export)."""
    _insert(
        [
            Notification(
                recipient=user,
                kind=Kind.EXPORT_READY,
                url=url,
                source=f"export:{export_id}",
            )
        ]
    )


def _mentioned_members(body: str) -> list:
    """The active members `body` mentions (case-insensitively; an exact match first)."""
    names = mentioned_usernames(body)[:MAX_MENTIONS]
    if not names:
        return []
    found = list(
        User.objects.annotate(name_lower=Lower("username")).filter(
            Q(username__in=names) | Q(name_lower__in=[name.lower() for name in names]),
            is_active=True,
        )
    )
    members = []
    for name in names:
        exact = [user for user in found if user.username == name]
        loose = sorted(
            (user for user in found if user.username.lower() == name.lower()),
            key=lambda user: user.pk,
        )
        if exact or loose:
            members.append((exact or loose)[0])
    return members


def _on_comment_created(event) -> None:
    """The creation's owner hears of a comment (top-level or reply) by someone else, the
    parent comment's author of a reply (once, if they are the owner too), and each member
    mentioned who can see the creation."""
    comment = (
        Comment.objects.select_related("creation__owner", "parent__user", "user")
        .filter(pk=_id(event.data, "comment_id"), deleted_at__isnull=True)
        .first()
    )
    if comment is None or comment.user is None:
        return
    author, creation = comment.user, comment.creation
    made: dict[int, Notification] = {}

    def notify(user, kind) -> None:
        if (
            user is None
            or user.pk == author.pk
            or user.pk in made
            or not user.is_active
            or not can_see_creation(user, creation)
        ):
            return
        made[user.pk] = Notification(
            recipient=user,
            kind=kind,
            actor=author,
            creation=creation,
            comment=comment,
            source=f"comment:{comment.pk}",
        )

    parent = comment.parent
    if parent is not None and not parent.is_deleted:
        notify(parent.user, Kind.REPLY)
    notify(creation.owner, Kind.COMMENT)
    for member in _mentioned_members(comment.body):
        notify(member, Kind.MENTION)
    _insert(made.values())


def _on_follow_created(event) -> None:
    """The followed member hears of a new follower (once per follow: the follow service keeps
    unfollowing and following again from sending one each time)."""
    follow = (
        Follow.objects.select_related("follower", "followed_user")
        .filter(pk=_id(event.data, "follow_id"), followed_user__isnull=False)
        .first()
    )
    if follow is None or not follow.followed_user.is_active:
        return
    _insert(
        [
            Notification(
                recipient=follow.followed_user,
                kind=Kind.FOLLOWER,
                actor=follow.follower,
                source=f"follow:{follow.pk}",
            )
        ]
    )


def _score_group(*, owner, creation):
    """The owner's open group of scores on `creation` (unread, not mailed), locked."""
    return (
        Notification.objects.select_for_update()
        .filter(
            recipient=owner,
            kind=Kind.SCORE,
            creation=creation,
            read_at__isnull=True,
            emailed_at__isnull=True,
        )
        .order_by("-updated_at", "-id")
        .first()
    )


def _score_fold(group, *, scorer) -> None:
    Notification.objects.filter(pk=group.pk).update(
        count=F("count") + 1, actor=scorer, updated_at=timezone.now()
    )


def _on_creation_scored(event) -> None:
    """The owner hears of scores, grouped per creation: a score joins the open group (unread,
    not yet mailed) or opens a new one."""
    creation = (
        Creation.objects.select_related("owner").filter(pk=_id(event.data, "creation_id")).first()
    )
    scorer = User.objects.filter(pk=_id(event.data, "user_id")).first()
    if creation is None or scorer is None or scorer.pk == creation.owner_id:
        return
    owner = creation.owner
    group = _score_group(owner=owner, creation=creation)
    if group is not None:
        _score_fold(group, scorer=scorer)
    else:
        # A new group is named after the newest before it, so two events that both open one
        # at once collide on (recipient, source) and the second joins the first.
        latest = (
            Notification.objects.filter(recipient=owner, kind=Kind.SCORE, creation=creation)
            .order_by("-id")
            .values_list("pk", flat=True)
            .first()
        )
        try:
            with transaction.atomic():
                Notification.objects.create(
                    recipient=owner,
                    kind=Kind.SCORE,
                    actor=scorer,
                    creation=creation,
                    source=f"score:{creation.pk}:after:{latest or 0}",
                )
        except IntegrityError:
            group = _score_group(owner=owner, creation=creation)
            if group is None:
                raise
            _score_fold(group, scorer=scorer)
    _unread_changed([owner.pk])


def _on_creation_hidden(event) -> None:
    """The owner hears that a moderator hid their creation, and why (not which moderator)."""
    creation = Creation.objects.filter(pk=_id(event.data, "creation_id")).first()
    if (
        creation is None
        or creation.status != Creation.Status.HIDDEN  # published again since
        or creation.owner_id == _id(event.data, "actor_id")
    ):
        return
    reason = event.data.get("reason", "")
    _insert(
        [
            Notification(
                recipient_id=creation.owner_id,
                kind=Kind.CREATION_HIDDEN,
                creation=creation,
                reason=(reason if isinstance(reason, str) else "")[:1000],
                source=f"hidden:{creation.pk}:{event.pk}",
            )
        ]
    )


def _on_creation_approved(event) -> None:
    """The owner hears that a moderator approved their upload (not which moderator)."""
    creation = Creation.objects.filter(pk=_id(event.data, "creation_id")).first()
    if (
        creation is None
        or creation.status != Creation.Status.PUBLISHED  # hidden since
        or creation.owner_id == _id(event.data, "actor_id")
    ):
        return
    _insert(
        [
            Notification(
                recipient_id=creation.owner_id,
                kind=Kind.UPLOAD_APPROVED,
                creation=creation,
                source=f"approved:{creation.pk}",
            )
        ]
    )


def _on_report_resolved(event) -> None:
    """The reporter hears that a moderator resolved their report (not which moderator)."""
    report_id = _id(event.data, "report_id")
    creation = Creation.objects.filter(pk=_id(event.data, "creation_id")).first()
    reporter = User.objects.filter(pk=_id(event.data, "reporter_id"), is_active=True).first()
    if report_id is None or creation is None or reporter is None:
        return
    _insert(
        [
            Notification(
                recipient=reporter,
                kind=Kind.REPORT_RESOLVED,
                creation=creation,
                source=f"report:{report_id}",
            )
        ]
    )


def _on_appeal_decided(event) -> None:
    """The owner hears how a moderator decided their appeal, and the moderator's note (not
    which moderator)."""
    appeal_id = _id(event.data, "appeal_id")
    creation = Creation.objects.filter(pk=_id(event.data, "creation_id")).first()
    if appeal_id is None or creation is None or creation.owner_id != _id(event.data, "owner_id"):
        return
    note = event.data.get("note", "")
    decided = "granted" if event.data.get("granted") is True else "denied"
    _insert(
        [
            Notification(
                recipient_id=creation.owner_id,
                kind=Kind.APPEAL_DECIDED,
                creation=creation,
                reason=(note if isinstance(note, str) else "")[:1000],
                source=f"appeal:{appeal_id}:{decided}",
            )
        ]
    )


RULES = {
    "comment_created": _on_comment_created,
    "follow_created": _on_follow_created,
    "creation_scored": _on_creation_scored,
    "creation_hidden": _on_creation_hidden,
    "creation_approved": _on_creation_approved,
    "report_resolved": _on_report_resolved,
    "appeal_decided": _on_appeal_decided,
}


def event_process(*, event_id: int) -> bool:
    """Turn one recorded event into notifications, once: False if it was processed already
    (or another worker is at it). A failure counts an attempt and is raised."""
    try:
        with transaction.atomic():
            # Locked, so a task and the sweep never both process one event; skipped if
            # another worker holds it (it will finish, or the sweep will try again).
            event = (
                PendingEvent.objects.select_for_update(skip_locked=True)
                .filter(pk=event_id, processed_at__isnull=True)
                .first()
            )
            if event is None:
                return False
            if not isinstance(event.data, dict):
                event.data = {}
            rule = RULES.get(event.kind)
            if rule is None:
                logger.warning("event %s has an unknown kind %r; dropped", event.pk, event.kind)
            else:
                rule(event)
            event.processed_at = timezone.now()
            event.save(update_fields=["processed_at"])
    except Exception:
        PendingEvent.objects.filter(pk=event_id).update(attempts=F("attempts") + 1)
        raise
    return True


def events_process_pending(*, older_than_seconds: int = 30, limit: int = 500) -> int:
    """Process events still waiting after `older_than_seconds` (their task was never queued,
    or failed every retry); returns how many were processed. Also forgets events processed
    more than EVENT_KEEP_DAYS ago."""
    now = timezone.now()
    waiting = list(
        PendingEvent.objects.filter(
            processed_at__isnull=True,
            created_at__lt=now - timedelta(seconds=older_than_seconds),
            attempts__lt=EVENT_MAX_ATTEMPTS,
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    processed = 0
    for event_id in waiting:
        try:
            processed += event_process(event_id=event_id)
        except Exception:
            logger.exception("event %s failed again in the sweep", event_id)
    old = PendingEvent.objects.filter(
        processed_at__lt=now - timedelta(days=EVENT_KEEP_DAYS)
    ).values_list("pk", flat=True)[:5000]
    PendingEvent.objects.filter(pk__in=list(old)).delete()
    return processed


# Digests ------------------------------------------------------------------------------------


def _wanted_by_email() -> Q:
    """Notifications whose recipient wants their kind by e-mail (a choice, or the default)."""
    choice = NotificationPreference.objects.filter(
        user=OuterRef("recipient"), kind=OuterRef("kind")
    )
    default_kinds = [kind for kind, email in EMAIL_BY_DEFAULT.items() if email]
    return Exists(choice.filter(email=True)) | (
        Q(kind__in=default_kinds) & ~Exists(choice.filter(email=False))
    )


def digest_recipient_ids() -> list[int]:
    """Members with something to mail: unread, unmailed notifications of a kind they want by
    e-mail, and an address to send them to."""
    return list(
        Notification.objects.filter(
            _wanted_by_email(),
            read_at__isnull=True,
            emailed_at__isnull=True,
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .order_by()
        .values_list("recipient_id", flat=True)
        .distinct()
    )


def _digest_message(*, user, notifications, more: int) -> EmailMultiAlternatives:
    unsubscribe_url = absolute_url(
        reverse("community:unsubscribe", kwargs={"token": unsubscribe_token(user)})
    )
    items = [
        {
            "text": notification_text(notification, viewer=user),
            "url": absolute_url(notification_target(notification, viewer=user)),
        }
        for notification in notifications
    ]
    context = {
        "user": user,
        "items": items,
        "count": len(items) + more,
        "more": more,
        "notifications_url": absolute_url(reverse("community:notifications")),
        "settings_url": absolute_url(reverse("community:notification_settings")),
        "unsubscribe_url": unsubscribe_url,
    }
    subject = " ".join(render_to_string("community/digest_email_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("community/digest_email.txt", context),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
        connection=get_connection(),
    )
    message.attach_alternative(
        render_to_string("community/digest_email.html", context), "text/html"
    )
    return message


def digest_send(*, user_id: int) -> int:
    """Mail a member one digest of what they want by e-mail and have neither read nor had
    mailed; returns how many notifications it listed (0: no mail). Those rows are marked
    mailed in the transaction that sends it, so a rerun sends nothing twice; a mail server's
    failure rolls the marks back for the next try."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return 0
    kinds = [kind for kind, email in preferences_for(user).items() if email]
    if not kinds:
        return 0
    with transaction.atomic():
        # Locked, and re-read as committed after the wait: a concurrent digest for the same
        # member finds them mailed and sends nothing.
        pending = list(
            Notification.objects.select_for_update(of=("self",))
            .filter(recipient=user, kind__in=kinds, read_at__isnull=True, emailed_at__isnull=True)
            .select_related("actor", "creation", "comment")
            .order_by("-updated_at", "-id")[:DIGEST_MAX_ROWS]
        )
        if not pending:
            return 0
        Notification.objects.filter(pk__in=[row.pk for row in pending]).update(
            emailed_at=timezone.now()
        )
        # Nothing about a creation the member can no longer see, nor a deleted comment.
        shown = [
            row
            for row in pending
            if (row.comment is None or not row.comment.is_deleted)
            and (
                row.creation is None
                or row.kind == Kind.REPORT_RESOLVED
                or can_see_creation(user, row.creation)
            )
        ]
        if not shown:
            return 0
        listed = shown[:DIGEST_MAX_LISTED]
        _digest_message(user=user, notifications=listed, more=len(shown) - len(listed)).send()
        return len(shown)


def digests_send_all() -> int:
    """Queue one digest per member with something to mail; returns how many were queued.
    Idempotent: a digest finds nothing left to send for a member already mailed."""
    from .tasks import send_digest  # the tasks import these rules

    recipients = digest_recipient_ids()
    for user_id in recipients:
        enqueue(send_digest, user_id)
    return len(recipients)
