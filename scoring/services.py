"""Writes to scores. Every change to a score refreshes its creation's aggregates."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count, FloatField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce

from creations.models import Creation
from npu_site.caching import listings_changed, object_changed

from .models import SCORE_MAX, SCORE_MIN, Score


class OwnCreationScoreError(PermissionDenied):
    """Nobody scores their own creation."""

    message = "You can't score your own creation."

    def __init__(self):
        super().__init__(self.message)


def _aggregate_expressions(creation_ref) -> dict:
    """UPDATE expressions computing a creation's aggregates from its scores, in the database.

    One definition serves a single creation and the full rebuild, so both give identical
    numbers, and all four columns change in one statement, so the check constraint tying them
    together holds after every statement.
    """
    scores = Score.objects.filter(creation=creation_ref).order_by().values("creation")

    def average(field: str) -> Subquery:
        return Subquery(
            scores.annotate(value=Avg(Cast(field, FloatField()))).values("value"),
            output_field=FloatField(),
        )

    creativity, uniqueness = average("creativity"), average("uniqueness")
    return {
        "score_count": Coalesce(Subquery(scores.annotate(value=Count("pk")).values("value")), 0),
        "creativity_avg": creativity,
        "uniqueness_avg": uniqueness,
        "rating": (creativity + uniqueness) / Value(2.0),
    }


def creation_refresh_aggregates(*, creation_id: int) -> None:
    """Recompute one creation's score_count, averages and rating from its scores.

    The creation's cached page is dropped; cached listings are not, and show the new figures
    within NPU_PAGE_CACHE_SECONDS (npu_site.caching), so browsing stays cached while members
    score.
    """
    Creation.objects.filter(pk=creation_id).update(**_aggregate_expressions(creation_id))
    object_changed("creation", creation_id)


@transaction.atomic
def creation_refresh_all_aggregates() -> int:
    """Rebuild every creation's aggregates from the scores; returns how many creations."""
    listings_changed()
    return Creation.objects.update(**_aggregate_expressions(OuterRef("pk")))


def _check_value(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({name: f"{name.capitalize()} must be a whole number."})
    if not SCORE_MIN <= value <= SCORE_MAX:
        raise ValidationError(
            {name: f"{name.capitalize()} must be between {SCORE_MIN} and {SCORE_MAX}."}
        )
    return value


def _lock(creation: Creation) -> Creation:
    # Lock the creation's row so concurrent writers refresh its aggregates one after another.
    return Creation.objects.select_for_update().get(pk=creation.pk)


@transaction.atomic
def score_upsert(*, user, creation, creativity: int, uniqueness: int) -> tuple[Score, bool]:
    """Create or replace `user`'s score of `creation`; returns (score, created)."""
    creativity = _check_value("creativity", creativity)
    uniqueness = _check_value("uniqueness", uniqueness)
    locked = _lock(creation)
    if locked.owner_id == user.pk:
        raise OwnCreationScoreError
    score, created = Score.objects.update_or_create(
        user=user,
        creation=locked,
        defaults={"creativity": creativity, "uniqueness": uniqueness},
    )
    creation_refresh_aggregates(creation_id=locked.pk)
    return score, created


@transaction.atomic
def score_withdraw(*, user, creation) -> bool:
    """Remove `user`'s score of `creation`; returns whether there was one."""
    locked = _lock(creation)
    deleted, _ = Score.objects.filter(user=user, creation=locked).delete()
    if deleted:
        creation_refresh_aggregates(creation_id=locked.pk)
    return bool(deleted)


@transaction.atomic
def score_delete_many(*, scores) -> int:
    """Delete scores (moderation) and refresh every affected creation; returns how many."""
    score_ids = [score.pk for score in scores]
    creation_ids = sorted(
        set(Score.objects.filter(pk__in=score_ids).values_list("creation_id", flat=True))
    )
    # Lock in id order so two moderators deleting overlapping sets cannot deadlock.
    list(Creation.objects.select_for_update().filter(pk__in=creation_ids).order_by("pk"))
    deleted, _ = Score.objects.filter(pk__in=score_ids).delete()
    for creation_id in creation_ids:
        creation_refresh_aggregates(creation_id=creation_id)
    return deleted
