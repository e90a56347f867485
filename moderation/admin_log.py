"""The moderation log in the admin: read-only, for moderators and superusers.

Rows are written by the services (moderation.log); nobody adds, edits or deletes them here. A
target still in the database links to its own admin page; a page of the log looks its targets
up with one query per kind of target, not one per row.
"""

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from .models import ModerationAction

# Members are opened where moderators manage them (the Member proxy), not in the superusers'
# account admin.
ADMIN_OF_TARGET = {"accounts.user": "moderation.member"}


def _model_of(target_type: str):
    try:
        return apps.get_model(target_type)
    except (LookupError, ValueError):
        return None


class ModerationLogChangeList(ChangeList):
    """The changelist, with each listed row's target link worked out for the page at once."""

    def get_results(self, request):
        super().get_results(request)
        ids_by_type: dict[str, set[int]] = {}
        for row in self.result_list:
            if row.target_id is not None:
                ids_by_type.setdefault(row.target_type, set()).add(row.target_id)
        urls: dict[tuple[str, int], str] = {}
        for target_type, ids in ids_by_type.items():
            urls.update(self._target_urls(request, target_type, ids))
        for row in self.result_list:
            row.target_url = urls.get((row.target_type, row.target_id))

    def _target_urls(self, request, target_type: str, ids) -> dict[tuple[str, int], str]:
        model = _model_of(target_type)
        if model is None:
            return {}
        admin_model = _model_of(ADMIN_OF_TARGET.get(target_type, "")) or model
        if not self.model_admin.admin_site.is_registered(admin_model):
            admin_model = model
            if not self.model_admin.admin_site.is_registered(model):
                return {}
        opts = admin_model._meta
        if not any(
            request.user.has_perm(f"{opts.app_label}.{verb}_{opts.model_name}")
            for verb in ("view", "change")
        ):
            return {}  # a page the moderator cannot open is not linked
        urls = {}
        for pk in model._default_manager.filter(pk__in=ids).order_by().values_list("pk", flat=True):
            try:
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
            except NoReverseMatch:
                return {}
            urls[(target_type, pk)] = url
        return urls


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    """Who did what to what, when and why: every moderator action, newest first."""

    list_display = ("created_at", "actor_name", "action", "category", "target", "reason")
    list_filter = ("action", "category", "created_at")
    search_fields = ("target_repr", "actor_name", "reason")
    date_hierarchy = "created_at"
    list_per_page = 100
    fields = (
        "created_at",
        "actor_name",
        "action",
        "category",
        "target_type",
        "target_id",
        "target_repr",
        "reason",
    )
    readonly_fields = fields

    def get_changelist(self, request, **kwargs):
        return ModerationLogChangeList

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Target", ordering="target_repr")
    def target(self, action):
        url = getattr(action, "target_url", None)
        label = action.target_repr or f"{action.target_type} #{action.target_id}"
        if url:
            return format_html('<a href="{}">{}</a>', url, label)
        return label
