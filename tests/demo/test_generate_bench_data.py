"""`manage.py generate_bench_data`, run as an operator runs it, against the test database.

The command loads with PostgreSQL's COPY and works in one transaction of its own process, so
these tests are transactional (the rows are committed where the test can read them) and the
main one runs on PostgreSQL only.
"""

import hashlib
import random
import re
import subprocess
import sys
from array import array
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Count, F
from rest_framework.authtoken.models import Token
from taggit.models import Tag, TaggedItem

from accounts.models import User
from creations.models import Creation
from creations.tagging import tag_normalize
from demo.bench_data import BENCH_PASSWORD, BenchData, BenchSize, Picture, settle
from parts.models import Part
from scoring.models import Score
from tests.commands import ROOT, operator_env

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the command loads with PostgreSQL's COPY"
)
NOW = "2026-12-01T00:00:00Z"
SMALL = [
    "--creations=300",
    "--scores=2000",
    "--tags=40",
    "--users=60",
    "--seed=7",
    "--parts=200",
    "--pictures=3",
    "--tokens=5",
    f"--now={NOW}",
]


def database_url() -> str:
    """The URL of the test database this test process uses."""
    database = connection.settings_dict
    credentials = quote(database["USER"] or "")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"])
    address = database["HOST"] or "localhost"
    if database["PORT"]:
        address += f":{database['PORT']}"
    return f"postgres://{credentials}@{address}/{database['NAME']}"


def generate(tmp_path, *arguments: str, url: str | None = None):
    """Run the command line in a process of its own, with the demo app installed."""
    return subprocess.run(
        [sys.executable, "manage.py", "generate_bench_data", *arguments],
        cwd=ROOT,
        env=operator_env(url or database_url(), tmp_path / "media", NPU_DEMO="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )


def digest() -> dict:
    """A fingerprint of every generated row that should repeat with the same seed."""
    tables = {
        "users": User.objects.order_by("pk").values_list(
            "username", "email", "display_name", "password", "date_joined"
        ),
        "creations": Creation.objects.order_by("pk").values_list(
            "pk", "owner__username", "title", "description", "status", "created_at", "image_hash"
        ),
        "tags": TaggedItem.objects.order_by("object_id", "tag__name").values_list(
            "object_id", "tag__name"
        ),
        "parts": Creation.parts.through.objects.order_by("creation_id", "part_id").values_list(
            "creation_id", "part_id"
        ),
        "scores": Score.objects.order_by("pk").values_list(
            "creation_id", "user__username", "creativity", "uniqueness", "created_at"
        ),
        "ratings": Creation.objects.order_by("pk").values_list("score_count", "rating"),
        "tokens": Token.objects.order_by("user__username").values_list("user__username", "key"),
    }
    return {
        name: hashlib.sha256(repr(list(rows)).encode()).hexdigest() for name, rows in tables.items()
    }


def aggregates_off_by() -> int:
    """Creations whose stored aggregates differ from their scores, recomputed in SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM creations_creation c
            LEFT JOIN (
                SELECT creation_id, count(*) AS n, avg(creativity::float) AS creativity,
                       avg(uniqueness::float) AS uniqueness
                FROM scoring_score GROUP BY creation_id
            ) s ON s.creation_id = c.id
            WHERE c.score_count <> coalesce(s.n, 0)
               OR (s.n IS NULL AND (c.creativity_avg IS NOT NULL OR c.rating IS NOT NULL))
               OR abs(c.creativity_avg - s.creativity) > 1e-9
               OR abs(c.uniqueness_avg - s.uniqueness) > 1e-9
               OR abs(c.rating - (s.creativity + s.uniqueness) / 2) > 1e-9
            """
        )
        return cursor.fetchone()[0]


@needs_postgresql
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_generate_bench_data_fills_an_empty_database_the_same_way_every_time(tmp_path):
    first = generate(tmp_path, *SMALL)

    assert first.returncode == 0, first.stderr
    assert "Bench data ready" in first.stdout and BENCH_PASSWORD in first.stdout
    assert not re.search(r"\b[0-9a-f]{40}\b", first.stdout + first.stderr)  # no token shown
    bench = User.objects.filter(username__regex=r"^bench[0-9]{5}$")
    assert bench.count() == User.objects.count() == 60
    assert Creation.objects.count() == 300
    assert Score.objects.count() == 2000
    assert Tag.objects.count() == 40
    assert Part.objects.count() >= 200
    assert Token.objects.count() == 5

    # Members log in with the documented password; the first ones hold the API tokens.
    member = User.objects.get(username="bench00001")
    assert member.is_active and not member.is_staff and member.email.endswith(".invalid")
    assert PBKDF2PasswordHasher().verify(BENCH_PASSWORD, member.password)
    assert set(Token.objects.values_list("user__username", flat=True)) == {
        f"bench0000{n}" for n in range(1, 6)
    }
    assert all(
        re.fullmatch(r"[0-9a-f]{40}", key) for key in Token.objects.values_list("key", flat=True)
    )

    # Tags: 1 to 6 per creation, normalised names.
    per_creation = TaggedItem.objects.values("object_id").annotate(n=Count("pk"))
    assert per_creation.count() == 300
    assert {row["n"] for row in per_creation} <= set(range(1, 7))
    assert all(
        name == " ".join(name.split()).lower()
        for name in Tag.objects.values_list("name", flat=True)
    )

    # Scores: one per member and creation, never the owner's, after the creation appeared.
    assert not Score.objects.filter(user=F("creation__owner")).exists()
    assert not Score.objects.values("user", "creation").annotate(n=Count("pk")).filter(n__gt=1)
    assert not Score.objects.filter(created_at__lte=F("creation__created_at")).exists()
    assert not Score.objects.filter(created_at__gte=datetime(2026, 12, 1, tzinfo=UTC)).exists()
    assert Creation.objects.filter(score_count=0).exists()
    assert aggregates_off_by() == 0
    assert Creation.objects.filter(status=Creation.Status.HIDDEN, hidden_at=None).count() == 0

    # The services' lookups answer filters and search over the loaded rows.
    popular = Tag.objects.annotate(n=Count("taggit_taggeditem_items")).order_by("-n").first()
    assert Creation.objects.with_tags([popular.name]).count() == popular.n
    mentions = Creation.objects.filter(title__icontains="brick") | Creation.objects.filter(
        description__icontains="brick"
    )
    assert 30 < Creation.objects.matching("brick").count() == mentions.count() < 100

    # A small shared pool of stored pictures.
    pictures = set(Creation.objects.values_list("image", "thumbnail", "width", "height"))
    assert 1 <= len(pictures) <= 3
    for image, thumbnail, _, _ in pictures:
        assert default_storage.exists(image) and default_storage.exists(thumbnail)
    fingerprint = digest()

    refused = generate(tmp_path, *SMALL)
    assert refused.returncode != 0
    assert "already holds 300 creations" in refused.stderr and "--replace" in refused.stderr
    planned = generate(tmp_path, *SMALL, "--replace", "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert "Would remove 300 creations, 40 tags, 60 bench members" in planned.stdout
    assert digest() == fingerprint

    again = generate(tmp_path, *SMALL, "--replace", "--verbosity=0")

    assert again.returncode == 0, again.stderr
    assert again.stdout == again.stderr == ""
    assert digest() == fingerprint
    # The earlier run's pictures went with its rows; later inserts get fresh ids.
    assert not any(default_storage.exists(image) for image, _, _, _ in pictures)
    assert Tag.objects.create(name="one more", slug="one-more").pk == 41


def test_generate_bench_data_refuses_sqlite(tmp_path):
    refused = generate(tmp_path, *SMALL, url=f"sqlite:///{tmp_path / 'site.sqlite3'}")

    assert refused.returncode != 0
    assert "PostgreSQL" in refused.stderr and "sqlite" in refused.stderr


def all_rows(size: BenchSize) -> dict[str, list[str]]:
    """Every row a run of `size` generates, as COPY lines, without a database."""
    data = BenchData(size, first_user_id=1, password_hash="x")
    picture = Picture("creations/a.jpg", "creations/a.thumb.webp", 640, 480)
    return {
        "users": list(data.users()),
        "tags": list(data.tags(tag_normalize)),
        "creations": list(data.creations([picture])),
        "taggings": list(data.taggings(1)),
        "parts": list(data.creation_parts(["3001", "3020"])),
        "scores": list(data.scores()),
        "tokens": list(data.tokens()),
    }


def test_every_member_but_the_owner_can_score_every_creation():
    size = BenchSize(
        creations=40,
        scores=40 * 5,
        tags=3,
        users=6,
        parts=2,
        pictures=1,
        tokens=6,
        seed=5,
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    rows = all_rows(size)

    assert rows == all_rows(size)  # the same seed, the same rows
    owners = {line.split("\t")[0]: line.split("\t")[1] for line in rows["creations"]}
    pairs = [(line.split("\t")[5], line.split("\t")[6]) for line in rows["scores"]]
    assert len(pairs) == len(set(pairs)) == 200
    assert not [creation for creation, user in pairs if owners[creation] == user]
    assert len(rows["tokens"]) == 6


def test_score_counts_add_up_exactly_whatever_the_caps():
    counts = array("l", [0, 3, 1, 0])
    weights = array("d", [1.0, 2.0, 10.0, 11.0])  # cumulative

    settle(random.Random(1), counts, weights, 12, 3)
    assert list(counts) == [3, 3, 3, 3]
    settle(random.Random(1), counts, weights, 2, 3)
    assert sum(counts) == 2 and min(counts) >= 0
