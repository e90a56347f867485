"""The backup restore drill (scripts/restore_drill.py), run as an operator runs it, on a small
site of its own: a scratch PostgreSQL database migrated and filled by `manage.py`, and a media
folder of real pictures. It never uses pytest-django's test database."""

import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from psycopg import sql

from tests.commands import operator_env

ROOT = Path(__file__).resolve().parent.parent
DRILL = ROOT / "scripts" / "restore_drill.py"
SERVER = dj_database_url.parse(os.environ.get("DATABASE_URL") or "sqlite://")

pytestmark = pytest.mark.skipif(
    SERVER.get("ENGINE") != "django.db.backends.postgresql",
    reason="the restore drill needs PostgreSQL: set DATABASE_URL to a postgres:// URL",
)

# Six creations by two members (one hidden, so the API shows five), each with its own picture;
# scores, a tag or two, a featured part and a report.
SITE_CONTENT = """
import io
from PIL import Image, ImageDraw
from django.core.files.uploadedfile import SimpleUploadedFile
from accounts.models import User
from creations.models import Creation
from creations.services import creation_create
from moderation.services import report_create
from parts.models import Part
from scoring.services import score_upsert

Part.objects.create(part_num="3070b", name="Tile 1 x 1 with Groove")
# Trusted: their uploads go straight to the gallery instead of the review queue.
ana, ben, cleo = (
    User.objects.create_user(name, f"{name}@example.invalid", trusted=True)
    for name in ("ana", "ben", "cleo")
)

def picture(index):
    canvas = Image.new("RGB", (320, 240), (40 * index, 90, 200 - 30 * index))
    ImageDraw.Draw(canvas).rectangle((30 * index, 20, 30 * index + 80, 200), fill=(250, 250, 240))
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return SimpleUploadedFile(f"build-{index}.png", buffer.getvalue(), content_type="image/png")

for index in range(6):
    creation = creation_create(
        owner=(ana, ben)[index % 2],
        title=f"Cheese slope roof {index}",
        image=picture(index),
        tags=["cheese slope", "castle" if index % 2 else "space"],
        parts=["3070b"] if index == 0 else [],
        status=Creation.Status.HIDDEN if index == 5 else Creation.Status.PUBLISHED,
    )
    for scorer, value in ((cleo, 1 + index % 5), ((ben, ana)[index % 2], 5 - index % 3)):
        score_upsert(user=scorer, creation=creation, creativity=value, uniqueness=6 - value)
report_create(reporter=cleo, creation=creation, reason="other", note="Looks like a repost.")
"""


def admin_connection() -> psycopg.Connection:
    """The PostgreSQL server of DATABASE_URL, through its maintenance database."""
    return psycopg.connect(
        dbname="postgres",
        host=SERVER.get("HOST") or None,
        port=SERVER.get("PORT") or None,
        user=SERVER.get("USER") or None,
        password=SERVER.get("PASSWORD") or None,
        autocommit=True,
    )


def database_url(name: str) -> str:
    """DATABASE_URL with another database name: the same server and credentials."""
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def databases_named(connection: psycopg.Connection, prefix: str) -> list[str]:
    rows = connection.execute(
        "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY datname",
        [prefix],
    )
    return [name for (name,) in rows]


def site_env(database: str, media_root: Path) -> dict:
    """The environment of an operator's shell on that site: nothing from the test run's own."""
    return operator_env(database_url(database), media_root)


def run(command: list[str], env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated scratch database with a little content, and its media folder; everything
    named after it (the drill's restored copies too) is dropped at the end."""
    name = f"npu_drill_{secrets.token_hex(4)}"
    media_root = tmp_path_factory.mktemp("site") / "media"
    env = site_env(name, media_root)
    with admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            for command in (
                ["manage.py", "migrate", "--noinput", "-v0"],
                ["manage.py", "shell", "-c", SITE_CONTENT],
            ):
                completed = run(command, env)
                assert completed.returncode == 0, completed.stderr
            yield {"name": name, "env": env, "media_root": media_root}
        finally:
            for leftover in databases_named(admin, name):
                admin.execute(
                    sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(leftover))
                )


def drill(site, *arguments: str, **env) -> subprocess.CompletedProcess:
    return run([str(DRILL), *arguments], {**site["env"], **env})


def test_drill_restores_the_site_and_finds_it_the_same(site, tmp_path):
    completed = drill(site, "--backup-dir", str(tmp_path / "backups"), "--page-size", "3")
    out = completed.stdout
    assert completed.returncode == 0, out + completed.stderr
    assert "users 3 = 3, creations 6 = 6, scores 12 = 12" in out
    assert "featured parts 1 = 1, reports 1 = 1" in out
    assert "creations 5 published, in 2 page(s) of 3" in out
    assert "scores    10 in the score lists of 5 creations" in out
    assert "pictures  10 files compared by sha256" in out
    assert "files     12 named by the restored database" in out
    assert (
        "Result: PASSED, 0 mismatches in " in out
        and "(compared 8 tables, 5 creations, 10 scores, 10 picture files, 12 stored files)" in out
    )
    backups = sorted(path.suffix for path in (tmp_path / "backups").iterdir())
    assert backups == [".dump", ".tar"]  # the backup folder given is kept
    restored = re.search(r"dropped (\S+_restore_\d{8}_\d{6})", out).group(1)
    assert restored.startswith(site["name"])
    with admin_connection() as admin:
        assert databases_named(admin, restored) == []
    assert not any(Path(folder).exists() for folder in re.findall(r"removed (\S+)", out))


def test_drill_fails_when_the_restored_copy_differs(site, tmp_path):
    kept = drill(site, "--keep", "--backup-dir", str(tmp_path))
    try:
        assert kept.returncode == 0, kept.stdout + kept.stderr
        found = re.search(r"Kept: DATABASE_URL=\S+/(\S+) MEDIA_ROOT=(\S+)", kept.stdout)
        check_a_changed_copy(site, restored=found.group(1), restored_media=Path(found.group(2)))
    finally:  # the kept database goes with the site's; the kept folder goes here
        for folder in re.findall(r"^Kept: (/\S+)$", kept.stdout, re.MULTILINE):
            shutil.rmtree(folder, ignore_errors=True)


def check_a_changed_copy(site, restored: str, restored_media: Path) -> None:
    # One score changed in the restored database, one thumbnail lost from its media folder.
    with psycopg.connect(database_url(restored)) as db:
        score_id, creation_id, creativity = db.execute(
            "SELECT s.id, s.creation_id, s.creativity FROM scoring_score s "
            "JOIN creations_creation c ON c.id = s.creation_id "
            "WHERE c.status = 'published' ORDER BY s.id LIMIT 1"
        ).fetchone()
        db.execute(
            "UPDATE scoring_score SET creativity = %s WHERE id = %s", [6 - creativity, score_id]
        )
        thumbnail_owner, thumbnail = db.execute(
            "SELECT id, thumbnail FROM creations_creation WHERE status = 'published' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    (restored_media / thumbnail).unlink()

    completed = drill(site, "--against-database", restored, "--against-media", str(restored_media))
    out = completed.stdout
    assert completed.returncode == 1, out + completed.stderr
    assert "Result: FAILED, 4 mismatch(es) in " in out
    assert "rows in scoring_score: as many, but their contents differ" in out
    assert (
        f"scores of creation {creation_id}, id {score_id}, creativity: "
        f"original {creativity}, restored {6 - creativity}"
    ) in out
    assert re.search(rf"creation {thumbnail_owner} thumbnail /media/\S+: original 200 ", out)
    assert f"creation {thumbnail_owner}: {thumbnail} is missing from the restored media" in out
    with admin_connection() as admin:  # a copy it was given to compare is not its to drop
        assert databases_named(admin, restored) == [restored]


def test_drill_never_restores_into_an_existing_database(site):
    taken = f"{site['name']}_restore_taken"
    with admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(taken)))
        before = databases_named(admin, site["name"])
        completed = drill(site, "--restore-name", taken)
        assert completed.returncode == 2, completed.stdout + completed.stderr
        assert completed.stderr == (
            f"restore drill refused: database {taken} exists already; "
            "the drill restores only into a new database.\n"
        )
        assert databases_named(admin, site["name"]) == before  # none dropped, none made


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "sqlite:///site.sqlite3"}, "DATABASE_URL is not PostgreSQL"),
        ({"AWS_STORAGE_BUCKET_NAME": "npu-media"}, "`aws s3 sync`"),
    ],
)
def test_drill_refuses_what_it_does_not_cover(site, env, message):
    completed = drill(site, **env)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(completed.stderr.splitlines()) == 1 and message in completed.stderr
