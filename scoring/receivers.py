"""What scoring does when something happens to a member's account (accounts.signals): a
deleted member's scores are withdrawn and a suspended or banned member's stop counting, with
every affected aggregate recomputed in the same transaction; their scores are part of their
data export. Connected by `ScoringConfig.ready()`."""

from django.dispatch import receiver

from accounts.signals import member_deleting, member_export, member_restricted
from creations.models import Creation
from npu_site.caching import listings_changed

from .models import RaterCalibration, Score, ScoreReveal
from .services import _after_scores_changed, rater_scores_set_restricted


@receiver(member_deleting, dispatch_uid="scoring.member_deleting")
def scores_of_deleted_member(sender, *, user, **kwargs):
    """Withdraw every score a departing member gave, recomputing each affected creation's
    aggregates and ranking values in this transaction; their reveals and calibration go too.

    Scores on the member's own creations go with the creations (creations' receiver). When
    this runs first they are deleted here, so their raters' calibration is recomputed too;
    when the creations went first, those raters' calibration is brought up to date by the
    next `refresh_rankings`, as after any deleted creation.
    """
    on_own = Score.objects.filter(creation__owner=user)
    other_raters = set(on_own.values_list("user_id", flat=True))
    if other_raters:
        on_own.delete()
    given = Score.objects.filter(user=user)
    # Only other members' creations: nobody scores their own.
    creation_ids = sorted(set(given.values_list("creation_id", flat=True)))
    # Lock in id order, like every score write, so concurrent scorers wait for the refresh.
    list(Creation.objects.select_for_update().filter(pk__in=creation_ids).order_by("pk"))
    given.delete()
    ScoreReveal.objects.filter(user=user).delete()
    RaterCalibration.objects.filter(user=user).delete()
    other_raters.discard(user.pk)
    _after_scores_changed(user_ids=other_raters, creation_ids=creation_ids)
    if creation_ids:
        listings_changed()


@receiver(member_export, dispatch_uid="scoring.member_export")
def scores_for_export(sender, *, user, **kwargs):
    """The scores the member gave."""
    scores = Score.objects.filter(user=user).select_related("creation").order_by("created_at", "pk")
    rows = [
        {
            "creation_id": score.creation_id,
            "creation_title": score.creation.title,
            "creativity": score.creativity,
            "uniqueness": score.uniqueness,
            "voided": score.voided_at is not None,
            "created_at": score.created_at.isoformat(),
            "updated_at": score.updated_at.isoformat(),
        }
        for score in scores
    ]
    return {"json": {"scores.json": rows}, "files": []}


@receiver(member_restricted, dispatch_uid="scoring.member_restricted")
def scores_follow_restriction(sender, *, user, restricted, **kwargs):
    """A suspended or banned member's scores stop counting; they count again when lifted."""
    rater_scores_set_restricted(user=user, restricted=restricted)
