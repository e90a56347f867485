from django.contrib import admin

from .models import Score
from .services import score_delete_many


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    """Moderators may look at scores and delete abusive ones; the aggregates follow."""

    list_display = ("creation", "user", "creativity", "uniqueness", "updated_at")
    list_filter = ("creativity", "uniqueness", "updated_at")
    search_fields = ("creation__title", "user__username")
    list_select_related = ("creation", "user")
    readonly_fields = ("user", "creation", "creativity", "uniqueness", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Django's delete view and "delete selected" action both end here, so the aggregates follow.
    def delete_model(self, request, obj):
        score_delete_many(scores=[obj])

    def delete_queryset(self, request, queryset):
        score_delete_many(scores=queryset)
