from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from .models import Creation
from .selectors import creation_for_detail, gallery_creations


def gallery(request):
    paginator = Paginator(gallery_creations(viewer=request.user), settings.NPU_GALLERY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "creations/creation_list.html", {"page": page})


def creation_detail(request, pk):
    try:
        creation = creation_for_detail(viewer=request.user, pk=pk)
    except Creation.DoesNotExist as error:
        raise Http404("No such creation.") from error
    return render(
        request,
        "creations/creation_detail.html",
        {"creation": creation, "can_edit": creation.can_edit(request.user)},
    )
