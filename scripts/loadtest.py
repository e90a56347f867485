"""Load-and-fault test: NPU under simulated members, against gunicorn on PostgreSQL and Redis.

It builds a world of its own (the PostgreSQL database `npu_loadtest`, dropped and made again;
the demo data and load members with API tokens; a temporary media folder; Redis database 13,
flushed), starts gunicorn with production settings on a free loopback port, and lets
`--users` members browse, search, score and upload, and comment, reply, save, follow and read
their feed and notifications through the API, for `--duration` seconds, some writes sent twice
at once. Then it stops gunicorn, checks in the database that every acknowledged write is there
(and made exactly one row), that every creation's aggregates equal a recomputation from its
scores, that its comment and favourite counts equal its rows, and that no picture file is
orphaned or missing. The site runs with a broker but no worker, so the events behind
notifications wait in the outbox: the run processes them as the periodic sweep does and checks
that each one made exactly the notifications it should. It prints one report. With
`--outages FILE` (JSON lines from scripts/faults.sh) it also judges the answers given while
PostgreSQL or Redis was restarting and prints how long the site took to recover.

    .venv/bin/python scripts/loadtest.py --users 50 --duration 60
    bash scripts/faults.sh            # the same run, restarting PostgreSQL and Redis on the way

Exit status: 0 when every pass condition held, 1 when one failed, 2 when the world could not
be set up, 130 when interrupted. HTTP goes through the standard library only; the checks
afterwards read the database with psycopg, which the project depends on already.
"""

import argparse
import http.client
import http.cookies
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/serving.py, beside this
import serving  # noqa: E402
from serving import (  # noqa: E402
    free_port,
    is_loopback,
    manage,
    production_env,
    start_gunicorn,
    stop_gunicorn,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/npu_loadtest"
DEFAULT_DATABASE_NAME = "npu_loadtest"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
# Databases no run may drop, whatever --database-url says.
PROTECTED_DATABASES = {"postgres", "template0", "template1"}
LOAD_PASSWORD = "load-test-brick-password"
# Which readiness check stands for which service faults.sh restarts.
SERVICE_CHECKS = {"postgresql": "database", "redis": "cache"}
TRACEBACK_MARKERS = (b"Traceback (most recent call last)", b"Exception Value:", b'id="traceback"')
SEARCH_TERMS = [
    "cheese slope",
    "castle",
    "minifig hand",
    "lamp bracket",
    "space",
    "technic",
    "roof tiles",
    "train",
    "banana",
    "bookshelf",
]
# What the members do, weighted like a real site: mostly anonymous browsing, some member
# browsing, a few scores a minute per member, uploads rare.
ACTION_WEIGHTS = {
    "browse": 52,
    "search": 8,
    "api_read": 16,
    "member_page": 14,
    "score_api": 5,
    "score_page": 2,
    "upload_api": 0.7,
    "upload_page": 0.5,
    # The community, through the API: a thread read and written to, saves, follows, and the
    # feed, notifications, threads and saved creations read.
    "comment_api": 3,
    "favourite_api": 3,
    "follow_api": 1.5,
    "community_read": 8,
}
# Anonymous pages by how often visitors open them; the anonymous page cache serves them all,
# saying so in X-Page-Cache.
PAGE_WEIGHTS = {
    "home": 20,
    "top": 8,
    "trending": 6,
    "page2": 6,
    "tags": 6,
    "tag": 10,
    "parts": 5,
    "part": 6,
    "profile": 8,
    "detail": 25,
}
DOUBLE_SCORE_SHARE = 0.25  # of score PUTs sent twice at once
DOUBLE_UPLOAD_SHARE = 0.35  # of uploads (API and page) sent twice at once
UPLOADS_PER_MINUTE = 2  # at most, per member: far below the 20/hour limit
# Comments, replies and edits in any 60 s, per member: far below the 10/minute limit (so a 429
# would be the limiter miscounting; it is still a refusal, not a failure, as for scores).
COMMENTS_PER_MINUTE = 4
DOUBLE_SAVE_SHARE = 0.25  # of favourite and follow PUTs and DELETEs sent twice at once
COMMENT_LINES = [
    "Nice part usage!",
    "How is that attached? A clip on a bar holder?",
    "The colours work really well together.",
    "Stealing this trick for my next build.",
    "Which set did those pieces come from?",
    "Looks sturdy enough to swoosh.",
    "Très joli — the curve is perfect.",
]
# How the site reads `@username` mentions (community.text), to know who should hear of one.
MENTION_RE = re.compile(r"(?<![\w@.+-])@([\w.@+-]{1,150})")
MAX_MENTIONS = 10
# What each community request may be answered, outside outage windows (favourite and follow
# PUTs are also held to 201 for new, 200 for known; a reply's 400 only when its parent is gone).
COMMUNITY_STATUSES = {
    "comment": {201, 429},
    "reply": {201, 400, 429},
    "comment_edit": {200, 429},
    "comment_delete": {204},
    "favourite_put": {200, 201},
    "favourite_delete": {204},
    "follow_member_put": {200, 201},
    "follow_member_delete": {204},
    "follow_tag_put": {200, 201},
    "follow_tag_delete": {204},
    "comments_read": {200},
    "feed_read": {200},
    "notifications_read": {200},
    "notifications_mark_read": {200},
    "saved_read": {200},
}
THINK_SECONDS = (0.3, 1.5)


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: stop the members, stop gunicorn, report what there is."""


# Command line ---------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated members (threads)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice")
    parser.add_argument("--max-requests", type=int, default=20_000, help="hard cap on requests")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn WEB_CONCURRENCY")
    parser.add_argument("--timeout", type=float, default=15, help="seconds per HTTP call")
    parser.add_argument(
        "--database-url",
        help=f"PostgreSQL database to DROP and re-create (default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--redis-url", help=f"Redis database to flush ({DEFAULT_REDIS_URL})")
    parser.add_argument("--outages", type=Path, help="JSON lines of outage windows (faults.sh)")
    parser.add_argument("--report", type=Path, help="also write the figures here as JSON")
    parser.add_argument(
        "--ready-file",
        type=Path,
        help="made when the load starts, removed when it ends (faults.sh times its faults by it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration <= 0 or args.max_requests < 1 or args.workers < 1:
        parser.error("--users, --duration, --max-requests and --workers must be positive")
    if args.users > 250:
        parser.error("--users: at most 250 (each has its own 10.0.x.y address and thread)")
    try:
        args.database_url = checked_database_url(args.database_url)
        args.redis_url = checked_redis_url(args.redis_url)
    except ValueError as error:
        parser.error(str(error))
    return args


def checked_database_url(given: str | None) -> str:
    """The database to drop: on this machine, never a maintenance database, and named
    npu_loadtest unless the caller named another one explicitly."""
    url = given or DEFAULT_DATABASE_URL
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError("--database-url must be a postgres:// URL")
    if not is_loopback(parts.hostname):
        raise ValueError(f"refusing to drop a database on {parts.hostname!r}: loopback only")
    if not name or name in PROTECTED_DATABASES:
        raise ValueError(f"refusing to drop database {name!r}")
    if given is None and name != DEFAULT_DATABASE_NAME:
        raise ValueError(f"refusing database {name!r} without an explicit --database-url")
    return url


def checked_redis_url(given: str | None) -> str:
    return serving.checked_redis_url(given or DEFAULT_REDIS_URL)


# Setting up the world -------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def redis_flush(url: str) -> None:
    """Empty the run's own Redis database (the URL's number), nothing else."""
    redis.Redis.from_url(url, socket_timeout=5).flushdb()


# Made in a `manage.py shell` with the run's settings: one password hash shared by every load
# member (hashing it fifty times would cost half a minute), a token each.
MEMBERS_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from accounts.services import api_token_get_or_create
User = get_user_model()
hashed = make_password({password!r})
members = []
for number in range(1, {count} + 1):
    name = f"load{{number:03d}}"
    user = User.objects.create_user(username=name, email=f"{{name}}@loadtest.npu.invalid")
    user.password = hashed
    user.trusted = True  # load members' uploads skip the review of first uploads
    user.save(update_fields=["password", "trusted"])
    token = api_token_get_or_create(user=user)
    members.append({{"username": name, "id": user.pk, "token": token.key}})
print("LOAD-MEMBERS " + json.dumps(members))
"""


@dataclass
class Account:
    username: str
    id: int
    token: str
    address: str  # its X-Forwarded-For address


@dataclass
class World:
    accounts: list[Account]
    creations: list[tuple[int, str]]  # published (id, owner username)
    tag_names: list[str]
    tag_slugs: list[str]
    part_numbers: list[str]
    profiles: list[str]
    has_upload_key: bool


def build_world(args, env: dict) -> World:
    recreate_database(args.database_url)
    # Empty before the seeding too: a cache left by an earlier run must not meet this one.
    redis_flush(args.redis_url)
    manage(env, "migrate", "--noinput", "-v0")
    # Production mode serves hashed static files from the manifest: collect them first.
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "seed_demo", "--force", "-v0", extra_env={"NPU_DEMO": "1"})
    output = manage(
        env, "shell", "-c", MEMBERS_SCRIPT.format(password=LOAD_PASSWORD, count=args.users)
    )
    line = next((line for line in output.splitlines() if line.startswith("LOAD-MEMBERS ")), None)
    if line is None:
        raise RuntimeError(f"the load members were not made:\n{output[-2000:]}")
    accounts = [
        Account(
            username=member["username"],
            id=member["id"],
            token=member["token"],
            address=f"10.0.{number // 250}.{number % 250 + 1}",
        )
        for number, member in enumerate(json.loads(line.removeprefix("LOAD-MEMBERS ")))
    ]
    with psycopg.connect(args.database_url) as connection:
        creations = connection.execute(
            "SELECT c.id, u.username FROM creations_creation c"
            " JOIN accounts_user u ON u.id = c.owner_id"
            " WHERE c.status = 'published' ORDER BY c.id"
        ).fetchall()
        tags = connection.execute(
            "SELECT DISTINCT t.name, t.slug FROM taggit_tag t"
            " JOIN taggit_taggeditem i ON i.tag_id = t.id"
            " JOIN creations_creation c ON c.id = i.object_id AND c.status = 'published'"
            " ORDER BY t.slug"
        ).fetchall()
        parts = connection.execute(
            "SELECT DISTINCT p.part_id FROM creations_creation_parts p"
            " JOIN creations_creation c ON c.id = p.creation_id AND c.status = 'published'"
            " ORDER BY 1"
        ).fetchall()
        has_upload_key = bool(
            connection.execute(
                "SELECT 1 FROM information_schema.columns"
                " WHERE table_name = 'creations_creation' AND column_name = 'upload_key'"
            ).fetchone()
        )
    redis_flush(args.redis_url)
    return World(
        accounts=accounts,
        creations=[(row[0], row[1]) for row in creations],
        tag_names=[row[0] for row in tags],
        tag_slugs=[row[1] for row in tags],
        part_numbers=[row[0] for row in parts],
        profiles=sorted({owner for _, owner in creations}),
        has_upload_key=has_upload_key,
    )


# HTTP -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Record:
    kind: str
    method: str
    template: str
    status: int | None
    error: str | None
    start_mono: float
    end_mono: float
    start_wall: float
    end_wall: float
    request_id: str
    member: str | None = None
    page_kind: str | None = None
    page_cache: str | None = None
    retry_after: bool = False
    traceback: bool = False
    excerpt: str | None = None  # what an error answer said, for the report
    action: str | None = None  # a community request's action (COMMUNITY_STATUSES)

    @property
    def latency(self) -> float:
        return self.end_mono - self.start_mono


@dataclass
class Response:
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes
    record: Record

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    def cookies(self) -> list[str]:
        return [value for key, value in self.headers if key.lower() == "set-cookie"]

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Client:
    """Sends one request a connection (gunicorn's sync workers close every connection) and
    records every one of them; refuses once the request budget is spent."""

    def __init__(self, port: int, timeout: float, max_requests: int, stop: threading.Event):
        self.port = port
        self.timeout = timeout
        self.records: list[Record] = []
        self.stop = stop
        self._left = max_requests
        self._lock = threading.Lock()

    def _take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                self.stop.set()
                return False
            self._left -= 1
            return True

    def send(
        self,
        kind: str,
        method: str,
        path: str,
        template: str,
        *,
        address: str,
        headers: dict | None = None,
        body: bytes | None = None,
        member: str | None = None,
        page_kind: str | None = None,
        action: str | None = None,
        record: bool = True,
        timeout: float | None = None,
    ) -> Response | None:
        if record and not self._take():
            return None
        request_id = "lt-" + uuid.uuid4().hex
        all_headers = {
            "X-Forwarded-For": address,
            "X-Request-ID": request_id,
            "User-Agent": "npu-loadtest",
            "Connection": "close",
            **(headers or {}),
        }
        status, error, response_headers, data = None, None, [], b""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout or self.timeout
        )
        start_wall, start_mono = time.time(), time.monotonic()
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
            status, response_headers = response.status, response.getheaders()
        except (OSError, http.client.HTTPException) as exception:
            error = type(exception).__name__
        finally:
            connection.close()
        end_mono, end_wall = time.monotonic(), time.time()
        entry = Record(
            kind=kind,
            method=method,
            template=template,
            status=status,
            error=error,
            start_mono=start_mono,
            end_mono=end_mono,
            start_wall=start_wall,
            end_wall=end_wall,
            request_id=request_id,
            member=member,
            page_kind=page_kind,
            action=action,
        )
        result = Response(status, response_headers, data, entry)
        entry.page_cache = result.header("X-Page-Cache")
        entry.retry_after = result.header("Retry-After") is not None
        entry.traceback = any(marker in data for marker in TRACEBACK_MARKERS)
        shown_again = (
            method == "POST" and status == 200 and "html" in (result.header("Content-Type") or "")
        )
        if status is not None and (status >= 400 or shown_again):
            entry.excerpt = excerpt(data)  # an error, or a form shown again with its errors
        if record:
            self.records.append(entry)  # list.append is atomic: no lock needed
        return result


def excerpt(body: bytes) -> str:
    """A JSON error's text, or an HTML page's title and first error message."""
    text = body[:20000].decode("utf-8", "replace")
    if text.lstrip().startswith(("{", "[")):
        return " ".join(text.split())[:200]
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    error = re.search(r'class="(?:form-errors|errorlist)[^"]*"[^>]*>(.*?)</(?:div|ul)>', text, re.S)
    parts = [
        title.group(1) if title else "",
        re.sub(r"<[^>]+>", " ", error.group(1)) if error else "",
    ]
    return " ".join(" ".join(parts).split())[:200]


def multipart(fields: dict[str, str], image: bytes, filename: str) -> tuple[bytes, str]:
    boundary = "npu-load-" + uuid.uuid4().hex
    chunks = []
    for name, value in fields.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"'
        "\r\nContent-Type: image/png\r\n\r\n".encode()
    )
    chunks.append(image + f"\r\n--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def png_picture(rng: random.Random) -> bytes:
    """A PNG of a few hundred pixels: coloured blocks on a ground, different every time, so
    no two uploads look alike to the site's perceptual hash."""
    width, height = rng.randint(320, 560), rng.randint(240, 420)
    ground = bytes(rng.randrange(256) for _ in range(3))
    rows = [bytearray(ground * width) for _ in range(height)]
    for _ in range(rng.randint(6, 14)):
        colour = bytes(rng.randrange(256) for _ in range(3))
        x0, y0 = rng.randrange(width - 20), rng.randrange(height - 20)
        x1, y1 = rng.randint(x0 + 10, width), rng.randint(y0 + 10, height)
        for row in rows[y0:y1]:
            row[x0 * 3 : x1 * 3] = colour * (x1 - x0)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def form_value(page: bytes, name: str) -> str | None:
    """The value of the form field `name` (a hidden input) on an HTML page."""
    tag = re.search(rb'<input[^>]*\bname="' + re.escape(name.encode()) + rb'"[^>]*>', page)
    if not tag:
        return None
    value = re.search(rb'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1).decode() if value else None


# The simulated members -----------------------------------------------------------------------


@dataclass
class Write:
    """One write a member sent: a score, an upload, a comment, a favourite or a follow, and
    whether the site acknowledged it."""

    kind: str  # "score", "upload", "comment", "favourite" or "follow"
    member: str
    sequence: int  # the member's own order of writes
    via: str  # "api" or "page"
    acknowledged: bool
    uncertain: bool  # no answer or a 5xx: it may or may not have been applied
    creation_id: int | None = None
    values: tuple[int, int] | None = None
    key: str | None = None
    title: str | None = None
    double: int | None = None  # the id of the double submission it was part of
    status: int | None = None
    wall: float = 0.0
    # Community writes: the action (COMMUNITY_STATUSES), what it was on, and what it said.
    action: str | None = None
    target: str | None = None  # a follow's "user:<username>" or "tag:<slug>"
    comment_id: int | None = None
    parent_id: int | None = None
    body: str | None = None
    before: bool | None = None  # saved or followed already, as far as the member knew
    count: int | None = None  # the favourite_count a save answered
    request_id: str | None = None


@dataclass
class Shared:
    """What the members share: the creations to visit and score, and the writes' log."""

    world: World
    creations: list[tuple[int, str]]
    writes: list[Write] = field(default_factory=list)
    oversleep: list[float] = field(default_factory=list)
    logins: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    doubles: int = 0
    deadline: float = 0.0  # monotonic end of the load, set when it starts

    def creation_ids(self) -> list[tuple[int, str]]:
        with self.lock:
            return list(self.creations)

    def add_creation(self, creation_id: int, owner: str) -> None:
        with self.lock:
            if all(creation_id != known for known, _ in self.creations):
                self.creations.append((creation_id, owner))

    def next_double(self) -> int:
        with self.lock:
            self.doubles += 1
            return self.doubles


def acknowledged_status(status: int | None) -> bool:
    """An API write the site said it made (pages acknowledge with a redirect instead)."""
    return status is not None and 200 <= status < 300


def uncertain_status(status: int | None) -> bool:
    return status is None or status >= 500


class Member(threading.Thread):
    def __init__(self, number, account, client, shared, args, run_tag, go, stop):
        super().__init__(name=account.username, daemon=True)
        self.account = account
        self.client = client
        self.shared = shared
        self.args = args
        self.run_tag = run_tag
        self.go = go
        self.stop = stop
        self.ready = threading.Event()  # logged in (or tried to): the warm-up is over for it
        self.rng = random.Random(f"{args.seed}-{number}")
        self.cookies: dict[str, str] = {}
        self.logged_in = False
        self.own: set[int] = set()
        self.scored: list[int] = []
        self.sequence = 0
        self.uploads = 0
        self.upload_cap = max(1, int(UPLOADS_PER_MINUTE * args.duration / 60))
        # What the member saved and follows as far as it knows (None: a write went unanswered),
        # its own live comments, and when it last wrote one (the comment limit).
        self.saved: dict[int, bool | None] = {}
        self.following: dict[str, bool | None] = {}
        self.comments: dict[int, dict] = {}
        self.comment_times: list[float] = []
        self.comment_number = 0
        self.error: BaseException | None = None

    # Plumbing

    def running(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.shared.deadline

    def pause(self, seconds: float) -> None:
        began = time.monotonic()
        if not self.stop.wait(seconds):
            # How late the thread woke: if the driver is starved of CPU, this grows.
            self.shared.oversleep.append(time.monotonic() - began - seconds)

    def send(self, kind, method, path, template, **kwargs) -> Response | None:
        return self.client.send(
            kind,
            method,
            path,
            template,
            address=self.account.address,
            member=self.account.username,
            **kwargs,
        )

    def with_session(self, kind, method, path, template, **kwargs) -> Response | None:
        headers = kwargs.pop("headers", {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.send(kind, method, path, template, headers=headers, **kwargs)
        if response is not None:
            self.keep_cookies(response)
        return response

    def keep_cookies(self, response: Response) -> None:
        for header in response.cookies():
            jar = http.cookies.SimpleCookie()
            try:
                jar.load(header)
            except http.cookies.CookieError:
                continue
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def token_headers(self) -> dict:
        return {"Authorization": f"Token {self.account.token}"}

    def pick_creation(self, *, scorable: bool = False) -> int | None:
        choices = [
            creation_id
            for creation_id, owner in self.shared.creation_ids()
            if not scorable or (owner != self.account.username and creation_id not in self.own)
        ]
        return self.rng.choice(choices) if choices else None

    def log_write(self, write: Write) -> None:
        with self.shared.lock:
            self.shared.writes.append(write)

    def once_or_twice(self, send_one, share: float) -> tuple[list[Response | None], int | None]:
        """Send a write once, or (with probability `share`) twice at once; return the answers
        and, for a pair, the number that groups them."""
        double = self.rng.random() < share
        responses = self.twice(send_one) if double else [send_one()]
        group = self.shared.next_double() if double else None
        self.sequence += 1
        return responses, group

    def twice(self, send_one) -> list[Response | None]:
        """Send the same request from two threads at once (a double click, a retry)."""
        results: list[Response | None] = [None, None]
        barrier = threading.Barrier(2)

        def one(position: int) -> None:
            try:
                barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass
            results[position] = send_one()

        threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=self.args.timeout * 2 + 10)
        return results

    # The member's life

    def run(self) -> None:
        try:
            # Warm-up: every member logs in once before the measured load begins, so the
            # password hashing of fifty log-ins does not crowd the first seconds of it.
            try:
                self.log_in()
            finally:
                self.ready.set()
            while not self.go.wait(0.2):
                if self.stop.is_set():
                    return
            # Members start out of step, as people do.
            self.pause(self.rng.uniform(0, THINK_SECONDS[1]))
            actions = list(ACTION_WEIGHTS)
            weights = list(ACTION_WEIGHTS.values())
            while self.running():
                action = self.rng.choices(actions, weights)[0]
                if action.startswith("upload") and self.uploads >= self.upload_cap:
                    action = "browse"
                getattr(self, action)()
                self.pause(self.rng.uniform(*THINK_SECONDS))
        except BaseException as error:  # reported, never swallowed: a driver bug fails the run
            self.error = error

    def log_in(self) -> None:
        self.cookies = {}
        page = self.with_session("login", "GET", "/accounts/login/", "/accounts/login/")
        if page is None or page.status != 200:
            self.shared.logins["form failed"] += 1
            return
        token = form_value(page.body, "csrfmiddlewaretoken")
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token or "",
                "username": self.account.username,
                "password": LOAD_PASSWORD,
            }
        ).encode()
        response = self.with_session(
            "login",
            "POST",
            "/accounts/login/",
            "/accounts/login/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.logged_in = bool(
            response is not None and response.status == 302 and "sessionid" in self.cookies
        )
        self.shared.logins["ok" if self.logged_in else "failed"] += 1

    def browse(self) -> None:
        kind = self.rng.choices(list(PAGE_WEIGHTS), list(PAGE_WEIGHTS.values()))[0]
        world = self.shared.world
        if kind == "home":
            path, template = "/", "/"
        elif kind == "top":
            path, template = "/?sort=top", "/?sort=top"
        elif kind == "trending":
            path, template = "/?sort=trending", "/?sort=trending"
        elif kind == "page2":
            path, template = "/?page=2", "/?page=2"
        elif kind == "tags":
            path, template = "/tags/", "/tags/"
        elif kind == "tag":
            path, template = f"/tags/{self.rng.choice(world.tag_slugs)}/", "/tags/{slug}/"
        elif kind == "parts":
            path, template = "/parts/", "/parts/"
        elif kind == "part":
            number = urllib.parse.quote(self.rng.choice(world.part_numbers))
            path, template = f"/parts/{number}/", "/parts/{part_num}/"
        elif kind == "profile":
            path, template = f"/u/{self.rng.choice(world.profiles)}/", "/u/{username}/"
        else:
            path, template = f"/creations/{self.pick_creation()}/", "/creations/{id}/"
        # Anonymous: no cookies at all, as a visitor the page cache serves.
        self.send("browse", "GET", path, template, page_kind=kind)

    def search(self) -> None:
        term = urllib.parse.quote_plus(self.rng.choice(SEARCH_TERMS))
        if self.rng.random() < 0.5:
            self.send("search", "GET", f"/?q={term}", "/?q={q}", page_kind="search")
        else:
            self.send("search", "GET", f"/api/v1/creations/?q={term}", "/api/v1/creations/?q=")

    def api_read(self) -> None:
        choice = self.rng.random()
        creation_id = self.pick_creation()
        if choice < 0.35:
            path, template = "/api/v1/creations/?ordering=top", "/api/v1/creations/?ordering=top"
        elif choice < 0.75:
            path, template = f"/api/v1/creations/{creation_id}/", "/api/v1/creations/{id}/"
        else:
            path = f"/api/v1/creations/{creation_id}/scores/"
            template = "/api/v1/creations/{id}/scores/"
        headers = self.token_headers() if self.rng.random() < 0.5 else {}
        if headers and template.endswith("/scores/"):
            # Blind scoring: a member reveals a creation's scores before reading them (a 403
            # otherwise, unless they scored it).
            self.send(
                "api_read",
                "POST",
                f"/api/v1/creations/{creation_id}/reveal/",
                "/api/v1/creations/{id}/reveal/",
                headers=headers,
            )
        self.send("api_read", "GET", path, template, headers=headers)

    def member_page(self) -> None:
        if not self.logged_in:
            self.log_in()
            return
        if self.rng.random() < 0.4:
            self.with_session("member_page", "GET", "/", "/")
        else:
            creation_id = self.pick_creation()
            self.with_session(
                "member_page", "GET", f"/creations/{creation_id}/", "/creations/{id}/"
            )

    def score_target(self) -> int | None:
        # Now and then a member changes an earlier score: the last value sent must win.
        if self.scored and self.rng.random() < 0.2:
            return self.rng.choice(self.scored)
        return self.pick_creation(scorable=True)

    def score_api(self) -> None:
        creation_id = self.score_target()
        if creation_id is None:
            return
        values = (self.rng.randint(1, 5), self.rng.randint(1, 5))
        body = json.dumps({"creativity": values[0], "uniqueness": values[1]}).encode()
        headers = {**self.token_headers(), "Content-Type": "application/json"}
        path = f"/api/v1/creations/{creation_id}/my-score/"

        def send_one():
            return self.send(
                "score_api",
                "PUT",
                path,
                "/api/v1/creations/{id}/my-score/",
                body=body,
                headers=dict(headers),
            )

        responses, group = self.once_or_twice(send_one, DOUBLE_SCORE_SHARE)
        for response in responses:
            if response is None:
                continue
            self.log_write(
                Write(
                    kind="score",
                    member=self.account.username,
                    sequence=self.sequence,
                    via="api",
                    acknowledged=acknowledged_status(response.status),
                    uncertain=uncertain_status(response.status),
                    creation_id=creation_id,
                    values=values,
                    double=group,
                    status=response.status,
                    wall=response.record.end_wall,
                )
            )
        self.scored.append(creation_id)

    def score_page(self) -> None:
        if not self.logged_in:
            self.log_in()
            return
        creation_id = self.score_target()
        if creation_id is None:
            return
        page = self.with_session(
            "member_page", "GET", f"/creations/{creation_id}/", "/creations/{id}/"
        )
        token = form_value(page.body, "csrfmiddlewaretoken") if page else None
        if page is None or page.status != 200 or not token:
            return
        values = (self.rng.randint(1, 5), self.rng.randint(1, 5))
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "creativity": values[0], "uniqueness": values[1]}
        ).encode()
        response = self.with_session(
            "score_page",
            "POST",
            f"/creations/{creation_id}/score/",
            "/creations/{id}/score/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response is None:
            return
        self.sequence += 1
        location = response.header("Location") or ""
        # Saved: back to the creation's page. A redirect to the log-in page saved nothing.
        landed = response.status == 302 and location.startswith(f"/creations/{creation_id}/")
        self.log_write(
            Write(
                kind="score",
                member=self.account.username,
                sequence=self.sequence,
                via="page",
                acknowledged=landed,
                uncertain=uncertain_status(response.status),
                creation_id=creation_id,
                values=values,
                status=response.status,
                wall=response.record.end_wall,
            )
        )
        self.scored.append(creation_id)
        if landed:
            # The page the form lands on, with its "score saved" message.
            self.with_session("member_page", "GET", location.split("#")[0], "/creations/{id}/")

    def upload_fields(self) -> tuple[dict, str]:
        self.uploads += 1
        title = f"Load {self.run_tag} {self.account.username} upload {self.uploads}"
        tags = self.rng.sample(self.shared.world.tag_names, k=self.rng.randint(1, 3))
        fields = {
            "title": title,
            "description": "Uploaded by the load test.",
            "alt_text": "Coloured blocks on a plain ground.",
            "tags": ", ".join(tags),
        }
        if self.shared.world.part_numbers and self.rng.random() < 0.5:
            fields["parts"] = self.rng.choice(self.shared.world.part_numbers)
        return fields, title

    def record_upload(self, response, *, via, key, title, group) -> None:
        creation_id = None
        if via == "api" and response.status in (200, 201):
            creation_id = (response.json() or {}).get("id")
        elif via == "page" and response.status == 302:
            found = re.match(r"^/creations/(\d+)/", response.header("Location") or "")
            creation_id = int(found.group(1)) if found else None
        acknowledged = creation_id is not None
        self.log_write(
            Write(
                kind="upload",
                member=self.account.username,
                sequence=self.sequence,
                via=via,
                acknowledged=acknowledged,
                uncertain=uncertain_status(response.status),
                creation_id=creation_id,
                key=key,
                title=title,
                double=group,
                status=response.status,
                wall=response.record.end_wall,
            )
        )
        if acknowledged:
            self.own.add(creation_id)
            self.shared.add_creation(creation_id, self.account.username)

    def upload_api(self) -> None:
        fields, title = self.upload_fields()
        key = uuid.uuid4().hex
        body, content_type = multipart(fields, png_picture(self.rng), f"{key}.png")
        headers = {
            **self.token_headers(),
            "Content-Type": content_type,
            "Idempotency-Key": key,
        }

        def send_one():
            return self.send(
                "upload_api",
                "POST",
                "/api/v1/creations/",
                "/api/v1/creations/",
                body=body,
                headers=dict(headers),
            )

        responses, group = self.once_or_twice(send_one, DOUBLE_UPLOAD_SHARE)
        for response in responses:
            if response is not None:
                self.record_upload(response, via="api", key=key, title=title, group=group)

    def upload_page(self) -> None:
        if not self.logged_in:
            self.log_in()
            return
        form = self.with_session("member_page", "GET", "/creations/new/", "/creations/new/")
        token = form_value(form.body, "csrfmiddlewaretoken") if form else None
        if form is None or form.status != 200 or not token:
            return
        fields, title = self.upload_fields()
        # The form's own key, posted back as given; none yet if the form does not offer one.
        key = form_value(form.body, "upload_key")
        extra = {"upload_key": key} if key is not None else {}
        body, content_type = multipart(
            {"csrfmiddlewaretoken": token, **fields, **extra},
            png_picture(self.rng),
            f"photo-{self.uploads}.png",
        )
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())

        def send_one():
            return self.send(
                "upload_page",
                "POST",
                "/creations/new/",
                "/creations/new/",
                body=body,
                headers={"Content-Type": content_type, "Cookie": cookie},
            )

        responses, group = self.once_or_twice(send_one, DOUBLE_UPLOAD_SHARE)
        for response in responses:
            if response is None:
                continue
            self.keep_cookies(response)
            self.record_upload(response, via="page", key=key or title, title=title, group=group)
        landed = next(
            (r for r in responses if r is not None and r.status == 302),
            None,
        )
        location = landed.header("Location") if landed else None
        if location and location.startswith("/creations/"):
            self.with_session("member_page", "GET", location.split("#")[0], "/creations/{id}/")

    # The community, through the API

    def api_send(self, kind, method, path, template, action, payload=None) -> Response | None:
        headers = self.token_headers()
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        return self.send(kind, method, path, template, body=body, headers=headers, action=action)

    def comment_allowed(self) -> bool:
        now = time.monotonic()
        self.comment_times = [t for t in self.comment_times if now - t < 60]
        return len(self.comment_times) < COMMENTS_PER_MINUTE

    def comment_body(self) -> tuple[str, str]:
        """A comment's text, with a key that is the member's own (found again in the
        database), now and then a mention of another member, and now and then a line break."""
        self.comment_number += 1
        key = f"[lt {self.run_tag} {self.account.username} c{self.comment_number}]"
        mention = ""
        if self.rng.random() < 0.3:
            world = self.shared.world
            others = [a.username for a in world.accounts if a.username != self.account.username]
            mention = f"@{self.rng.choice(others + world.profiles)} "
        gap = "\n" if self.rng.random() < 0.3 else " "
        return f"{mention}{self.rng.choice(COMMENT_LINES)}{gap}{key}", key

    def comment_write(self, response, *, action, creation_id, key, body, **fields) -> bool:
        """Log a comment write; returns whether the site acknowledged it."""
        expected = {"comment": 201, "reply": 201, "comment_edit": 200, "comment_delete": 204}
        acknowledged = response.status == expected[action]
        self.sequence += 1
        self.log_write(
            Write(
                kind="comment",
                member=self.account.username,
                sequence=self.sequence,
                via="api",
                acknowledged=acknowledged,
                uncertain=uncertain_status(response.status),
                creation_id=creation_id,
                key=key,
                status=response.status,
                wall=response.record.end_wall,
                action=action,
                body=body,
                request_id=response.record.request_id,
                **fields,
            )
        )
        return acknowledged

    def comment_api(self) -> None:
        """Read a creation's thread, then comment on it, reply to one of its comments, or edit
        or delete one of one's own comments."""
        creation_id = self.pick_creation()
        if creation_id is None:
            return
        template = "/api/v1/creations/{id}/comments/"
        path = f"/api/v1/creations/{creation_id}/comments/"
        thread = self.api_send("community_read", "GET", path, template, "comments_read")
        choice = self.rng.random()
        if self.comments and choice < 0.08:
            self.comment_delete()
            return
        if not self.comment_allowed():
            return
        if self.comments and choice < 0.18:
            self.comment_edit()
            return
        page = thread.json() if thread is not None and thread.status == 200 else None
        results = page.get("results", []) if isinstance(page, dict) else []
        parents = [
            item["id"]
            for item in results
            if isinstance(item, dict) and item.get("parent") is None and not item.get("is_deleted")
        ]
        parent = self.rng.choice(parents) if parents and self.rng.random() < 0.45 else None
        body, key = self.comment_body()
        payload = {"body": body} if parent is None else {"body": body, "parent": parent}
        action = "comment" if parent is None else "reply"
        self.comment_times.append(time.monotonic())
        response = self.api_send("comment_api", "POST", path, template, action, payload)
        if response is None:
            return
        answer = response.json() if response.status == 201 else None
        comment_id = answer.get("id") if isinstance(answer, dict) else None
        acknowledged = self.comment_write(
            response,
            action=action,
            creation_id=creation_id,
            key=key,
            body=body,
            comment_id=comment_id if type(comment_id) is int else None,
            parent_id=parent,
        )
        if acknowledged and type(comment_id) is int:
            self.comments[comment_id] = {"creation": creation_id, "first": body, "key": key}

    def comment_edit(self) -> None:
        comment_id = self.rng.choice(sorted(self.comments))
        own = self.comments[comment_id]
        own["edits"] = own.get("edits", 0) + 1
        body = f"{own['first']}\nEdited {own['edits']}: better photo coming."
        self.comment_times.append(time.monotonic())
        response = self.api_send(
            "comment_api",
            "PATCH",
            f"/api/v1/comments/{comment_id}/",
            "/api/v1/comments/{id}/",
            "comment_edit",
            {"body": body},
        )
        if response is not None:
            self.comment_write(
                response,
                action="comment_edit",
                creation_id=own["creation"],
                key=own["key"],
                body=body,
                comment_id=comment_id,
            )

    def comment_delete(self) -> None:
        comment_id = self.rng.choice(sorted(self.comments))
        own = self.comments.pop(comment_id)  # deleted, or possibly: never touched again
        response = self.api_send(
            "comment_api",
            "DELETE",
            f"/api/v1/comments/{comment_id}/",
            "/api/v1/comments/{id}/",
            "comment_delete",
        )
        if response is not None:
            self.comment_write(
                response,
                action="comment_delete",
                creation_id=own["creation"],
                key=own["key"],
                body=None,
                comment_id=comment_id,
            )

    def toggle(self, kind, state: dict, key, send_one, **fields) -> None:
        """A save or a follow (PUT) or its undoing (DELETE), once or twice at once: log it
        with what the member knew before, and keep what it knows after."""
        before = state.get(key, False)  # load members start with neither
        responses, group = self.once_or_twice(send_one, DOUBLE_SAVE_SHARE)
        answered = [response for response in responses if response is not None]
        for response in answered:
            answer = response.json() if acknowledged_status(response.status) else None
            count = answer.get("favourite_count") if isinstance(answer, dict) else None
            self.log_write(
                Write(
                    kind=kind,
                    member=self.account.username,
                    sequence=self.sequence,
                    via="api",
                    acknowledged=acknowledged_status(response.status),
                    uncertain=uncertain_status(response.status),
                    double=group,
                    status=response.status,
                    wall=response.record.end_wall,
                    action=response.record.action,
                    before=before,
                    count=count if type(count) is int else None,
                    request_id=response.record.request_id,
                    **fields,
                )
            )
        put = bool(answered) and answered[0].record.method == "PUT"
        if any(acknowledged_status(r.status) for r in answered):
            state[key] = put
        elif any(uncertain_status(r.status) for r in answered):
            state[key] = None

    def favourite_api(self) -> None:
        saved = sorted(creation_id for creation_id, on in self.saved.items() if on)
        if saved and self.rng.random() < 0.4:
            creation_id, method = self.rng.choice(saved), "DELETE"
        else:
            creation_id, method = self.pick_creation(), "PUT"
        if creation_id is None:
            return
        path = f"/api/v1/creations/{creation_id}/favourite/"
        action = f"favourite_{method.lower()}"

        def send_one():
            return self.api_send(
                "favourite_api", method, path, "/api/v1/creations/{id}/favourite/", action
            )

        self.toggle("favourite", self.saved, creation_id, send_one, creation_id=creation_id)

    def follow_api(self) -> None:
        following = sorted(target for target, on in self.following.items() if on)
        world = self.shared.world
        if following and self.rng.random() < 0.35:
            target, method = self.rng.choice(following), "DELETE"
        elif self.rng.random() < 0.5:
            others = [a.username for a in world.accounts if a.username != self.account.username]
            target, method = f"user:{self.rng.choice(others + world.profiles)}", "PUT"
        else:
            target, method = f"tag:{self.rng.choice(world.tag_slugs)}", "PUT"
        what, name = target.split(":", 1)
        if what == "user":
            path = f"/api/v1/users/{urllib.parse.quote(name)}/follow/"
            template, action = "/api/v1/users/{username}/follow/", f"follow_member_{method}"
        else:
            path = f"/api/v1/tags/{urllib.parse.quote(name)}/follow/"
            template, action = "/api/v1/tags/{slug}/follow/", f"follow_tag_{method}"
        action = action.lower()

        def send_one():
            return self.api_send("follow_api", method, path, template, action)

        self.toggle("follow", self.following, target, send_one, target=target)

    def community_read(self) -> None:
        choice = self.rng.random()
        if choice < 0.3:
            self.api_send("community_read", "GET", "/api/v1/feed/", "/api/v1/feed/", "feed_read")
        elif choice < 0.55:
            path = "/api/v1/notifications/"
            self.api_send("community_read", "GET", path, path, "notifications_read")
            if self.rng.random() < 0.25:
                path = "/api/v1/notifications/read/"
                self.api_send("community_read", "POST", path, path, "notifications_mark_read", {})
        elif choice < 0.85:
            creation_id = self.pick_creation()
            path = f"/api/v1/creations/{creation_id}/comments/"
            template = "/api/v1/creations/{id}/comments/"
            if self.rng.random() < 0.5:
                self.api_send("community_read", "GET", path, template, "comments_read")
            else:  # anonymous, as a visitor reads a thread
                self.send("community_read", "GET", path, template, action="comments_read")
        else:
            path = "/api/v1/users/me/favourites/"
            self.api_send("community_read", "GET", path, path, "saved_read")


# Readiness monitor ----------------------------------------------------------------------------


@dataclass(slots=True)
class Probe:
    start_wall: float
    end_wall: float
    status: int | None
    checks: dict


class Monitor(threading.Thread):
    """Polls /readyz every quarter second, to time each dependency's recovery."""

    def __init__(self, client: Client, done: threading.Event):
        super().__init__(name="readyz-monitor", daemon=True)
        self.client = client
        self.done = done
        self.probes: list[Probe] = []

    def run(self) -> None:
        while not self.done.is_set():
            began = time.monotonic()
            response = self.client.send(
                "readyz",
                "GET",
                "/readyz",
                "/readyz",
                address="10.255.0.1",
                record=False,
                timeout=5,
            )
            payload = response.json() if response and response.status else None
            self.probes.append(
                Probe(
                    start_wall=response.record.start_wall,
                    end_wall=response.record.end_wall,
                    status=response.status,
                    checks=(payload or {}).get("checks", {}) if isinstance(payload, dict) else {},
                )
            )
            self.done.wait(max(0.0, 0.25 - (time.monotonic() - began)))


# Measuring the machine -------------------------------------------------------------------------


TICKS = os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of every core since boot, from /proc/stat."""
    try:
        fields = [float(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the fields after the command's name


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children, the ones it already reaped included."""
    total = 0.0
    for candidate in [pid, *(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())]:
        fields = _stat(candidate)
        if fields is None or (candidate != pid and fields[1] != str(pid)):
            continue
        total += sum(int(value) for value in fields[11:15]) / TICKS  # utime stime cutime cstime
    return total


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# Judging --------------------------------------------------------------------------------------


def read_outages(path: Path | None, load_end: float) -> tuple[list[dict], list[str]]:
    if path is None:
        return [], []
    problems, outages = [], []
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        return [], [f"outages file {path} unreadable: {error}"]
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            outage = {
                "service": str(entry["service"]),
                "begin": float(entry["begin"]),
                "back": float(entry["back"]) if entry.get("back") is not None else None,
            }
        except (ValueError, KeyError, TypeError):
            problems.append(f"outages file line {number} unreadable: {line[:100]!r}")
            continue
        if outage["back"] is None:
            problems.append(f"{outage['service']} outage has no 'back' time: counted to the end")
            outage["back"] = load_end
        outages.append(outage)
    return outages, problems


def recoveries(outages, probes, records, load_end) -> list[dict]:
    """Each outage with its window: [begin, the later of back and readyz's first "ok" for the
    service's check after back]. Until then a 503 is the right answer."""
    judged = []
    for outage in outages:
        begin, back = outage["begin"], outage["back"]
        check = SERVICE_CHECKS.get(outage["service"], "database")
        ready = next(
            (p for p in probes if p.start_wall >= back and p.checks.get(check) == "ok"), None
        )
        served = [
            r.end_wall
            for r in records
            if r.template.startswith("/api/v1/creations/")
            and r.method == "GET"
            and r.status is not None
            and 200 <= r.status < 300
            and r.start_wall >= back
        ]
        readyz_seconds = ready.end_wall - back if ready else None
        first_success = min(served) - back if served else None
        judged.append(
            {
                **outage,
                "check": check,
                "down_seconds": round(back - begin, 3),
                "recovery_readyz_seconds": round(readyz_seconds, 3)
                if readyz_seconds is not None
                else None,
                "recovery_first_api_read_seconds": round(first_success, 3)
                if first_success is not None
                else None,
                "window": [begin, max(back, ready.end_wall) if ready else load_end],
                "recovered": ready is not None,
            }
        )
    return judged


def inside(record: Record, windows: list[list[float]]) -> bool:
    return any(record.start_wall <= end and record.end_wall >= begin for begin, end in windows)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def status_label(record: Record) -> str:
    return str(record.status) if record.status is not None else f"error:{record.error}"


def judge_requests(records: list[Record], windows) -> dict:
    outside_statuses, inside_statuses = Counter(), Counter()
    bad_inside, server_errors_outside, errors_outside, tracebacks = [], [], [], []
    # 4xx, and forms shown again: not failures of the site, but each says why (a driver bug
    # would show here).
    refusals = []
    for record in records:
        within = inside(record, windows)
        if record.status is not None and record.status < 500 and record.excerpt is not None:
            refusals.append(record)
        (inside_statuses if within else outside_statuses)[status_label(record)] += 1
        if record.traceback:
            tracebacks.append(record)
        if within:
            # gunicorn itself stays up through an outage: a dropped connection or a timeout is
            # a hung or killed worker, as wrong inside a window as outside it.
            if record.status is None:
                bad_inside.append(record)
            elif record.status >= 500:
                if record.status != 503 or not record.retry_after or record.traceback:
                    bad_inside.append(record)
        elif record.status is None:
            errors_outside.append(record)
        elif record.status >= 500:
            server_errors_outside.append(record)

    def examples(found: list[Record]) -> list[str]:
        return [
            f"{r.method} {r.template} -> {status_label(r)} at "
            f"{datetime.fromtimestamp(r.start_wall, UTC):%H:%M:%S.%f}"[:-3]
            + f" request_id={r.request_id}"
            + (f" {r.excerpt!r}" if r.excerpt else "")
            for r in found[:5]
        ]

    return {
        "statuses_outside_windows": dict(sorted(outside_statuses.items())),
        "statuses_inside_windows": dict(sorted(inside_statuses.items())),
        "server_errors_outside_windows": len(server_errors_outside),
        "connection_errors_outside_windows": len(errors_outside),
        "bad_answers_inside_windows": len(bad_inside),
        "traceback_bodies": len(tracebacks),
        "examples": {
            "server_errors_outside_windows": examples(server_errors_outside),
            "connection_errors_outside_windows": examples(errors_outside),
            "bad_answers_inside_windows": examples(bad_inside),
            "traceback_bodies": examples(tracebacks),
            "refusals_and_forms_shown_again": examples(refusals),
        },
    }


def latency_table(records: list[Record], key=lambda record: record.kind) -> dict:
    """Requests, statuses and latency per kind (or per what `key` says)."""
    by_kind = defaultdict(list)
    for record in records:
        if record.status is not None:
            by_kind[key(record)].append(record.latency)
    counts = Counter(key(record) for record in records)
    statuses = defaultdict(Counter)
    for record in records:
        statuses[key(record)][status_label(record)] += 1
    return {
        kind: {
            "requests": counts[kind],
            "statuses": dict(sorted(statuses[kind].items())),
            "median_ms": round(1000 * statistics.median(values), 1) if values else None,
            "p95_ms": round(1000 * percentile(values, 0.95), 1) if values else None,
        }
        for kind, values in sorted(by_kind.items(), key=lambda item: -counts[item[0]])
    }


def cache_rates(records: list[Record]) -> dict:
    hits, total = Counter(), Counter()
    other = Counter()
    for record in records:
        if record.page_kind is None or record.page_cache is None:
            continue
        if record.page_cache in ("hit", "miss"):
            total[record.page_kind] += 1
            hits[record.page_kind] += record.page_cache == "hit"
        else:
            other[record.page_cache] += 1
    answered = Counter(r.page_kind for r in records if r.page_kind and r.status is not None)
    per_kind = {
        kind: {
            "hits": hits[kind],
            "misses": total[kind] - hits[kind],
            "hit_rate": round(hits[kind] / total[kind], 3) if total[kind] else None,
            "answers_without_header": answered[kind] - total[kind],
        }
        for kind in sorted(answered)
    }
    overall = sum(total.values())
    return {
        "overall": round(sum(hits.values()) / overall, 3) if overall else None,
        "hits": sum(hits.values()),
        "with_header": overall,
        "other_header_values": dict(other),
        "per_page_kind": per_kind,
    }


def timeline(records: list[Record], start_wall: float, windows, step: float = 5.0) -> list[dict]:
    """Requests, failures and latency per `step` seconds of the run: where an outage, the
    log-in burst at the start or a slow spell shows."""
    buckets = defaultdict(list)
    for record in records:
        buckets[int((record.start_wall - start_wall) // step)].append(record)
    rows = []
    for number in sorted(buckets):
        found = buckets[number]
        latencies = [r.latency for r in found if r.status is not None]
        begin = start_wall + number * step
        rows.append(
            {
                "from_second": round(number * step),
                "requests": len(found),
                "5xx": sum(r.status is not None and r.status >= 500 for r in found),
                "connection_errors": sum(r.status is None for r in found),
                "median_ms": round(1000 * statistics.median(latencies)) if latencies else None,
                "p95_ms": round(1000 * percentile(latencies, 0.95)) if latencies else None,
                "in_outage": any(b <= begin + step and e >= begin for b, e in windows),
            }
        )
    return rows


def save_records(folder: Path, records: list[Record], writes: list[Write]) -> None:
    """Every request and every write, one JSON object a line, for a closer look."""
    with open(folder / "requests.jsonl", "w") as out:
        for record in records:
            row = {name: getattr(record, name) for name in Record.__slots__}
            out.write(json.dumps(row) + "\n")
    with open(folder / "writes.jsonl", "w") as out:
        for write in writes:
            out.write(json.dumps(write.__dict__) + "\n")


def server_times(log_path: Path, records: list[Record]) -> dict:
    """Gunicorn's own time per request (its access log, matched by request id), to tell time
    spent in the site from time spent queueing or in this driver."""
    pattern = re.compile(rb" (\d+)ms request_id=(lt-[0-9a-f]{32})")
    server = {}
    try:
        with open(log_path, "rb") as log:
            for line in log:
                found = pattern.search(line)
                if found:
                    server[found.group(2).decode()] = int(found.group(1)) / 1000
    except OSError:
        return {}
    gaps = [r.latency - server[r.request_id] for r in records if r.request_id in server]
    inside_server = [server[r.request_id] for r in records if r.request_id in server]
    if not gaps:
        return {}
    return {
        "matched": len(gaps),
        "server_median_ms": round(1000 * statistics.median(inside_server), 1),
        "server_p95_ms": round(1000 * percentile(inside_server, 0.95), 1),
        "outside_server_median_ms": round(1000 * statistics.median(gaps), 1),
        "outside_server_p95_ms": round(1000 * percentile(gaps, 0.95), 1),
    }


def log_findings(log_path: Path) -> dict:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return {}
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "worker_timeouts": text.count("WORKER TIMEOUT"),
        "error_lines": sum(" ERROR " in line for line in text.splitlines()),
    }


# Checking the database afterwards --------------------------------------------------------------


def verify(args, world: World, writes: list[Write], media_root: Path) -> dict:
    ids = {account.username: account.id for account in world.accounts}
    failures: list[str] = []
    with psycopg.connect(args.database_url, connect_timeout=10) as connection:
        rows = connection.execute(
            "SELECT id, owner_id, title, image, thumbnail, score_count, creativity_avg,"
            f" uniqueness_avg, rating, {'upload_key' if world.has_upload_key else 'NULL'}"
            " FROM creations_creation"
        ).fetchall()
        scores = connection.execute(
            "SELECT user_id, creation_id, creativity, uniqueness FROM scoring_score"
        ).fetchall()
    creations = {row[0]: row for row in rows}
    by_title = defaultdict(list)
    by_key = defaultdict(list)
    for row in rows:
        by_title[row[2]].append(row[0])
        if row[9]:
            by_key[(row[1], row[9])].append(row[0])

    # Uploads: every acknowledged one is there, and one key (or title) made one creation.
    uploads = [w for w in writes if w.kind == "upload"]
    attempts = defaultdict(list)
    for write in uploads:
        attempts[(write.member, write.key)].append(write)
    acknowledged_uploads = [w for w in uploads if w.acknowledged]
    for write in acknowledged_uploads:
        row = creations.get(write.creation_id)
        if row is None:
            failures.append(
                f"upload {write.title!r}: acknowledged creation {write.creation_id} is missing"
            )
        elif row[2] != write.title or row[1] != ids[write.member]:
            failures.append(
                f"upload {write.title!r}: creation {write.creation_id} has title {row[2]!r}"
                f" and owner {row[1]}, not {ids[write.member]}"
            )
    upload_doubles = 0
    for (member, key), sent in attempts.items():
        title = sent[0].title
        made = sorted(set(by_title.get(title, [])))
        if world.has_upload_key and key != title:
            made = sorted(set(made) | set(by_key.get((ids[member], key), [])))
        acknowledged = [w for w in sent if w.acknowledged]
        # Acknowledged: one creation. Refused outright (a 4xx, a form shown again): none.
        # Neither (no answer, a 5xx): it may have landed, once.
        refused = not acknowledged and not any(w.uncertain for w in sent)
        expected = "exactly one" if acknowledged else "none" if refused else "at most one"
        if len(made) > 1 or (acknowledged and len(made) != 1) or (refused and made):
            failures.append(
                f"upload key {key} ({sent[0].via}, {member}): {len(made)} creations {made},"
                f" expected {expected}"
            )
        returned = {w.creation_id for w in acknowledged}
        if len(returned) > 1:
            failures.append(f"upload key {key}: the answers named different creations {returned}")
        if sent[0].double is not None:
            upload_doubles += 1

    # Scores: for each (member, creation), the last acknowledged value, unless a later write
    # got no answer (or a 5xx) and may have landed after all.
    score_rows = {(row[0], row[1]): (row[2], row[3]) for row in scores}
    row_counts = Counter((row[0], row[1]) for row in scores)
    sent_scores = defaultdict(list)
    for write in writes:
        if write.kind == "score":
            sent_scores[(write.member, write.creation_id)].append(write)
    checked_pairs = 0
    for (member, creation_id), sent in sent_scores.items():
        sent.sort(key=lambda w: w.sequence)
        acked = [w for w in sent if w.acknowledged]
        found = score_rows.get((ids[member], creation_id))
        if not acked:
            if found is not None and not any(w.uncertain for w in sent):
                failures.append(
                    f"score {member} -> creation {creation_id}: every write was refused,"
                    f" yet the database has {found}"
                )
            continue
        checked_pairs += 1
        last = acked[-1]
        allowed = {last.values} | {
            w.values for w in sent if w.sequence > last.sequence and w.uncertain
        }
        if found not in allowed:
            failures.append(
                f"score {member} -> creation {creation_id}: database has {found},"
                f" last acknowledged {last.values}"
            )
    score_doubles = {w.double: w for w in writes if w.kind == "score" and w.double is not None}
    for write in score_doubles.values():
        count = row_counts[(ids[write.member], write.creation_id)]
        answered = [
            w for w in writes if w.double == write.double and w.kind == "score" and w.acknowledged
        ]
        if answered and count != 1:
            failures.append(
                f"double score {write.member} -> {write.creation_id}: {count} rows, expected 1"
            )

    # Aggregates: recomputed here from the scores table.
    by_creation = defaultdict(list)
    for _, creation_id, creativity, uniqueness in scores:
        by_creation[creation_id].append((creativity, uniqueness))
    aggregate_errors = []
    for creation_id, row in creations.items():
        given = by_creation.get(creation_id, [])
        count = len(given)
        creativity = sum(c for c, _ in given) / count if count else None
        uniqueness = sum(u for _, u in given) / count if count else None
        rating = (creativity + uniqueness) / 2 if count else None
        stored = row[5:9]
        expected = (count, creativity, uniqueness, rating)
        if not all(same_number(a, b) for a, b in zip(stored, expected, strict=True)):
            aggregate_errors.append(
                f"creation {creation_id}: stored {stored}, recomputed {expected}"
            )

    # Files: every file under creations/ belongs to a creation, and every named file exists.
    referenced = {name for row in rows for name in (row[3], row[4]) if name}
    on_disk = set()
    folder = media_root / "creations"
    if folder.exists():
        on_disk = {str(p.relative_to(media_root)) for p in folder.rglob("*") if p.is_file()}
    orphans = sorted(on_disk - referenced)
    missing = sorted(referenced - on_disk)

    return {
        "upload_match": "upload_key column (owner, key) and title"
        if world.has_upload_key
        else "title (no upload_key column)",
        "uploads_sent": len({(w.member, w.key) for w in uploads}),
        "uploads_acknowledged": len({(w.member, w.key) for w in acknowledged_uploads}),
        "upload_double_submissions": upload_doubles,
        "score_writes_sent": sum(w.kind == "score" for w in writes),
        "score_writes_acknowledged": sum(w.kind == "score" and w.acknowledged for w in writes),
        "score_pairs_checked": checked_pairs,
        "score_double_submissions": len(score_doubles),
        "write_failures": failures,
        "double_submissions": double_outcomes(writes),
        "creations_checked": len(creations),
        "aggregate_errors": aggregate_errors,
        "files_on_disk": len(on_disk),
        "orphan_files": orphans,
        "missing_files": missing,
    }


def double_outcomes(writes: list[Write]) -> dict:
    """How each pair sent twice at once was answered, against the contract: a score PUT 2xx
    twice; an API upload 201 then 200 naming the same creation; the upload page redirecting
    both to the same creation. A pair with a 503 in it (an outage) is not held to it."""
    pairs = defaultdict(list)
    for write in writes:
        # Saves and follows sent twice are judged with the community's answers.
        if write.double is not None and write.kind in ("score", "upload"):
            pairs[(write.kind, write.via, write.double)].append(write)
    outcomes = defaultdict(Counter)
    off_contract = []
    for (kind, via, _), sent in sorted(pairs.items()):
        statuses = sorted(status_text(w.status) for w in sent)
        outcomes[f"{kind} {via}"]["+".join(statuses)] += 1
        numbers = sorted((w.status or 0) for w in sent)
        same = len({w.creation_id for w in sent}) == 1
        if 503 in numbers:
            continue
        if kind == "score":
            fine = len(sent) == 2 and all(200 <= n < 300 for n in numbers)
        elif via == "api":
            fine = numbers == [200, 201] and same
        else:
            fine = numbers == [302, 302] and same
        if not fine:
            off_contract.append(
                f"{kind} via {via} by {sent[0].member}: {'+'.join(statuses)},"
                f" creations {sorted({w.creation_id for w in sent}, key=str)}"
            )
    return {
        "outcomes": {name: dict(counts) for name, counts in sorted(outcomes.items())},
        "off_contract": off_contract,
    }


# The community, afterwards ---------------------------------------------------------------------

# Run in a `manage.py shell` with the run's settings once gunicorn has stopped: the periodic
# sweep's own function, until it finds nothing more to do (an event failing every time is given
# up after EVENT_MAX_ATTEMPTS, so this ends).
SWEEP_SCRIPT = """
import json
from community.notifications import events_process_pending
processed = rounds = 0
while rounds < 10000:
    rounds += 1
    done = events_process_pending(older_than_seconds=0, limit=500)
    processed += done
    if not done:
        break
print("LOAD-SWEEP " + json.dumps({"processed": processed, "rounds": rounds}))
"""


def events_sweep(args, env: dict) -> dict:
    """Process the events the load left in the outbox, as the sweep does, noting first what
    was pending and which notifications there were."""
    with psycopg.connect(args.database_url, connect_timeout=10) as connection:
        pending = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM community_pendingevent WHERE processed_at IS NULL"
            )
        ]
        processed_before = connection.execute(
            "SELECT count(*) FROM community_pendingevent WHERE processed_at IS NOT NULL"
        ).fetchone()[0]
        notifications = connection.execute(
            "SELECT id, recipient_id, kind, creation_id, count FROM community_notification"
        ).fetchall()
    began = time.monotonic()
    result, error = None, None
    try:
        output = manage(env, "shell", "-c", SWEEP_SCRIPT, timeout=900)
        line = next((x for x in output.splitlines() if x.startswith("LOAD-SWEEP ")), None)
        if line is None:
            error = f"the sweep printed no result: {output[-500:]!r}"
        else:
            result = json.loads(line.removeprefix("LOAD-SWEEP "))
    except (RuntimeError, subprocess.SubprocessError, ValueError) as failure:
        error = str(failure)[-1500:]
    return {
        "pending": set(pending),
        "processed_before": processed_before,
        "notifications_before": notifications,
        "result": result,
        "error": error,
        "seconds": time.monotonic() - began,
    }


def mentioned(body: str) -> list[str]:
    """The usernames a comment mentions, as community.text reads them."""
    names: list[str] = []
    seen: set[str] = set()
    for match in MENTION_RE.finditer(body):
        name = match.group(1).rstrip(".-")
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
            if len(names) == MAX_MENTIONS:
                break
    return names


def comment_recipients(comment, comments, creations, users, by_name) -> dict[int, str] | None:
    """Who should hear of a comment, and as what, when its event is processed now (the
    database as it is): the parent comment's author of a reply, the creation's owner, and the
    members mentioned, each once, never the author, only active members who can see the
    creation. None when that cannot be told here (a creation that is not published)."""
    _, creation_id, parent_id, user_id, body, deleted = comment
    if deleted or user_id is None:
        return {}
    owner_id, status = creations[creation_id]
    if status != "published":
        return None  # whether a recipient moderates is not judged here
    made: dict[int, str] = {}

    def notify(recipient, kind):
        if recipient is None or recipient == user_id or recipient in made:
            return
        if users.get(recipient, (None, False))[1]:
            made[recipient] = kind

    parent = comments.get(parent_id) if parent_id else None
    if parent is not None and not parent[5]:
        notify(parent[3], "reply")
    notify(owner_id, "comment")
    names = mentioned(body)[:MAX_MENTIONS]
    for name in names:
        exact = by_name.get(name)
        loose = sorted(
            user
            for user, (username, active) in users.items()
            if active and username.lower() == name.lower()
        )
        found = exact if exact is not None and users[exact][1] else (loose[0] if loose else None)
        notify(found, "mention")
    return made


def verify_community(args, world: World, writes: list[Write], sweep: dict) -> dict:
    """The community's rows after the load and the sweep: every acknowledged write there,
    counters equal to the rows, no duplicates, every event processed into exactly the
    notifications it should make."""
    load_ids = {account.username: account.id for account in world.accounts}
    with psycopg.connect(args.database_url, connect_timeout=10) as connection:

        def rows(query: str) -> list[tuple]:
            return connection.execute(query).fetchall()

        users = {
            row[0]: (row[1], row[2])
            for row in rows("SELECT id, username, is_active FROM accounts_user")
        }
        tags = {row[0]: row[1] for row in rows("SELECT id, slug FROM taggit_tag")}
        creations = {
            row[0]: (row[1], row[2])
            for row in rows("SELECT id, owner_id, status FROM creations_creation")
        }
        counters = rows(
            "SELECT c.id, c.comment_count, c.favourite_count,"
            " (SELECT count(*) FROM community_comment m"
            "  WHERE m.creation_id = c.id AND m.deleted_at IS NULL),"
            " (SELECT count(*) FROM community_favourite f WHERE f.creation_id = c.id)"
            " FROM creations_creation c ORDER BY c.id"
        )
        comments = {
            row[0]: row
            for row in rows(
                "SELECT id, creation_id, parent_id, user_id, body, deleted_at IS NOT NULL"
                " FROM community_comment"
            )
        }
        favourites = {
            (row[0], row[1]) for row in rows("SELECT user_id, creation_id FROM community_favourite")
        }
        follows = rows("SELECT id, follower_id, followed_user_id, tag_id FROM community_follow")
        duplicates = rows(
            "SELECT 'favourite', count(*) FROM community_favourite"
            " GROUP BY user_id, creation_id HAVING count(*) > 1"
            " UNION ALL SELECT 'follow', count(*) FROM community_follow"
            " GROUP BY follower_id, followed_user_id, tag_id HAVING count(*) > 1"
            " UNION ALL SELECT 'notification', count(*) FROM community_notification"
            " GROUP BY recipient_id, source HAVING count(*) > 1"
            " UNION ALL SELECT 'open score group', count(*) FROM community_notification"
            " WHERE kind = 'score' AND read_at IS NULL AND emailed_at IS NULL"
            " GROUP BY recipient_id, creation_id HAVING count(*) > 1"
        )
        events = rows(
            "SELECT id, kind, data, processed_at IS NOT NULL, attempts FROM community_pendingevent"
        )
        notifications = rows(
            "SELECT id, recipient_id, kind, actor_id, creation_id, comment_id, count, source"
            " FROM community_notification"
        )
        scores = rows("SELECT id, user_id FROM scoring_score")
    by_name = {username: user_id for user_id, (username, _) in users.items()}
    failures: list[str] = []

    # Counters: exact, from the rows.
    counter_errors = [
        f"creation {row[0]}: comment_count {row[1]} for {row[3]} live comments,"
        f" favourite_count {row[2]} for {row[4]} favourites"
        for row in counters
        if row[1] != row[3] or row[2] != row[4]
    ]

    # Saves and follows: per member and target, the last acknowledged write holds, unless a
    # later one went unanswered (and may have landed); load members start with neither.
    follow_targets = set()
    for _, follower, followed, tag in follows:
        if followed is not None:
            follow_targets.add((follower, f"user:{users[followed][0]}"))
        else:
            follow_targets.add((follower, f"tag:{tags[tag]}"))
    sent_toggles = defaultdict(list)
    for write in writes:
        if write.kind == "favourite":
            sent_toggles[("favourite", write.member, write.creation_id)].append(write)
        elif write.kind == "follow":
            sent_toggles[("follow", write.member, write.target)].append(write)
    for (kind, member, target), sent in sorted(sent_toggles.items(), key=str):
        sent.sort(key=lambda w: w.sequence)
        acked = [w for w in sent if w.acknowledged]
        on = {
            w.action.endswith("_put")
            for w in sent
            if w.uncertain and (not acked or w.sequence > acked[-1].sequence)
        }
        allowed = ({acked[-1].action.endswith("_put")} if acked else {False}) | on
        if kind == "favourite":
            found = (load_ids[member], target) in favourites
        else:
            found = (load_ids[member], target) in follow_targets
        if found not in allowed:
            failures.append(
                f"{kind} {member} -> {target}: {'there' if found else 'absent'} in the database,"
                f" expected {'there' if True in allowed else 'absent'}"
            )

    # Comments: each acknowledged one there, as last written (or deleted, when its deletion
    # was acknowledged), and each key in at most one comment: none for a refused one.
    key_re = re.compile(r"\[lt \S+ (load\d+) c\d+\]")
    by_key = defaultdict(list)
    for comment_id, *_, body, _deleted in comments.values():
        for found in key_re.finditer(body):
            by_key[found.group(0)].append(comment_id)
    comment_writes = [w for w in writes if w.kind == "comment"]
    by_comment = defaultdict(list)
    for write in comment_writes:
        if write.comment_id is not None:
            by_comment[write.comment_id].append(write)
    for write in comment_writes:
        if write.action not in ("comment", "reply"):
            continue
        made = by_key.get(write.key, [])
        if len(made) > 1:
            failures.append(f"comment {write.key}: in {len(made)} comments {made}")
        if not write.acknowledged and not write.uncertain and made:
            failures.append(f"comment {write.key}: refused ({write.status}), yet there {made}")
        if write.acknowledged and write.comment_id is None:
            failures.append(f"comment {write.key}: acknowledged without an id")
    for comment_id, sent in by_comment.items():
        sent.sort(key=lambda w: w.sequence)
        first = sent[0]
        row = comments.get(comment_id)
        deletions = [w for w in sent if w.action == "comment_delete"]
        gone = row is None or row[5]
        if any(w.acknowledged for w in deletions):
            if not gone:
                failures.append(f"comment {comment_id}: deletion acknowledged, still there")
            continue
        if gone:
            if not any(w.uncertain for w in deletions):
                failures.append(f"comment {comment_id} ({first.key}): missing")
            continue
        expected = (load_ids[first.member], first.creation_id, first.parent_id)
        if (row[3], row[1], row[2]) != expected:
            failures.append(
                f"comment {comment_id}: (user, creation, parent) {(row[3], row[1], row[2])},"
                f" sent {expected}"
            )
        texts = [w for w in sent if w.action != "comment_delete"]
        acked = [w for w in texts if w.acknowledged]
        last = acked[-1] if acked else first
        allowed = {last.body} | {
            w.body for w in texts if w.sequence > last.sequence and w.uncertain
        }
        if row[4] not in allowed:
            failures.append(
                f"comment {comment_id}: body {row[4][:80]!r}, last sent {last.body[:80]!r}"
            )
    # A reply refused with a 400 is on the contract only when its parent is gone.
    parents_gone = {
        w.request_id
        for w in comment_writes
        if w.action == "reply"
        and w.status == 400
        and (comments.get(w.parent_id) is None or comments[w.parent_id][5])
    }

    # Events: one for each comment and each first score of a load member, at most one "new
    # follower" per pair of members, and one for each follow of a member answered as new.
    load_user_ids = set(load_ids.values())
    event_keys = Counter()
    for _, kind, data, _, _ in events:
        data = data if isinstance(data, dict) else {}
        if kind == "comment_created":
            event_keys[("comment", data.get("comment_id"))] += 1
        elif kind == "creation_scored":
            event_keys[("score", data.get("score_id"))] += 1
        elif kind == "follow_created":
            event_keys[("follow", data.get("follower_id"), data.get("followed_user_id"))] += 1
    event_problems = [f"{key}: {count} events" for key, count in event_keys.items() if count > 1]
    for comment_id, _, _, user_id, _, _ in comments.values():
        if user_id in load_user_ids and event_keys[("comment", comment_id)] != 1:
            event_problems.append(f"comment {comment_id}: no comment_created event")
    for score_id, user_id in scores:
        if user_id in load_user_ids and event_keys[("score", score_id)] != 1:
            event_problems.append(f"score {score_id}: no creation_scored event")
    for write in writes:
        if write.action == "follow_member_put" and write.status == 201:
            followed = by_name.get(write.target.split(":", 1)[1])
            if event_keys[("follow", load_ids[write.member], followed)] != 1:
                event_problems.append(f"{write.member} -> {write.target}: no follow_created event")
    left = [row[0] for row in events if not row[3]]
    swept = [row for row in events if row[0] in sweep["pending"]]

    # Notifications: each event the sweep processed made exactly what it should; nothing else
    # was made; scores on a creation add up in its owner's groups.
    notification_problems: list[str] = []
    by_source = defaultdict(dict)
    for row in notifications:
        by_source[row[7]][row[1]] = row
    follows_by_id = {row[0]: row for row in follows}
    judged = Counter()
    sources, scored_creations, other_kinds = set(), Counter(), set()
    for _, kind, data, processed, _ in swept:
        data = data if isinstance(data, dict) else {}
        if not processed:
            continue
        if kind == "comment_created":
            comment_id = data.get("comment_id")
            source = f"comment:{comment_id}"
            sources.add(source)
            row = comments.get(comment_id)
            want = (
                {} if row is None else comment_recipients(row, comments, creations, users, by_name)
            )
            if want is None:
                judged["comment_created not judged"] += 1
                continue
            got = by_source.get(source, {})
            if {recipient: n[2] for recipient, n in got.items()} != want or any(
                (n[3], n[4], n[5]) != (row[3], row[1], comment_id) for n in got.values()
            ):
                notification_problems.append(
                    f"{source}: made {sorted((r, n[2]) for r, n in got.items())},"
                    f" expected {sorted(want.items())}"
                )
        elif kind == "follow_created":
            follow = follows_by_id.get(data.get("follow_id"))
            source = f"follow:{data.get('follow_id')}"
            sources.add(source)
            want = {}
            if follow is not None and follow[2] is not None and users[follow[2]][1]:
                want = {follow[2]: ("follower", follow[1])}
            got = {r: (n[2], n[3]) for r, n in by_source.get(source, {}).items()}
            if got != want:
                notification_problems.append(f"{source}: made {got}, expected {want}")
        elif kind == "creation_scored":
            creation_id, user_id = data.get("creation_id"), data.get("user_id")
            if creation_id in creations and user_id in users:
                if user_id != creations[creation_id][0]:
                    scored_creations[creation_id] += 1
        else:
            other_kinds.add(kind)
            judged[f"{kind} not judged"] += 1
            continue
        judged[kind] += 1
    before = Counter()
    for _, recipient, kind, creation_id, count in sweep["notifications_before"]:
        if kind == "score":
            before[(recipient, creation_id)] += count
    after = Counter()
    for _, recipient, kind, _, creation_id, _, count, _ in notifications:
        if kind == "score":
            after[(recipient, creation_id)] += count
            if creations.get(creation_id, (None,))[0] != recipient:
                notification_problems.append(
                    f"score notification for {recipient} on creation {creation_id}: not its owner"
                )
    for creation_id, (owner_id, _) in creations.items():
        added = after[(owner_id, creation_id)] - before[(owner_id, creation_id)]
        if added != scored_creations[creation_id]:
            notification_problems.append(
                f"creation {creation_id}: its owner's score groups grew by {added},"
                f" {scored_creations[creation_id]} scores were processed"
            )
    known = {row[0] for row in sweep["notifications_before"]}
    made = Counter()
    for row in notifications:
        if row[0] in known:
            continue
        made[row[2]] += 1
        expected = (
            row[4] in scored_creations
            if row[2] == "score"
            else row[7] in sources
            if row[2] in ("comment", "reply", "mention", "follower")
            else row[2] in other_kinds
        )
        if not expected:
            notification_problems.append(f"notification {row[0]} ({row[2]}, {row[7]}) from nowhere")

    def tally(kind: str) -> dict:
        chosen = [w for w in writes if w.kind == kind]
        return {
            action: {
                "sent": sum(w.action == action for w in chosen),
                "acknowledged": sum(w.action == action and w.acknowledged for w in chosen),
            }
            for action in sorted({w.action for w in chosen})
        }

    return {
        "writes": {kind: tally(kind) for kind in ("comment", "favourite", "follow")},
        "write_failures": failures,
        "creations_checked": len(counters),
        "counter_errors": counter_errors,
        "duplicates": [f"{row[0]}: {row[1]} rows" for row in duplicates],
        "reply_parents_gone": sorted(parents_gone),
        "events": {
            "pending_after_load": len(sweep["pending"]),
            "processed_before_sweep": sweep["processed_before"],
            "kinds": dict(sorted(Counter(row[1] for row in swept).items())),
            "sweep": sweep["result"],
            "sweep_error": sweep["error"],
            "sweep_seconds": round(sweep["seconds"], 1),
            "left_unprocessed": len(left),
            "retried": sum(row[4] > 0 for row in swept),
            "problems": event_problems,
        },
        "notifications": {
            "made_by_sweep": dict(sorted(made.items())),
            "events_judged": dict(sorted(judged.items())),
            "scores_grouped": sum(scored_creations.values()),
            "problems": notification_problems,
        },
    }


def community_answers(records: list[Record], writes: list[Write], windows, parents_gone) -> dict:
    """The community's requests per action, and every answer off the API's contract
    (outside outage windows; 5xx and dropped connections are judged with all requests)."""
    actions = defaultdict(list)
    for record in records:
        if record.action is not None:
            actions[record.action].append(record)
    off: list[str] = []
    gone = set(parents_gone)

    def judged(record: Record | None) -> bool:
        return (
            record is not None
            and record.status is not None
            and record.status < 500
            and not inside(record, windows)
        )

    def example(record: Record, why: str) -> str:
        return (
            f"{record.action}: {record.method} {record.template} -> {record.status} ({why})"
            f" request_id={record.request_id}" + (f" {record.excerpt!r}" if record.excerpt else "")
        )

    for action, found in actions.items():
        for record in found:
            if not judged(record):
                continue
            if record.status not in COMMUNITY_STATUSES[action]:
                off.append(example(record, "not an answer this request has"))
            elif action == "reply" and record.status == 400 and record.request_id not in gone:
                off.append(example(record, "refused, yet its parent is there"))
    # Saves and follows: new 201, known 200; sent twice at once, one 201 at most (exactly one
    # when the member had not saved or followed it), as the API promises.
    by_request = {r.request_id: r for r in records if r.action is not None}
    pairs = defaultdict(list)
    for write in writes:
        if write.kind not in ("favourite", "follow"):
            continue
        record = by_request.get(write.request_id)
        if write.action == "favourite_put" and write.acknowledged and not (write.count or 0) >= 1:
            off.append(example(record, f"favourite_count {write.count}"))
        if write.double is not None:
            pairs[write.double].append(write)
        elif judged(record) and write.action.endswith("_put"):
            want = {False: 201, True: 200}.get(write.before)
            if want is not None and record.status != want:
                off.append(
                    example(record, f"expected {want}: saved or followed before: {write.before}")
                )
    outcomes = defaultdict(Counter)
    for sent in pairs.values():
        statuses = "+".join(sorted(status_text(w.status) for w in sent))
        outcomes[f"{sent[0].kind} {sent[0].action.rsplit('_', 1)[1]}"][statuses] += 1
        records_sent = [by_request.get(w.request_id) for w in sent]
        if (
            len(sent) == 2
            and all(judged(r) for r in records_sent)
            and sent[0].action.endswith("_put")
        ):
            created = sum(w.status == 201 for w in sent)
            want = {False: 1, True: 0}.get(sent[0].before)
            if created > 1 or (want is not None and created != want):
                off.append(example(records_sent[0], f"sent twice at once: {statuses}"))
    return {
        "per_action": latency_table(
            [r for r in records if r.action is not None], key=lambda record: record.action
        ),
        "errors": sum(
            r.status is None or r.status >= 500 for found in actions.values() for r in found
        ),
        "double_outcomes": {name: dict(counts) for name, counts in sorted(outcomes.items())},
        "off_contract": off,
    }


def status_text(status: int | None) -> str:
    return str(status) if status is not None else "no answer"


def same_number(stored, expected) -> bool:
    if stored is None or expected is None:
        return stored is None and expected is None
    return abs(float(stored) - float(expected)) <= 1e-9


# The run --------------------------------------------------------------------------------------


def run_load(args, world: World, port: int, gunicorn) -> dict:
    stop, go = threading.Event(), threading.Event()
    client = Client(port, args.timeout, args.max_requests, stop)
    shared = Shared(world=world, creations=list(world.creations))
    run_tag = f"s{args.seed}-{datetime.now(UTC):%H%M%S}"
    monitor_done = threading.Event()
    monitor = Monitor(client, monitor_done)
    members = [
        Member(number, account, client, shared, args, run_tag, go, stop)
        for number, account in enumerate(world.accounts)
    ]
    warmup_mono = time.monotonic()
    cpu_before, machine_before = own_cpu(), machine_cpu()
    server_before = process_tree_cpu(gunicorn.pid)
    start_wall, start_mono = time.time(), warmup_mono
    shared.deadline = warmup_mono + args.duration
    monitor.start()
    for member in members:
        member.start()
    interrupted = False
    try:
        limit = warmup_mono + 120  # bounded: the load starts even if some log-ins hang
        while not all(member.ready.is_set() for member in members):
            if time.monotonic() > limit or gunicorn.poll() is not None:
                break
            time.sleep(0.1)
        cpu_before, machine_before = own_cpu(), machine_cpu()
        server_before = process_tree_cpu(gunicorn.pid)
        start_wall, start_mono = time.time(), time.monotonic()
        shared.deadline = start_mono + args.duration
        go.set()
        if args.ready_file:
            args.ready_file.write_text(f"{start_wall}\n")
        while any(member.is_alive() for member in members):
            if time.monotonic() > shared.deadline + 2 * args.timeout + 30:
                stop.set()  # bounded: members still busy now are abandoned
                break
            if gunicorn.poll() is not None:
                stop.set()
            time.sleep(0.2)
    except Interrupted:
        interrupted = True
        stop.set()
        # Every member's current request ends within the timeout; wait that long, in all.
        until = time.monotonic() + args.timeout + 5
        for member in members:
            member.join(timeout=max(0.0, until - time.monotonic()))
    end_wall, end_mono = time.time(), time.monotonic()
    if args.ready_file:
        args.ready_file.unlink(missing_ok=True)  # the load is over: no more faults now
    monitor_done.set()
    monitor.join(timeout=10)
    cpu_after, machine_after = own_cpu(), machine_cpu()
    server_cpu = process_tree_cpu(gunicorn.pid) - server_before
    busy = machine_after[0] - machine_before[0]
    total = machine_after[1] - machine_before[1]
    return {
        "client": client,
        "shared": shared,
        "monitor": monitor,
        "members": members,
        "warmup_seconds": start_mono - warmup_mono,
        "start_wall": start_wall,
        "end_wall": end_wall,
        "elapsed": end_mono - start_mono,
        "driver_cpu": cpu_after - cpu_before,
        "gunicorn_load_cpu": server_cpu,
        "machine_busy": busy / total if total else None,
        "machine_busy_cpu": busy,
        "interrupted": interrupted,
        "budget_spent": stop.is_set() and not interrupted and end_mono < shared.deadline,
    }


def summarise(args, world, load, verification, community, gunicorn_cpu, log_path) -> dict:
    records: list[Record] = list(load["client"].records)
    outages, problems = read_outages(args.outages, load["end_wall"])
    judged = recoveries(outages, load["monitor"].probes, records, load["end_wall"])
    windows = [outage["window"] for outage in judged]
    for outage in judged:
        # What was answered during each outage on its own: a Redis outage should show none
        # of the 503s a database restart does.
        outage["statuses"] = dict(
            sorted(
                Counter(status_label(r) for r in records if inside(r, [outage["window"]])).items()
            )
        )
    requests = judge_requests(records, windows)
    shared: Shared = load["shared"]
    oversleep = shared.oversleep
    driver_errors = [f"{m.name}: {m.error!r}" for m in load["members"] if m.error is not None]
    elapsed = load["elapsed"]
    during_load = [r for r in records if r.start_wall >= load["start_wall"]]
    summary = {
        "config": {
            "users": args.users,
            "duration_seconds": args.duration,
            "workers": args.workers,
            "seed": args.seed,
            "max_requests": args.max_requests,
            "date": datetime.fromtimestamp(load["start_wall"], UTC).isoformat(timespec="seconds"),
            "database": urllib.parse.urlsplit(args.database_url).path.lstrip("/"),
            "redis": args.redis_url,
            "outages_file": str(args.outages) if args.outages else None,
            "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        },
        "requests": {
            "sent": len(records),
            "answered": sum(r.status is not None for r in records),
            "during_load": len(during_load),
            "per_second": round(len(during_load) / elapsed, 1) if elapsed else None,
            "elapsed_seconds": round(elapsed, 1),
            "warmup_seconds": round(load["warmup_seconds"], 1),
            "warmup_requests": len(records) - len(during_load),
            "budget_spent": load["budget_spent"],
            "logins": dict(shared.logins),
            "per_kind": latency_table(records),
        },
        "answers": requests,
        "page_cache": cache_rates(records),
        "outages": judged,
        "outage_problems": problems,
        "writes": verification,
        "community": {
            "answers": community_answers(
                records, list(shared.writes), windows, community.pop("reply_parents_gone")
            ),
            **community,
        },
        "driver": {
            "cpu_seconds": round(load["driver_cpu"], 2),
            "cpu_share_of_one_core": round(load["driver_cpu"] / elapsed, 3) if elapsed else None,
            "think_oversleep_median_ms": round(1000 * statistics.median(oversleep), 1)
            if oversleep
            else None,
            "think_oversleep_p95_ms": round(1000 * percentile(oversleep, 0.95), 1)
            if oversleep
            else None,
            "machine_busy_share": round(load["machine_busy"], 3)
            if load["machine_busy"] is not None
            else None,
            "gunicorn_cpu_seconds": round(gunicorn_cpu, 1),
            "gunicorn_cpu_seconds_during_load": round(load["gunicorn_load_cpu"], 1),
            # Everything else busy meanwhile: PostgreSQL, Redis, and whatever else the machine
            # runs (a busy neighbour shows here, not in the site's figures).
            "other_cpu_seconds_during_load": round(
                load["machine_busy_cpu"] - load["gunicorn_load_cpu"] - load["driver_cpu"], 1
            ),
            "member_thread_errors": driver_errors,
            **server_times(log_path, records),
        },
        "server_log": log_findings(log_path),
        "readyz_probes": len(load["monitor"].probes),
        "timeline": timeline(records, load["start_wall"], windows),
    }
    summary["checks"] = pass_conditions(summary)
    summary["interrupted"] = load["interrupted"]
    summary["passed"] = all(check["ok"] for check in summary["checks"])
    summary["warnings"] = []
    return summary


def pass_conditions(summary: dict) -> list[dict]:
    answers, writes = summary["answers"], summary["writes"]
    community = summary["community"]
    events = community["events"]
    checks = [
        ("no 5xx outside outage windows", answers["server_errors_outside_windows"] == 0),
        (
            "no connection errors or timeouts outside outage windows",
            answers["connection_errors_outside_windows"] == 0,
        ),
        (
            "inside outage windows only 503s with Retry-After (no dropped connections)",
            answers["bad_answers_inside_windows"] == 0,
        ),
        ("no traceback in any answer", answers["traceback_bodies"] == 0),
        ("every acknowledged write in the database", not writes["write_failures"]),
        (
            "each double submission made one row and was answered as the API and pages promise",
            not writes["double_submissions"]["off_contract"],
        ),
        ("aggregates equal a recomputation", not writes["aggregate_errors"]),
        (
            "community answers as the API promises (saves and follows sent twice included)",
            not community["answers"]["off_contract"],
        ),
        (
            "every acknowledged comment, save and follow in the database",
            not community["write_failures"],
        ),
        (
            "comment_count and favourite_count equal the live comments and favourites",
            not community["counter_errors"],
        ),
        ("no duplicate favourite, follow or notification rows", not community["duplicates"]),
        (
            "every event processed, once, into exactly the notifications it should make",
            not (
                events["sweep_error"]
                or events["left_unprocessed"]
                or events["problems"]
                or community["notifications"]["problems"]
            ),
        ),
        (
            "no orphan or missing picture files",
            not (writes["orphan_files"] or writes["missing_files"]),
        ),
        ("the site recovered after every outage", all(o["recovered"] for o in summary["outages"])),
        ("the outages file was readable", not summary["outage_problems"]),
        ("the driver ran without errors", not summary["driver"]["member_thread_errors"]),
        ("some requests were answered", summary["requests"]["answered"] > 0),
    ]
    return [{"condition": name, "ok": bool(ok)} for name, ok in checks]


def print_report(summary: dict) -> None:
    out = []
    config, requests = summary["config"], summary["requests"]
    out.append("NPU load test")
    out.append(
        f"  {config['date']}  users={config['users']} duration={config['duration_seconds']:g}s"
        f" workers={config['workers']} seed={config['seed']}"
        f" max_requests={config['max_requests']} database={config['database']}"
        f" redis={config['redis']}"
    )
    out.append(f"  command: {config['command']}")
    out.append("")
    out.append(
        f"Requests: {requests['sent']} sent, {requests['answered']} answered;"
        f" {requests['during_load']} in the {requests['elapsed_seconds']}s of load ="
        f" {requests['per_second']}/s, after a {requests['warmup_seconds']}s warm-up of"
        f" {requests['warmup_requests']} (log-ins)"
        + ("  (request budget spent: stopped early)" if requests["budget_spent"] else "")
    )
    out.append(f"  log-ins: {requests['logins']}")
    out.append(f"  {'kind':<14}{'requests':>9}{'median ms':>11}{'p95 ms':>9}   statuses")
    for kind, row in requests["per_kind"].items():
        statuses = " ".join(f"{status}x{count}" for status, count in row["statuses"].items())
        out.append(
            f"  {kind:<14}{row['requests']:>9}{row['median_ms'] or '-':>11}"
            f"{row['p95_ms'] or '-':>9}   {statuses}"
        )
    answers = summary["answers"]
    out.append("")
    out.append(f"Statuses outside outage windows: {answers['statuses_outside_windows']}")
    out.append(f"Statuses inside outage windows:  {answers['statuses_inside_windows']}")
    out.append(f"  5xx outside windows: {answers['server_errors_outside_windows']}")
    out.append(
        f"  connection errors outside windows: {answers['connection_errors_outside_windows']}"
    )
    out.append(
        "  inside windows, 5xx other than 503 / 503 without Retry-After / traceback:"
        f" {answers['bad_answers_inside_windows']}"
    )
    out.append(f"  answers with a traceback anywhere: {answers['traceback_bodies']}")
    for name, examples in answers["examples"].items():
        for example in examples:
            out.append(f"    e.g. {name}: {example}")
    cache = summary["page_cache"]
    out.append("")
    out.append(
        f"Anonymous page cache: hit rate {cache['overall']} ({cache['hits']} hits of"
        f" {cache['with_header']} answers with X-Page-Cache)"
        + (f", other values {cache['other_header_values']}" if cache["other_header_values"] else "")
    )
    for kind, row in cache["per_page_kind"].items():
        out.append(
            f"  {kind:<10} hit rate {row['hit_rate']!s:<6} hits {row['hits']:>5}"
            f"  misses {row['misses']:>5}  without header {row['answers_without_header']:>5}"
        )
    out.append("")
    if summary["outages"] or summary["outage_problems"]:
        out.append("Outages:")
        for outage in summary["outages"]:
            begin = datetime.fromtimestamp(outage["begin"], UTC)
            ready, served = (
                "never" if seconds is None else f"{seconds}s after"
                for seconds in (
                    outage["recovery_readyz_seconds"],
                    outage["recovery_first_api_read_seconds"],
                )
            )
            out.append(
                f"  {outage['service']}: down {outage['down_seconds']}s from {begin:%H:%M:%S}"
                f" UTC; once it was back: readyz '{outage['check']}' ok {ready}, first"
                f" successful API read {served};"
                f" window {outage['window'][1] - outage['window'][0]:.1f}s;"
                f" answered in it: {outage['statuses']}"
            )
        for problem in summary["outage_problems"]:
            out.append(f"  problem: {problem}")
    else:
        out.append("Outages: none given (no --outages file): every request counts as outside.")
    writes = summary["writes"]
    out.append("")
    out.append(f"Writes (uploads matched by {writes['upload_match']}):")
    out.append(
        f"  uploads: {writes['uploads_sent']} sent, {writes['uploads_acknowledged']} acknowledged,"
        f" {writes['upload_double_submissions']} sent twice at once"
    )
    out.append(
        f"  scores: {writes['score_writes_sent']} requests sent,"
        f" {writes['score_writes_acknowledged']} acknowledged,"
        f" {writes['score_pairs_checked']} (member, creation) pairs checked,"
        f" {writes['score_double_submissions']} PUTs sent twice at once"
    )
    doubles = writes["double_submissions"]
    for name, counts in doubles["outcomes"].items():
        out.append(f"  sent twice at once, {name}: answers {counts}")
    for line in doubles["off_contract"][:5]:
        out.append(f"    not as the contract says: {line}")
    out.append(f"  write problems: {len(writes['write_failures'])}")
    for failure in writes["write_failures"][:10]:
        out.append(f"    {failure}")
    out.append(
        f"  aggregates: {writes['creations_checked']} creations recomputed,"
        f" {len(writes['aggregate_errors'])} differ"
    )
    for failure in writes["aggregate_errors"][:5]:
        out.append(f"    {failure}")
    out.append(
        f"  files: {writes['files_on_disk']} on disk, {len(writes['orphan_files'])} orphans,"
        f" {len(writes['missing_files'])} missing"
    )
    for name in (writes["orphan_files"] + writes["missing_files"])[:5]:
        out.append(f"    {name}")
    print_community(out, summary["community"])
    driver = summary["driver"]
    out.append("")
    out.append(
        f"Driver: {driver['cpu_seconds']} CPU s ({driver['cpu_share_of_one_core']} of one core);"
        f" think-time oversleep median {driver['think_oversleep_median_ms']} ms,"
        f" p95 {driver['think_oversleep_p95_ms']} ms"
    )
    out.append(
        f"  during the load: machine busy {driver['machine_busy_share']} of all cores;"
        f" CPU s: gunicorn {driver['gunicorn_cpu_seconds_during_load']}, this driver"
        f" {driver['cpu_seconds']}, everything else (PostgreSQL, Redis, other processes)"
        f" {driver['other_cpu_seconds_during_load']}; gunicorn in all"
        f" {driver['gunicorn_cpu_seconds']}"
    )
    if "matched" in driver:
        out.append(
            f"  time in gunicorn median {driver['server_median_ms']} ms"
            f" (p95 {driver['server_p95_ms']}); outside it (queue + driver) median"
            f" {driver['outside_server_median_ms']} ms (p95 {driver['outside_server_p95_ms']})"
        )
    for error in driver["member_thread_errors"]:
        out.append(f"  member thread error: {error}")
    out.append("  timeline (5 s steps): second requests 5xx conn-errors median-ms p95-ms")
    for row in summary["timeline"]:
        out.append(
            f"    {row['from_second']:>4} {row['requests']:>6} {row['5xx']:>4}"
            f" {row['connection_errors']:>4} {row['median_ms']!s:>7} {row['p95_ms']!s:>7}"
            + ("  (outage)" if row["in_outage"] else "")
        )
    log = summary["server_log"]
    out.append(
        f"Server log: {log.get('tracebacks')} tracebacks, {log.get('error_lines')} ERROR lines,"
        f" {log.get('worker_timeouts')} worker timeouts"
    )
    if summary["kept"]:
        out.append(
            f"Kept {summary['kept']}: gunicorn.log, requests.jsonl (every request),"
            " writes.jsonl (every write), media/"
        )
    out.append("")
    for check in summary["checks"]:
        out.append(f"  [{'PASS' if check['ok'] else 'FAIL'}] {check['condition']}")
    for warning in summary["warnings"]:
        out.append(f"  [WARN] {warning}")
    if summary["interrupted"]:
        out.append("Interrupted: the load stopped early; the figures cover what ran.")
    out.append(f"Result: {'PASS' if summary['passed'] else 'FAIL'}")
    print("\n".join(out), flush=True)


def print_community(out: list[str], community: dict) -> None:
    answers = community["answers"]
    out.append("")
    out.append(
        f"Community (API): {sum(row['requests'] for row in answers['per_action'].values())}"
        f" requests, {answers['errors']} 5xx or unanswered"
    )
    out.append(f"  {'action':<24}{'requests':>9}{'median ms':>11}{'p95 ms':>9}   statuses")
    for action, row in answers["per_action"].items():
        statuses = " ".join(f"{status}x{count}" for status, count in row["statuses"].items())
        out.append(
            f"  {action:<24}{row['requests']:>9}{row['median_ms'] or '-':>11}"
            f"{row['p95_ms'] or '-':>9}   {statuses}"
        )
    for kind, actions in community["writes"].items():
        counts = ", ".join(
            f"{action} {row['sent']} sent / {row['acknowledged']} acknowledged"
            for action, row in actions.items()
        )
        out.append(f"  {kind} writes: {counts or 'none'}")
    for name, counts in answers["double_outcomes"].items():
        out.append(f"  sent twice at once, {name}: answers {counts}")
    out.append(f"  answers off the contract: {len(answers['off_contract'])}")
    for line in answers["off_contract"][:5]:
        out.append(f"    {line}")
    out.append(f"  write problems: {len(community['write_failures'])}")
    for line in community["write_failures"][:10]:
        out.append(f"    {line}")
    out.append(
        f"  counters: {community['creations_checked']} creations,"
        f" {len(community['counter_errors'])} with a comment_count or favourite_count off;"
        f" duplicate rows: {len(community['duplicates'])}"
    )
    for line in (community["counter_errors"] + community["duplicates"])[:5]:
        out.append(f"    {line}")
    events = community["events"]
    sweep = events["sweep"] or {}
    out.append(
        f"  events: {events['pending_after_load']} waiting after the load"
        f" ({events['processed_before_sweep']} processed before the sweep), kinds"
        f" {events['kinds']}; the sweep processed {sweep.get('processed')} in"
        f" {sweep.get('rounds')} rounds ({events['sweep_seconds']}s), {events['retried']}"
        f" after a failure; {events['left_unprocessed']} left unprocessed"
    )
    if events["sweep_error"]:
        out.append(f"    sweep failed: {events['sweep_error']}")
    for line in events["problems"][:5]:
        out.append(f"    {line}")
    notifications = community["notifications"]
    out.append(
        f"  notifications made: {notifications['made_by_sweep']} ({notifications['scores_grouped']}"
        f" scores grouped); events judged: {notifications['events_judged']};"
        f" problems: {len(notifications['problems'])}"
    )
    for line in notifications["problems"][:10]:
        out.append(f"    {line}")


def main(argv=None) -> int:
    args = parse_args(argv)

    first_signal = []

    def interrupt(signum, frame):
        # The first signal stops the run cleanly (report included); one that follows at once
        # (faults.sh passing a Ctrl-C on, say) is the same request; a later one forces it.
        now = time.monotonic()
        if first_signal and now - first_signal[0] < 5:
            return
        first_signal.append(now)
        raise Interrupted

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="npu-loadtest-"))
    port = free_port()
    env = production_env(
        name="load-test",
        database_url=args.database_url,
        folder=tmp,
        port=port,
        workers=args.workers,
        # As behind one proxy: each simulated client's own X-Forwarded-For address counts.
        DJANGO_TRUSTED_PROXY_COUNT="1",
        REDIS_URL=args.redis_url,
        RATELIMIT_ENABLE="1",
    )
    log_path = tmp / "gunicorn.log"
    keep = args.keep
    gunicorn = None
    try:
        print(
            f"Setting up: database {urllib.parse.urlsplit(args.database_url).path.lstrip('/')}"
            f" (dropped and re-created), Redis {args.redis_url} (flushed), folder {tmp}",
            flush=True,
        )
        try:
            world = build_world(args, env)
        except (RuntimeError, OSError, psycopg.Error, subprocess.SubprocessError) as error:
            print(f"Could not set up the world: {error}\nKept {tmp}", file=sys.stderr)
            keep = True
            return 2
        print(
            f"  {len(world.creations)} published creations, {len(world.accounts)} load members;"
            f" starting gunicorn on 127.0.0.1:{port} with WEB_CONCURRENCY={args.workers}",
            flush=True,
        )
        children_before = children_cpu()
        try:
            gunicorn = start_gunicorn(env, log_path, port)
        except RuntimeError as error:
            print(f"{error}\nKept {tmp}", file=sys.stderr)
            keep = True
            return 2
        print(f"Load: {args.users} members for {args.duration:g}s (seed {args.seed})", flush=True)
        load = run_load(args, world, port, gunicorn)
        # Gunicorn stops before the checks, so they see every write that will ever land.
        stop_gunicorn(gunicorn)
        gunicorn_cpu = children_cpu() - children_before
        verification = verify(args, world, list(load["shared"].writes), tmp / "media")
        # No worker ran: the events wait in the outbox until the sweep, run here, takes them.
        print("Processing the events the load left, as the periodic sweep does", flush=True)
        sweep = events_sweep(args, env)
        community = verify_community(args, world, list(load["shared"].writes), sweep)
        summary = summarise(args, world, load, verification, community, gunicorn_cpu, log_path)
        # A failed or interrupted run keeps its folder, for a closer look.
        keep = keep or load["interrupted"] or not summary["passed"]
        summary["kept"] = str(tmp) if keep else None
        save_records(tmp, load["client"].records, load["shared"].writes)
        print_report(summary)
        if args.report:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(json.dumps(summary, indent=2) + "\n")
        if load["interrupted"]:
            return 130
        return 0 if summary["passed"] else 1
    except Interrupted:
        keep = True
        print(f"Interrupted. Kept {tmp}", file=sys.stderr)
        return 130
    finally:
        # Whatever happened, gunicorn does not outlive the run.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
