from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User
from .services import user_delete


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts are managed by superusers only; moderators never see this page."""

    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )
    list_display = (
        "username",
        "email",
        "email_verified",
        "display_name",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_filter = (*DjangoUserAdmin.list_filter, "email_verified")
    search_fields = ("username", "email", "display_name")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def delete_model(self, request, obj):
        # The same deletion as the member's own: their data goes, aggregates are recomputed,
        # stored files are removed and cached pages dropped (accounts.services.user_delete).
        user_delete(user=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            user_delete(user=user, actor=request.user)
