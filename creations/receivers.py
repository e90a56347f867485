"""What the core does when something happens to a member's account (accounts.signals):
their creations go with a deleted account, are hidden while they are suspended or banned,
and are part of their data export. Connected by `CreationsConfig.ready()`."""

import posixpath

from django.db import transaction
from django.dispatch import receiver

from accounts.signals import member_deleting, member_export, member_restricted
from npu_site.caching import listings_changed

from .images import image_delete
from .models import Creation
from .services import creations_hide_with_owner


@receiver(member_deleting, dispatch_uid="creations.member_deleting")
def creations_of_deleted_member(sender, *, user, **kwargs):
    """Delete every creation of a member whose account goes (their tags, parts, scores,
    comments and favourites with them) in one bulk delete, and their stored pictures and
    thumbnails once the deletion commits."""
    creations = Creation.objects.filter(owner=user)
    names = [name for pair in creations.values_list("image", "thumbnail") for name in pair if name]
    creations.delete()
    transaction.on_commit(lambda: image_delete(*names))
    listings_changed()


@receiver(member_export, dispatch_uid="creations.member_export")
def creations_for_export(sender, *, user, **kwargs):
    """The member's creations (whatever their status) and their original stored pictures."""
    rows, files = [], []
    creations = Creation.objects.filter(owner=user).prefetch_related("tags", "parts").order_by("pk")
    for creation in creations:
        picture = ""
        if creation.image.name:
            picture = f"creations/{creation.pk}-{posixpath.basename(creation.image.name)}"
            files.append((picture, creation.image.name))
        rows.append(
            {
                "id": creation.pk,
                "title": creation.title,
                "description": creation.description,
                "alt_text": creation.alt_text,
                "status": creation.status,
                "tags": sorted(tag.name for tag in creation.tags.all()),
                "parts": sorted(part.part_num for part in creation.parts.all()),
                "width": creation.width,
                "height": creation.height,
                "picture": picture,
                "score_count": creation.score_count,
                "rating": creation.rating,
                "comment_count": creation.comment_count,
                "favourite_count": creation.favourite_count,
                "created_at": creation.created_at.isoformat(),
                "updated_at": creation.updated_at.isoformat(),
            }
        )
    return {"json": {"creations.json": rows}, "files": files}


@receiver(member_restricted, dispatch_uid="creations.member_restricted")
def creations_follow_restriction(sender, *, user, restricted, **kwargs):
    """Hide a suspended or banned member's published creations; bring back those when lifted."""
    creations_hide_with_owner(owner=user, hidden=restricted)
