"""Compute the ranking values creations gained (`top`, `trending`) and the stored prior, for
creations scored before them. The same functions as scoring.services use."""

from django.db import migrations
from django.db.models import Avg
from django.utils import timezone

from creations.ranking import DEFAULT_PRIOR_MEAN, TOP_PRIOR_WEIGHT, top_value, trending_value


def fill_rankings(apps, schema_editor):
    Creation = apps.get_model("creations", "Creation")
    Score = apps.get_model("scoring", "Score")
    RankingPrior = apps.get_model("creations", "RankingPrior")
    mean = (
        Creation.objects.filter(status="published", score_count__gt=0).aggregate(
            mean=Avg("rating")
        )["mean"]
        or DEFAULT_PRIOR_MEAN
    )
    RankingPrior.objects.update_or_create(
        pk=1,
        defaults={"mean": mean, "weight": TOP_PRIOR_WEIGHT, "computed_at": timezone.now()},
    )
    for creation in Creation.objects.filter(score_count__gt=0).only("score_count", "rating"):
        times = Score.objects.filter(creation_id=creation.pk).values_list(
            "updated_at", flat=True
        )
        creation.top = top_value(
            score_count=creation.score_count, rating=creation.rating, prior_mean=mean
        )
        creation.trending = trending_value(times)
        creation.save(update_fields=["top", "trending"])


class Migration(migrations.Migration):
    dependencies = [
        ("creations", "0006_lookups_and_rankings"),
        ("scoring", "0001_initial"),
    ]

    operations = [migrations.RunPython(fill_rankings, migrations.RunPython.noop)]
