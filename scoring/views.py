from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from creations.models import Creation
from npu_site.ratelimit import rate_limited

from .forms import ScoreForm
from .services import OwnCreationScoreError, score_upsert, score_withdraw


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
    except OwnCreationScoreError as error:
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
    if score_withdraw(user=request.user, creation=creation):
        messages.success(request, "Your score is withdrawn.")
    else:
        messages.info(request, "You had not scored this creation.")
    return redirect(f"{creation.get_absolute_url()}#score")
