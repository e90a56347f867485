import datetime
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from creations.models import Creation
from creations.selectors import creation_for_detail
from npu_site.caching import cache_anonymous_page

from .appeals import NotOwnerAppealError, appeal_create
from .forms import AppealForm, ReportForm
from .models import ModerationAction
from .services import OwnCreationReportError, report_check, report_create


@login_required
def report_new(request, pk):
    try:
        creation = creation_for_detail(viewer=request.user, pk=pk)
    except Creation.DoesNotExist as error:
        raise Http404("No such creation.") from error
    try:
        report_check(reporter=request.user, creation=creation)
    except (OwnCreationReportError, ValidationError) as refusal:
        messages.info(request, " ".join(getattr(refusal, "messages", [str(refusal)])))
        return redirect(creation)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report_create(reporter=request.user, creation=creation, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Thank you. A moderator will look at it.")
            return redirect(creation)
    return render(request, "moderation/report_form.html", {"form": form, "creation": creation})


@login_required
@require_POST
def appeal_new(request, pk):
    """The owner appeals a moderator's hide of their creation (the creation page's form)."""
    try:
        creation = creation_for_detail(viewer=request.user, pk=pk)
    except Creation.DoesNotExist as error:
        raise Http404("No such creation.") from error
    if creation.owner_id != request.user.pk:
        raise PermissionDenied(NotOwnerAppealError.message)
    form = AppealForm(request.POST)
    if form.is_valid():
        try:
            appeal_create(owner=request.user, creation=creation, note=form.cleaned_data["note"])
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                form.add_error("note" if field == "note" else None, field_errors)
        else:
            messages.success(request, "Your appeal is sent. A moderator will look at it.")
            return redirect(creation)
    return render(
        request,
        "moderation/appeal_form.html",
        {"form": form, "creation": creation},
        status=400,
    )


# /about/moderation/: what moderators did, month by month -----------------------------------

ABOUT_MONTHS = 12


def _months_back(start: datetime.date, count: int) -> list[datetime.date]:
    """The first days of `count` months ending with `start`'s, newest first."""
    months, year, month = [], start.year, start.month
    for _ in range(count):
        months.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def moderation_monthly_counts(*, months: int = ABOUT_MONTHS) -> dict:
    """How many moderator actions of each kind, and for each reason, in each of the last
    `months` months (this one included): one aggregate query, no names, no targets, no text."""
    today = timezone.localdate()
    month_starts = _months_back(today, months)
    since = timezone.make_aware(datetime.datetime.combine(month_starts[-1], datetime.time.min))
    rows = (
        ModerationAction.objects.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "action", "category")
        .annotate(count=Count("id"))
        .order_by()
    )
    by_action: dict[tuple[datetime.date, str], int] = defaultdict(int)
    by_category: dict[tuple[datetime.date, str], int] = defaultdict(int)
    for row in rows:
        month = row["month"]
        month = (month.date() if isinstance(month, datetime.datetime) else month).replace(day=1)
        by_action[(month, row["action"])] += row["count"]
        by_category[(month, row["category"])] += row["count"]

    def table(counts, choices) -> dict:
        used = [(value, label) for value, label in choices if any(k[1] == value for k in counts)]
        return {
            "columns": [label for _, label in used],
            "rows": [
                {
                    "month": month,
                    "counts": [counts.get((month, value), 0) for value, _ in used],
                    "total": sum(counts.get((month, value), 0) for value, _ in used),
                }
                for month in month_starts
            ],
            "totals": [
                sum(count for (_, value_), count in counts.items() if value_ == value)
                for value, _ in used
            ],
            "total": sum(counts.values()),
        }

    return {
        "by_action": table(by_action, ModerationAction.Action.choices),
        "by_category": table(by_category, ModerationAction.Category.choices),
        "since": month_starts[-1],
    }


@cache_anonymous_page
def about_moderation(request):
    """Monthly counts of moderator actions by action and by reason, for everyone."""
    counts = moderation_monthly_counts()
    tables = [
        {
            "id": "actions",
            "heading": "What moderators did",
            "caption": "Moderator actions per month, by kind",
            "data": counts["by_action"],
        },
        {
            "id": "reasons",
            "heading": "Why",
            "caption": "Moderator actions per month, by reason",
            "data": counts["by_category"],
        },
    ]
    return render(request, "moderation/about.html", {"tables": tables, "since": counts["since"]})
