from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from creations.models import Creation
from creations.selectors import creation_for_detail

from .forms import ReportForm
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
