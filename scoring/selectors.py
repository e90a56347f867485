"""Reads of scores: the creation page's histogram and form, the API, profile numbers."""

from django.db.models import Count, Q

from creations.models import Creation
from npu_site.caching import object_cached

from .models import SCORE_MAX, SCORE_MIN, Score

AXES = ("creativity", "uniqueness")


def score_histogram(*, creation) -> dict[str, list[dict]]:
    """How many scores gave each value on each axis, in one query."""
    values = range(SCORE_MIN, SCORE_MAX + 1)

    def count():
        return Score.objects.filter(creation=creation).aggregate(
            **{
                f"{axis}_{value}": Count("pk", filter=Q(**{axis: value}))
                for axis in AXES
                for value in values
            }
        )

    # Cached under the creation's token, which every score write replaces: a popular
    # creation's histogram reads all of its scores.
    counts = object_cached("creation", creation.pk, "histogram", count)
    total = creation.score_count or 0
    return {
        axis: [
            {
                "value": value,
                "count": counts[f"{axis}_{value}"],
                "percent": round(100 * counts[f"{axis}_{value}"] / total) if total else 0,
            }
            for value in reversed(values)
        ]
        for axis in AXES
    }


def score_of(*, user, creation) -> Score | None:
    """`user`'s score of `creation`, if they gave one."""
    if not user.is_authenticated:
        return None
    return Score.objects.filter(user=user, creation=creation).first()


def creation_scores(*, creation):
    """A creation's scores with their raters, newest first; the list knows its length (the
    creation's exact `score_count`), so paginating it counts nothing."""
    scores = creation.scores.select_related("user").order_by("-updated_at", "-id")
    scores.known_count = creation.score_count
    return scores


def scores_given(*, member) -> int:
    """How many published creations `member` has scored."""
    return Score.objects.filter(user=member, creation__status=Creation.Status.PUBLISHED).count()
