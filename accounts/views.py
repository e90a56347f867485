from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from creations.selectors import gallery_creations

from .models import User


def profile(request, username):
    member = get_object_or_404(User, username=username, is_active=True)
    creations = gallery_creations(viewer=request.user, owner=member)
    page = Paginator(creations, settings.NPU_GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/profile.html", {"member": member, "page": page})
