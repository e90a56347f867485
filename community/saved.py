"""Reads of favourites: a member's saved creations, and which of some creations they saved.

Private: both answer only about the member asking; nobody else's saves are ever read.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from creations.models import Creation

from .models import Favourite


def saved_creations(*, member, with_parts: bool = False) -> QuerySet[Creation]:
    """The creations `member` saved and may still see, newest saved first, ready for cards
    (and, `with_parts`, for the API's serializer: with the parts and the ranking prior).

    It carries its exact `known_count` (npu_site.paginator): the list changes with every save,
    which the listings token that keeps other counts does not follow. Counting reads the
    member's favourites through their index, joined to the creations for visibility.
    """
    creations = (
        Creation.objects.visible_to(member)
        .filter(favourites__user=member)
        .for_cards()
        .order_by("-favourites__created_at", "-favourites__id")
    )
    if with_parts:
        creations = creations.prefetch_related("parts").with_ranking_prior()
    creations.known_count = creations.count()
    return creations


def saved_among(*, member, creation_ids: Iterable[int]) -> set[int]:
    """Which of `creation_ids` `member` saved, in one query."""
    ids = set(creation_ids)
    if not ids or not member.is_authenticated:
        return set()
    return set(
        Favourite.objects.filter(user=member, creation_id__in=ids).values_list(
            "creation_id", flat=True
        )
    )


class SavedLookup:
    """Which creations one viewer saved, for the save buttons of one request: the first button
    looks up every creation on the page at once (`alongside`), the others read the answer."""

    def __init__(self, member):
        self.member = member
        self.checked: set[int] = set()
        self.saved: set[int] = set()

    def know(self, creation_ids: Iterable[int], *, saved: bool) -> None:
        """Record what is already known (e.g. every creation on the saved page is saved)."""
        ids = set(creation_ids)
        self.checked |= ids
        if saved:
            self.saved |= ids
        else:
            self.saved -= ids

    def is_saved(self, creation: Creation, *, alongside: Iterable[int] = ()) -> bool:
        if creation.pk not in self.checked:
            ids = {creation.pk, *alongside} - self.checked
            self.saved |= saved_among(member=self.member, creation_ids=ids)
            self.checked |= ids
        return creation.pk in self.saved


def saved_lookup(request) -> SavedLookup:
    """The request's SavedLookup for its member, made on first use."""
    lookup = getattr(request, "_saved_lookup", None)
    if lookup is None or lookup.member != request.user:
        lookup = SavedLookup(request.user)
        request._saved_lookup = lookup
    return lookup
