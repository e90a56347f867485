"""Writes to creations, reports and tags. Pages, the API, the admin and commands call these."""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from .caching import listings_changed
from .images import ProcessedImage, image_delete, image_process, image_store
from .models import Creation, Report
from .tagging import tag_normalize, tags_parse


def _processed(image) -> ProcessedImage:
    if isinstance(image, ProcessedImage):
        return image
    try:
        return image_process(image)
    except ValidationError as error:
        raise ValidationError({"image": error.error_list}) from error


def creation_create(
    *,
    owner,
    title: str,
    image,
    description: str = "",
    alt_text: str = "",
    tags: str | Iterable[str] | None = None,
    status: str = Creation.Status.PUBLISHED,
) -> Creation:
    """Validate and store a new creation; on any error nothing is left in storage or the DB."""
    tag_names = tags_parse(tags)
    processed = _processed(image)
    creation = Creation(
        owner=owner,
        title=title.strip(),
        description=description.strip(),
        alt_text=alt_text.strip(),
        status=status,
        width=processed.width,
        height=processed.height,
    )
    creation.full_clean(exclude=["image", "thumbnail"])
    image_name, thumbnail_name = image_store(processed)
    try:
        with transaction.atomic():
            creation.image.name = image_name
            creation.thumbnail.name = thumbnail_name
            creation.save()
            creation.tags.set(tag_names)
            listings_changed()
    except BaseException:
        # The row never committed, so the files it would have pointed to must go too.
        image_delete(image_name, thumbnail_name)
        raise
    return creation


@transaction.atomic
def creation_update(*, creation: Creation, tags=None, **fields) -> Creation:
    """Change a creation's text fields and, when given, its tags."""
    allowed = {"title", "description", "alt_text", "status"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"creation_update() cannot change {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(creation, name, value.strip() if isinstance(value, str) else value)
    creation.full_clean(exclude=["image", "thumbnail"])
    creation.save()
    if tags is not None:
        creation.tags.set(tags_parse(tags))
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
