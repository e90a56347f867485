"""What moderation adds to pages of other apps."""

from django import template

from ..models import Report

register = template.Library()


@register.inclusion_tag("moderation/_report_link.html", takes_context=True)
def report_link(context, creation):
    """The creation page's "Report this creation" link, or a note that the viewer did."""
    viewer = context["request"].user
    shown = viewer.is_authenticated and creation.owner_id != viewer.pk
    return {
        "creation": creation,
        "shown": shown,
        "has_reported": shown
        and Report.objects.filter(creation=creation, reporter=viewer).exists(),
    }
