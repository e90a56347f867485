"""Writes to creations, reports and tags. Pages, the API, the admin and commands call these."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from .caching import listings_changed
from .images import ProcessedImage, image_delete, image_process, image_store
from .models import Creation, ImageHashBand, Part, PartCategory, Report
from .selectors import (
    MAX_PARTS,
    hash_bands,
    part_numbers_parse,
    parts_resolve,
    similar_creations,
)
from .tagging import tag_normalize, tags_parse


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
    if len(parts) > MAX_PARTS:
        raise ValidationError(
            {"parts": [f"At most {MAX_PARTS} parts per creation; you gave {len(parts)}."]}
        )
    return parts


def _index_fingerprint(creation: Creation, fingerprint: int) -> None:
    """Index the saved creation's picture hash by band, and link look-alike creations."""
    ImageHashBand.objects.bulk_create(
        ImageHashBand(creation=creation, position=position, value=value)
        for position, value in hash_bands(fingerprint)
    )
    matches = similar_creations(fingerprint=fingerprint, exclude_pk=creation.pk)
    creation.possible_duplicates.set([match for match, _ in matches])


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
) -> Creation:
    """Validate and store a new creation; on any error nothing is left in storage or the DB.

    Earlier creations whose pictures look alike end up in `creation.possible_duplicates`.
    """
    tag_names = tags_parse(tags)
    featured = parts_for(parts)
    processed = _processed(image)
    creation = Creation(
        owner=owner,
        title=title.strip(),
        description=description.strip(),
        alt_text=alt_text.strip(),
        status=status,
        width=processed.width,
        height=processed.height,
        image_hash=f"{processed.fingerprint:032x}",
    )
    creation.full_clean(exclude=["image", "thumbnail"])
    image_name, thumbnail_name = image_store(processed)
    try:
        with transaction.atomic():
            creation.image.name = image_name
            creation.thumbnail.name = thumbnail_name
            creation.save()
            creation.tags.set(tag_names)
            creation.parts.set(featured)
            _index_fingerprint(creation, processed.fingerprint)
            listings_changed()
    except BaseException:
        # The row never committed, so the files it would have pointed to must go too.
        image_delete(image_name, thumbnail_name)
        raise
    return creation


@transaction.atomic
def creation_update(*, creation: Creation, tags=None, parts=None, **fields) -> Creation:
    """Change a creation's text fields and, when given, its tags and parts."""
    allowed = {"title", "description", "alt_text", "status"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"creation_update() cannot change {', '.join(sorted(unknown))}")
    tag_names = tags_parse(tags) if tags is not None else None
    featured = parts_for(parts) if parts is not None else None
    for name, value in fields.items():
        setattr(creation, name, value.strip() if isinstance(value, str) else value)
    creation.full_clean(exclude=["image", "thumbnail"])
    creation.save()
    if tag_names is not None:
        creation.tags.set(tag_names)
    if featured is not None:
        creation.parts.set(featured)
    listings_changed()
    return creation


def creation_delete(*, creation: Creation) -> None:
    """Delete a creation (its scores and reports go with it) and, once committed, its files."""
    names = (creation.image.name, creation.thumbnail.name)
    with transaction.atomic():
        creation.delete()
        transaction.on_commit(lambda: image_delete(*names))
        listings_changed()


@transaction.atomic
def creation_set_status(*, creations, status: str) -> int:
    """Hide or publish creations in bulk; returns how many changed."""
    if status not in Creation.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    listings_changed()
    return (
        Creation.objects.filter(pk__in=[creation.pk for creation in creations])
        .exclude(status=status)
        .update(status=status, updated_at=timezone.now())
    )


def report_create(*, reporter, creation: Creation, reason: str, note: str = "") -> Report:
    """Flag a creation; a member reports a creation once."""
    report = Report(creation=creation, reporter=reporter, reason=reason, note=note.strip())
    report.full_clean()
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as error:
        # Two requests raced past full_clean(); the constraint has the last word.
        raise ValidationError("You have already reported this creation.") from error
    return report


@transaction.atomic
def report_resolve(*, reports, moderator) -> int:
    """Mark open reports resolved by `moderator`; returns how many changed."""
    return Report.objects.filter(
        pk__in=[report.pk for report in reports], status=Report.Status.OPEN
    ).update(status=Report.Status.RESOLVED, resolved_at=timezone.now(), resolved_by=moderator)


@transaction.atomic
def report_reopen(*, reports) -> int:
    """Put resolved reports back in the moderators' queue; returns how many changed."""
    return Report.objects.filter(
        pk__in=[report.pk for report in reports], status=Report.Status.RESOLVED
    ).update(status=Report.Status.OPEN, resolved_at=None, resolved_by=None)


@transaction.atomic
def tag_merge(*, sources: Iterable[Tag], target_name: str) -> Tag:
    """Move every creation from `sources` onto the tag named `target_name`, then drop sources."""
    name = tag_normalize(target_name)
    target = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
    source_ids = [tag.pk for tag in sources if tag.pk != target.pk]
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
    TaggedItem.objects.filter(pk__in=keep.values()).update(tag=target)
    Tag.objects.filter(pk__in=source_ids).delete()  # cascades to the remaining TaggedItems
    listings_changed()
    return target


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: "ImportCounts") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


@transaction.atomic
def part_categories_import(*, categories: dict[int, str]) -> ImportCounts:
    """Create or rename part categories; one transaction."""
    counts = ImportCounts()
    existing = PartCategory.objects.in_bulk(list(categories))
    new, renamed = [], []
    for category_id, name in categories.items():
        current = existing.get(category_id)
        if current is None:
            new.append(PartCategory(id=category_id, name=name))
        elif current.name != name:
            current.name = name
            renamed.append(current)
    PartCategory.objects.bulk_create(new)
    PartCategory.objects.bulk_update(renamed, ["name"])
    counts.created, counts.updated = len(new), len(renamed)
    counts.unchanged = len(categories) - len(new) - len(renamed)
    return counts


@transaction.atomic
def parts_import(*, rows: list[dict]) -> ImportCounts:
    """Create new parts and update changed ones, in one transaction (one batch of the import).

    Each row has part_num, name, category_id and material, already validated. A category id
    the catalog does not know yet gets a placeholder name until its category is imported.
    """
    counts = ImportCounts()
    category_ids = {row["category_id"] for row in rows if row["category_id"] is not None}
    known = set(PartCategory.objects.filter(pk__in=category_ids).values_list("pk", flat=True))
    PartCategory.objects.bulk_create(
        PartCategory(id=category_id, name=f"Category {category_id}")
        for category_id in sorted(category_ids - known)
    )
    existing = Part.objects.in_bulk([row["part_num"] for row in rows])
    new, changed = [], []
    for row in rows:
        values = {
            "name": row["name"],
            "category_id": row["category_id"],
            "material": row["material"],
        }
        part = existing.get(row["part_num"])
        if part is None:
            new.append(Part(part_num=row["part_num"], **values))
        elif any(getattr(part, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(part, field, value)
            changed.append(part)
    Part.objects.bulk_create(new)
    Part.objects.bulk_update(changed, ["name", "category_id", "material"])
    counts.created, counts.updated = len(new), len(changed)
    counts.unchanged = len(rows) - len(new) - len(changed)
    return counts
