"""Writes to the parts catalog: the batches of `manage.py import_parts`."""

from dataclasses import dataclass

from django.db import transaction

from npu_site.caching import listings_changed

from .models import Part, PartCategory


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
    if new or renamed:
        listings_changed()
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
    if new or changed:
        listings_changed()  # part pages show the names
    counts.created, counts.updated = len(new), len(changed)
    counts.unchanged = len(rows) - len(new) - len(changed)
    return counts
