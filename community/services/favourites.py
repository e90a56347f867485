"""Writes to favourites: a member saves a creation, or stops saving it.

Each keeps `Creation.favourite_count` exact in the same transaction (an F() update, only when a
row was really added or removed) and drops the creation's cached page, which shows the count.
What a member saved is private: only the count is public.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from creations.models import Creation
from npu_site.caching import object_changed

from ..models import Favourite


class HiddenCreationError(PermissionDenied):
    """A member can only save a creation they may see."""

    message = "This creation is not available."

    def __init__(self):
        super().__init__(self.message)


def _visible_to(creation: Creation, user) -> bool:
    # Creation.objects.visible_to()'s rule, for an instance already in hand.
    return creation.is_published or creation.can_edit(user)


@transaction.atomic
def favourite_add(*, user, creation: Creation) -> bool:
    """Save `creation` for `user`; returns whether it was new (saving twice saves once)."""
    if not _visible_to(creation, user):
        raise HiddenCreationError
    # get_or_create settles a race on the unique constraint (favourite_once) in a savepoint.
    _, created = Favourite.objects.get_or_create(user=user, creation=creation)
    if created:
        Creation.objects.filter(pk=creation.pk).update(favourite_count=F("favourite_count") + 1)
        object_changed("creation", creation.pk)
    return created


@transaction.atomic
def favourite_remove(*, user, creation: Creation) -> bool:
    """Stop saving `creation`; returns whether it had been saved (removing twice is fine)."""
    deleted, _ = Favourite.objects.filter(user=user, creation=creation).delete()
    if deleted:
        Creation.objects.filter(pk=creation.pk, favourite_count__gt=0).update(
            favourite_count=F("favourite_count") - 1
        )
        object_changed("creation", creation.pk)
    return bool(deleted)
