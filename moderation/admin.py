"""Reports in the admin, and what moderation adds to the creation admin: its reports inline
and their counts. The core's admin knows nothing of reports; this module extends it."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q

from creations.admin import CreationAdmin, HideActionForm
from creations.models import Creation

from . import (
    admin_appeals,  # noqa: F401  (registers the appeal admin and the queue)
    admin_log,  # noqa: F401  (registers the moderation log's admin)
    admin_members,  # noqa: F401  (registers the member admin: suspend, ban, trust)
)
from .models import ModerationAction, Report
from .services import report_reopen, report_resolve


class ReportInline(admin.TabularInline):
    model = Report
    fk_name = "creation"
    extra = 0
    can_delete = False
    fields = ("reason", "note", "reporter", "status", "created_at", "resolved_by")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("creation", "reason", "reporter", "status", "created_at", "resolved_by")
    list_filter = ("status", "reason", "created_at")
    search_fields = ("creation__title", "reporter__username", "note")
    list_select_related = ("creation", "reporter", "resolved_by")
    actions = ("resolve_selected", "reopen_selected")
    readonly_fields = (
        "creation",
        "reporter",
        "reason",
        "note",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    )

    def has_add_permission(self, request):
        return False

    @admin.action(description="Mark selected reports resolved", permissions=["change"])
    def resolve_selected(self, request, queryset):
        changed = report_resolve(reports=queryset, moderator=request.user)
        self.message_user(request, f"Resolved {changed} report(s).", messages.SUCCESS)

    @admin.action(description="Reopen selected reports", permissions=["change"])
    def reopen_selected(self, request, queryset):
        changed = report_reopen(reports=queryset, moderator=request.user)
        self.message_user(request, f"Reopened {changed} report(s).", messages.SUCCESS)


class ModeratedHideActionForm(HideActionForm):
    """The action bar with what the public moderation figures count a hide under."""

    category = forms.ChoiceField(
        required=False,
        choices=[("", "Why it was reported"), *ModerationAction.Category.choices],
        label="Counted as",
    )


class ModeratedCreationAdmin(CreationAdmin):
    list_display = (*CreationAdmin.list_display, "open_reports", "report_count")
    inlines = (*CreationAdmin.inlines, ReportInline)
    action_form = ModeratedHideActionForm

    def hide_category(self, request) -> str:
        # The admin validated the action form before calling the action.
        category = request.POST.get("category", "")
        return category if category in ModerationAction.Category.values else ""

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                report_total=Count("reports", distinct=True),
                open_report_total=Count(
                    "reports", filter=Q(reports__status=Report.Status.OPEN), distinct=True
                ),
            )
        )

    @admin.display(description="Open reports", ordering="open_report_total")
    def open_reports(self, creation):
        return creation.open_report_total

    @admin.display(description="Reports", ordering="report_total")
    def report_count(self, creation):
        return creation.report_total


admin.site.unregister(Creation)
admin.site.register(Creation, ModeratedCreationAdmin)
