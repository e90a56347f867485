"""What scoring adds to pages of other apps: the creation page's score panel, profile numbers."""

from django import template

from ..forms import ScoreForm
from ..selectors import score_histogram, score_of, scores_given

register = template.Library()


@register.inclusion_tag("scoring/_score_panel.html", takes_context=True)
def score_panel(context, creation):
    """The averages and histograms of a creation, and the viewer's own score form."""
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
    return {
        "creation": creation,
        "request": context["request"],
        "histogram": score_histogram(creation=creation) if creation.score_count else None,
        "own_score": own_score,
        "score_form": score_form,
        "is_owner": viewer.is_authenticated and creation.owner_id == viewer.pk,
    }


@register.simple_tag
def scores_given_by(member) -> int:
    """How many published creations `member` has scored, for their profile."""
    return scores_given(member=member)
