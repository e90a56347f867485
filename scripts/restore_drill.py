"""Backup restore drill: back the site up, restore the backup into a fresh database and media
folder, and check that the restored copy serves what the original serves.

    .venv/bin/python scripts/restore_drill.py [--backup-dir DIR] [--keep]

It reads DATABASE_URL (PostgreSQL) and MEDIA_ROOT (the local disk) from the environment, as the
site does, and then:

1. dumps the database (`pg_dump --format=custom`) and archives the media folder (tar);
2. restores both with the commands docs/deploy.md gives (`pg_restore --no-owner`) into a new
   database, `<name>_restore_<timestamp>`, and a new folder; it never touches an existing one;
3. starts the site twice with production settings (gunicorn on loopback), on the original and on
   the restored copy, and compares over HTTP every page of the creations API, every creation's
   scores and the bytes of every picture and thumbnail; it also compares the main tables' rows
   (counts and an md5 of their contents), and checks that every file the restored database
   names is in the restored folder;
4. stops the servers and drops the restored copy (unless --keep), even when something failed.

Exit status: 0 when everything matches, 1 when something does not (the first mismatches are
listed) or a step failed, 2 when the drill does not apply (not PostgreSQL, media in a bucket)
or the restored database's name is taken.
"""

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dj_database_url
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
# PostgreSQL cuts identifiers at 63 bytes; the restored name must fit whole to be found again.
MAX_IDENTIFIER = 63
# The API's largest page: the fewest requests for the whole list.
API_PAGE_SIZE = 100
SHOWN_MISMATCHES = 20
# Tables whose row counts are compared directly; the creations, scores and pictures are also
# compared through the API.
COUNTED_TABLES = {
    "users": "accounts_user",
    "creations": "creations_creation",
    "scores": "scoring_score",
    "tags": "taggit_tag",
    "tag uses": "taggit_taggeditem",
    "featured parts": "creations_creation_parts",
    "reports": "moderation_report",
    "parts": "parts_part",
}
# Where each table records when a row was written: used to tell whether the original changed
# while the drill ran, which explains mismatches that are no fault of the backup.
WRITTEN_AT = {
    "creations_creation": "updated_at",
    "scoring_score": "updated_at",
    "moderation_report": "created_at",
    "accounts_user": "date_joined",
}


LIBPQ_KEYWORDS = {option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults()}


class Refusal(Exception):
    """The drill does not apply to this site, or would touch something that exists."""


class DrillFailure(Exception):
    """A step of the drill itself failed (a dump, a restore, a server that never answered)."""


@dataclass
class Database:
    """One PostgreSQL database, as the site's DATABASE_URL names it."""

    url: str
    settings: dict

    @property
    def name(self) -> str:
        return self.settings["NAME"]

    def conninfo(self, *, password: bool) -> str:
        """libpq connection parameters. Without the password for the command lines of
        pg_dump and pg_restore, which anyone on the machine can read; they get it from
        PGPASSWORD instead."""
        parameters = {
            "dbname": self.name,
            "host": self.settings.get("HOST") or None,
            "port": self.settings.get("PORT") or None,
            "user": self.settings.get("USER") or None,
            # Query-string options that libpq knows (sslmode, say); Django's own are not for it.
            **{
                key: value
                for key, value in self.settings.get("OPTIONS", {}).items()
                if key in LIBPQ_KEYWORDS
            },
        }
        if password:
            parameters["password"] = self.settings.get("PASSWORD") or None
        return psycopg.conninfo.make_conninfo(
            **{key: str(value) for key, value in parameters.items() if value is not None}
        )

    def client_env(self) -> dict:
        env = dict(os.environ)
        if self.settings.get("PASSWORD"):
            env["PGPASSWORD"] = self.settings["PASSWORD"]
        return env

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(password=True), autocommit=True)

    def named(self, name: str) -> "Database":
        """The database called `name` on the same server, with the same credentials."""
        parts = urllib.parse.urlsplit(self.url)
        url = urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(name)))
        return Database(url=url, settings={**self.settings, "NAME": name})

    def url_shown(self) -> str:
        """The URL with its password masked, fit to print."""
        parts = urllib.parse.urlsplit(self.url)
        if parts.password is None:
            return self.url
        user = parts.netloc.rpartition("@")[0].split(":", 1)[0]
        netloc = f"{user}:***@{parts.netloc.rpartition('@')[2]}"
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))

    def shown(self) -> str:
        host = self.settings.get("HOST") or "local socket"
        port = f":{self.settings['PORT']}" if self.settings.get("PORT") else ""
        return f"{self.name} on {host}{port}"


@dataclass
class Copy:
    """A database and a media folder: the original site, or the restored copy."""

    database: Database
    media_root: Path


@dataclass
class Comparison:
    mismatches: list[str] = field(default_factory=list)
    # What may explain the mismatches: printed after them, whatever their number.
    notes: list[str] = field(default_factory=list)
    # How many of each thing were compared, for the result line.
    compared: dict[str, int] = field(default_factory=dict)

    def differ(self, message: str) -> None:
        self.mismatches.append(message)


def original_from_environment() -> Copy:
    """The site's database and media folder, read from the environment as its settings do."""
    if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
        raise Refusal(
            f"media is in the bucket {os.environ['AWS_STORAGE_BUCKET_NAME']!r}: this drill "
            "covers media on the local disk (MEDIA_ROOT); for a bucket, back up and restore "
            "with `aws s3 sync` as docs/deploy.md describes."
        )
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'db.sqlite3'}"
    settings = dj_database_url.parse(url)
    if settings.get("ENGINE") != "django.db.backends.postgresql":
        raise Refusal(
            f"DATABASE_URL is not PostgreSQL ({settings.get('ENGINE', 'unknown engine')}): "
            "the drill dumps and restores with pg_dump and pg_restore."
        )
    media_root = Path(os.environ.get("MEDIA_ROOT") or ROOT / "media")
    return Copy(database=Database(url=url, settings=settings), media_root=media_root)


# Output ---------------------------------------------------------------------------------------


def say(line: str = "") -> None:
    print(line, flush=True)


def say_items(label: str, items: list[str], end: str = "", width: int = 96) -> None:
    """`label`, the items comma-separated and `end`, wrapped between items (never inside one)."""
    pieces = [item + "," for item in items[:-1]] + items[-1:]
    if end:
        pieces[-1] += ";"
        pieces.append(end)
    lines: list[list[str]] = [[]]
    for piece in pieces:
        if lines[-1] and len(" ".join([*lines[-1], piece])) > width - 13:
            lines.append([])
        lines[-1].append(piece)
    for index, line in enumerate(lines):
        say((f"   {label:<10}" if index == 0 else " " * 13) + " ".join(line))


def size_text(count: int) -> str:
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:.1f} s"


# 1. Backup ------------------------------------------------------------------------------------


def run_client(command: list[str], database: Database, what: str) -> None:
    completed = subprocess.run(
        command, env=database.client_env(), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        last_lines = " | ".join(completed.stderr.strip().splitlines()[-5:])
        raise DrillFailure(f"{what} failed (exit {completed.returncode}): {last_lines}")


def database_dump(database: Database, dump: Path) -> None:
    command = ["pg_dump", "--format=custom", f"--file={dump}"]
    run_client([*command, f"--dbname={database.conninfo(password=False)}"], database, "pg_dump")


def media_archive(media_root: Path, archive: Path) -> tuple[int, int]:
    """Archive the media folder as `media/...`; returns (files, bytes of those files)."""
    files = stored = 0

    def counted(member: tarfile.TarInfo) -> tarfile.TarInfo:
        nonlocal files, stored
        if member.isfile():
            files += 1
            stored += member.size
        return member

    with tarfile.open(archive, "w") as tar:
        if media_root.is_dir():
            tar.add(media_root, arcname="media", filter=counted)
    return files, stored


def backup(original: Copy, backup_dir: Path, stamp: str) -> tuple[Path, Path]:
    # The dump holds members' e-mail addresses and password hashes: readable by its owner only.
    umask = os.umask(0o077)
    try:
        return backup_files(original, backup_dir, stamp)
    finally:
        os.umask(umask)


def backup_files(original: Copy, backup_dir: Path, stamp: str) -> tuple[Path, Path]:
    say(f"1. Backup into {backup_dir}")
    backup_dir.mkdir(parents=True, exist_ok=True)
    dump = backup_dir / f"{original.database.name}-{stamp}.dump"
    started = time.perf_counter()
    database_dump(original.database, dump)
    say(f"   database  {dump.name}  {size_text(dump.stat().st_size)} in {elapsed(started)}")
    archive = backup_dir / f"media-{stamp}.tar"
    started = time.perf_counter()
    files, stored = media_archive(original.media_root, archive)
    missing = "" if original.media_root.is_dir() else f"; {original.media_root} does not exist"
    say(
        f"   media     {archive.name}  {size_text(archive.stat().st_size)} in {elapsed(started)}"
        f" ({files} files, {size_text(stored)}{missing})"
    )
    return dump, archive


# 2. Restore -----------------------------------------------------------------------------------


def restored_name(original_name: str, stamp: str) -> str:
    suffix = f"_restore_{stamp}"
    return original_name[: MAX_IDENTIFIER - len(suffix)] + suffix


def database_exists(connection: psycopg.Connection, name: str) -> bool:
    found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return found.fetchone() is not None


def database_create(connection: psycopg.Connection, name: str) -> None:
    """Create `name` empty, or refuse if it exists: a restore never lands on live data."""
    refusal = f"database {name} exists already; the drill restores only into a new database."
    if database_exists(connection, name):
        raise Refusal(refusal)
    try:
        # template0: nothing added to template1 on this server can collide with the dump.
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
        )
    except psycopg.errors.DuplicateDatabase as error:
        raise Refusal(refusal) from error
    except psycopg.errors.InsufficientPrivilege as error:
        raise DrillFailure(
            f"{error} (the restored copy is a new database: run the drill with a DATABASE_URL "
            "whose role may create databases, e.g. after ALTER ROLE ... CREATEDB)"
        ) from error


def database_drop(connection: psycopg.Connection, name: str) -> None:
    connection.execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def media_extract(archive: Path, folder: Path) -> int:
    """Unpack the archive's `media/` into `folder`/media; returns how many files it held."""
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        # The "data" filter refuses absolute paths, links out of the folder and device files.
        tar.extractall(folder, members=members, filter="data")
    # An empty archive (the original had no media folder yet) still restores to a folder.
    (folder / "media").mkdir(exist_ok=True)
    return sum(1 for member in members if member.isfile())


def restore(dump: Path, archive: Path, restored: Copy) -> None:
    say("2. Restore")
    started = time.perf_counter()
    database = restored.database
    command = ["pg_restore", "--no-owner", f"--dbname={database.conninfo(password=False)}"]
    run_client([*command, str(dump)], database, "pg_restore")
    say(f"   database  {database.name} in {elapsed(started)}")
    started = time.perf_counter()
    files = media_extract(archive, restored.media_root.parent)
    say(f"   media     {restored.media_root} in {elapsed(started)} ({files} files)")


# 3. Compare -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(copy: Copy, secret_key: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # A replica would serve both processes the original's data; Redis would share one
        # cache between them, so one could answer with what the other cached; debug mode and
        # the demo app are not what the site runs.
        if key
        not in {
            "DATABASE_REPLICA_URL",
            "REDIS_URL",
            "DJANGO_DEBUG",
            "NPU_DEMO",
            "GUNICORN_BIND",
            "PORT",
        }
    }
    return {
        **env,
        "DATABASE_URL": copy.database.url,
        "MEDIA_ROOT": str(copy.media_root),
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        # Every creation's scores and pictures are fetched at once; no limit may refuse them.
        "RATELIMIT_ENABLE": "0",
        "WEB_CONCURRENCY": "2",
        # server_errors() reads the plain format.
        "LOG_FORMAT": "plain",
    }


@dataclass
class Server:
    process: subprocess.Popen
    origin: str
    log: Path


def server_start(copy: Copy, log: Path, secret_key: str) -> Server:
    port = free_port()
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "npu_site.wsgi"],
            cwd=ROOT,
            env=server_env(copy, secret_key),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Server(process=process, origin=f"http://127.0.0.1:{port}", log=log)


def server_wait_ready(server: Server, seconds: float = 60) -> None:
    """Wait until /readyz says the database and the media folder answer."""
    deadline = time.monotonic() + seconds
    answer = "no answer"
    while time.monotonic() < deadline and server.process.poll() is None:
        status, body = fetch(server.origin + "/readyz")
        if status == 200:
            return
        answer = f"{status} {body[:200].decode(errors='replace')}" if status else answer
        time.sleep(0.2)
    logged = " | ".join(server.log.read_text(errors="replace").strip().splitlines()[-3:])
    raise DrillFailure(f"the server at {server.origin} was not ready ({answer}): {logged}")


def servers_stop(servers: list[Server]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def server_errors(server: Server) -> list[str]:
    """The first errors a server logged: Django's error lines and the exceptions under them."""
    found: list[str] = []
    for line in server.log.read_text(errors="replace").splitlines():
        is_error = " ERROR " in line or re.match(r"[\w.]+(Error|Exception): ", line)
        if is_error and line not in found:
            found.append(line)
    return found[:3]


# The servers are on loopback: no proxy from the environment may stand between.
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str) -> tuple[int, bytes]:
    """GET `url`: (status, body), with status 0 when nothing answered."""
    request = urllib.request.Request(url, headers={"Accept": "application/json, */*"})
    try:
        with LOOPBACK.open(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def without_origin(value, origin: str):
    """The JSON with `origin` cut from every URL in it: the two servers differ only there."""
    if isinstance(value, str):
        return value.removeprefix(origin)
    if isinstance(value, list):
        return [without_origin(item, origin) for item in value]
    if isinstance(value, dict):
        return {key: without_origin(item, origin) for key, item in value.items()}
    return value


@dataclass
class Listing:
    """Every page of one API list: the results in order, or where it went wrong."""

    status: int
    count: int | None
    pages: int
    results: list


def api_list(origin: str, path: str) -> Listing:
    url = origin + path
    results: list = []
    pages = 0
    count = None
    while url:
        status, body = fetch(url)
        if status != 200:
            return Listing(status=status, count=count, pages=pages, results=results)
        page = without_origin(json.loads(body), origin)
        pages += 1
        count = page["count"]
        results.extend(page["results"])
        url = origin + page["next"] if page["next"] else None
    return Listing(status=200, count=count, pages=pages, results=results)


def compare_listings(what: str, original: Listing, restored: Listing, comparison: Comparison):
    # Both failing alike proves nothing about the backup: the original must answer.
    if original.status != 200:
        comparison.differ(f"{what}: the original answered {original.status}")
    if original.status != restored.status:
        comparison.differ(
            f"{what}: original answered {original.status}, restored answered {restored.status}"
        )
    if (original.count, original.pages) != (restored.count, restored.pages):
        comparison.differ(
            f"{what}: original has {original.count} in {original.pages} page(s), "
            f"restored {restored.count} in {restored.pages}"
        )
    original_ids = [item["id"] for item in original.results]
    restored_ids = [item["id"] for item in restored.results]
    if original_ids != restored_ids:
        set_original, set_restored = set(original_ids), set(restored_ids)
        only_original = [i for i in original_ids if i not in set_restored]
        only_restored = [i for i in restored_ids if i not in set_original]
        if only_original or only_restored:
            comparison.differ(
                f"{what}: only in the original: ids {only_original[:10]}; only in the restored "
                f"copy: ids {only_restored[:10]}"
            )
        else:
            comparison.differ(f"{what}: the same ids in another order")
    restored_by_id = {item["id"]: item for item in restored.results}
    for item in original.results:
        twin = restored_by_id.get(item["id"])
        if twin is None:
            continue
        for key in sorted(set(item) | set(twin)):
            if item.get(key) != twin.get(key):
                comparison.differ(
                    f"{what}, id {item['id']}, {key}: original {item.get(key)!r}, "
                    f"restored {twin.get(key)!r}"
                )


def compare_tables(original: Copy, restored: Copy, comparison: Comparison) -> None:
    """Row counts of the main tables, and a digest of their rows: the API shows published
    creations only, while hidden ones, reports and members are in the backup too."""
    counts = []
    differing = 0
    with original.database.connect() as first, restored.database.connect() as second:
        for label, table in COUNTED_TABLES.items():
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), ''))"
                " FROM {} AS r"
            ).format(sql.Identifier(table))
            (before, before_digest), (after, after_digest) = (
                connection.execute(query).fetchone() for connection in (first, second)
            )
            counts.append(f"{label} {before} {'=' if before == after else '!='} {after}")
            if before != after:
                comparison.differ(f"rows in {table}: original {before}, restored {after}")
            elif before_digest != after_digest:
                differing += 1
                comparison.differ(f"rows in {table}: as many, but their contents differ")
    comparison.compared["tables"] = len(COUNTED_TABLES)
    contents = (
        f"contents differ in {differing} table(s)" if differing else "contents the same by md5"
    )
    say_items("rows", counts, end=contents)


def compare_creations(servers: tuple[Server, Server], page_size: int, comparison: Comparison):
    path = f"/api/v1/creations/?page_size={page_size}&ordering=newest"
    first, second = (api_list(server.origin, path) for server in servers)
    compare_listings("creations list", first, second, comparison)
    comparison.compared["creations"] = len(first.results)
    say(
        f"   creations {len(first.results)} published, in {first.pages} page(s) of "
        f"{page_size} from GET {path}"
    )
    return first.results


def compare_scores(servers, creations: list[dict], page_size: int, comparison: Comparison):
    def both(creation_id: int) -> tuple[int, Listing, Listing]:
        path = f"/api/v1/creations/{creation_id}/scores/?page_size={page_size}"
        first, second = (api_list(server.origin, path) for server in servers)
        return creation_id, first, second

    scores = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        for creation_id, first, second in pool.map(both, [c["id"] for c in creations]):
            compare_listings(f"scores of creation {creation_id}", first, second, comparison)
            scores += len(first.results)
    comparison.compared["scores"] = scores
    say(f"   scores    {scores} in the score lists of {len(creations)} creations")


def compare_pictures(servers, creations: list[dict], comparison: Comparison) -> None:
    paths = [(c["id"], kind, c[kind]) for c in creations for kind in ("image", "thumbnail")]

    def both(path: str) -> list[tuple[int, str, int]]:
        answers = []
        for server in servers:
            status, body = fetch(server.origin + path)
            answers.append((status, hashlib.sha256(body).hexdigest(), len(body)))
        return answers

    compared = stored = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = pool.map(both, [path for _, _, path in paths])
        for (creation_id, kind, path), (first, second) in zip(paths, answers, strict=True):
            compared += 1
            stored += first[2]
            comparison.compared["picture files"] = compared
            if first[0] != 200:
                comparison.differ(
                    f"creation {creation_id} {kind} {path}: original answered {first[0]}"
                )
            if first[:2] != second[:2]:
                comparison.differ(
                    f"creation {creation_id} {kind} {path}: original {first[0]} sha256 "
                    f"{first[1][:12]}, restored {second[0]} sha256 {second[1][:12]}"
                )
    say(
        f"   pictures  {compared} files compared by sha256 ({compared // 2} pictures and their "
        f"thumbnails, {size_text(stored)})"
    )


def compare_stored_files(original: Copy, restored: Copy, comparison: Comparison) -> None:
    """Every file the restored database names, hidden creations' too, is in the restored folder."""
    with restored.database.connect() as connection:
        rows = connection.execute("SELECT id, image, thumbnail FROM creations_creation").fetchall()
    named = missing_in_both = 0
    for creation_id, *names in rows:
        for name in names:
            named += 1
            if (restored.media_root / name).is_file():
                continue
            if (original.media_root / name).is_file():
                comparison.differ(
                    f"creation {creation_id}: {name} is missing from the restored media"
                )
            else:
                missing_in_both += 1
    note = f"; {missing_in_both} missing from the original too" if missing_in_both else ""
    comparison.compared["stored files"] = named
    say(f"   files     {named} named by the restored database checked on disk{note}")


def writes_since(original: Copy, since: datetime) -> list[str]:
    """What was written to the original since `since` (mismatches it would explain)."""
    written = []
    with original.database.connect() as connection:
        for table, column in WRITTEN_AT.items():
            query = sql.SQL("SELECT count(*) FROM {} WHERE {} >= %s").format(
                sql.Identifier(table), sql.Identifier(column)
            )
            count = connection.execute(query, [since]).fetchone()[0]
            if count:
                written.append(f"{count} in {table}")
    return written


def compare(original: Copy, restored: Copy, servers, page_size: int) -> Comparison:
    comparison = Comparison()
    compare_tables(original, restored, comparison)
    creations = compare_creations(servers, page_size, comparison)
    compare_scores(servers, creations, page_size, comparison)
    compare_pictures(servers, creations, comparison)
    compare_stored_files(original, restored, comparison)
    return comparison


def cleanup(admin: psycopg.Connection, database: str | None, directories: list[Path]) -> None:
    """Drop what the drill made. Runs after failures too, so it reports rather than raises."""
    removed = []
    if database:
        try:
            database_drop(admin, database)
            removed.append(f"dropped {database}")
        except psycopg.Error as error:
            print(
                f"restore drill: could not drop {database} ({error}); drop it by hand",
                file=sys.stderr,
            )
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)
        removed.append(f"removed {directory}")
    say("Cleaned up: " + ", ".join(removed))


# The drill ------------------------------------------------------------------------------------


def arguments_parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--backup-dir",
        type=Path,
        help="where to write the dump and the media archive (kept); default: a new temporary "
        "folder, removed at the end unless --keep",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the restored database and media folder (and the temporary backup folder) "
        "for inspection",
    )
    parser.add_argument(
        "--restore-name",
        metavar="NAME",
        help="the restored database's name (default: <name>_restore_<date>_<time>); the drill "
        "refuses a name that exists",
    )
    parser.add_argument(
        "--against-database",
        metavar="NAME",
        help="skip the backup and restore: compare the original with this database on the "
        "same server (a copy kept by an earlier --keep run); never dropped",
    )
    parser.add_argument(
        "--against-media",
        metavar="DIR",
        type=Path,
        help="the media folder of --against-database",
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=API_PAGE_SIZE,
        help=f"API page size for the lists (default {API_PAGE_SIZE}, the API's largest)",
    )
    arguments = parser.parse_args(argv)
    if arguments.restore_name and len(arguments.restore_name.encode()) > MAX_IDENTIFIER:
        parser.error(f"--restore-name must fit in {MAX_IDENTIFIER} bytes")
    if (arguments.against_database is None) != (arguments.against_media is None):
        parser.error("--against-database and --against-media go together")
    if not 1 <= arguments.page_size <= API_PAGE_SIZE:
        parser.error(f"--page-size must be between 1 and {API_PAGE_SIZE}")
    return arguments


def drill(arguments: argparse.Namespace) -> int:
    original = original_from_environment()
    started_at = datetime.now(UTC)
    stamp = started_at.strftime("%Y%m%d_%H%M%S")
    started = time.perf_counter()
    say(f"NPU restore drill, {started_at:%Y-%m-%d %H:%M} UTC")
    say(f"Original: database {original.database.shown()}, media {original.media_root}")

    try:
        admin = original.database.connect()
    except psycopg.OperationalError as error:
        raise DrillFailure(f"cannot connect to {original.database.shown()}: {error}") from error

    # What this run made, and so must remove at the end (unless --keep).
    made_database: str | None = None
    made_dirs: list[Path] = []
    servers: list[Server] = []
    comparison = None
    try:
        work = Path(tempfile.mkdtemp(prefix="npu-drill-restore-"))
        made_dirs.append(work)
        if arguments.against_database:
            if not database_exists(admin, arguments.against_database):
                raise Refusal(f"database {arguments.against_database} does not exist.")
            if not arguments.against_media.is_dir():
                raise Refusal(f"{arguments.against_media} is not a folder.")
            restored = Copy(
                database=original.database.named(arguments.against_database),
                media_root=arguments.against_media.resolve(),
            )
            say(f"Comparing with {restored.database.shown()}, media {restored.media_root}")
        else:
            if arguments.backup_dir:
                backup_dir = arguments.backup_dir.resolve()
            else:
                backup_dir = Path(tempfile.mkdtemp(prefix="npu-drill-backup-"))
                made_dirs.append(backup_dir)
            restored = Copy(
                database=original.database.named(
                    arguments.restore_name or restored_name(original.database.name, stamp)
                ),
                # The archive holds `media/...`, unpacked into the work folder.
                media_root=work / "media",
            )
            database_create(admin, restored.database.name)
            made_database = restored.database.name
            dump, archive = backup(original, backup_dir, stamp)
            restore(dump, archive, restored)

        secret_key = secrets.token_urlsafe(50)
        for name, copy in (("original", original), ("restored", restored)):
            servers.append(server_start(copy, work / f"gunicorn-{name}.log", secret_key))
        for server in servers:
            server_wait_ready(server)
        say("3. Compare, reading as an anonymous visitor (so published creations)")
        say(f"   servers   original {servers[0].origin}, restored {servers[1].origin}")
        comparison = compare(original, restored, tuple(servers), arguments.page_size)
        if comparison.mismatches:
            written = writes_since(original, started_at)
            if written:
                comparison.notes.append(
                    "the original changed while the drill ran (" + ", ".join(written) + "), "
                    "which may explain mismatches; run the drill again at a quiet time"
                )
            for name, server in zip(("original", "restored"), servers, strict=True):
                for error in server_errors(server):
                    comparison.notes.append(f"the {name} server logged {error[:300]}")
    finally:
        servers_stop(servers)
        if arguments.keep:
            if made_database:
                say(
                    f"Kept: DATABASE_URL={restored.database.url_shown()} "
                    f"MEDIA_ROOT={restored.media_root}"
                )
            for directory in made_dirs:
                say(f"Kept: {directory}")
        else:
            cleanup(admin, made_database, made_dirs)
        admin.close()

    compared = ", ".join(f"{count} {what}" for what, count in comparison.compared.items())
    if comparison.mismatches:
        say(
            f"Result: FAILED, {len(comparison.mismatches)} mismatch(es) in {elapsed(started)} "
            f"(compared {compared}); the first "
            f"{min(len(comparison.mismatches), SHOWN_MISMATCHES)}:"
        )
        for mismatch in comparison.mismatches[:SHOWN_MISMATCHES]:
            say(f"   {mismatch}")
        for note in comparison.notes:
            say(f"   note: {note}")
        return 1
    say(
        f"Result: PASSED, 0 mismatches in {elapsed(started)} (compared {compared}): the restored "
        "copy serves what the original serves"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = arguments_parse(argv)
    try:
        return drill(arguments)
    except Refusal as refusal:
        print(f"restore drill refused: {refusal}", file=sys.stderr)
        return 2
    except DrillFailure as failure:
        print(f"restore drill failed: {failure}", file=sys.stderr)
        return 1
    except psycopg.Error as error:
        print(f"restore drill failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
