"""Appeals in the admin, and the moderators' queue.

Appeals are read-only here: a moderator grants (publishes the creation again) or denies them
with the list's actions, which ask for an optional note on a page of their own and call
`appeal_decide`.

The queue (/admin/moderation/queue/) lists what waits for a moderator, oldest first: open
reports, open appeals, uploads waiting for review and, through community's inclusion tag
(moderation never imports community), reported comments. Django puts a model admin's own
views under /admin/<app>/<model>/, so the queue is added to the admin site's URLs instead; the
view itself is the appeal admin's.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods

from creations.models import Creation
from npu_site.text import validate_text

from .appeals import appeal_decide
from .models import Appeal, Report

# The queue lists this many of each kind, oldest first, and links to the rest.
QUEUE_LISTED = 50


class AppealDecisionForm(forms.Form):
    note = forms.CharField(
        label="Note to the owner (optional)",
        required=False,
        max_length=1000,
        validators=[validate_text],
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    """Owners' appeals against moderators' hides, oldest first."""

    list_display = (
        "preview",
        "creation_title",
        "hidden_reason",
        "owner",
        "note_excerpt",
        "status",
        "created_at",
        "decided_by",
    )
    list_display_links = ("preview", "creation_title")
    list_filter = ("status", "created_at")
    search_fields = ("creation__title", "owner__username", "note")
    list_select_related = ("creation", "owner", "decided_by")
    ordering = ("created_at", "id")
    actions = ("grant_selected", "deny_selected")
    fields = (
        "large_preview",
        "creation_link",
        "hidden_reason",
        "hidden_at",
        "owner",
        "note",
        "status",
        "created_at",
        ("decided_at", "decided_by"),
        "decision_note",
    )
    readonly_fields = (
        "large_preview",
        "creation_link",
        "hidden_reason",
        "hidden_at",
        "owner",
        "note",
        "status",
        "created_at",
        "decided_at",
        "decided_by",
        "decision_note",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Everything is read-only: decisions go through the list's actions.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description="Picture")
    def preview(self, appeal):
        creation = appeal.creation
        return format_html(
            '<img src="{}" alt="{}" style="max-height:64px;max-width:96px">',
            creation.thumbnail.url,
            creation.image_alt,
        )

    @admin.display(description="Picture")
    def large_preview(self, appeal):
        creation = appeal.creation
        return format_html(
            '<a href="{}"><img src="{}" alt="{}" style="max-width:480px;height:auto"></a>',
            creation.image.url,
            creation.thumbnail.url,
            creation.image_alt,
        )

    @admin.display(description="Creation", ordering="creation__title")
    def creation_title(self, appeal):
        return appeal.creation.title

    @admin.display(description="Creation")
    def creation_link(self, appeal):
        return format_html(
            '<a href="{}">{}</a> (<a href="{}">on the site</a>)',
            reverse("admin:creations_creation_change", args=[appeal.creation_id]),
            appeal.creation.title,
            appeal.creation.get_absolute_url(),
        )

    @admin.display(description="Why it was hidden")
    def hidden_reason(self, appeal):
        return appeal.creation.hidden_reason or "—"

    @admin.display(description="Note")
    def note_excerpt(self, appeal):
        return Truncator(appeal.note).chars(80)

    # Granting and denying: an action, then a page for the optional note.

    @admin.action(description="Grant (publish again)…", permissions=["change"])
    def grant_selected(self, request, queryset):
        return self._decide(request, queryset, grant=True)

    @admin.action(description="Deny…", permissions=["change"])
    def deny_selected(self, request, queryset):
        return self._decide(request, queryset, grant=False)

    def _decide(self, request, queryset, *, grant: bool):
        appeals = list(queryset.select_related("creation", "owner").order_by("created_at", "id"))
        form = AppealDecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                decided = appeal_decide(
                    appeals=appeals,
                    moderator=request.user,
                    grant=grant,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                for field, field_errors in error.message_dict.items():
                    form.add_error("note" if field == "note" else None, field_errors)
            except PermissionDenied as error:
                self.message_user(request, str(error), messages.ERROR)
                return None
            else:
                verb = "Granted" if grant else "Denied"
                skipped = len(appeals) - decided
                message = f"{verb} {decided} appeal(s)."
                if skipped:
                    message += f" {skipped} were decided already and left as they were."
                self.message_user(request, message, messages.SUCCESS)
                return None  # back to the changelist, with the message
        return TemplateResponse(
            request,
            "admin/moderation/appeal_decide.html",
            {
                **self.admin_site.each_context(request),
                "title": "Grant appeals" if grant else "Deny appeals",
                "opts": self.model._meta,
                "appeals": appeals,
                "form": form,
                "grant": grant,
                "action": "grant_selected" if grant else "deny_selected",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    # The moderators' queue.

    def queue_view(self, request):
        """What waits for a moderator, oldest first, each with a link to act on it."""
        if not request.user.is_moderator:
            raise PermissionDenied
        reports = Report.objects.filter(status=Report.Status.OPEN)
        appeals = Appeal.objects.filter(status=Appeal.Status.OPEN)
        uploads = Creation.objects.filter(status=Creation.Status.PENDING)
        sections = [
            {
                "id": "reports",
                "heading": "Open reports",
                "count": reports.count(),
                "rows": [
                    {
                        "created_at": report.created_at,
                        "what": f"{report.get_reason_display()}: “{report.creation.title}”",
                        "detail": report.note,
                        "who": report.reporter.get_username(),
                        "url": reverse("admin:moderation_report_change", args=[report.pk]),
                        "act": "Resolve or look at the creation",
                        "secondary_url": reverse(
                            "admin:creations_creation_change", args=[report.creation_id]
                        ),
                    }
                    for report in reports.select_related("creation", "reporter").order_by(
                        "created_at", "id"
                    )[:QUEUE_LISTED]
                ],
                "all_url": reverse("admin:moderation_report_changelist") + "?status__exact=open",
            },
            {
                "id": "appeals",
                "heading": "Open appeals",
                "count": appeals.count(),
                "rows": [
                    {
                        "created_at": appeal.created_at,
                        "what": f"“{appeal.creation.title}”",
                        "detail": appeal.note,
                        "who": appeal.owner.get_username(),
                        "url": reverse("admin:moderation_appeal_change", args=[appeal.pk]),
                        "act": "Grant or deny",
                    }
                    for appeal in appeals.select_related("creation", "owner").order_by(
                        "created_at", "id"
                    )[:QUEUE_LISTED]
                ],
                "all_url": reverse("admin:moderation_appeal_changelist") + "?status__exact=open",
            },
            {
                "id": "uploads",
                "heading": "Uploads to review",
                "count": uploads.count(),
                "rows": [
                    {
                        "created_at": creation.created_at,
                        "what": f"“{creation.title}”",
                        "detail": "",
                        "who": creation.owner.get_username(),
                        "url": reverse("admin:creations_creation_change", args=[creation.pk]),
                        "act": "Approve or hide",
                    }
                    for creation in uploads.select_related("owner").order_by("created_at", "id")[
                        :QUEUE_LISTED
                    ]
                ],
                "all_url": reverse("admin:creations_creation_changelist")
                + "?status__exact=pending",
            },
        ]
        return TemplateResponse(
            request,
            "admin/moderation/queue.html",
            {
                **self.admin_site.each_context(request),
                "title": "Waiting for moderators",
                "opts": self.model._meta,
                "sections": sections,
                "listed": QUEUE_LISTED,
            },
        )


def _site_urls_with_queue(site, site_get_urls):
    def get_urls():
        view = require_http_methods(["GET", "HEAD"])(site._registry[Appeal].queue_view)
        return [
            path("moderation/queue/", site.admin_view(view), name="moderation_queue"),
            *site_get_urls(),
        ]

    return get_urls


admin.site.get_urls = _site_urls_with_queue(admin.site, admin.site.get_urls)
