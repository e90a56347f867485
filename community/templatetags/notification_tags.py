"""What notifications add to every page: the header's link with its unread count."""

from django import template

from ..notifications import unread_count

register = template.Library()


@register.inclusion_tag("community/notifications_badge.html", takes_context=True)
def notification_badge(context):
    """A link to /notifications/ with a count of unread ones (cached: at most one query);
    nothing for anonymous visitors."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": unread_count(user)}
