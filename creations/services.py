"""Writes to creations and tags. Pages, the API, the admin and commands call these.

Every write that changes what a listing shows ends in `listings_changed()`, in the service,
so the page cache is dropped whoever made the change: page, API, admin or command.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from accounts.models import Restriction
from npu_site.caching import listings_changed
from npu_site.db import without_statement_timeout
from parts.models import Part
from parts.selectors import part_numbers_parse, parts_resolve

from .images import ProcessedImage, image_delete, image_process, image_store
from .models import SEARCH_CONFIG, Creation, ImageHashBand, validate_upload_key
from .selectors import creation_by_upload_key, hash_bands, similar_creations
from .signals import creation_approved, creation_hidden, moderator_acted
from .tagging import tag_normalize, tags_parse

# The columns creation_lookups_refresh() writes.
LOOKUP_FIELDS = ["tag_ids", "part_nums", "search_document"]


def _processed(image) -> ProcessedImage:
    if isinstance(image, ProcessedImage):
        return image
    try:
        return image_process(image)
    except ValidationError as error:
        raise ValidationError({"image": error.error_list}) from error


def parts_for(value) -> list[Part]:
    """The parts a creation features, from numbers or names; unknown ones are an error."""
    if value and all(isinstance(item, Part) for item in value):
        parts = list(dict.fromkeys(value))
    else:
        try:
            numbers = part_numbers_parse(value)
        except ValidationError as error:
            raise ValidationError({"parts": error.messages}) from error
        parts, unknown = parts_resolve(numbers)
        if unknown:
            raise ValidationError(
                {
                    "parts": [
                        f"Unknown part number{'s' if len(unknown) > 1 else ''}: "
                        f"{', '.join(unknown)}."
                    ]
                }
            )
    limit = settings.NPU_MAX_PARTS
    if len(parts) > limit:
        raise ValidationError(
            {"parts": [f"At most {limit} parts per creation; you gave {len(parts)}."]}
        )
    return parts


def creation_lookups_refresh(*, creation_ids: Iterable[int] | None = None) -> int:
    """Rewrite the stored lookup columns of `creation_ids` (every creation when None) from
    their tags, parts and text: `tag_ids`, `part_nums` and, on PostgreSQL, `search_document`.

    The services that change tags, parts or text call it in their transaction; those columns
    are what the indexes behind tag, part and text filters read (CreationQuerySet). Returns
    how many creations were rewritten.
    """
    creations = Creation.objects.all()
    if creation_ids is not None:
        creation_ids = list(creation_ids)
        if not creation_ids:
            return 0
        creations = creations.filter(pk__in=creation_ids)
    content_type = ContentType.objects.get_for_model(Creation)
    if connections[creations.db].vendor == "postgresql":
        return _lookups_refresh_on_postgresql(content_type.pk, creation_ids)
    # Elsewhere (SQLite) the columns are kept too, though no filter reads them.
    ids = list(creations.values_list("pk", flat=True))
    tag_ids: dict[int, list[int]] = {pk: [] for pk in ids}
    part_nums: dict[int, list[str]] = {pk: [] for pk in ids}
    for object_id, tag_id in (
        TaggedItem.objects.filter(content_type=content_type, object_id__in=ids)
        .order_by("tag_id")
        .values_list("object_id", "tag_id")
    ):
        tag_ids[object_id].append(tag_id)
    for creation_id, part_id in (
        Creation.parts.through.objects.filter(creation_id__in=ids)
        .order_by("part_id")
        .values_list("creation_id", "part_id")
    ):
        part_nums[creation_id].append(part_id)
    Creation.objects.bulk_update(
        [Creation(pk=pk, tag_ids=tag_ids[pk], part_nums=part_nums[pk]) for pk in ids],
        ["tag_ids", "part_nums"],
        batch_size=500,
    )
    return len(ids)


# One statement for one creation or all of them: the tags and parts of the creations concerned
# are grouped once and joined, rather than looked up per row.
_LOOKUPS_SQL = """
    UPDATE {creation} AS c SET
        tag_ids = coalesce(t.ids, '{{}}'),
        part_nums = coalesce(p.nums, '{{}}'),
        search_document = to_tsvector(
            %(config)s::regconfig,
            coalesce(c.title, '') || ' ' || coalesce(c.description, '') || ' '
            || coalesce(t.names, '')
        )
    FROM {creation} AS base
    LEFT JOIN (
        SELECT i.object_id, array_agg(i.tag_id ORDER BY i.tag_id) AS ids,
               string_agg(g.name, ' ' ORDER BY g.name) AS names
        FROM {tagged} AS i JOIN {tag} AS g ON g.id = i.tag_id
        WHERE i.content_type_id = %(content_type)s {only_tagged}
        GROUP BY i.object_id
    ) AS t ON t.object_id = base.id
    LEFT JOIN (
        SELECT f.creation_id, array_agg(f.part_id ORDER BY f.part_id) AS nums
        FROM {featured} AS f {only_featured}
        GROUP BY f.creation_id
    ) AS p ON p.creation_id = base.id
    WHERE c.id = base.id {only_base}
"""


def _lookups_refresh_on_postgresql(content_type_id: int, creation_ids) -> int:
    some = creation_ids is not None
    sql = _LOOKUPS_SQL.format(
        creation=Creation._meta.db_table,
        tagged=TaggedItem._meta.db_table,
        tag=Tag._meta.db_table,
        featured=Creation.parts.through._meta.db_table,
        only_tagged="AND i.object_id = ANY(%(ids)s)" if some else "",
        only_featured="WHERE f.creation_id = ANY(%(ids)s)" if some else "",
        only_base="AND base.id = ANY(%(ids)s)" if some else "",
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if not some:
            without_statement_timeout()  # every row: a command's or a worker's work
        cursor.execute(
            sql,
            {
                "config": SEARCH_CONFIG,
                "content_type": content_type_id,
                "ids": list(creation_ids) if some else None,
            },
        )
        return cursor.rowcount


def _lookups_refreshed(creation: Creation) -> Creation:
    """`creation_lookups_refresh` for one saved creation, with the new values on it too, so
    a later save() of this instance cannot write the old ones back."""
    creation_lookups_refresh(creation_ids=[creation.pk])
    creation.refresh_from_db(fields=LOOKUP_FIELDS)
    return creation


def _index_fingerprint(creation: Creation, fingerprint: int) -> None:
    """Index the saved creation's picture hash by band, and link look-alike creations."""
    ImageHashBand.objects.bulk_create(
        ImageHashBand(creation=creation, position=position, value=value)
        for position, value in hash_bands(fingerprint)
    )
    matches = similar_creations(fingerprint=fingerprint, exclude_pk=creation.pk)
    creation.possible_duplicates.set([match for match, _ in matches])


class EmailNotVerifiedError(PermissionDenied):
    """A member uploads once they have confirmed their e-mail address."""

    message = (
        "Confirm your e-mail address before you upload: open the link we mailed you, or ask "
        "for a new one on your settings page."
    )

    def __init__(self):
        super().__init__(self.message)


def creation_upload_check(*, owner) -> None:
    """Raise unless `owner` may upload: their e-mail address must be verified."""
    if not owner.email_verified:
        raise EmailNotVerifiedError


def uploads_need_review(*, owner) -> bool:
    """Whether `owner`'s next upload waits for a moderator: their first
    NPU_REVIEW_FIRST_UPLOADS uploads do (0 turns review off), unless a moderator trusts them
    or they are a moderator. Every upload they still have counts, waiting or not, except
    those a moderator hid (a rejected upload, or one hidden later): rejecting makes the next
    upload wait again, and so does deleting one."""
    threshold = settings.NPU_REVIEW_FIRST_UPLOADS
    if threshold <= 0 or owner.trusted or owner.is_moderator:
        return False
    kept = Creation.objects.filter(owner=owner).exclude(
        status=Creation.Status.HIDDEN, hidden_by_moderator=True
    )
    return kept.count() < threshold


def creation_create(
    *,
    owner,
    title: str,
    image,
    description: str = "",
    alt_text: str = "",
    tags: str | Iterable[str] | None = None,
    parts=None,
    status: str = Creation.Status.PUBLISHED,
    hidden_reason: str = "",
    upload_key: str = "",
) -> Creation:
    """Validate and store a new creation; on any error nothing is left in storage or the DB.

    Only a member with a verified address uploads (`creation_upload_check`), and a new
    member's upload asked to be published waits for review instead (`uploads_need_review`).
    Earlier creations whose pictures look alike end up in `creation.possible_duplicates`.
    A second creation with the owner's `upload_key` is refused by the database
    (IntegrityError); `creation_create_once` is the service that expects it.
    """
    creation_upload_check(owner=owner)
    _check_status(status)
    if status == Creation.Status.PUBLISHED and uploads_need_review(owner=owner):
        status = Creation.Status.PENDING
    tag_names = tags_parse(tags)
    featured = parts_for(parts)
    processed = _processed(image)
    creation = Creation(
        owner=owner,
        title=title.strip(),
        description=description.strip(),
        alt_text=alt_text.strip(),
        **_status_changes(status=status, actor=owner, reason=hidden_reason),
        width=processed.width,
        height=processed.height,
        image_hash=f"{processed.fingerprint:032x}",
        upload_key=upload_key,
    )
    if upload_key:
        try:
            validate_upload_key(upload_key)
        except ValidationError as error:
            raise ValidationError({"upload_key": error.messages}) from error
    # The key's uniqueness is left to the database: a twin upload committing between a check
    # here and the insert must end in IntegrityError, which creation_create_once expects.
    creation.full_clean(exclude=["image", "thumbnail", "upload_key"])
    image_name, thumbnail_name = image_store(processed)
    try:
        with transaction.atomic():
            creation.image.name = image_name
            creation.thumbnail.name = thumbnail_name
            creation.save()
            creation.tags.set(tag_names)
            creation.parts.set(featured)
            _lookups_refreshed(creation)
            _index_fingerprint(creation, processed.fingerprint)
            listings_changed()
    except BaseException:
        # The row never committed, so the files it would have pointed to must go too.
        image_delete(image_name, thumbnail_name)
        raise
    return creation


def creation_create_once(*, owner, upload_key: str, **fields) -> tuple[Creation, bool]:
    """`creation_create`, at most once per owner and upload key; returns (creation, created).

    The same upload sent twice (a double click, two tabs, a client retrying after a timeout)
    carries the same key, and the second gets the creation the first made. Two copies in
    flight at once both get this far; the database's unique constraint lets one row in, and the
    other's files are removed by `creation_create` as for any failed upload.
    """
    earlier = creation_by_upload_key(owner=owner, upload_key=upload_key)
    if earlier is not None:
        return earlier, False
    try:
        return creation_create(owner=owner, upload_key=upload_key, **fields), True
    except IntegrityError:
        earlier = creation_by_upload_key(owner=owner, upload_key=upload_key)
        if earlier is None:
            raise
        return earlier, False


@transaction.atomic
def creations_hide_with_owner(*, owner, hidden: bool) -> int:
    """Hide every published creation of a suspended or banned member (`hidden=True`), or
    publish again exactly those when it is lifted; returns how many changed. A creation
    hidden for its own sake stays as it is either way."""
    now = timezone.now()
    if hidden:
        changed = Creation.objects.filter(owner=owner, status=Creation.Status.PUBLISHED).update(
            **_hidden_with_owner_changes(owner), updated_at=now
        )
    else:
        changed = Creation.objects.filter(owner=owner, hidden_with_owner=True).update(
            **_status_changes(status=Creation.Status.PUBLISHED, actor=None, reason=""),
            hidden_with_owner=False,
            updated_at=now,
        )
    listings_changed()
    return changed


def _hidden_with_owner_changes(owner) -> dict:
    """The columns of a creation hidden because its owner is suspended or banned."""
    account = "banned" if owner.restriction == Restriction.BANNED else "suspended"
    return {
        "status": Creation.Status.HIDDEN,
        "hidden_with_owner": True,
        "hidden_by": None,
        "hidden_by_moderator": True,
        "hidden_reason": f"The member's account is {account}.",
        "hidden_at": timezone.now(),
    }


class ModeratorHideError(PermissionDenied):
    """A creation a moderator hid is published again by a moderator only."""

    message = "A moderator hid this creation; only a moderator can publish it again."

    def __init__(self):
        super().__init__(self.message)


class ReviewPendingError(ModeratorHideError):
    """An upload waiting for review leaves the queue by a moderator's hand only: its owner
    cannot publish it, nor hide it to publish it later."""

    message = "This upload waits for a moderator's review; only a moderator can change its status."


def _status_changes(*, status: str, actor, reason: str) -> dict:
    """The columns a status change by `actor` writes (who hid it, when and why)."""
    if status == Creation.Status.HIDDEN:
        by_moderator = bool(actor is not None and actor.is_moderator)
        return {
            "status": status,
            "hidden_by": actor,
            "hidden_by_moderator": by_moderator,
            "hidden_reason": reason.strip(),
            "hidden_at": timezone.now(),
        }
    return {
        "status": status,
        "hidden_by": None,
        "hidden_by_moderator": False,
        "hidden_reason": "",
        "hidden_at": None,
    }


def _check_status(status: str) -> None:
    if status not in Creation.Status.values:
        raise ValidationError({"status": ["Unknown status."]})


@transaction.atomic
def creation_update(
    *, creation: Creation, actor=None, tags=None, parts=None, hidden_reason=None, **fields
) -> Creation:
    """Change a creation's text fields and, when given, its tags, parts and status.

    `actor` is who asks (None: the system). Hiding records who hid it, when and why
    (`hidden_reason`); a creation a moderator hid is published again only by a moderator.
    """
    allowed = {"title", "description", "alt_text", "status"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"creation_update() cannot change {', '.join(sorted(unknown))}")
    tag_names = tags_parse(tags) if tags is not None else None
    featured = parts_for(parts) if parts is not None else None
    status = fields.pop("status", creation.status)
    _check_status(status)
    for name, value in fields.items():
        setattr(creation, name, value.strip() if isinstance(value, str) else value)
    hidden_now = status != creation.status and status == Creation.Status.HIDDEN
    status_before = creation.status
    if status != creation.status:
        if creation.status == Creation.Status.PENDING and not (actor is None or actor.is_moderator):
            raise ReviewPendingError
        if status == Creation.Status.PUBLISHED and actor is not None:
            if not creation.can_publish(actor):
                raise ModeratorHideError
        if status == Creation.Status.PENDING and not (actor is None or actor.is_moderator):
            raise ValidationError({"status": ["Only a review puts a creation in the queue."]})
        changes = _status_changes(status=status, actor=actor, reason=hidden_reason or "")
        if status == Creation.Status.PUBLISHED and creation.owner.restriction:
            # Approved or published while its owner is suspended or banned: it stays hidden
            # with them, and comes back when that is lifted.
            changes = _hidden_with_owner_changes(creation.owner)
        for name, value in changes.items():
            setattr(creation, name, value)
    elif hidden_reason is not None and creation.status == Creation.Status.HIDDEN:
        creation.hidden_reason = hidden_reason.strip()
    creation.full_clean(exclude=["image", "thumbnail"])
    creation.save()
    if hidden_now:
        _hidden_by_moderator([creation], actor=actor, reason=creation.hidden_reason)
    if status != status_before:
        _moderator_changed_status(
            [(creation, status_before)], actor=actor, status=status, reason=creation.hidden_reason
        )
    if tag_names is not None:
        creation.tags.set(tag_names)
        # A list from for_cards()'s prefetch would still show the old tags.
        creation.__dict__.pop("prefetched_tags", None)
    if featured is not None:
        creation.parts.set(featured)
    _lookups_refreshed(creation)
    listings_changed()
    return creation


def creation_delete(*, creation: Creation, actor=None) -> None:
    """Delete a creation (its scores and reports go with it) and, once committed, its files.
    A moderator deleting someone else's creation is logged (`actor`: who asks)."""
    names = (creation.image.name, creation.thumbnail.name)
    with transaction.atomic():
        if actor is not None and actor.is_moderator and creation.owner_id != actor.pk:
            _moderator_acted(actor, "delete_creation", [creation])  # logged while it exists
        creation.delete()
        transaction.on_commit(lambda: image_delete(*names))
        listings_changed()


@transaction.atomic
def creation_set_status(
    *, creations, status: str, actor=None, reason: str = "", category: str = ""
) -> int:
    """Hide or publish creations in bulk (moderators, in the admin); returns how many changed.

    The same rule as `creation_update`: publishing skips nothing for a moderator, but a member
    cannot publish what a moderator hid. `category` is what moderation's log counts a hide
    under (empty: the log works it out from the creations' reports).
    """
    _check_status(status)
    changing = Creation.objects.filter(pk__in=[creation.pk for creation in creations]).exclude(
        status=status
    )
    if actor is not None and not actor.is_moderator:
        if changing.filter(status=Creation.Status.PENDING).exists():
            raise ReviewPendingError
    if status == Creation.Status.PUBLISHED and actor is not None and not actor.is_moderator:
        if changing.filter(
            Q(hidden_by_moderator=True) | Q(status=Creation.Status.PENDING)
        ).exists():
            raise ModeratorHideError
    listings_changed()
    changed = list(changing.select_related("owner"))
    count = changing.update(
        **_status_changes(status=status, actor=actor, reason=reason), updated_at=timezone.now()
    )
    if status == Creation.Status.PUBLISHED:
        # Those whose owner is suspended or banned stay hidden with them until it is lifted.
        for creation in changed:
            if creation.owner.restriction:
                Creation.objects.filter(pk=creation.pk).update(
                    **_hidden_with_owner_changes(creation.owner)
                )
    if status == Creation.Status.HIDDEN:
        _hidden_by_moderator(changed, actor=actor, reason=reason.strip())
    _moderator_changed_status(
        [(creation, creation.status) for creation in changed],
        actor=actor,
        status=status,
        reason=reason.strip() if status == Creation.Status.HIDDEN else "",
        category=category,
    )
    return count


def _hidden_by_moderator(creations, *, actor, reason: str) -> None:
    """Tell the features (community's notifications) that a moderator hid someone's creation."""
    if actor is None or not actor.is_moderator:
        return
    for creation in creations:
        if creation.owner_id != actor.pk:
            creation_hidden.send(Creation, creation=creation, actor=actor, reason=reason)


def _moderator_changed_status(changes, *, actor, status: str, reason: str, category="") -> None:
    """Log a moderator's hide or publish of creations that are not theirs (moderation's log,
    through `moderator_acted`). Publishing one that waited for review is an approval, which
    its owner hears of (`creation_approved`). `changes` pairs each changed creation with its
    status before the change."""
    if actor is None or not actor.is_moderator:
        return
    others = [(creation, before) for creation, before in changes if creation.owner_id != actor.pk]
    if status == Creation.Status.HIDDEN:
        hidden = [creation for creation, _ in others]
        _moderator_acted(actor, "hide", hidden, reason=reason, category=category)
    elif status == Creation.Status.PUBLISHED:
        waited = [creation for creation, before in others if before == Creation.Status.PENDING]
        published = [creation for creation, before in others if before != Creation.Status.PENDING]
        _moderator_acted(actor, "publish", published)
        _moderator_acted(actor, "approve", waited, category="review")
        for creation in waited:
            creation_approved.send(Creation, creation=creation, actor=actor)


def _moderator_acted(actor, action: str, targets, *, reason: str = "", category: str = "") -> None:
    """Tell moderation's log of a moderator action (the core never imports moderation: the
    action and category are its `ModerationAction` values, by name)."""
    if targets:
        moderator_acted.send(
            Creation,
            actor=actor,
            action=action,
            targets=list(targets),
            reason=reason,
            category=category,
        )


@transaction.atomic
def tag_merge(*, sources: Iterable[Tag], target_name: str, actor=None) -> Tag:
    """Move every creation from `sources` onto the tag named `target_name`, then drop sources.
    A moderator's merge (`actor`) is logged with the sources' names."""
    name = tag_normalize(target_name)
    target = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
    sources = list(sources)
    source_ids = [tag.pk for tag in sources if tag.pk != target.pk]
    source_names = [tag.name for tag in sources if tag.pk != target.pk]
    content_type = ContentType.objects.get_for_model(Creation)
    already_tagged = TaggedItem.objects.filter(tag=target, content_type=content_type).values(
        "object_id"
    )
    moving = TaggedItem.objects.filter(tag_id__in=source_ids, content_type=content_type).exclude(
        object_id__in=already_tagged
    )
    # A creation may carry several of the sources: keep one row per creation, drop the rest.
    keep: dict[int, int] = {}
    for item_id, object_id in moving.values_list("pk", "object_id").order_by("pk"):
        keep.setdefault(object_id, item_id)
    affected = list(
        TaggedItem.objects.filter(tag_id__in=source_ids, content_type=content_type)
        .values_list("object_id", flat=True)
        .distinct()
    )
    TaggedItem.objects.filter(pk__in=keep.values()).update(tag=target)
    Tag.objects.filter(pk__in=source_ids).delete()  # cascades to the remaining TaggedItems
    creation_lookups_refresh(creation_ids=affected)
    listings_changed()
    if actor is not None and actor.is_moderator and source_names:
        _moderator_acted(
            actor, "tag_merge", [target], reason=f"Merged into it: {', '.join(source_names)}."
        )
    return target


@transaction.atomic
def tag_update(*, tag: Tag, name: str, slug: str) -> Tag:
    """Rename a tag (moderators, in the admin); the name is normalised like every tag."""
    tag.name = tag_normalize(name)
    tag.slug = slug
    tag.full_clean()
    tag.save()
    content_type = ContentType.objects.get_for_model(Creation)
    creation_lookups_refresh(
        creation_ids=TaggedItem.objects.filter(tag=tag, content_type=content_type).values_list(
            "object_id", flat=True
        )
    )
    listings_changed()
    return tag


@transaction.atomic
@transaction.atomic
def tags_delete(*, tags: Iterable[Tag], actor=None) -> int:
    """Delete tags, taking them off every creation; returns how many. A moderator's deletion
    is logged, one row per tag (`actor`: who asks)."""
    tags = list(tags)
    tag_ids = [tag.pk for tag in tags]
    if actor is not None and actor.is_moderator:
        _moderator_acted(actor, "delete_tag", tags)
    content_type = ContentType.objects.get_for_model(Creation)
    affected = list(
        TaggedItem.objects.filter(tag_id__in=tag_ids, content_type=content_type)
        .values_list("object_id", flat=True)
        .distinct()
    )
    deleted, _ = Tag.objects.filter(pk__in=tag_ids).delete()
    creation_lookups_refresh(creation_ids=affected)
    listings_changed()
    return deleted
