"""What scoring adds to pages of other apps: the creation page's score panel, profile numbers,
the settings page's score distribution."""

from django import template
from django.utils import timezone

from creations.models import RankingPrior
from creations.ranking import ranking_explanation, trending_now
from creations.visibility import scores_visible, sees_scores_always

from ..forms import ScoreForm
from ..selectors import rater_distribution, score_histogram, score_of, scores_given

register = template.Library()


def _ranking(creation) -> dict:
    """The inputs of the creation's place in each order, and the sentence explaining it."""
    prior = RankingPrior.current()
    now = timezone.now()
    return {
        "prior_mean": prior.mean,
        "prior_weight": prior.weight,
        "recent": trending_now(creation.trending, now=now),
        "explanation": ranking_explanation(
            score_count=creation.score_count,
            rating=creation.rating,
            top=creation.top,
            trending=creation.trending,
            calibrated=creation.calibrated,
            prior_mean=prior.mean,
            prior_weight=prior.weight,
            now=now,
        ),
    }


@register.inclusion_tag("scoring/_score_panel.html", takes_context=True)
def score_panel(context, creation):
    """The averages, histograms and ranking inputs of a creation (or, for a member who has
    neither scored it nor asked to see them, only how many scores it has), and the viewer's
    own score form."""
    viewer = context["request"].user
    own_score = score_of(user=viewer, creation=creation)
    score_form = None
    if creation.can_score(viewer):
        initial = (
            {"creativity": own_score.creativity, "uniqueness": own_score.uniqueness}
            if own_score
            else None
        )
        score_form = ScoreForm(initial=initial)
    # Nothing to hide before the first score; having scored it (a voided score too) unblinds
    # it: both known without asking again.
    visible = (
        not creation.score_count
        or sees_scores_always(viewer, creation)
        or own_score is not None
        or scores_visible(viewer, creation)
    )
    return {
        "creation": creation,
        "request": context["request"],
        "scores_visible": visible,
        "histogram": (
            score_histogram(creation=creation) if visible and creation.score_count else None
        ),
        "ranking": _ranking(creation) if visible else None,
        "own_score": own_score,
        "score_form": score_form,
        "is_owner": viewer.is_authenticated and creation.owner_id == viewer.pk,
    }


@register.simple_tag
def scores_given_by(member) -> int:
    """How many published creations `member` has scored, for their profile."""
    return scores_given(member=member)


def _distribution_sentence(rows: list[dict]) -> str:
    """ "You give 5s 62% of the time; the site's average rater 18%.", for the value where the
    member differs most from the average rater (the highest value on a tie)."""
    compared = [row for row in rows if row["site"] is not None]
    if not compared:
        top = rows[0]
        return f"You give {top['value']}s {top['mine']}% of the time."
    row = max(compared, key=lambda row: (abs(row["mine"] - row["site"]), row["value"]))
    return (
        f"You give {row['value']}s {row['mine']}% of the time; "
        f"the site's average rater {row['site']}%."
    )


@register.inclusion_tag("scoring/_rater_distribution.html")
def rater_distribution_panel(member):
    """How often `member` gives each value beside the site's average rater; nothing before
    their first score."""
    distribution = rater_distribution(member=member)
    if distribution is None:
        return {"distribution": None}
    return {
        "distribution": distribution,
        "sentence": _distribution_sentence(distribution["rows"]),
        "member": member,
    }
