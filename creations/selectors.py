"""Reads for creation pages and endpoints, built from CreationQuerySet methods."""

from django.db.models import QuerySet

from .models import Creation


def gallery_creations(*, viewer, owner=None) -> QuerySet[Creation]:
    """Published creations for a gallery, newest first, ready for cards."""
    creations = Creation.objects.published().for_cards()
    if owner is not None:
        creations = creations.filter(owner=owner)
    return creations.order_by("-created_at", "-id")


def creation_for_detail(*, viewer, pk: int) -> Creation:
    """One creation as `viewer` may see it; raises Creation.DoesNotExist otherwise."""
    return Creation.objects.visible_to(viewer).for_cards().get(pk=pk)
