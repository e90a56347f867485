"""Members as moderators see them in the admin: suspend, ban, lift, trust.

A read-only page on the `Member` proxy (moderators never edit accounts, and never see e-mail
addresses); every change goes through moderation.members, which checks the permission and
logs it. Suspending and banning ask for a reason on a page of their own, as voiding scores does.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse

from accounts.models import Restriction
from creations.models import Creation
from npu_site.text import validate_text

from .members import REASON_MAX_LENGTH, member_ban, member_lift, member_suspend, member_trust
from .models import Member, ModerationAction


class RestrictionForm(forms.Form):
    """Why a moderator suspends or bans (the member is told; the log keeps it)."""

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        validators=[validate_text],
        help_text="The member is told this when they try to log in; the log keeps it with "
        "your name and the time.",
        error_messages={"required": "Say why: the member is told the reason."},
    )
    category = forms.ChoiceField(
        choices=ModerationAction.Category.choices,
        initial=ModerationAction.Category.OTHER,
        help_text="What the public moderation figures count it under (they name nobody).",
    )


class SuspendForm(RestrictionForm):
    ends_at = forms.DateTimeField(
        label="Until",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: until a moderator lifts it. Otherwise it ends by itself then "
        "(YYYY-MM-DD HH:MM, site time).",
    )


class LiftForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        validators=[validate_text],
        help_text="Optional; kept in the log.",
    )


class RestrictionFilter(admin.SimpleListFilter):
    title = "restriction"
    parameter_name = "restriction"

    def lookups(self, request, model_admin):
        return [("none", "None"), *Restriction.choices]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(restriction="")
        if self.value() in Restriction.values:
            return queryset.filter(restriction=self.value())
        return queryset


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = (
        "username",
        "display_name",
        "date_joined",
        "restriction",
        "restriction_ends_at",
        "trusted",
        "creation_total",
    )
    list_filter = (RestrictionFilter, "trusted")
    # Never the e-mail address: moderators do not see members' addresses.
    search_fields = ("username", "display_name")
    ordering = ("username",)
    fields = (
        "username",
        "display_name",
        "date_joined",
        "last_login",
        "restriction",
        "restriction_reason",
        "restricted_at",
        "restriction_ends_at",
        "trusted",
        "email_verified",
        "is_staff",
    )
    readonly_fields = fields
    actions = ("suspend_selected", "ban_selected", "lift_selected", "trust_selected", "untrust")

    def get_queryset(self, request):
        # A subquery, not a join: the changelist's counts then read the members table alone.
        creations = (
            Creation.objects.filter(owner=OuterRef("pk"))
            .order_by()
            .values("owner")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super().get_queryset(request).annotate(creation_count=Coalesce(Subquery(creations), 0))
        )

    @admin.display(description="Creations", ordering="creation_count")
    def creation_total(self, member):
        return member.creation_count

    # Nobody adds, edits or deletes accounts here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_restrict_permission(self, request, obj=None):
        return request.user.has_perm("moderation.restrict_member")

    def has_trust_permission(self, request, obj=None):
        return request.user.has_perm("moderation.trust_member")

    # Suspending and banning: an action, then a page asking why.

    @admin.action(description="Suspend selected members…", permissions=["restrict"])
    def suspend_selected(self, request, queryset):
        return self._restrict(request, queryset, ban=False)

    @admin.action(description="Ban selected members…", permissions=["restrict"])
    def ban_selected(self, request, queryset):
        return self._restrict(request, queryset, ban=True)

    @admin.action(description="Lift suspension or ban", permissions=["restrict"])
    def lift_selected(self, request, queryset):
        members = list(queryset.order_by("pk"))
        form = LiftForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = self._each(
                request,
                members,
                lambda member: member_lift(
                    member=member, moderator=request.user, reason=form.cleaned_data["reason"]
                ),
                form,
            )
            if done is not None:
                self.message_user(
                    request, f"Lifted the suspension or ban of {done} member(s).", messages.SUCCESS
                )
                return None
        return self._page(request, members, form, "Lift suspension or ban", "lift_selected")

    @admin.action(description="Trust (uploads skip review)", permissions=["trust"])
    def trust_selected(self, request, queryset):
        self._trust(request, queryset, trusted=True)

    @admin.action(description="Stop trusting", permissions=["trust"])
    def untrust(self, request, queryset):
        self._trust(request, queryset, trusted=False)

    def _trust(self, request, queryset, *, trusted: bool):
        changed = 0
        try:
            for member in queryset.order_by("pk"):
                changed += member_trust(member=member, moderator=request.user, trusted=trusted)
        except PermissionDenied as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        verb = "Trusted" if trusted else "Stopped trusting"
        self.message_user(request, f"{verb} {changed} member(s).", messages.SUCCESS)

    def _restrict(self, request, queryset, *, ban: bool):
        members = list(queryset.order_by("pk"))
        form_class = RestrictionForm if ban else SuspendForm
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data
            if ban:

                def apply(member):
                    return member_ban(
                        member=member,
                        moderator=request.user,
                        reason=data["reason"],
                        category=data["category"],
                    )
            else:

                def apply(member):
                    return member_suspend(
                        member=member,
                        moderator=request.user,
                        reason=data["reason"],
                        ends_at=data.get("ends_at"),
                        category=data["category"],
                    )

            done = self._each(request, members, apply, form)
            if done is not None:
                verb = "Banned" if ban else "Suspended"
                self.message_user(request, f"{verb} {done} member(s).", messages.SUCCESS)
                return None
        title = "Ban members" if ban else "Suspend members"
        action = "ban_selected" if ban else "suspend_selected"
        return self._page(request, members, form, title, action)

    def _each(self, request, members, apply, form) -> int | None:
        """Apply to every member in one transaction: all or none. Returns how many, or None
        with the error on the form (nothing changed)."""
        try:
            with transaction.atomic():
                return sum(1 for member in members if apply(member) is not False)
        except ValidationError as error:
            if hasattr(error, "error_dict"):  # the services name the field
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        return None

    def _page(self, request, members, form, title: str, action: str):
        return TemplateResponse(
            request,
            "admin/moderation/member/restrict.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "members": members,
                "form": form,
                "action": action,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
