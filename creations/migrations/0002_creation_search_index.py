"""A GIN index for full-text search over title and description, on PostgreSQL only.

The index is built from the same SearchVector the gallery's search uses, so PostgreSQL can
match the expression; SQLite has no such index and searches with LIKE instead.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = GinIndex(
    SearchVector("title", "description", config="english"), name="creation_search_idx"
)


def add_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("creations", "Creation"), INDEX)


def remove_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("creations", "Creation"), INDEX)


class Migration(migrations.Migration):
    dependencies = [("creations", "0001_initial")]

    operations = [migrations.RunPython(add_search_index, remove_search_index)]
