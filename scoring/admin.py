import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from creations.models import Creation
from npu_site.text import validate_text

from .audit import (
    BURST_SCORES,
    BURST_WINDOW,
    HIGH_MEAN,
    YOUNG_ACCOUNT,
    creation_audit,
    suspects,
)
from .models import VOID_REASON_MAX_LENGTH, Score, ScoreVoiding
from .services import score_delete_many, scores_restore, scores_void


class VoidReasonForm(forms.Form):
    """The reason a moderator gives for voiding or restoring scores (kept in the log)."""

    reason = forms.CharField(
        max_length=VOID_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        validators=[validate_text],
        help_text="Kept in the log with your name and the time.",
        error_messages={"required": "Say why: the reason is kept in the log."},
    )


class AuditVoidForm(VoidReasonForm):
    """The audit page's form: the chosen scores of the creation, what to do, and why."""

    change = forms.ChoiceField(choices=[("void", "Void"), ("restore", "Restore")])
    scores = forms.ModelMultipleChoiceField(
        queryset=Score.objects.none(),
        error_messages={"required": "Choose at least one score."},
    )

    def __init__(self, *args, creation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scores"].queryset = Score.objects.filter(creation=creation)


SUSPECTS_DAYS = 30


class SuspectsForm(forms.Form):
    # The suspects read every score given in the window (scoring.audit.suspects): a quarter
    # keeps that well inside the statement timeout on a busy site.
    days = forms.IntegerField(
        label="Scores given in the last (days)", min_value=1, max_value=90, initial=SUSPECTS_DAYS
    )


class VoidedFilter(admin.SimpleListFilter):
    title = "voided"
    parameter_name = "voided"

    def lookups(self, request, model_admin):
        return [("yes", "Voided"), ("no", "Counting")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.voided()
        if self.value() == "no":
            return queryset.counting()
        return queryset


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    """Moderators look at scores, audit a creation's scores, list the suspects, void and
    restore scores with a reason, and delete abusive ones; the aggregates follow."""

    list_display = (
        "creation",
        "user",
        "creativity",
        "uniqueness",
        "updated_at",
        "is_voided",
        "void_reason",
        "audit_link",
    )
    list_filter = (VoidedFilter, "creativity", "uniqueness", "updated_at")
    search_fields = ("creation__title", "user__username")
    list_select_related = ("creation", "user")
    readonly_fields = (
        "user",
        "creation",
        "creativity",
        "uniqueness",
        "created_at",
        "updated_at",
        "voided_at",
        "voided_by",
        "void_reason",
    )
    actions = ("void_selected", "restore_selected")
    change_list_template = "admin/scoring/score/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_void_permission(self, request, obj=None):
        # The permission scores_void checks (the moderators group has it).
        return request.user.has_perm("scoring.void_score")

    @admin.display(description="Voided", boolean=True, ordering="voided_at")
    def is_voided(self, score):
        return score.is_voided

    @admin.display(description="Audit")
    def audit_link(self, score):
        return format_html(
            '<a href="{}">Audit this creation’s scores</a>',
            reverse("admin:scoring_score_audit", args=[score.creation_id]),
        )

    # Django's delete view and "delete selected" action both end here, so the aggregates follow.
    def delete_model(self, request, obj):
        score_delete_many(scores=[obj], actor=request.user)

    def delete_queryset(self, request, queryset):
        score_delete_many(scores=queryset, actor=request.user)

    # Voiding and restoring: an action, then a page asking why.

    @admin.action(description="Void selected scores", permissions=["void"])
    def void_selected(self, request, queryset):
        return self._void_or_restore(request, queryset, void=True)

    @admin.action(description="Restore selected scores", permissions=["void"])
    def restore_selected(self, request, queryset):
        return self._void_or_restore(request, queryset, void=False)

    def _void_or_restore(self, request, queryset, *, void: bool):
        scores = list(queryset.select_related("user", "creation").order_by("pk"))
        form = VoidReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid() and self._apply(request, form, scores, void=void):
            return None  # back to the changelist, with the message
        return TemplateResponse(
            request,
            "admin/scoring/score/void.html",
            {
                **self.admin_site.each_context(request),
                "title": "Void scores" if void else "Restore scores",
                "opts": self.model._meta,
                "scores": scores,
                "form": form,
                "void": void,
                "action": "void_selected" if void else "restore_selected",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    def _apply(self, request, form, scores, *, void: bool) -> bool:
        """Void or restore `scores` with the form's reason; whether it was done (else the
        form or a message holds the error, and nothing changed)."""
        service = scores_void if void else scores_restore
        try:
            changed = service(scores=scores, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)  # the service names the field: {"reason": [...]}
            return False
        except PermissionDenied as error:
            self.message_user(request, str(error), messages.ERROR)
            return False
        verb = "Voided" if void else "Restored"
        self.message_user(request, f"{verb} {changed} score(s).", messages.SUCCESS)
        return True

    # The moderators' pages: one creation's audit, the site's suspects.

    def get_urls(self):
        site = self.admin_site
        audit = require_http_methods(["GET", "HEAD", "POST"])(self.audit_view)
        suspects_list = require_http_methods(["GET", "HEAD"])(self.suspects_view)
        return [
            path("audit/<int:creation_id>/", site.admin_view(audit), name="scoring_score_audit"),
            path("suspects/", site.admin_view(suspects_list), name="scoring_score_suspects"),
            *super().get_urls(),
        ]

    def _page_context(self, request, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "young_days": YOUNG_ACCOUNT.days,
            "burst_scores": BURST_SCORES,
            "burst_minutes": int(BURST_WINDOW.total_seconds() // 60),
            "high_mean": HIGH_MEAN,
        }

    def audit_view(self, request, creation_id: int):
        """One creation's scores: reading needs view_score, voiding needs void_score."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        creation = get_object_or_404(Creation.objects.select_related("owner"), pk=creation_id)
        can_void = self.has_void_permission(request)
        form = None
        if request.method == "POST":
            if not can_void:
                raise PermissionDenied
            form = AuditVoidForm(request.POST, creation=creation)
            if form.is_valid():
                void = form.cleaned_data["change"] == "void"
                if self._apply(request, form, list(form.cleaned_data["scores"]), void=void):
                    return redirect(request.path)
        elif can_void:
            form = AuditVoidForm(creation=creation)
        chosen = set(form.data.getlist("scores")) if form is not None and form.is_bound else set()
        return TemplateResponse(
            request,
            "admin/scoring/score/audit.html",
            {
                **self._page_context(request, f"Score audit: {creation.title}"),
                "creation": creation,
                "audit": creation_audit(creation=creation),
                "form": form,
                "chosen": chosen,
            },
        )

    def suspects_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SuspectsForm(request.GET if "days" in request.GET else None)
        days = form.cleaned_data["days"] if form.is_valid() else SUSPECTS_DAYS
        found = suspects(since=datetime.timedelta(days=days))
        return TemplateResponse(
            request,
            "admin/scoring/score/suspects.html",
            {
                **self._page_context(request, "Score suspects"),
                "form": form,
                "days": days,
                "suspects": found,
            },
        )


@admin.register(ScoreVoiding)
class ScoreVoidingAdmin(admin.ModelAdmin):
    """The log of voided and restored scores: read-only, written by scoring.services."""

    list_display = (
        "created_at",
        "action",
        "actor_name",
        "rater_name",
        "creation_title",
        "reason",
        "values",
    )
    list_filter = ("action", "created_at")
    search_fields = ("actor_name", "rater_name", "creation_title", "reason")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Creativity / uniqueness")
    def values(self, voiding):
        return f"{voiding.creativity} / {voiding.uniqueness}"
