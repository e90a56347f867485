import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError

from parts.services import ImportCounts, part_categories_import, parts_import

PART_COLUMNS = ("part_num", "name", "part_cat_id")  # part_material is optional
CATEGORY_COLUMNS = ("id", "name")
BATCH_SIZE = 1000
MAX_PROBLEMS_SHOWN = 20


@dataclass
class Problem:
    line: int
    reason: str


@dataclass
class Reader:
    """Streams a Rebrickable CSV download: (line number, row) pairs, or a Problem per bad line."""

    path: str
    required: tuple[str, ...]
    bytes_read: int = 0
    size: int = field(init=False)

    def __post_init__(self):
        try:
            self.size = os.path.getsize(self.path) or 1
        except OSError as error:
            raise CommandError(f"Cannot read {self.path}: {error.strerror}.") from error

    def _lines(self, handle) -> Iterator[str]:
        for raw in handle:
            self.bytes_read += len(raw)
            # Undecodable bytes become surrogates, so the row can be reported by line number.
            yield raw.decode("utf-8-sig", errors="surrogateescape")

    def rows(self) -> Iterator[tuple[int, dict] | Problem]:
        self.bytes_read = 0
        with open(self.path, "rb") as handle:
            reader = csv.reader(self._lines(handle))
            header = next(reader, None)
            if header is None:
                raise CommandError(f"{self.path} is empty.")
            header = [name.strip() for name in header]
            missing = [name for name in self.required if name not in header]
            if missing:
                raise CommandError(
                    f"{self.path} lacks the column(s) {', '.join(missing)}; "
                    f"expected a header with {', '.join(self.required)}."
                )
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    yield Problem(reader.line_num, f"unreadable CSV ({error})")
                    continue
                if not values or all(not value.strip() for value in values):
                    continue  # a blank line
                if any("\udc80" <= char <= "\udcff" for value in values for char in value):
                    yield Problem(reader.line_num, "not valid UTF-8")
                    continue
                if len(values) != len(header):
                    yield Problem(
                        reader.line_num, f"{len(values)} fields where the header has {len(header)}"
                    )
                    continue
                yield reader.line_num, dict(zip(header, values, strict=True))


def part_row(row: dict) -> dict | str:
    """A validated part row, or the reason it is malformed."""
    part_num = row["part_num"].strip()
    name = " ".join(row["name"].split())
    if (
        not part_num
        or len(part_num) > 50
        or any(char.isspace() or char == "/" for char in part_num)
    ):
        return f"bad part number {row['part_num']!r}"
    if not name or len(name) > 250:
        return f"bad name for part {part_num}"
    category = row["part_cat_id"].strip()
    if category and not category.isdigit():
        return f"bad category id {category!r} for part {part_num}"
    material = " ".join(row.get("part_material", "").split())[:50]
    return {
        "part_num": part_num,
        "name": name,
        "category_id": int(category) if category else None,
        "material": material,
    }


class Command(BaseCommand):
    help = (
        "Import the parts catalog from Rebrickable's parts.csv (part_num,name,part_cat_id,"
        "part_material) and optionally part_categories.csv (id,name). Safe to re-run: new parts "
        "are added, renamed ones updated. Malformed rows are reported by line and skipped; "
        "--strict refuses the whole file instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("parts_csv")
        parser.add_argument("--categories", metavar="CATEGORIES_CSV")
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Import nothing if any row is malformed.",
        )

    def handle(self, *args, parts_csv: str, categories: str | None, strict: bool, **options):
        parts = Reader(parts_csv, PART_COLUMNS)
        category_reader = Reader(categories, CATEGORY_COLUMNS) if categories else None
        if strict:
            problems = self.find_problems(parts, category_reader)
            if problems:
                self.report(problems)
                raise CommandError(
                    f"{len(problems)} malformed row(s); nothing imported (--strict)."
                )
        problems: list[Problem] = []
        if category_reader:
            problems += self.import_categories(category_reader)
        totals, part_problems = self.import_parts(parts)
        problems += part_problems
        self.report(problems)
        style = self.style.WARNING if problems else self.style.SUCCESS
        self.stdout.write(
            style(
                f"Parts: {totals.created} added, {totals.updated} updated, "
                f"{totals.unchanged} unchanged, {len(problems)} row(s) skipped."
            )
        )

    # Not named `check`: that is BaseCommand's system-check method, which manage.py calls.
    def find_problems(self, parts: Reader, category_reader: Reader | None) -> list[Problem]:
        problems = []
        if category_reader:
            problems += [
                item for item in self.category_rows(category_reader) if isinstance(item, Problem)
            ]
        seen: dict[str, int] = {}
        for item in self.part_rows(parts, seen):
            if isinstance(item, Problem):
                problems.append(item)
        return problems

    def category_rows(self, reader: Reader):
        seen: dict[int, int] = {}
        for item in reader.rows():
            if isinstance(item, Problem):
                yield item
                continue
            line, row = item
            category_id, name = row["id"].strip(), " ".join(row["name"].split())
            if not category_id.isdigit() or not name or len(name) > 200:
                yield Problem(line, f"bad category {row['id']!r}, {row['name']!r}")
            elif int(category_id) in seen:
                yield Problem(
                    line, f"category {category_id} again (first on line {seen[int(category_id)]})"
                )
            else:
                seen[int(category_id)] = line
                yield int(category_id), name

    def import_categories(self, reader: Reader) -> list[Problem]:
        problems, categories = [], {}
        for item in self.category_rows(reader):
            if isinstance(item, Problem):
                problems.append(item)
            else:
                categories[item[0]] = item[1]
        counts = part_categories_import(categories=categories)
        self.stdout.write(
            f"Categories: {counts.created} added, {counts.updated} renamed, "
            f"{counts.unchanged} unchanged."
        )
        return problems

    def part_rows(self, reader: Reader, seen: dict[str, int]):
        for item in reader.rows():
            if isinstance(item, Problem):
                yield item
                continue
            line, row = item
            part = part_row(row)
            if isinstance(part, str):
                yield Problem(line, part)
            elif part["part_num"] in seen:
                yield Problem(
                    line, f"part {part['part_num']} again (first on line {seen[part['part_num']]})"
                )
            else:
                seen[part["part_num"]] = line
                yield part

    def import_parts(self, reader: Reader) -> tuple[ImportCounts, list[Problem]]:
        totals, problems, batch = ImportCounts(), [], []
        for item in self.part_rows(reader, {}):
            if isinstance(item, Problem):
                problems.append(item)
                continue
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                totals.add(parts_import(rows=batch))
                batch = []
                self.progress(reader, totals)
        if batch:
            totals.add(parts_import(rows=batch))
        self.progress(reader, totals, done=True)
        return totals, problems

    def progress(self, reader: Reader, totals: ImportCounts, done: bool = False) -> None:
        share = 1.0 if done else min(reader.bytes_read / reader.size, 1.0)
        filled = int(share * 30)
        rows = totals.created + totals.updated + totals.unchanged
        self.stdout.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%}  {rows} parts",
            ending="\n" if done else "",
        )
        self.stdout.flush()

    def report(self, problems: list[Problem]) -> None:
        for problem in sorted(problems, key=lambda problem: problem.line)[:MAX_PROBLEMS_SHOWN]:
            self.stderr.write(f"  line {problem.line}: {problem.reason}")
        if len(problems) > MAX_PROBLEMS_SHOWN:
            self.stderr.write(f"  … and {len(problems) - MAX_PROBLEMS_SHOWN} more")
