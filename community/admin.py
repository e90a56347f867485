"""The moderators' comment queue, and comment reports.

Comments are read-only here: deleting goes through `comment_delete` (placeholders for
comments with replies, exact counts), whether from the list's action or the delete page.
"""

from django.contrib import admin, messages
from django.db.models import Count, F, Min, Q
from django.utils.text import Truncator

from .models import Comment, CommentReport
from .services.comments import comment_delete, comment_reports_resolve

OPEN = CommentReport.Status.OPEN


class HasOpenReportsFilter(admin.SimpleListFilter):
    title = "open reports"
    parameter_name = "open_reports"

    def lookups(self, request, model_admin):
        return (("yes", "Has open reports"), ("no", "No open reports"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(open_report_total__gt=0)
        if self.value() == "no":
            return queryset.filter(open_report_total=0)
        return queryset


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("yes", "Deleted (placeholders)"), ("no", "Live"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


class CommentReportInline(admin.TabularInline):
    model = CommentReport
    extra = 0
    can_delete = False
    fields = ("reason", "note", "reporter", "status", "created_at", "resolved_by")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """The comment queue: comments with open reports first, the longest waiting first."""

    list_display = (
        "id",
        "creation",
        "user",
        "excerpt",
        "created_at",
        "is_deleted",
        "open_reports",
    )
    list_display_links = ("id", "excerpt")
    list_filter = (HasOpenReportsFilter, DeletedFilter, "created_at")
    search_fields = ("body", "user__username", "creation__title")
    list_select_related = ("creation", "user")
    actions = ("delete_comments", "resolve_reports")
    inlines = (CommentReportInline,)
    fields = (
        "creation",
        "parent",
        "user",
        "body",
        "created_at",
        "edited_at",
        "deleted_at",
        "deleted_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_report_total=Count("reports", filter=Q(reports__status=OPEN)),
                oldest_open_report=Min("reports__created_at", filter=Q(reports__status=OPEN)),
            )
        )

    def get_ordering(self, request):
        # Reported comments first, the longest waiting first; then the newest comments.
        return [F("oldest_open_report").asc(nulls_last=True), "-created_at", "-id"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Django's bulk delete would bypass comment_delete (placeholders, counts).
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        comment_delete(comment=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for comment in queryset:
            comment_delete(comment=comment, actor=request.user)

    @admin.display(description="Comment")
    def excerpt(self, comment):
        if comment.is_deleted:
            return "(deleted)"
        return Truncator(comment.body).chars(80)

    @admin.display(description="Deleted", boolean=True)
    def is_deleted(self, comment):
        return comment.is_deleted

    @admin.display(description="Open reports", ordering="open_report_total")
    def open_reports(self, comment):
        return comment.open_report_total

    @admin.action(description="Delete selected comments", permissions=["delete"])
    def delete_comments(self, request, queryset):
        deleted = 0
        # One by one through the service, which reads each comment afresh: deleting one may
        # have removed another (a placeholder whose last reply went).
        for comment in queryset.order_by("pk"):
            if not comment.is_deleted:
                comment_delete(comment=comment, actor=request.user)
                deleted += 1
        self.message_user(request, f"Deleted {deleted} comment(s).", messages.SUCCESS)

    @admin.action(description="Resolve the selected comments' reports", permissions=["change"])
    def resolve_reports(self, request, queryset):
        reports = CommentReport.objects.filter(comment__in=queryset.values("pk"), status=OPEN)
        changed = comment_reports_resolve(reports=reports, moderator=request.user)
        self.message_user(request, f"Resolved {changed} report(s).", messages.SUCCESS)


@admin.register(CommentReport)
class CommentReportAdmin(admin.ModelAdmin):
    list_display = ("comment", "reason", "reporter", "status", "created_at", "resolved_by")
    list_filter = ("status", "reason", "created_at")
    search_fields = ("comment__body", "reporter__username", "note")
    list_select_related = ("comment", "reporter", "resolved_by")
    actions = ("resolve_selected",)
    readonly_fields = (
        "comment",
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
        changed = comment_reports_resolve(reports=queryset, moderator=request.user)
        self.message_user(request, f"Resolved {changed} report(s).", messages.SUCCESS)
