"""Blind scoring: who sees a creation's score averages (SPEC, "Scores that can be trusted").

Anonymous visitors, the owner and moderators always see them. Any other member sees them once
they have scored the creation or asked to see its scores; until then they see how many scores
it has, not what they say, so the crowd's average cannot anchor their own judgement. Which
creations a member has scored or revealed is scoring's to know: scoring registers a finder
here at start-up (`ScoringConfig.ready`), so the core's serializer and pages ask this module
and never import the feature. With no finder registered there are no scores to hide.
"""

from collections.abc import Callable, Iterable

Finder = Callable[[object, list[int]], set[int]]
_finders: list[Finder] = []


def register_unblinded_finder(finder: Finder) -> Finder:
    """`finder(member, creation_ids)` returns the ids among them whose scores `member` has
    unblinded (scored or revealed), in one query."""
    if finder not in _finders:
        _finders.append(finder)
    return finder


def sees_scores_always(viewer, creation) -> bool:
    return (
        not viewer.is_authenticated
        or getattr(viewer, "is_moderator", False)
        or creation.owner_id == viewer.pk
    )


def scores_visible_ids(viewer, creations: Iterable) -> set[int]:
    """The ids of `creations` whose averages `viewer` may see: one query at most."""
    creations = list(creations)
    visible = {creation.pk for creation in creations if sees_scores_always(viewer, creation)}
    blind = [creation.pk for creation in creations if creation.pk not in visible]
    if blind and not _finders:
        visible.update(blind)
    elif blind:
        for finder in _finders:
            visible.update(finder(viewer, blind))
    return visible


def scores_visible(viewer, creation) -> bool:
    return creation.pk in scores_visible_ids(viewer, [creation])


def mark_scores_visible(viewer, creations: Iterable) -> None:
    """Set `scores_shown` on each of `creations` (one page of cards): whether `viewer` may see
    its rating. One query at most, none for an anonymous visitor. A card whose creation was
    never marked hides its rating (includes/_score_summary.html), so a list rendered without
    this call leaks nothing."""
    creations = list(creations)
    visible = scores_visible_ids(viewer, creations)
    for creation in creations:
        creation.scores_shown = creation.pk in visible
