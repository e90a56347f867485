"""Reads of comments for the creation page's thread, the API and the comment pages."""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from accounts.models import User
from creations.models import Creation

from .models import Comment
from .text import mentioned_usernames

# Top-level comments shown on one page of a creation's thread (with all their replies). Each
# rendered comment costs about 0.5 ms; 20 keep a busy creation's page near 50 ms to render.
THREAD_PAGE_SIZE = 20


@dataclass
class ThreadPage:
    """One page of a creation's thread: top-level comments, oldest first, each with its
    replies in `thread_replies`, and the members the page mentions."""

    comments: list[Comment]
    number: int
    has_previous: bool
    has_next: bool
    members: dict[str, User] = field(default_factory=dict)


def comment_thread(*, creation, page: int = 1) -> ThreadPage:
    """A page of `creation`'s thread in at most three queries, however long it is: the
    top-level comments (with their authors), their replies (with theirs), and the members
    their text mentions (community.text.comment_html links them)."""
    page = max(1, page)
    if not creation.comment_count:
        # No live comment means no comment at all (a placeholder stays only while it has live
        # replies): most creations' pages spend no query on their thread.
        return ThreadPage(comments=[], number=page, has_previous=page > 1, has_next=False)
    offset = (page - 1) * THREAD_PAGE_SIZE
    # One row more than a page says whether there is a next one, without counting.
    top_level = list(
        Comment.objects.filter(creation=creation, parent__isnull=True)
        .select_related("user")
        .order_by("created_at", "id")[offset : offset + THREAD_PAGE_SIZE + 1]
    )
    has_next = len(top_level) > THREAD_PAGE_SIZE
    top_level = top_level[:THREAD_PAGE_SIZE]
    replies_by_parent: dict[int, list[Comment]] = {comment.pk: [] for comment in top_level}
    if top_level:
        replies = (
            Comment.objects.filter(parent__in=[comment.pk for comment in top_level])
            .select_related("user")
            .order_by("created_at", "id")
        )
        for reply in replies:
            replies_by_parent[reply.parent_id].append(reply)
    for comment in top_level:
        comment.thread_replies = replies_by_parent[comment.pk]
    every = [c for comment in top_level for c in (comment, *comment.thread_replies)]
    return ThreadPage(
        comments=top_level,
        number=page,
        has_previous=page > 1,
        has_next=has_next,
        members=mentioned_members(comment.body for comment in every),
    )


def comment_thread_page_of(*, comment) -> int:
    """The page of its creation's thread that shows `comment` (a reply: its parent's)."""
    top = comment.parent if comment.parent_id else comment
    earlier = Comment.objects.filter(creation_id=top.creation_id, parent__isnull=True).filter(
        Q(created_at__lt=top.created_at) | Q(created_at=top.created_at, id__lt=top.pk)
    )
    return earlier.count() // THREAD_PAGE_SIZE + 1


def mentioned_members(bodies) -> dict[str, User]:
    """The active members the texts mention, keyed by the name as written, in one query.

    A name matches a username exactly or, failing that, in lower case (`@Alice` finds
    `alice`): both indexed lookups, never a scan of every member.
    """
    names = {name for body in bodies if body for name in mentioned_usernames(body)}
    if not names:
        return {}
    candidates = names | {name.lower() for name in names}
    found = {
        user.username: user
        for user in User.objects.filter(username__in=candidates, is_active=True).only(
            "pk", "username"
        )
    }
    members = {}
    for name in names:
        member = found.get(name) or found.get(name.lower())
        if member is not None:
            members[name] = member
    return members


def creation_comments(*, creation) -> QuerySet[Comment]:
    """A creation's whole thread as one flat list, oldest first (the API's)."""
    return (
        Comment.objects.filter(creation=creation)
        .select_related("user")
        .order_by("created_at", "id")
    )


def comment_for_viewer(*, viewer, pk: int) -> Comment:
    """One comment, if `viewer` may see its creation; raises Comment.DoesNotExist otherwise."""
    return (
        Comment.objects.filter(creation__in=Creation.objects.visible_to(viewer).values("pk"))
        .select_related("creation", "user")
        .get(pk=pk)
    )
