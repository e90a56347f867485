"""`manage.py generate_bench_data`: a benchmark-sized site in minutes.

The rows come from demo.bench_data and go into PostgreSQL with COPY, in one transaction; the
aggregates, ranking values and lookup columns are then computed by the same services the site
uses, so a benchmark measures the data the site itself would have written.
"""

import hashlib
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import StringIO
from itertools import islice
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from rest_framework.authtoken.models import Token
from taggit.models import Tag, TaggedItem

from accounts.models import User
from community.models import Comment, Favourite, Follow, Notification, PendingEvent
from creations.images import image_delete, image_process, image_store
from creations.models import Creation
from creations.services import creation_lookups_refresh
from creations.tagging import tag_normalize
from demo.bench_data import (
    BENCH_CATEGORY_ID,
    BENCH_CATEGORY_NAME,
    BENCH_PASSWORD,
    BENCH_USERNAME_PATTERN,
    PART_SHAPES,
    BenchData,
    BenchSize,
    Picture,
    UnknownColumnError,
    bench_part_number,
    column_defaults,
)
from demo.pictures import draw_creation
from parts.models import Part, PartCategory
from scoring.models import Score
from scoring.services import creation_refresh_all_aggregates

# The tables a run writes, in the order it writes them.
LOADED_MODELS = (
    User,
    Tag,
    Creation,
    TaggedItem,
    Creation.parts.through,
    Score,
    Token,
    Follow,
    Favourite,
    Comment,
    Notification,
)
PARTS_FIXTURES = Path(__file__).resolve().parents[3] / "parts" / "fixtures"
PICTURE_SIZE = (640, 480)
# One COPY statement per this many rows. Where foreign keys are checked row by row, they are
# checked at the end of each (SET CONSTRAINTS ALL IMMEDIATE): PostgreSQL never queues ten
# million pending checks.
COPY_BATCH_ROWS = 1_000_000
# Rows joined into one write to the COPY stream.
CHUNK_ROWS = 5_000
# Removing the members of an earlier run goes through the ORM, which knows every table that
# refers to a member; in slices, so memory stays small.
DELETE_BATCH = 10_000


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def moment(text: str) -> datetime:
    """An ISO date or date and time; UTC unless it names another zone."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Progress:
    """A progress line on stderr: `scores  4,200,000/10,000,000  42%  35 s`.

    Redrawn in place at most four times a second on a terminal; into a log (not a terminal) a
    new line every five seconds, so the log stays short. Silent when `enabled` is false.
    """

    def __init__(self, stream, label: str, total: int, *, enabled: bool):
        self.stream, self.label, self.total, self.enabled = stream, label, total, enabled
        self.is_terminal = enabled and stream.isatty()
        self.interval = 0.25 if self.is_terminal else 5.0
        self.done = 0
        self.started = self.shown = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += count
        if self.enabled:
            now = time.monotonic()
            if now - self.shown >= self.interval:
                self.shown = now
                self.show(now)

    def show(self, now: float) -> None:
        if self.total:
            percent = 100 * self.done // self.total
            count = f"{self.done:>12,}/{self.total:,}  {percent:3d}%"
        else:  # rows whose number is only known at the end
            count = f"{self.done:>12,}"
        line = f"{self.label:<10}{count}  {now - self.started:4.0f} s"
        # style_func=str: plain text, not the error colour Django gives stderr on a terminal.
        if self.is_terminal:
            self.stream.write("\r" + line, style_func=str, ending="")
        else:
            self.stream.write(line, style_func=str)
        self.stream.flush()

    def finish(self) -> None:
        """Clear the line on a terminal: the phase's summary line replaces it."""
        if self.is_terminal:
            self.stream.write("\r\x1b[K", style_func=str, ending="")
            self.stream.flush()


@dataclass
class Phase:
    name: str
    rows: int = 0
    seconds: float = 0.0
    note: str = ""


@dataclass
class Report:
    phases: list[Phase] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    first_username: str = ""


class Command(BaseCommand):
    help = (
        "Fill an empty, migrated PostgreSQL database with generated benchmark data, fast "
        "(COPY): members, tags, parts, creations sharing a small pool of stored pictures, "
        "scores, API tokens, and the community's follows, saves, comments and notifications; "
        "then compute the aggregates with the scoring and creations "
        "services. The same arguments and --seed give the same rows (stored picture names "
        "aside). Every generated member (bench00001, bench00002, ...) logs in with the "
        f'password "{BENCH_PASSWORD}", so use it for benchmark databases only. '
        "Look-alike detection data (picture hash bands) is not generated."
    )

    def add_arguments(self, parser):
        parser.add_argument("--creations", type=positive, default=1_000, help="default 1,000")
        parser.add_argument(
            "--scores",
            type=not_negative,
            default=10_000,
            help="scores in all, each by a different member per creation; default 10,000",
        )
        parser.add_argument("--tags", type=positive, default=200, help="default 200")
        parser.add_argument(
            "--users",
            type=positive,
            default=500,
            help="members, named bench00001...; default 500",
        )
        parser.add_argument("--seed", type=int, default=1, help="default 1")
        parser.add_argument(
            "--parts",
            type=not_negative,
            default=500,
            help=(
                "catalog parts creations feature; an empty catalog gets the sample catalog, "
                "and generated parts bench-1, bench-2, ... make up the rest; default 500"
            ),
        )
        parser.add_argument(
            "--pictures",
            type=positive,
            default=12,
            help="pictures drawn and stored once, shared by all creations; default 12",
        )
        parser.add_argument(
            "--tokens",
            type=not_negative,
            default=50,
            help="API tokens for the first members (never printed); default 50",
        )
        parser.add_argument(
            "--now",
            type=moment,
            default=None,
            help=(
                "the moment the data ends at (ISO date or date and time, UTC unless a zone is "
                "given); default: today 00:00 UTC. Every time is an offset back from it, so "
                "runs on the same day, or with the same --now, give the same rows, and the "
                "newest scores fall in the days just before it, which trending needs."
            ),
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help=(
                "empty a database that holds data first: TRUNCATE every creation, score, tag "
                "and what refers to them, and delete the members of an earlier run (and their "
                "stored pictures); other members and the parts catalog stay"
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the database and say what would be removed and loaded; write nothing",
        )

    def handle(self, *args, replace: bool, dry_run: bool, verbosity: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "generate_bench_data loads with PostgreSQL's COPY; set DATABASE_URL to a "
                f"PostgreSQL database (this one is {connection.vendor})."
            )
        size = self.size_from(options)
        self.verbosity = verbosity
        self.check_migrated()
        found = self.existing_data()
        if found and not replace:
            raise CommandError(
                f"The database already holds {found}. generate_bench_data fills an empty "
                "database; --replace removes that first."
            )
        if dry_run:
            removed = f"Would remove {found}, then load" if found else "Would load"
            self.stdout.write(
                f"{removed} {size.users:,} members, {size.tags:,} tags, up to {size.parts:,} "
                f"parts, {size.creations:,} creations, {size.scores:,} scores, "
                f"{size.tokens:,} tokens and {size.pictures} pictures (seed {size.seed}, data "
                f"ending at {size.now:%Y-%m-%d %H:%M} UTC). Nothing written (--dry-run)."
            )
            return
        started = time.monotonic()
        report = Report()
        with connection.cursor() as cursor:
            # The site's statement timeout guards web requests; a load runs for minutes.
            cursor.execute("SET statement_timeout = 0")
        try:
            self.generate(size, replace=replace, report=report)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
        self.summarise(report, time.monotonic() - started)

    def size_from(self, options) -> BenchSize:
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        now = options["now"] or midnight
        size = BenchSize(
            creations=options["creations"],
            scores=options["scores"],
            tags=options["tags"],
            users=options["users"],
            parts=options["parts"],
            pictures=options["pictures"],
            tokens=options["tokens"],
            seed=options["seed"],
            now=now,
        )
        if size.scores > size.creations * (size.users - 1):
            raise CommandError(
                f"{size.scores:,} scores do not fit: each creation can be scored once by each "
                f"member but its owner, {size.creations * (size.users - 1):,} scores at most."
            )
        if size.tokens > size.users:
            raise CommandError(f"--tokens ({size.tokens}) cannot exceed --users ({size.users}).")
        return size

    def check_migrated(self) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "The database has unapplied migrations; run `manage.py migrate` first."
            )

    def existing_data(self) -> str:
        """What would stand in the way of the load, in words; empty if nothing."""
        counts = [
            (Creation.objects.count(), "creation"),
            (Tag.objects.count(), "tag"),
            (User.objects.filter(username__regex=BENCH_USERNAME_PATTERN).count(), "bench member"),
        ]
        return ", ".join(
            f"{count:,} {noun}{'' if count == 1 else 's'}" for count, noun in counts if count
        )

    @contextmanager
    def phase(self, report: Report, name: str):
        current = Phase(name)
        started = time.monotonic()
        yield current
        current.seconds = time.monotonic() - started
        report.phases.append(current)
        if self.verbosity:
            rows = f"{current.rows:>13,} rows" if current.rows else " " * 18
            note = f"  {current.note}" if current.note else ""
            self.stdout.write(f"  {name:<11}{rows}  {current.seconds:7.1f} s{note}")
            self.stdout.flush()

    def generate(self, size: BenchSize, *, replace: bool, report: Report) -> None:
        earlier_pictures = self.bench_picture_names() if replace else []
        with self.phase(report, "pictures") as phase:
            report.pictures = self.store_pictures(size)
            phase.rows = len(report.pictures)
        try:
            with transaction.atomic():
                self.load(size, replace=replace, report=report)
        except BaseException:
            image_delete(*[n for p in report.pictures for n in (p.image, p.thumbnail)])
            raise
        # Only now, with the rows that named them gone for good.
        image_delete(*earlier_pictures)
        tables = [model._meta.db_table for model in LOADED_MODELS]
        with self.phase(report, "vacuum"), connection.cursor() as cursor:
            # The aggregates rewrote every creation row; vacuum now rather than let autovacuum
            # do it in the middle of a benchmark, and leave fresh statistics behind.
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")

    def bench_picture_names(self) -> list[str]:
        rows = (
            Creation.objects.filter(owner__username__regex=BENCH_USERNAME_PATTERN)
            .order_by()
            .values_list("image", "thumbnail")
            .distinct()
        )
        return [name for pair in rows for name in pair]

    def store_pictures(self, size: BenchSize) -> list[Picture]:
        """Draw, process and store the shared pictures, through the site's image pipeline."""
        first = random.Random(f"npu-bench:{size.seed}:pictures").randrange(1_000_000)
        progress = self.progress("pictures", size.pictures)
        pictures = []
        try:
            for index in range(size.pictures):
                content = draw_creation(
                    first + index, width=PICTURE_SIZE[0], height=PICTURE_SIZE[1]
                )
                processed = image_process(
                    SimpleUploadedFile(f"bench-{index}.jpg", content, content_type="image/jpeg")
                )
                image, thumbnail = image_store(processed)
                pictures.append(Picture(image, thumbnail, processed.width, processed.height))
                progress.advance(1)
        except BaseException:
            image_delete(*[n for p in pictures for n in (p.image, p.thumbnail)])
            raise
        progress.finish()
        return pictures

    def load(self, size: BenchSize, *, replace: bool, report: Report) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            # Check foreign keys statement by statement (each COPY batch), not all at commit:
            # the same work, without a queue of ten million pending checks.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if replace:
            with self.phase(report, "remove") as phase:
                phase.rows = self.remove_existing()
        checks_deferred = self.defer_reference_checks()
        salt = hashlib.sha256(f"npu-bench:{size.seed}:password".encode()).hexdigest()[:22]
        first_user_id = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        data = BenchData(
            size, first_user_id=first_user_id, password_hash=make_password(BENCH_PASSWORD, salt)
        )
        report.first_username = data.username(0)
        copy = self.copier(report)
        copy("users", User, data.USER_COLUMNS, data.users, size.users)
        copy(
            "tags",
            Tag,
            data.TAG_COLUMNS,
            lambda suffix: data.tags(tag_normalize, suffix),
            size.tags,
        )
        with self.phase(report, "parts") as phase:
            part_numbers, phase.rows = self.prepare_parts(size)
            phase.note = f"{len(part_numbers):,} featured"
        pictures = report.pictures
        copy(
            "creations",
            Creation,
            data.CREATION_COLUMNS,
            lambda suffix: data.creations(pictures, suffix),
            size.creations,
        )
        content_type_id = ContentType.objects.get_for_model(Creation).pk
        copy(
            "taggings",
            TaggedItem,
            data.TAGGED_ITEM_COLUMNS,
            lambda suffix: data.taggings(content_type_id, suffix),
            None,
        )
        copy(
            "parts used",
            Creation.parts.through,
            data.CREATION_PART_COLUMNS,
            lambda suffix: data.creation_parts(part_numbers, suffix),
            None,
        )
        copy("scores", Score, data.SCORE_COLUMNS, data.scores, size.scores)
        copy("tokens", Token, data.TOKEN_COLUMNS, data.tokens, size.tokens)
        copy("follows", Follow, data.FOLLOW_COLUMNS, data.follows, None)
        copy("favourites", Favourite, data.FAVOURITE_COLUMNS, data.favourites, None)
        copy("comments", Comment, data.COMMENT_COLUMNS, data.comments, None)
        copy("notifications", Notification, data.NOTIFICATION_COLUMNS, data.notifications, None)
        with self.phase(report, "analyze"), connection.cursor() as cursor:
            models = [model for model in LOADED_MODELS if model is not Token]
            for model in models:
                # Ids were written explicitly; later inserts through the ORM go on from there.
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
                )
            # Statistics before the aggregates: planned on the empty tables' estimates, the
            # refresh would scan the scores once per creation.
            tables = ", ".join(model._meta.db_table for model in LOADED_MODELS)
            cursor.execute(f"ANALYZE {tables}")
        if checks_deferred:
            with self.phase(report, "references") as phase:
                phase.rows = self.check_references([*LOADED_MODELS, Part])
        # Both refreshes rewrite every creation; without the creations' secondary indexes they
        # write rows only, and building each index once afterwards is faster than updating it
        # a million times. The indexes come back in this same transaction.
        with self.phase(report, "drop indexes") as phase:
            indexes = self.drop_secondary_indexes(Creation)
            phase.rows = len(indexes)
        with self.phase(report, "aggregates") as phase:
            phase.rows = creation_refresh_all_aggregates()
        with self.phase(report, "lookups") as phase:
            # Tag ids, part numbers and the search document, from what was just loaded.
            phase.rows = creation_lookups_refresh()
        with self.phase(report, "build indexes") as phase, connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for definition in indexes:
                cursor.execute(definition)
            phase.rows = len(indexes)

    def drop_secondary_indexes(self, model) -> list[str]:
        """Drop `model`'s indexes that back no key or unique rule; returns their definitions."""
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT c.relname, pg_get_indexdef(i.indexrelid)
                   FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
                   WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary
                   ORDER BY c.relname""",
                [model._meta.db_table],
            )
            found = cursor.fetchall()
            for name, _ in found:
                cursor.execute(f'DROP INDEX "{name}"')
        return [definition for _, definition in found]

    def defer_reference_checks(self) -> bool:
        """Skip the per-row foreign-key triggers for the load, where the role may (superuser).

        Every reference is right by construction, and the per-row checks (about 5 µs each,
        two per score) would cost more than loading the rows; check_references() then checks
        every foreign key of the loaded tables in one query each. Nothing in the schema
        changes, and `SET LOCAL` ends with the transaction. Without superuser, the rows are
        checked one by one as usual.
        """
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('is_superuser') = 'on'")
            if not cursor.fetchone()[0]:
                return False
            cursor.execute("SET LOCAL session_replication_role = replica")
        return True

    def check_references(self, models) -> int:
        """Check every foreign key of `models` at once, then turn the triggers back on for
        what follows (the services); returns how many foreign keys were checked."""
        checked = 0
        with connection.cursor() as cursor:
            for model in models:
                for field in model._meta.concrete_fields:
                    if not field.is_relation:
                        continue
                    table = connection.ops.quote_name(model._meta.db_table)
                    column = connection.ops.quote_name(field.column)
                    parent = connection.ops.quote_name(field.related_model._meta.db_table)
                    key = connection.ops.quote_name(field.target_field.column)
                    cursor.execute(
                        f"SELECT count(*) FROM {table} AS child WHERE child.{column} IS NOT NULL "
                        f"AND NOT EXISTS (SELECT FROM {parent} AS p WHERE p.{key} = child.{column})"
                    )
                    missing = cursor.fetchone()[0]
                    if missing:
                        raise CommandError(
                            f"{missing:,} rows of {model._meta.db_table} refer to a missing "
                            f"{field.related_model._meta.db_table} row ({field.column}); "
                            "nothing was loaded."
                        )
                    checked += 1
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        return checked

    def copier(self, report: Report):
        """copy(label, model, columns, rows, total): COPY the rows `rows(suffix)` yields."""
        raw = connection.connection

        def copy(label, model, columns, rows, total) -> None:
            try:
                extra = column_defaults(model, set(columns), connection)
            except UnknownColumnError as error:
                raise CommandError(
                    f"Column {error} is NOT NULL without a default; generate_bench_data does "
                    "not know what to write there."
                ) from error
            columns = [*columns, *(column for column, _ in extra)]
            suffix = "".join(f"\t{value}" for _, value in extra)
            table = connection.ops.quote_name(model._meta.db_table)
            statement = (
                f"COPY {table} ({', '.join(map(connection.ops.quote_name, columns))}) FROM STDIN"
            )
            lines = iter(rows(suffix))
            with self.phase(report, label) as phase:
                progress = self.progress(label, total)
                with raw.cursor() as cursor:
                    while True:
                        written = self.copy_batch(cursor, statement, lines, progress)
                        phase.rows += written
                        if written < COPY_BATCH_ROWS:
                            break
                progress.finish()

        return copy

    @staticmethod
    def copy_batch(cursor, statement: str, lines, progress: Progress) -> int:
        written = 0
        with cursor.copy(statement) as copy:
            while True:
                chunk = list(islice(lines, min(CHUNK_ROWS, COPY_BATCH_ROWS - written)))
                if not chunk:
                    break
                copy.write("".join(chunk))
                written += len(chunk)
                progress.advance(len(chunk))
                if written == COPY_BATCH_ROWS:
                    break
        return written

    def progress(self, label: str, total: int | None) -> Progress:
        return Progress(self.stderr, label, total or 0, enabled=self.verbosity > 0)

    def remove_existing(self) -> int:
        """Empty the creation side with TRUNCATE and delete the members of an earlier run;
        returns how many members went."""
        # The community's events name creations and members by id only: they go too.
        tables = [
            Creation._meta.db_table,
            TaggedItem._meta.db_table,
            Tag._meta.db_table,
            PendingEvent._meta.db_table,
        ]
        with connection.cursor() as cursor:
            # CASCADE: scores, parts used, reports, comments, saves, follows, notifications and
            # whatever else refers to them.
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        ids = list(
            User.objects.filter(username__regex=BENCH_USERNAME_PATTERN)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), DELETE_BATCH):
            User.objects.filter(pk__in=ids[start : start + DELETE_BATCH]).delete()
        return len(ids)

    def prepare_parts(self, size: BenchSize) -> tuple[list[str], int]:
        """The part numbers creations feature, most featured first, and how many parts were
        added to the catalog: the sample catalog into an empty one, then generated parts up
        to --parts."""
        if not size.parts:
            return [], 0
        added = 0
        if not Part.objects.exists():
            call_command(
                "import_parts",
                str(PARTS_FIXTURES / "parts.csv"),
                categories=str(PARTS_FIXTURES / "part_categories.csv"),
                stdout=StringIO(),
                stderr=StringIO(),
            )
            added = Part.objects.count()
        numbers = list(Part.objects.values_list("part_num", flat=True))
        catalog = sorted(number for number in numbers if bench_part_number(number) is None)
        generated = sorted(
            (number for number in numbers if bench_part_number(number) is not None),
            key=bench_part_number,
        )
        # Which real parts are the popular ones depends on the seed.
        random.Random(f"npu-bench:{size.seed}:parts").shuffle(catalog)
        missing = size.parts - len(numbers)
        if missing > 0:
            categories = list(PartCategory.objects.order_by("id")) or [
                PartCategory.objects.create(id=BENCH_CATEGORY_ID, name=BENCH_CATEGORY_NAME)
            ]
            first = max(map(bench_part_number, generated), default=0) + 1
            parts = []
            for number in range(first, first + missing):
                rng = random.Random(f"npu-bench-part:{number}")
                name = (
                    f"{rng.choice(PART_SHAPES)} {rng.randint(1, 4)} x {rng.randint(1, 8)} "
                    f"(bench {number})"
                )
                category = categories[number % len(categories)]
                parts.append(Part(part_num=f"bench-{number}", name=name, category=category))
            Part.objects.bulk_create(parts, batch_size=1_000)
            generated += [part.part_num for part in parts]
            added += missing
        return (catalog + generated)[: size.parts], added

    def summarise(self, report: Report, seconds: float) -> None:
        if not self.verbosity:
            return
        rows = {phase.name: phase.rows for phase in report.phases}
        self.stdout.write(
            self.style.SUCCESS(
                f"Bench data ready in {seconds:.1f} s: {rows.get('users', 0):,} members, "
                f"{rows.get('tags', 0):,} tags, {rows.get('creations', 0):,} creations with "
                f"{rows.get('taggings', 0):,} taggings and {rows.get('parts used', 0):,} parts "
                f"used, {rows.get('scores', 0):,} scores, {rows.get('tokens', 0):,} API tokens, "
                f"{rows.get('follows', 0):,} follows, {rows.get('favourites', 0):,} saves, "
                f"{rows.get('comments', 0):,} comments, "
                f"{rows.get('notifications', 0):,} notifications, "
                f"{rows.get('parts', 0):,} parts added to the catalog, "
                f"{len(report.pictures)} pictures stored (shared by all creations)."
            )
        )
        self.stdout.write(
            f"Members log in as {report.first_username} and on, with the password "
            f'"{BENCH_PASSWORD}".'
        )
