from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import User
from creations.models import Creation, RankingPrior
from creations.ranking import (
    CALIBRATED_PRIOR_WEIGHT,
    RATER_PRIOR_WEIGHT,
    TRENDING_HALF_LIFE,
    calibrated_scale,
    top_value,
)
from npu_site.caching import cache_anonymous_page
from npu_site.paginator import CountingPaginator
from npu_site.ratelimit import rate_limited

from .forms import ScoreForm
from .selectors import member_scores
from .services import (
    OwnCreationScoreError,
    VoidedScoreError,
    score_upsert,
    score_withdraw,
    scores_reveal,
)

MEMBER_SCORES_PAGE_SIZE = 24


@login_required
@require_POST
@rate_limited(("score", "user"))
def score_submit(request, pk):
    creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
    form = ScoreForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a value from 1 to 5 for both creativity and uniqueness.")
        return redirect(f"{creation.get_absolute_url()}#score")
    try:
        _, created = score_upsert(user=request.user, creation=creation, **form.cleaned_data)
    except (OwnCreationScoreError, VoidedScoreError) as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Your score is saved." if created else "Your score is updated.")
    return redirect(f"{creation.get_absolute_url()}#score")


@login_required
@require_POST
@rate_limited(("score", "user"))
def score_remove(request, pk):
    creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
    try:
        withdrawn = score_withdraw(user=request.user, creation=creation)
    except VoidedScoreError as error:
        messages.error(request, str(error))
    else:
        if withdrawn:
            messages.success(request, "Your score is withdrawn.")
        else:
            messages.info(request, "You had not scored this creation.")
    return redirect(f"{creation.get_absolute_url()}#score")


@require_POST
def score_reveal(request, pk):
    """ "Show me the scores": the member sees this creation's averages before scoring it."""
    if not request.user.is_authenticated:
        # Back to the creation once logged in: this address only answers POSTs.
        return redirect_to_login(reverse("creations:detail", kwargs={"pk": pk}))
    creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
    scores_reveal(user=request.user, creation=creation)
    messages.success(request, "Here are the scores. You can still score it yourself.")
    return redirect(f"{creation.get_absolute_url()}#scores")


@cache_anonymous_page
def about_ranking(request):
    """How Top rated, Trending and Calibrated order creations, with the current prior."""
    prior = RankingPrior.current()
    # Two creations under the current prior: one 5/5 against many 4.5s.
    examples = [
        {
            "score_count": count,
            "rating": rating,
            "top": top_value(score_count=count, rating=rating, prior_mean=prior.mean),
        }
        for count, rating in ((1, 5.0), (40, 4.5))
    ]
    half_life_days = TRENDING_HALF_LIFE.days
    return render(
        request,
        "scoring/about_ranking.html",
        {
            "prior": prior,
            "examples": examples,
            "half_life_days": half_life_days,
            "decay": [
                {"days": days, "worth": 0.5 ** (days / half_life_days)}
                for days in (0, half_life_days, 2 * half_life_days, 4 * half_life_days)
            ],
            "rater_prior_weight": RATER_PRIOR_WEIGHT,
            "calibrated_prior_weight": CALIBRATED_PRIOR_WEIGHT,
            "calibrated_scale": calibrated_scale(prior.rater_variance),
        },
    )


def member_scores_list(request, username):
    """What a member scored, newest first: for the member themself and moderators only."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    member = get_object_or_404(User, username=username, is_active=True)
    if member.pk != request.user.pk and not request.user.is_moderator:
        # Whom a member scored is theirs to know: to anyone else the page does not exist.
        raise Http404("No such page.")
    page = CountingPaginator(
        member_scores(member=member, viewer=request.user), MEMBER_SCORES_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "scoring/member_scores.html",
        {"member": member, "page": page, "is_own": member.pk == request.user.pk},
    )
