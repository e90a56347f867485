"""The `calibrated` order (creations.ranking): its stored value, the prior it needs, and its
index. Like the other NULLS LAST orders (0006), the index is PostgreSQL's only.

`manage.py refresh_rankings` (hourly on the beat schedule) computes every creation's value; until
it first runs, `ordering=calibrated` lists creations newest first."""

from django.db import migrations, models

ORDER_INDEXES = {"creation_calibrated_idx": "calibrated DESC NULLS LAST, id DESC"}


def add_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in ORDER_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON creations_creation ({columns})")


def remove_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ORDER_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("creations", "0007_community_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="creation",
            name="calibrated",
            field=models.FloatField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="rankingprior",
            name="rater_variance",
            field=models.FloatField(default=1.0),
        ),
        migrations.RunPython(add_postgresql_indexes, remove_postgresql_indexes),
    ]
