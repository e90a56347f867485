"""What moderation adds to pages of other apps."""

from django import template
from django.urls import reverse

from creations.models import Creation

from ..appeals import is_appealable
from ..forms import AppealForm
from ..models import Appeal, Report

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


@register.inclusion_tag("moderation/_appeal_panel.html", takes_context=True)
def appeal_panel(context, creation):
    """For the owner of a creation a moderator hid: the appeal form, "your appeal is
    waiting", or the decision. Nothing (and no query) for anyone else."""
    viewer = context["request"].user
    if not (viewer.is_authenticated and creation.owner_id == viewer.pk):
        return {"shown": False}
    if not is_appealable(creation):
        return {"shown": False}
    appeal = Appeal.objects.filter(creation=creation, hidden_at=creation.hidden_at).first()
    return {
        "shown": True,
        "creation": creation,
        "appeal": appeal,
        "form": AppealForm() if appeal is None else None,
    }


@register.inclusion_tag("moderation/_waiting_counts.html")
def moderation_waiting_counts():
    """The admin index's lines for open reports, open appeals and uploads to review, each
    linking to its filtered list (one query each)."""
    return {
        "rows": [
            (
                "Open reports",
                Report.objects.filter(status=Report.Status.OPEN).count(),
                reverse("admin:moderation_report_changelist") + "?status__exact=open",
            ),
            (
                "Open appeals",
                Appeal.objects.filter(status=Appeal.Status.OPEN).count(),
                reverse("admin:moderation_appeal_changelist") + "?status__exact=open",
            ),
            (
                "Uploads to review",
                Creation.objects.filter(status=Creation.Status.PENDING).count(),
                reverse("admin:creations_creation_changelist") + "?status__exact=pending",
            ),
        ]
    }
