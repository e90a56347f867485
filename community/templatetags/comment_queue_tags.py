"""What community adds to the moderators' queue and to the admin index: reported comments.

Moderation's queue page and the index's "Waiting for moderators" box render these tags;
moderation never imports community.
"""

from django import template
from django.db.models import Count, Min, Q
from django.urls import reverse

from ..models import Comment, CommentReport

register = template.Library()

OPEN = CommentReport.Status.OPEN


def _reported_comment_count() -> int:
    return CommentReport.objects.filter(status=OPEN).values("comment").distinct().count()


def _queue_url() -> str:
    return reverse("admin:community_comment_changelist") + "?open_reports=yes"


@register.inclusion_tag("community/_comment_queue.html")
def reported_comments_queue(limit: int = 50):
    """The comments with open reports, the longest waiting first (one query for the count,
    one for the rows)."""
    rows = list(
        Comment.objects.annotate(
            open_report_total=Count("reports", filter=Q(reports__status=OPEN)),
            oldest_open_report=Min("reports__created_at", filter=Q(reports__status=OPEN)),
        )
        .filter(open_report_total__gt=0)
        .select_related("creation", "user")
        .order_by("oldest_open_report", "id")[:limit]
    )
    return {
        "count": _reported_comment_count(),
        "comments": rows,
        "all_url": _queue_url(),
    }


@register.inclusion_tag("community/_comments_waiting.html")
def reported_comments_waiting():
    """The admin index's line: how many comments have open reports, linking to the queue."""
    return {"count": _reported_comment_count(), "url": _queue_url()}
