"""Writes to accounts."""

from django.contrib.auth.models import Group
from django.db import transaction

from .models import MODERATORS_GROUP, User


@transaction.atomic
def user_set_moderator(*, user: User, is_moderator: bool) -> User:
    """Add a member to the moderators group (with admin access) or take them out of it."""
    group = Group.objects.get(name=MODERATORS_GROUP)
    if is_moderator:
        user.groups.add(group)
        user.is_staff = True
    else:
        user.groups.remove(group)
        user.is_staff = user.is_superuser
    user.save(update_fields=["is_staff"])
    user.__dict__.pop("is_moderator", None)  # drop the cached answer
    return user
