from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from taggit.admin import TagAdmin as TaggitTagAdmin
from taggit.models import Tag

from npu_site.text import validate_text

from .models import Creation
from .services import (
    creation_delete,
    creation_set_status,
    creation_update,
    parts_for,
    tag_merge,
    tag_update,
    tags_delete,
)
from .tagging import tags_parse


class CreationAdminForm(forms.ModelForm):
    """Checks tags and parts with the services' own rules, so errors show on the fields."""

    def clean_tags(self):
        return tags_parse(self.cleaned_data.get("tags") or [])

    def clean_parts(self):
        try:
            return parts_for(list(self.cleaned_data.get("parts") or []))
        except ValidationError as error:
            raise ValidationError(error.message_dict["parts"]) from error


class HideActionForm(ActionForm):
    """The changelist's action bar, with the reason a hide records (shown to the owners)."""

    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Reason (for hiding)",
        validators=[validate_text],
    )


class PossibleDuplicateFilter(admin.SimpleListFilter):
    title = "possible duplicate"
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("yes", "Looks like another creation"), ("no", "No look-alike")]

    def queryset(self, request, queryset):
        look_alikes = Creation.possible_duplicates.through.objects.filter(
            from_creation=OuterRef("pk")
        )
        if self.value() == "yes":
            return queryset.filter(Exists(look_alikes))
        if self.value() == "no":
            return queryset.exclude(Exists(look_alikes))
        return queryset


@admin.register(Creation)
class CreationAdmin(admin.ModelAdmin):
    """Moderators review, edit, hide and publish creations; members upload them on the site."""

    list_display = (
        "preview",
        "title",
        "owner",
        "status",
        "created_at",
        "rating",
        "score_count",
    )
    list_display_links = ("preview", "title")
    list_filter = (
        "status",
        "created_at",
        PossibleDuplicateFilter,
        ("tags", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("title", "owner__username", "tags__name")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    actions = ("hide_selected", "publish_selected", "approve_selected")
    fields = (
        "large_preview",
        "title",
        "description",
        "alt_text",
        "tags",
        "parts",
        ("status", "hidden_reason"),
        ("hidden_by", "hidden_at"),
        "possible_duplicate_links",
        "owner",
        ("width", "height"),
        ("score_count", "creativity_avg", "uniqueness_avg", "rating"),
        ("created_at", "updated_at"),
    )
    raw_id_fields = ("parts",)
    action_form = HideActionForm
    readonly_fields = (
        "hidden_by",
        "hidden_at",
        "large_preview",
        "possible_duplicate_links",
        "owner",
        "width",
        "height",
        "score_count",
        "creativity_avg",
        "uniqueness_avg",
        "rating",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request):
        # Uploads go through the site's image pipeline, not through the admin.
        return False

    @admin.display(description="Image")
    def preview(self, creation):
        return format_html(
            '<img src="{}" alt="{}" style="max-height:64px;max-width:96px">',
            creation.thumbnail.url,
            creation.image_alt,
        )

    @admin.display(description="Image")
    def large_preview(self, creation):
        return format_html(
            '<a href="{}"><img src="{}" alt="{}" style="max-width:480px;height:auto"></a>',
            creation.image.url,
            creation.thumbnail.url,
            creation.image_alt,
        )

    @admin.display(description="Possible duplicates")
    def possible_duplicate_links(self, creation):
        matches = creation.possible_duplicates.select_related("owner").order_by("created_at")
        if not matches:
            return "None found"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">#{} “{}”</a> by {}, {}',
            (
                (
                    reverse("admin:creations_creation_change", args=[match.pk]),
                    match.pk,
                    match.title,
                    match.owner,
                    match.created_at.date(),
                )
                for match in matches
            ),
        )

    @admin.action(description="Hide selected creations (give the reason)", permissions=["change"])
    def hide_selected(self, request, queryset):
        # The admin validated the action form (HideActionForm) before calling the action.
        reason = request.POST.get("reason", "")
        changed = creation_set_status(
            creations=queryset,
            status=Creation.Status.HIDDEN,
            actor=request.user,
            reason=reason,
            category=self.hide_category(request),
        )
        self.message_user(request, f"Hid {changed} creation(s).", messages.SUCCESS)

    def hide_category(self, request) -> str:
        """What the moderation log counts a hide under; the core names none (moderation's
        admin adds the choice to the action bar)."""
        return ""

    @admin.action(description="Publish selected creations", permissions=["change"])
    def publish_selected(self, request, queryset):
        changed = creation_set_status(
            creations=queryset, status=Creation.Status.PUBLISHED, actor=request.user
        )
        self.message_user(request, f"Published {changed} creation(s).", messages.SUCCESS)

    @admin.action(description="Approve selected uploads", permissions=["change"])
    def approve_selected(self, request, queryset):
        # Only uploads still waiting: a hidden creation stays hidden (publish it on purpose).
        changed = creation_set_status(
            creations=queryset.filter(status=Creation.Status.PENDING),
            status=Creation.Status.PUBLISHED,
            actor=request.user,
        )
        self.message_user(request, f"Approved {changed} upload(s).", messages.SUCCESS)

    def get_form(self, request, obj=None, **kwargs):
        kwargs.setdefault("form", CreationAdminForm)
        return super().get_form(request, obj, **kwargs)

    # Saving goes through creation_update, like the pages and the API: the same rules (at most
    # ten tags and parts, normalised tags) and the same cache invalidation.
    def save_model(self, request, obj, form, change):
        # The form has written its values onto `obj` already: give it back the stored status,
        # so the service sees a change of status (who hid it, the log, the owner's notice).
        if change:
            obj.status = form.initial.get("status", obj.status)
        creation_update(
            creation=obj,
            actor=request.user,
            hidden_reason=form.cleaned_data.get("hidden_reason"),
            tags=form.cleaned_data.get("tags"),
            parts=form.cleaned_data.get("parts"),
            **{
                name: form.cleaned_data[name]
                for name in ("title", "description", "alt_text", "status")
                if name in form.cleaned_data
            },
        )

    def save_related(self, request, form, formsets, change):
        # Tags and parts were saved by creation_update; only inlines are left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        creation_delete(creation=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for creation in queryset:
            creation_delete(creation=creation, actor=request.user)


class TagMergeForm(forms.Form):
    target_name = forms.CharField(
        label="Merge into",
        max_length=100,
        help_text="An existing or new tag name; it is normalised like every tag.",
    )


admin.site.unregister(Tag)


@admin.register(Tag)
class TagAdmin(TaggitTagAdmin):
    list_display = ("name", "slug", "creation_count")
    inlines = ()
    actions = ("merge_selected",)

    def get_urls(self):
        # Drop django-taggit's own merge view: merging goes through creations.services.
        return admin.ModelAdmin.get_urls(self)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("taggit_taggeditem_items"))

    def save_model(self, request, obj, form, change):
        tag_update(tag=obj, name=form.cleaned_data["name"], slug=form.cleaned_data["slug"])

    def delete_model(self, request, obj):
        tags_delete(tags=[obj], actor=request.user)

    def delete_queryset(self, request, queryset):
        tags_delete(tags=queryset, actor=request.user)

    @admin.display(description="Creations", ordering="item_count")
    def creation_count(self, tag):
        return tag.item_count

    @admin.action(description="Merge selected tags into one", permissions=["change", "delete"])
    def merge_selected(self, request, queryset):
        tags = list(queryset.order_by("-item_count", "name"))
        form = TagMergeForm(
            request.POST if "apply" in request.POST else None,
            initial={"target_name": tags[0].name if tags else ""},
        )
        if form.is_valid():
            try:
                target = tag_merge(
                    sources=tags, target_name=form.cleaned_data["target_name"], actor=request.user
                )
            except ValidationError as error:
                form.add_error("target_name", error)
            else:
                self.message_user(
                    request, f"Merged {len(tags)} tag(s) into “{target.name}”.", messages.SUCCESS
                )
                return redirect(request.get_full_path())
        return TemplateResponse(
            request,
            "admin/taggit/tag/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": "Merge tags",
                "opts": self.model._meta,
                "tags": tags,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
