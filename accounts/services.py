"""Writes to accounts."""

from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from npu_site.caching import listings_changed

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


@transaction.atomic
def user_create(*, username: str, email: str, password: str) -> User:
    """Register a member; the caller has validated the password against Django's validators."""
    user = User(username=username, email=User.objects.normalize_email(email))
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_update_profile(*, user: User, display_name: str, bio: str, email: str) -> User:
    """Change what a member may edit about themselves."""
    user.display_name = display_name.strip()
    user.bio = bio.strip()
    user.email = User.objects.normalize_email(email.strip())
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "bio", "email"])
    listings_changed()  # cards show the display name
    return user


@transaction.atomic
def api_token_regenerate(*, user: User) -> Token:
    """Replace the member's API token; the old one stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def api_token_get_or_create(*, user: User) -> Token:
    """The member's API token, made on first use."""
    token, _ = Token.objects.get_or_create(user=user)
    return token
