"""Load-and-fault test: NPU under simulated members, against gunicorn on PostgreSQL and Redis.

It builds a world of its own (the PostgreSQL database `npu_loadtest`, dropped and made again;
the demo data and load members with API tokens; a temporary media folder; Redis database 13,
flushed), starts gunicorn with production settings on a free loopback port, and lets
`--users` members browse, search, score and upload for `--duration` seconds, some writes sent
twice at once. Then it stops gunicorn, checks in the database that every acknowledged write is
there (and made exactly one row), that every creation's aggregates equal a recomputation from
its scores and that no picture file is orphaned or missing, and prints one report. With
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
    user.save(update_fields=["password"])
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
    """One write a member sent: a score or an upload, and whether the site acknowledged it."""

    kind: str  # "score" or "upload"
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


def latency_table(records: list[Record]) -> dict:
    by_kind = defaultdict(list)
    for record in records:
        if record.status is not None:
            by_kind[record.kind].append(record.latency)
    counts = Counter(record.kind for record in records)
    statuses = defaultdict(Counter)
    for record in records:
        statuses[record.kind][status_label(record)] += 1
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
        if write.double is not None:
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


def summarise(args, world, load, verification, gunicorn_cpu, log_path) -> dict:
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
        summary = summarise(args, world, load, verification, gunicorn_cpu, log_path)
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
