from django.contrib import admin

from .models import Part, PartCategory


@admin.register(PartCategory)
class PartCategoryAdmin(admin.ModelAdmin):
    list_display = ("id", "name")
    search_fields = ("name",)


@admin.register(Part)
class PartAdmin(admin.ModelAdmin):
    """The catalog comes from `manage.py import_parts`; the admin is for looking and fixing."""

    list_display = ("part_num", "name", "category", "material")
    list_filter = ("category",)
    search_fields = ("part_num", "name")
    list_select_related = ("category",)
