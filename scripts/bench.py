"""Benchmark: how fast NPU answers its reads, score writes and comment posts on a large site,
and how many SQL statements each request runs.

It fills a PostgreSQL database of its own (`npu_bench` by default: created when missing,
migrated, filled by `manage.py generate_bench_data`, or kept with `--reuse` when it already
holds data made with the same parameters), starts gunicorn with production settings on a free
loopback port (twice: with the anonymous page cache on, and off), then sends each case's
requests at a fixed concurrency and prints one table: median and p95 latency, requests per
second, SQL statements per request (from the X-NPU-Queries header that
NPU_QUERY_COUNT_HEADER=1 turns on) and each median as a multiple of the floor (/healthz). It
also times the same tag searches on the original naive design (one table with a
comma-joined tag column, searched with ILIKE), checks that the writes left every creation's
aggregates and community counts exact and, with `--explain`, shows PostgreSQL's plan of every
read query.

Pages are read anonymously, but for the following feed: a member's lists (the feed, saved
creations, notifications) are read through the API with the API token of the first bench
member, who follows 20 members and 5 tags in the generated data (demo/bench_data.py), and
their /following/ page with a session made for them (page cache off: a member's pages are
never cached). The lists ranked by scores (top, trending, calibrated) are read both
anonymously and as that member (`api-top-member`, `page-top-member`, ...), who sees the
scores only of the creations they scored or revealed (blind scoring).

    make bench                                          # 100,000 creations, 1,000,000 scores
    make bench BENCH_ARGS="--creations 1000000 --scores 10000000 --explain --markdown out.md"
    .venv/bin/python scripts/bench.py --smoke           # CI: 2,000 creations, query counts pinned

The clients are threads of this process (`--driver processes` for one process each); each
request goes on a connection of its own, as to gunicorn's sync workers. Gunicorn runs with
`-c gunicorn.conf.py` as in production, except that workers are not recycled during the run
(GUNICORN_MAX_REQUESTS=0) and rate limits are off (RATELIMIT_ENABLE=0). Pictures, static files
and gunicorn's logs stay in the system's temporary folder under `npu-bench-<database>/`, so
`--reuse` finds the pictures again; a reused database keeps the scores and comments that
earlier runs' writes added, and the run says how many.

Exit status: 0 when every check held, 1 when one failed (an answer other than 2xx, an
aggregate that differs from its recomputation, or with --smoke a case over its pinned query
count in benchmarks/bench_queries.json), 2 when the benchmark could not be set up, 130 when
interrupted. Times never fail a run. HTTP goes through the standard library; the database is
read with psycopg, which the project depends on already.
"""

import argparse
import http.client
import json
import math
import multiprocessing
import multiprocessing.pool
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/serving.py, beside this
import serving  # noqa: E402
from serving import ROOT, free_port, is_loopback  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/npu_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
# Databases the benchmark never fills, whatever --database-url says: the server's own, the
# site's and the load test's.
PROTECTED_DATABASES = frozenset({"postgres", "template0", "template1", "npu", "npu_loadtest"})
PINNED_QUERIES = ROOT / "benchmarks" / "bench_queries.json"
EXPLAIN_SCRIPT = ROOT / "benchmarks" / "explain.py"
TOKENS = 50  # bench members with an API token: the score writers
SMOKE_CREATIONS = 2000
SMOKE_REQUESTS = 20
# At least one request per client, so that with --no-redis every worker warms its own cache.
SMOKE_WARMUP = 10
SEARCH_TERM = "chandelier"
# How much faster than the naive design NPU's tag searches should be (reported, not checked:
# on small data both are fast).
SEED_SPEEDUP_TARGET = 20
DEEP_PAGE = 200
API_PAGE_SIZE = 24
# Shares of the published creations the chosen tags should match.
RARE_TAG_SHARE = 0.0003
TWO_TAGS_SHARE = 0.015
# EXPLAIN warnings: a sequential scan of a table this large, or a plan node reading more rows.
BIG_TABLE_ROWS = 10_000
ROWS_READ_WARNING = 5_000
# Statements worth explaining: those that read the site's content, not sessions or members.
CONTENT_TABLES = re.compile(r'"(creations_\w+|scoring_\w+|taggit_\w+|parts_\w+|community_\w+)"')
TIMEOUT = 60.0  # seconds per HTTP request
# What the comment posts say (each with a number, so no two are alike).
COMMENT_BODIES = [
    "Lovely use of the part, how is it attached?",
    "The colours work so well here.",
    "Saving this one for my next build.",
    "That angle is clever; it took me a while to see it.",
]


class SetupError(Exception):
    """The benchmark could not be set up: exit status 2."""


# Command line ---------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Exit status: 0 ok, 1 a check failed, 2 setup failed.",
    )
    size = parser.add_argument_group("the data (manage.py generate_bench_data)")
    size.add_argument("--creations", type=int, help="default 100000 (2000 with --smoke)")
    size.add_argument("--scores", type=int, help="default 10 x creations")
    size.add_argument("--tags", type=int, default=2000, help="default 2000")
    size.add_argument("--users", type=int, help="default creations / 20, at least 100")
    size.add_argument("--seed", type=int, default=1)
    size.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"PostgreSQL on this machine (default {DEFAULT_DATABASE_URL})",
    )
    size.add_argument(
        "--reuse",
        action="store_true",
        help="keep the data when the database holds data made with the same parameters",
    )
    load = parser.add_argument_group("the load")
    load.add_argument("--requests", type=int, help="per case (default 200, 20 with --smoke)")
    load.add_argument("--warmup", type=int, help="per case (default 20, 10 with --smoke)")
    load.add_argument("--concurrency", type=int, default=8)
    load.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    load.add_argument(
        "--driver",
        choices=["threads", "processes"],
        default="threads",
        help="the clients: threads of this process (default) or one process each",
    )
    load.add_argument("--redis-url", help=f"Redis database to flush and use ({DEFAULT_REDIS_URL})")
    load.add_argument("--no-redis", action="store_true", help="per-process caches, no Redis")
    load.add_argument("--sql-runs", type=int, default=10, help="runs of each timed SQL query")
    output = parser.add_argument_group("output and checks")
    output.add_argument("--report", type=Path, help="every figure as JSON")
    output.add_argument("--markdown", type=Path, help="the table and plans as Markdown")
    output.add_argument("--explain", action="store_true", help="EXPLAIN every read case")
    output.add_argument(
        "--smoke",
        action="store_true",
        help="CI: 2000 creations, few requests, fail on a query count over its pinned number",
    )
    output.add_argument(
        "--update-queries",
        action="store_true",
        help=f"rewrite {PINNED_QUERIES.relative_to(ROOT)} from this run's query counts",
    )
    args = parser.parse_args(argv)
    resolve_defaults(args)
    problems = [
        f"--{name.replace('_', '-')} must be positive"
        for name in ("creations", "tags", "users", "requests", "concurrency", "workers", "sql_runs")
        if getattr(args, name) < 1
    ]
    problems += [
        f"--{name} must not be negative" for name in ("scores", "warmup") if getattr(args, name) < 0
    ]
    if problems:
        parser.error("; ".join(problems))
    try:
        args.database_url = checked_database_url(args.database_url)
        args.redis_url = None if args.no_redis else checked_redis_url(args.redis_url)
    except ValueError as error:
        parser.error(str(error))
    return args


def resolve_defaults(args: argparse.Namespace) -> None:
    """Fill what depends on other options: sizes from --creations, counts from --smoke."""
    if args.creations is None:
        args.creations = SMOKE_CREATIONS if args.smoke else 100_000
    if args.scores is None:
        args.scores = 10 * args.creations
    if args.users is None:
        args.users = max(100, args.creations // 20)
    if args.requests is None:
        args.requests = SMOKE_REQUESTS if args.smoke else 200
    if args.warmup is None:
        args.warmup = SMOKE_WARMUP if args.smoke else 20


def checked_database_url(url: str) -> str:
    """The database the benchmark may fill: PostgreSQL on this machine, never a maintenance
    database, the site's own or the load test's."""
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError("--database-url must be a postgres:// URL")
    if not is_loopback(parts.hostname):
        raise ValueError(f"refusing a database on {parts.hostname!r}: loopback only")
    if not name or "/" in name or name in PROTECTED_DATABASES:
        raise ValueError(f"refusing database {name!r}: pick a database of its own (npu_bench)")
    return url


def checked_redis_url(given: str | None) -> str:
    return serving.checked_redis_url(given or DEFAULT_REDIS_URL)


def database_name(url: str) -> str:
    return urllib.parse.urlsplit(url).path.lstrip("/")


def data_parameters(args) -> dict:
    """What the data is made from: equal parameters, equal data (what --reuse compares)."""
    return {
        "creations": args.creations,
        "scores": args.scores,
        "tags": args.tags,
        "users": args.users,
        "seed": args.seed,
        "tokens": min(TOKENS, args.users),
        # Data made before the generator wrote follows, saves, comments and notifications
        # is made again.
        "community": True,
    }


# Figures --------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float | None:
    """The `share` quantile of `values`, interpolated between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(slots=True)
class Result:
    """One answered (or failed) request."""

    status: int | None  # None: no answer (connection refused, timeout)
    seconds: float
    queries: int | None  # X-NPU-Queries, None when the header is missing
    excerpt: str = ""  # an error's body, for the report
    error: str = ""


def expected_status(method: str, status: int | None) -> bool:
    """Reads answer 2xx; a score write 200 (replaced) or 201 (created); a comment post 201."""
    if status is None:
        return False
    if method == "PUT":
        return status in (200, 201)
    if method == "POST":
        return status == 201
    return 200 <= status < 300


def case_figures(method: str, results: list[Result], wall_seconds: float) -> dict:
    """Latency, throughput, queries and statuses of one case's measured requests."""
    times = [r.seconds * 1000 for r in results]
    queries = [r.queries for r in results if r.queries is not None]
    statuses = Counter(str(r.status) if r.status is not None else "no answer" for r in results)
    errors = [r for r in results if not expected_status(method, r.status)]
    return {
        "requests": len(results),
        "median_ms": round(percentile(times, 0.5), 2) if times else None,
        "p95_ms": round(percentile(times, 0.95), 2) if times else None,
        "per_second": round(len(results) / wall_seconds, 1) if wall_seconds > 0 else None,
        "queries_max": max(queries) if queries else None,
        "queries_min": min(queries) if queries else None,
        # What the pinned counts compare: a regression raises every request's count, while
        # one request that finds a cached count gone runs one more statement, once.
        "queries_median": statistics.median_low(queries) if queries else None,
        "queries_varied": len(set(queries)) > 1,
        "queries_missing": len(results) - len(queries),
        "statuses": dict(sorted(statuses.items())),
        "errors": len(errors),
        "error_examples": [
            f"{r.status if r.status is not None else r.error}: {r.excerpt}" for r in errors[:3]
        ],
    }


def queries_text(figures: dict) -> str:
    if figures.get("queries_max") is None:
        return "-"
    if figures["queries_varied"]:
        return f"{figures['queries_min']}-{figures['queries_max']}*"
    return str(figures["queries_max"])


def format_table(headers: list[str], rows: list[list], right: set[int] | None = None) -> str:
    """An aligned text table; columns in `right` (by index) are right-aligned."""
    right = right or set()
    cells = [[("-" if value is None else str(value)) for value in row] for row in rows]
    widths = [
        max([len(header)] + [len(row[index]) for row in cells])
        for index, header in enumerate(headers)
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            value.rjust(width) if index in right else value.ljust(width)
            for index, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join(
        [line(headers), line(["-" * width for width in widths]), *(line(row) for row in cells)]
    )


RESULT_HEADERS = ["case", "median ms", "p95 ms", "req/s", "queries", "x floor", "statuses", "path"]


def result_rows(cases: list[dict]) -> list[list]:
    rows = []
    for case in cases:
        figures = case["figures"]
        statuses = " ".join(f"{status}x{count}" for status, count in figures["statuses"].items())
        rows.append(
            [
                case["name"],
                figures["median_ms"],
                figures["p95_ms"],
                figures["per_second"],
                queries_text(figures),
                f"{case['vs_floor']:.1f}" if case.get("vs_floor") is not None else None,
                statuses,
                f"{case['method']} {case['path']}",
            ]
        )
    return rows


def results_table(cases: list[dict]) -> str:
    return format_table(RESULT_HEADERS, result_rows(cases), right={1, 2, 3, 4, 5})


def compare_queries(measured: dict[str, int | None], pinned: dict[str, int]) -> dict:
    """Each case's queries per request (its median request) against its pinned number: which
    are
    over, which have no pinned number, which sent no header, and which pins no case used."""
    over, missing, unmeasured = [], [], []
    for name, count in measured.items():
        if count is None:
            unmeasured.append(name)
        elif name not in pinned:
            missing.append(name)
        elif count > pinned[name]:
            over.append({"case": name, "queries": count, "pinned": pinned[name]})
    return {
        "over": over,
        "missing": missing,
        "unmeasured": unmeasured,
        "unused": sorted(set(pinned) - set(measured)),
    }


def load_pinned(path: Path = PINNED_QUERIES) -> dict[str, int]:
    try:
        return {str(k): int(v) for k, v in json.loads(path.read_text()).items()}
    except FileNotFoundError:
        return {}


def plan_warnings(plan: str, big_tables: set[str]) -> list[str]:
    """Nodes of an EXPLAIN ANALYZE (text) plan that grow with the site: a sequential scan of
    a big table, or a node that read more than ROWS_READ_WARNING rows (the rows it returned
    and those its filter removed, times its loops)."""
    warnings = []
    node: dict | None = None

    def close() -> None:
        if node is None:
            return
        scanned = re.match(r"(?:Parallel )?Seq Scan on (\w+)", node["name"])
        if scanned and scanned.group(1) in big_tables:
            warnings.append(
                f"sequential scan of big table {scanned.group(1)}, read {node['rows']:,} rows:"
                f" {node['name']}"
            )
        elif node["rows"] > ROWS_READ_WARNING:
            warnings.append(f"reads {node['rows']:,} rows: {node['name']}")

    for raw in plan.splitlines():
        text = raw.strip().removeprefix("->").strip()
        actual = re.search(r"\(actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)\)", text)
        if actual:
            close()
            loops = int(actual.group(2))
            name = re.split(r"\s+\(cost=", text)[0].strip()
            node = {"name": name, "loops": loops, "rows": int(actual.group(1)) * loops}
            continue
        # Per loop, like the rows a node returns.
        removed = re.match(r"Rows Removed by (?:Filter|Join Filter|Index Recheck): (\d+)", text)
        if removed and node is not None:
            node["rows"] += int(removed.group(1)) * node["loops"]
    close()
    return warnings


def execution_ms(plan: str) -> float | None:
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(found.group(1)) if found else None


# Cases ----------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    method: str
    path: str
    server: str = "cached"  # which gunicorn: "cached" (page cache on) or "uncached"
    kind: str = "api"  # floor, api, page or write
    seed_tags: list[str] | None = None  # tag names, for the naive design's comparison
    # Sent with every request (a member's token); never shown in the report.
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def is_read(self) -> bool:
        return self.kind in ("api", "page")


@dataclass
class Targets:
    """What the cases ask for, chosen in SQL from the bench database."""

    published: int
    popular_tag: tuple[str, str, int]  # name, slug, published creations
    rare_tag: tuple[str, str, int]
    second_tag: tuple[str, str, int]  # with popular_tag: how many carry both
    part: tuple[str, int] | None
    popular_creation: tuple[int, int]  # id, score_count
    ordinary_creation: tuple[int, int]
    prolific: tuple[str, int]  # username, published creations
    deep_page: int
    writers: list[tuple[int, str]] = field(default_factory=list)  # (user id, token)
    # The member whose lists are read: username, token, and what they follow, saved and hear.
    member: tuple[str, str] | None = None
    member_lists: dict[str, int] = field(default_factory=dict)
    member_session: str | None = field(default=None, repr=False)  # their session key
    thread: tuple[int, int] | None = None  # the published creation with most comments: id, count

    def as_json(self) -> dict:
        return {
            "published_creations": self.published,
            "popular_tag": self.popular_tag,
            "rare_tag": self.rare_tag,
            "second_tag": self.second_tag,
            "part": self.part,
            "popular_creation": self.popular_creation,
            "ordinary_creation": self.ordinary_creation,
            "prolific_member": self.prolific,
            "deep_page": self.deep_page,
            "score_writers": len(self.writers),
            "member": self.member[0] if self.member else None,
            "member_lists": self.member_lists,
            "thread": self.thread,
        }


def query_string(*pairs: tuple[str, object]) -> str:
    return "?" + urllib.parse.urlencode([(key, str(value)) for key, value in pairs])


# The orderings a member reads as themselves as well as anonymously: what blind scoring
# (creations.visibility) changes in a list, on the sorts that rank by scores.
RANKED_ORDERINGS = ("top", "trending", "calibrated")


def build_cases(targets: Targets) -> list[Case]:
    """Every case, in the order they run: the floor, the API (a member's lists last), the
    pages with the page cache on, the same pages with it off, a member's pages, then the
    writes (last: they change scores and threads)."""
    popular, rare, second = targets.popular_tag, targets.rare_tag, targets.second_tag
    creation, ordinary = targets.popular_creation[0], targets.ordinary_creation[0]
    member = targets.prolific[0]
    api = "/api/v1/creations/"
    cases = [Case("floor", "GET", "/healthz", kind="floor")]
    orderings = ["newest", "top", "trending", "most_scored", "calibrated"]
    cases += [
        Case(f"api-{o.replace('_', '-')}", "GET", api + query_string(("ordering", o)))
        for o in orderings
    ]
    cases += [
        Case(f"api-{o}-100", "GET", api + query_string(("ordering", o), ("page_size", 100)))
        for o in ("newest", "top")
    ]
    cases += [
        Case(
            "api-tag-popular",
            "GET",
            api + query_string(("tag", popular[0])),
            seed_tags=[popular[0]],
        ),
        Case("api-tag-rare", "GET", api + query_string(("tag", rare[0])), seed_tags=[rare[0]]),
        Case(
            "api-tag-two",
            "GET",
            api + query_string(("tag", popular[0]), ("tag", second[0])),
            seed_tags=[popular[0], second[0]],
        ),
    ]
    if targets.part is not None:
        part = targets.part[0]
        cases.append(
            Case("api-tag-part", "GET", api + query_string(("tag", popular[0]), ("part", part)))
        )
    cases.append(Case("api-search", "GET", api + query_string(("q", SEARCH_TERM))))
    if targets.part is not None:
        cases.append(Case("api-part", "GET", api + query_string(("part", targets.part[0]))))
    cases += [
        Case("api-owner", "GET", api + query_string(("owner", member))),
        Case("api-deep-page", "GET", api + query_string(("page", targets.deep_page))),
        Case("api-tags", "GET", "/api/v1/tags/"),
        Case("api-parts", "GET", "/api/v1/parts/"),
        Case("api-creation", "GET", f"{api}{creation}/"),
        Case("api-creation-ordinary", "GET", f"{api}{ordinary}/"),
        Case("api-creation-scores", "GET", f"{api}{creation}/scores/"),
        Case("api-user", "GET", f"/api/v1/users/{urllib.parse.quote(member)}/"),
    ]
    if targets.thread is not None:
        cases.append(Case("api-comments", "GET", f"{api}{targets.thread[0]}/comments/"))
    if targets.member is not None:
        token = {"Authorization": f"Token {targets.member[1]}"}
        cases += [
            Case("api-feed", "GET", "/api/v1/feed/", headers=token),
            Case("api-favourites", "GET", "/api/v1/users/me/favourites/", headers=token),
            Case("api-notifications", "GET", "/api/v1/notifications/", headers=token),
        ]
        cases += [
            Case(f"api-{o}-member", "GET", api + query_string(("ordering", o)), headers=token)
            for o in RANKED_ORDERINGS
        ]
    pages = [
        ("page-home", "/"),
        ("page-top", "/?sort=top"),
        ("page-trending", "/?sort=trending"),
        ("page-calibrated", "/?sort=calibrated"),
        ("page-most-scored", "/?sort=most_scored"),
        ("page-tags", "/tags/"),
        ("page-tag-popular", f"/tags/{urllib.parse.quote(popular[1])}/"),
        ("page-tag-rare", f"/tags/{urllib.parse.quote(rare[1])}/"),
        ("page-search", "/" + query_string(("q", SEARCH_TERM))),
        ("page-parts", "/parts/"),
    ]
    if targets.part is not None:
        pages.append(("page-part", f"/parts/{urllib.parse.quote(targets.part[0])}/"))
    pages += [
        ("page-creation", f"/creations/{creation}/"),
        ("page-profile", f"/u/{urllib.parse.quote(member)}/"),
    ]
    for server in ("cached", "uncached"):
        suffix = "/cache" if server == "cached" else "/nocache"
        cases += [Case(name + suffix, "GET", path, server, "page") for name, path in pages]
    if targets.member is not None and targets.member_session is not None:
        session = {"Cookie": f"sessionid={targets.member_session}"}
        cases.append(
            Case("page-following", "GET", "/following/", "uncached", "page", headers=session)
        )
        # Named without a server suffix, so they are captured and explained apart from the
        # anonymous pages (capture_name).
        cases += [
            Case(f"page-{o}-member", "GET", f"/?sort={o}", "uncached", "page", headers=session)
            for o in RANKED_ORDERINGS
        ]
    cases.append(Case("write-score", "PUT", "/api/v1/creations/<id>/my-score/", kind="write"))
    cases.append(Case("api-comment-post", "POST", "/api/v1/creations/<id>/comments/", kind="write"))
    return cases


# The bench database ---------------------------------------------------------------------------


def maintenance_url(url: str) -> str:
    return urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()


def ensure_database(url: str) -> bool:
    """Create the bench database when it is missing; True when it was created."""
    name = database_name(url)
    with psycopg.connect(maintenance_url(url), autocommit=True, connect_timeout=10) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def stored_parameters(connection: psycopg.Connection) -> dict | None:
    """The parameters the data was made with (from `bench_meta`, made here when missing)."""
    if not connection.execute("SELECT to_regclass('bench_meta')").fetchone()[0]:
        connection.execute(
            "CREATE TABLE bench_meta ("
            " name text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL)"
        )
    row = connection.execute("SELECT value FROM bench_meta WHERE name = 'parameters'").fetchone()
    return row[0] if row else None


def store_parameters(connection: psycopg.Connection, parameters: dict | None) -> None:
    """Record what the data was made from (None: being made), and that no run has written
    scores or comments on top of it yet."""
    connection.execute(
        "DELETE FROM bench_meta WHERE name IN ('parameters', 'score_writes', 'comment_writes')"
    )
    if parameters is not None:
        connection.execute(
            "INSERT INTO bench_meta (name, value, updated_at) VALUES ('parameters', %s, now())",
            [json.dumps(parameters)],
        )


def earlier_writes(connection: psycopg.Connection) -> tuple[int, int, str]:
    """How many score writes and comment posts earlier runs added to the generated data, and
    when it was made."""
    rows = dict(
        connection.execute(
            "SELECT name, CASE WHEN name = 'parameters'"
            " THEN to_char(updated_at, 'YYYY-MM-DD HH24:MI TZ') ELSE value::text END"
            " FROM bench_meta"
        ).fetchall()
    )
    return (
        int(rows.get("score_writes") or 0),
        int(rows.get("comment_writes") or 0),
        rows.get("parameters", ""),
    )


def count_writes(connection: psycopg.Connection, name: str, count: int) -> None:
    """Add `count` to the writes of kind `name` (score_writes, comment_writes) runs made."""
    connection.execute(
        "INSERT INTO bench_meta (name, value, updated_at)"
        " VALUES (%s, to_jsonb(%s::int), now())"
        " ON CONFLICT (name) DO UPDATE"
        " SET value = to_jsonb(bench_meta.value::int + %s::int), updated_at = now()",
        [name, count, count],
    )


def creation_content_type(connection: psycopg.Connection) -> int:
    row = connection.execute(
        "SELECT id FROM django_content_type WHERE app_label = 'creations' AND model = 'creation'"
    ).fetchone()
    if row is None:
        raise SetupError("no content type for creations.Creation: is the database migrated?")
    return row[0]


def closest(rows: list[tuple], target: float) -> tuple:
    """The row whose last value (a count) is closest to `target`; ties by the first value."""
    return min(rows, key=lambda row: (abs(row[-1] - target), str(row[0])))


def choose_targets(connection: psycopg.Connection, seed: int) -> Targets:
    content_type = creation_content_type(connection)
    published = connection.execute(
        "SELECT count(*) FROM creations_creation WHERE status = 'published'"
    ).fetchone()[0]
    if published == 0:
        raise SetupError("the bench database has no published creations")
    tags = connection.execute(
        "SELECT t.id, t.name, t.slug, count(*) FROM taggit_taggeditem i"
        " JOIN taggit_tag t ON t.id = i.tag_id"
        " JOIN creations_creation c ON c.id = i.object_id AND c.status = 'published'"
        " WHERE i.content_type_id = %s GROUP BY t.id ORDER BY count(*) DESC, t.name",
        [content_type],
    ).fetchall()
    if len(tags) < 2:
        raise SetupError("the bench database needs at least two tags in use")
    popular = tags[0]
    rare = closest([row for row in tags if row[0] != popular[0]], RARE_TAG_SHARE * published)
    together = connection.execute(
        "SELECT t.id, t.name, t.slug, count(*) FROM taggit_taggeditem a"
        " JOIN taggit_taggeditem b ON b.object_id = a.object_id"
        "  AND b.content_type_id = a.content_type_id AND b.tag_id <> a.tag_id"
        " JOIN taggit_tag t ON t.id = b.tag_id"
        " JOIN creations_creation c ON c.id = a.object_id AND c.status = 'published'"
        " WHERE a.tag_id = %s AND a.content_type_id = %s GROUP BY t.id",
        [popular[0], content_type],
    ).fetchall()
    second = closest(together, TWO_TAGS_SHARE * published) if together else tags[1]
    part = connection.execute(
        "SELECT p.part_id, count(*) FROM creations_creation_parts p"
        " JOIN creations_creation c ON c.id = p.creation_id AND c.status = 'published'"
        " GROUP BY p.part_id ORDER BY count(*) DESC, p.part_id LIMIT 1"
    ).fetchone()
    popular_creation = connection.execute(
        "SELECT id, score_count FROM creations_creation WHERE status = 'published'"
        " ORDER BY score_count DESC, id LIMIT 1"
    ).fetchone()
    median = connection.execute(
        "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY score_count)"
        " FROM creations_creation WHERE status = 'published'"
    ).fetchone()[0]
    ordinary = connection.execute(
        "SELECT id, score_count FROM creations_creation WHERE status = 'published'"
        " AND id <> %s ORDER BY abs(score_count - %s), id LIMIT 1",
        [popular_creation[0], median],
    ).fetchone() or tuple(popular_creation)
    prolific = connection.execute(
        "SELECT u.username, count(*) FROM creations_creation c"
        " JOIN accounts_user u ON u.id = c.owner_id WHERE c.status = 'published'"
        " GROUP BY u.id ORDER BY count(*) DESC, u.username LIMIT 1"
    ).fetchone()
    writers = connection.execute(
        "SELECT u.id, t.key FROM authtoken_token t JOIN accounts_user u ON u.id = t.user_id"
        " WHERE u.username LIKE 'bench%%' AND u.is_active ORDER BY u.username"
    ).fetchall()
    if not writers:
        raise SetupError("no API tokens for bench members (generate_bench_data --tokens)")
    thread = connection.execute(
        "SELECT id, comment_count FROM creations_creation"
        " WHERE status = 'published' AND comment_count > 0"
        " ORDER BY comment_count DESC, id LIMIT 1"
    ).fetchone()
    member, member_lists = member_of(connection, writers[0])
    return Targets(
        published=published,
        popular_tag=(popular[1], popular[2], popular[3]),
        rare_tag=(rare[1], rare[2], rare[3]),
        second_tag=(second[1], second[2], second[3]),
        part=(part[0], part[1]) if part else None,
        popular_creation=tuple(popular_creation),
        ordinary_creation=tuple(ordinary),
        prolific=(prolific[0], prolific[1]),
        deep_page=max(1, min(DEEP_PAGE, math.ceil(published / API_PAGE_SIZE))),
        writers=[(row[0], row[1]) for row in writers],
        member=member,
        member_lists=member_lists,
        thread=tuple(thread) if thread else None,
    )


def member_of(
    connection: psycopg.Connection, writer: tuple[int, str]
) -> tuple[tuple[str, str] | None, dict[str, int]]:
    """The member whose lists are read (the first with a token: (username, token)) and how
    long those lists are; None when they follow nothing (data without community rows)."""
    user_id, token = writer
    lists = dict(
        zip(
            ("followed_members", "followed_tags", "saved", "notifications", "unread"),
            connection.execute(
                "SELECT (SELECT count(followed_user_id) FROM community_follow"
                "  WHERE follower_id = %(id)s),"
                " (SELECT count(tag_id) FROM community_follow WHERE follower_id = %(id)s),"
                " (SELECT count(*) FROM community_favourite WHERE user_id = %(id)s),"
                " (SELECT count(*) FROM community_notification WHERE recipient_id = %(id)s),"
                " (SELECT count(*) FROM community_notification"
                "  WHERE recipient_id = %(id)s AND read_at IS NULL)",
                {"id": user_id},
            ).fetchone(),
            strict=True,
        )
    )
    if not lists["followed_members"] and not lists["followed_tags"]:
        return None, lists
    username = connection.execute(
        "SELECT username FROM accounts_user WHERE id = %s", [user_id]
    ).fetchone()[0]
    return (username, token), lists


def score_writes(
    connection: psycopg.Connection, targets: Targets, count: int, seed: int
) -> list[dict]:
    """`count` score PUTs: each by a bench member (in turn), on a random published creation
    that member does not own, with random values."""
    rng = random.Random(seed)
    connection.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
    candidates = connection.execute(
        "SELECT id, owner_id FROM creations_creation WHERE status = 'published'"
        " ORDER BY random() LIMIT %s",
        [2 * count + 10],
    ).fetchall()
    writes = []
    position = 0
    for number in range(count):
        user_id, token = targets.writers[number % len(targets.writers)]
        for _ in range(len(candidates)):
            creation_id, owner_id = candidates[position % len(candidates)]
            position += 1
            if owner_id != user_id:
                break
        else:
            raise SetupError("no creation that a bench member does not own")
        writes.append(
            {
                "path": f"/api/v1/creations/{creation_id}/my-score/",
                "body": json.dumps(
                    {"creativity": rng.randint(1, 5), "uniqueness": rng.randint(1, 5)}
                ).encode(),
                "headers": {"Authorization": f"Token {token}", "Content-Type": "application/json"},
            }
        )
    return writes


def comment_writes(
    connection: psycopg.Connection, targets: Targets, count: int, seed: int
) -> list[dict]:
    """`count` comment POSTs: each by a bench member (in turn), on a random published
    creation, saying one of COMMENT_BODIES with a number."""
    connection.execute("SELECT setseed(%s)", [((seed + 500) % 1000) / 1000])
    creations = [
        row[0]
        for row in connection.execute(
            "SELECT id FROM creations_creation WHERE status = 'published'"
            " ORDER BY random() LIMIT %s",
            [count],
        ).fetchall()
    ]
    if not creations:
        raise SetupError("no published creation to comment on")
    writes = []
    for number in range(count):
        _, token = targets.writers[number % len(targets.writers)]
        body = f"{COMMENT_BODIES[number % len(COMMENT_BODIES)]} ({number + 1})"
        writes.append(
            {
                "path": f"/api/v1/creations/{creations[number % len(creations)]}/comments/",
                "body": json.dumps({"body": body}).encode(),
                "headers": {"Authorization": f"Token {token}", "Content-Type": "application/json"},
            }
        )
    return writes


def check_aggregates(connection: psycopg.Connection) -> dict:
    """Every creation's stored aggregates against a recomputation from scoring_score, and its
    comment_count and favourite_count against its live comments and its saves."""

    def differs(stored: str, expected: str) -> str:
        return f"(({stored} IS NULL) <> ({expected} IS NULL) OR abs({stored} - {expected}) > 1e-9)"

    rows = connection.execute(
        "WITH counted AS ("
        " SELECT creation_id, count(*) AS n, avg(creativity)::float8 AS c,"
        " avg(uniqueness)::float8 AS u FROM scoring_score GROUP BY creation_id),"
        " talked AS (SELECT creation_id, count(*) AS n FROM community_comment"
        "  WHERE deleted_at IS NULL GROUP BY creation_id),"
        " saved AS (SELECT creation_id, count(*) AS n FROM community_favourite"
        "  GROUP BY creation_id)"
        " SELECT cr.id, cr.score_count, cr.creativity_avg, cr.uniqueness_avg, cr.rating,"
        " cr.comment_count, cr.favourite_count,"
        " coalesce(s.n, 0), s.c, s.u, (s.c + s.u) / 2, coalesce(t.n, 0), coalesce(f.n, 0)"
        " FROM creations_creation cr LEFT JOIN counted s ON s.creation_id = cr.id"
        " LEFT JOIN talked t ON t.creation_id = cr.id LEFT JOIN saved f ON f.creation_id = cr.id"
        " WHERE cr.score_count <> coalesce(s.n, 0)"
        f" OR {differs('cr.creativity_avg', 's.c')} OR {differs('cr.uniqueness_avg', 's.u')}"
        f" OR {differs('cr.rating', '(s.c + s.u) / 2')}"
        " OR cr.comment_count <> coalesce(t.n, 0) OR cr.favourite_count <> coalesce(f.n, 0)"
        " ORDER BY cr.id"
    ).fetchall()
    checked = connection.execute("SELECT count(*) FROM creations_creation").fetchone()[0]
    return {
        "creations_checked": checked,
        "mismatches": len(rows),
        "examples": [
            f"creation {row[0]}: stored {tuple(row[1:7])}, recomputed {tuple(row[7:13])}"
            for row in rows[:10]
        ],
    }


def big_tables(connection: psycopg.Connection) -> set[str]:
    rows = connection.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.reltuples >= %s",
        [BIG_TABLE_ROWS],
    ).fetchall()
    return {row[0] for row in rows}


# The naive design -----------------------------------------------------------------------------


def ensure_seed_table(connection: psycopg.Connection) -> None:
    """`bench_seed_creation`: the original design rebuilt from the same data, one row per
    creation with its tag names comma-joined in a text column."""
    exists = connection.execute("SELECT to_regclass('bench_seed_creation')").fetchone()[0]
    if exists:
        return
    content_type = creation_content_type(connection)
    connection.execute(
        "CREATE TABLE bench_seed_creation AS"
        " SELECT c.id, c.title, c.description, c.owner_id, c.created_at,"
        " coalesce(string_agg(t.name, ',' ORDER BY t.name), '') AS tags"
        " FROM creations_creation c"
        " LEFT JOIN taggit_taggeditem i ON i.object_id = c.id AND i.content_type_id = %s"
        " LEFT JOIN taggit_tag t ON t.id = i.tag_id"
        " GROUP BY c.id",
        [content_type],
    )
    connection.execute("ALTER TABLE bench_seed_creation ADD PRIMARY KEY (id)")
    connection.execute("ANALYZE bench_seed_creation")


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def timed_runs(connection: psycopg.Connection, statements: list, runs: int) -> tuple[float, int]:
    """Median milliseconds of running every statement (fetching every row), and the rows
    the last run fetched."""
    totals, rows = [], 0
    for _ in range(runs):
        rows = 0
        start = time.perf_counter()
        for statement, params in statements:
            rows += len(connection.execute(statement, params).fetchall())
        totals.append((time.perf_counter() - start) * 1000)
    return statistics.median(totals), rows


def seed_comparison(
    connection: psycopg.Connection, cases: list[Case], captured: dict, runs: int
) -> list[dict]:
    """Each tag case on the naive design (ILIKE on the comma-joined tags, every score joined)
    against the statements NPU runs for the same request, both timed in PostgreSQL."""
    compared = []
    for case in cases:
        if not case.seed_tags or case.name not in captured:
            continue
        where = " AND ".join("c.tags ILIKE %s" for _ in case.seed_tags)
        naive = (
            "SELECT c.*, s.* FROM bench_seed_creation c"
            f" LEFT JOIN scoring_score s ON s.creation_id = c.id WHERE {where}",
            [like_pattern(tag) for tag in case.seed_tags],
        )
        naive_ms, naive_rows = timed_runs(connection, [naive], runs)
        statements = [(query, None) for query in read_statements(captured[case.name]["queries"])]
        npu_ms, npu_rows = timed_runs(connection, statements, runs)
        compared.append(
            {
                "case": case.name,
                "tags": case.seed_tags,
                "naive_ms": round(naive_ms, 2),
                "naive_rows": naive_rows,
                "npu_ms": round(npu_ms, 2),
                "npu_queries": len(statements),
                "npu_rows": npu_rows,
                "speedup": round(naive_ms / npu_ms, 1) if npu_ms > 0 else None,
            }
        )
    return compared


def read_statements(queries: list[str]) -> list[str]:
    """The reads among `queries`: a SELECT, a WITH, or a UNION of parenthesised SELECTs (as
    Django writes `qs.union(...)`, e.g. which creations a member scored or revealed)."""
    return [
        q for q in queries if q.lstrip().lstrip("(").lstrip().upper().startswith(("SELECT", "WITH"))
    ]


def explain_cases(
    connection: psycopg.Connection, cases: list[Case], captured: dict, tables: set[str]
) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement of every read case that reads content."""
    explained = []
    seen_pages = set()
    for case in cases:
        key = capture_name(case)
        if not case.is_read or key not in captured or key in seen_pages:
            continue
        seen_pages.add(key)
        plans = []
        for query in read_statements(captured[key]["queries"]):
            if not CONTENT_TABLES.search(query):
                continue
            plan = "\n".join(
                row[0]
                for row in connection.execute(
                    sql.SQL("EXPLAIN (ANALYZE, BUFFERS) {}").format(sql.SQL(query))
                ).fetchall()
            )
            plans.append(
                {
                    "sql": query,
                    "plan": plan,
                    "execution_ms": execution_ms(plan),
                    "warnings": plan_warnings(plan, tables),
                }
            )
        explained.append({"case": key, "path": case.path, "queries": plans})
    return explained


def capture_name(case: Case) -> str:
    """A page is explained once, whichever server it ran on (the queries are those of a
    render, i.e. of the uncached page)."""
    return case.name.rsplit("/", 1)[0] if case.kind == "page" else case.name


# Servers --------------------------------------------------------------------------------------


def production_env(args, folder: Path, port: int, *, page_cache: bool) -> dict:
    """Production settings for manage.py and gunicorn (scripts/serving.py), with rate limits
    off and the query-count header on."""
    env = serving.production_env(
        name="bench",
        database_url=args.database_url,
        folder=folder,
        port=port,
        workers=args.workers,
        DJANGO_SECURE_HSTS_SECONDS="0",
        RATELIMIT_ENABLE="0",
        NPU_QUERY_COUNT_HEADER="1",
        # No worker recycling mid-run: a fresh worker's first requests would count as the
        # site's.
        GUNICORN_MAX_REQUESTS="0",
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    if not page_cache:
        env["NPU_PAGE_CACHE_SECONDS"] = "0"
    return env


# Stores what a log-in stores for a member, and prints the session key (manage.py shell -c).
MEMBER_SESSION_CODE = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
user = get_user_model().objects.get(username={username!r})
session = import_module(settings.SESSION_ENGINE).SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


def member_session(env: dict, username: str) -> str:
    """A session key logging `username` in, made with the settings (and secret key) of `env`:
    what a log-in would store, without the log-in's form."""
    output = manage(env, "shell", "-c", MEMBER_SESSION_CODE.format(username=username))
    key = (output.strip().splitlines() or [""])[-1]
    if not re.fullmatch(r"[a-z0-9]{32,40}", key):
        raise SetupError("manage.py shell did not print a session key")
    return key


def manage(env: dict, *command: str, extra_env: dict | None = None, stream=False) -> str:
    """`manage.py command` with the benchmark's settings (scripts/serving.py); a failure is a
    SetupError."""
    try:
        return serving.manage(env, *command, extra_env=extra_env, stream=stream)
    except RuntimeError as error:
        raise SetupError(str(error)) from error


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path


def start_gunicorn(name: str, env: dict, log_path: Path, port: int) -> Server:
    try:
        process = serving.start_gunicorn(env, log_path, port)
    except RuntimeError as error:
        raise SetupError(f"gunicorn ({name}): {error}") from error
    return Server(name, port, process, log_path)


def stop_gunicorn(server: Server) -> None:
    serving.stop_gunicorn(server.process)


def worker_memory(master: int) -> list[dict]:
    """Resident memory (VmRSS) of each child of a gunicorn master."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() != str(master):
            continue
        rss = fields.get("VmRSS", "").strip()
        kilobytes = int(rss.split()[0]) if rss else None
        workers.append({"pid": int(entry.name), "rss_mb": round(kilobytes / 1024, 1)})
    return sorted(workers, key=lambda worker: worker["pid"])


def redis_flush(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=5).flushdb()
    except redis.RedisError as error:
        raise SetupError(
            f"Redis at {url}: {error} (use --no-redis on a machine without)"
        ) from error


# HTTP -----------------------------------------------------------------------------------------


def send(port: int, method: str, path: str, body: bytes | None, headers: dict) -> Result:
    """One request on a connection of its own (gunicorn's sync workers close each one)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    all_headers = {"User-Agent": "npu-bench", "Connection": "close", **headers}
    start = time.perf_counter()
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        seconds = time.perf_counter() - start
        queries = response.getheader("X-NPU-Queries")
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        return Result(None, time.perf_counter() - start, None, error=type(error).__name__)
    finally:
        connection.close()
    excerpt = ""
    if not expected_status(method, status):
        excerpt = " ".join(data[:2000].decode("utf-8", "replace").split())[:300]
    return Result(status, seconds, int(queries) if queries and queries.isdigit() else None, excerpt)


def send_all(task: tuple) -> list[Result]:
    """A client's share of a case: its requests, one after another."""
    port, requests = task
    return [
        send(port, r["method"], r["path"], r.get("body"), r.get("headers", {})) for r in requests
    ]


def _quiet_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner handles Ctrl-C


class Driver:
    """Sends a list of requests with `concurrency` clients at once, each a thread of this
    process or a process of its own.

    Threads are the default. Measured against processes, interleaved on the same server (two
    cores, 8 clients, 200 requests a round): /healthz 4.2-5.9 ms median with threads and
    5.7-6.0 ms with processes; a cached page and an API list alike within noise. The clients
    wait on sockets almost all the time, so the GIL costs them nothing measurable, while eight
    client processes take more CPU from the server they measure on a small machine.
    """

    def __init__(self, kind: str, concurrency: int):
        self.kind = kind
        self.concurrency = concurrency
        if kind == "processes":
            context = multiprocessing.get_context("fork")
            self.pool = context.Pool(concurrency, initializer=_quiet_worker)
        else:
            self.pool = multiprocessing.pool.ThreadPool(concurrency)

    def run(self, port: int, requests: list[dict]) -> tuple[list[Result], float]:
        shares = [(port, requests[index :: self.concurrency]) for index in range(self.concurrency)]
        start = time.perf_counter()
        results = self.pool.map(send_all, [share for share in shares if share[1]], chunksize=1)
        return [r for share in results for r in share], time.perf_counter() - start

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


# The run --------------------------------------------------------------------------------------


def bench_folder(url: str) -> Path:
    """Pictures, static files and logs, kept between runs beside the database they belong to."""
    return Path(tempfile.gettempdir()) / f"npu-bench-{database_name(url)}"


def prepare_database(args, env: dict, folder: Path) -> dict:
    """Create, migrate and fill the bench database (or keep its data with --reuse)."""
    started = time.monotonic()
    created = ensure_database(args.database_url)
    # A long migration or a large fill must not meet the site's statement timeout.
    long_env = {"DATABASE_STATEMENT_TIMEOUT": "0"}
    manage(env, "migrate", "--noinput", "-v0", extra_env=long_env)
    wanted = data_parameters(args)
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        stored = stored_parameters(connection)
        reused = args.reuse and stored == wanted
        if not reused:
            store_parameters(connection, None)
            connection.execute("DROP TABLE IF EXISTS bench_seed_creation")
    if not reused:
        shutil.rmtree(folder / "media", ignore_errors=True)
        print(f"  generating data {wanted} ...", flush=True)
        manage(
            env,
            "generate_bench_data",
            "--creations",
            str(args.creations),
            "--scores",
            str(args.scores),
            "--tags",
            str(args.tags),
            "--users",
            str(args.users),
            "--seed",
            str(args.seed),
            "--tokens",
            str(wanted["tokens"]),
            "--replace",
            extra_env={**long_env, "NPU_DEMO": "1"},
            stream=True,
        )
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            store_parameters(connection, wanted)
    # Production settings serve hashed static files from the manifest.
    manage(env, "collectstatic", "--noinput", "-v0")
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        ensure_seed_table(connection)
        connection.execute("ANALYZE")
        earlier_scores, earlier_comments, generated_at = earlier_writes(connection)
    return {
        "database_created": created,
        "data_reused": reused,
        "parameters": wanted,
        "generated_at": generated_at,
        # --reuse keeps what earlier runs' writes added to the generated data.
        "earlier_score_writes": earlier_scores,
        "earlier_comment_writes": earlier_comments,
        "seconds": round(time.monotonic() - started, 1),
    }


def capture_queries(env: dict, folder: Path, cases: list[Case]) -> dict:
    """The statements each read case runs, recorded in-process by benchmarks/explain.py."""
    wanted, seen = [], set()
    for case in cases:
        name = capture_name(case)
        if case.is_read and name not in seen:
            seen.add(name)
            wanted.append({"name": name, "path": case.path, "headers": case.headers})
    request_file = folder / "explain-requests.json"
    request_file.write_text(json.dumps(wanted))  # a member's token: the folder is the bench's
    request_file.chmod(0o600)
    completed = subprocess.run(
        [sys.executable, str(EXPLAIN_SCRIPT), str(request_file)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if completed.returncode != 0:
        raise SetupError(f"benchmarks/explain.py failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_case(case: Case, args, driver: Driver, port: int, writes: dict[str, list[dict]]) -> dict:
    """Warm up, then measure one case; a write case sends its own list of `writes`."""
    if case.kind == "write":
        plan = [{"method": case.method, **write} for write in writes[case.name]]
    else:
        request = {"method": case.method, "path": case.path, "headers": case.headers}
        plan = [request] * (args.warmup + args.requests)
    warmup, measured = plan[: args.warmup], plan[args.warmup :]
    warm_results, _ = driver.run(port, warmup) if warmup else ([], 0.0)
    results, wall = driver.run(port, measured)
    figures = case_figures(case.method, results, wall)
    warm_errors = [r for r in warm_results if not expected_status(case.method, r.status)]
    figures["warmup_errors"] = len(warm_errors)
    if warm_errors and not figures["error_examples"]:
        figures["error_examples"] = [f"{r.status or r.error}: {r.excerpt}" for r in warm_errors[:3]]
    return {
        "name": case.name,
        "method": case.method,
        "path": case.path,
        "server": case.server,
        "kind": case.kind,
        "figures": figures,
    }


def markdown(summary: dict) -> str:
    config = summary["config"]
    out = [
        f"## Benchmark {config['date']}",
        "",
        f"{config['creations']:,} creations, {config['scores']:,} scores, {config['tags']:,} tags,"
        f" {config['users']:,} members (seed {config['seed']}); {config['requests']} requests per"
        f" case after {config['warmup']} warm-up requests, {config['concurrency']} clients"
        f" ({config['driver']}), gunicorn {config['workers']} workers,"
        f" {'Redis' if config['redis'] else 'no Redis'}. Queries: SQL statements per request"
        " (max; `*` when they varied).",
        "",
        "| " + " | ".join(RESULT_HEADERS) + " |",
        "| " + " | ".join("---" if i in (0, 6, 7) else "---:" for i in range(8)) + " |",
    ]
    for row in result_rows(summary["cases"]):
        cells = ["-" if value is None else str(value) for value in row]
        cells[7] = f"`{cells[7]}`"
        out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    if summary["skipped"]:
        out += ["", "Skipped: " + "; ".join(summary["skipped"])]
    out += ["", "Chosen: " + json.dumps(summary["targets"]), ""]
    for server, workers in summary["memory"].items():
        sizes = ", ".join(f"{w['rss_mb']} MB" for w in workers) or "none found"
        out.append(f"Workers' resident memory after the run, page cache {server}: {sizes}.")
    aggregates = summary["aggregates"]
    out += [
        "",
        f"Aggregates after the writes: {aggregates['creations_checked']:,} creations"
        f" recomputed from their scores, comments and saves, {aggregates['mismatches']} differ.",
        "",
    ]
    if summary["seed_comparison"]:
        out += [
            "### The naive design (ILIKE on a comma-joined tag column) against NPU, in SQL",
            "",
            "| case | tags | naive ms | naive rows | NPU ms | NPU queries | speed-up |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in summary["seed_comparison"]:
            out.append(
                f"| {row['case']} | {', '.join(row['tags'])} | {row['naive_ms']} |"
                f" {row['naive_rows']} | {row['npu_ms']} | {row['npu_queries']} |"
                f" {row['speedup']}x |"
            )
        out += [
            "",
            f"Target: NPU at least {SEED_SPEEDUP_TARGET}x faster than the naive design.",
            "",
        ]
    for case in summary["explain"]:
        out += [f"### EXPLAIN {case['case']}: `{case['path']}`", ""]
        if not case["queries"]:
            out += ["No statement reads creations, scores, tags or parts.", ""]
        for number, query in enumerate(case["queries"], start=1):
            out += [
                f"Query {number}, execution {query['execution_ms']} ms:",
                "",
                "```sql",
                query["sql"],
                "```",
                "",
                "```",
                query["plan"],
                "```",
                "",
            ]
            out += [f"- **warning**: {warning}" for warning in query["warnings"]]
            if query["warnings"]:
                out.append("")
    return "\n".join(out) + "\n"


def print_summary(summary: dict) -> None:
    out = ["", results_table(summary["cases"]), ""]
    out.append(
        "queries: SQL statements per request, the most any request ran (* when they varied);"
        " x floor: median over the floor's median"
    )
    for skipped in summary["skipped"]:
        out.append(f"skipped: {skipped}")
    for case in summary["cases"]:
        for example in case["figures"]["error_examples"]:
            out.append(f"  error in {case['name']}: {example}")
    if summary["seed_comparison"]:
        out.append("")
        out.append("Naive design (ILIKE on comma-joined tags) against NPU's queries, in SQL:")
        rows = [
            [
                row["case"],
                ", ".join(row["tags"]),
                row["naive_ms"],
                row["naive_rows"],
                row["npu_ms"],
                row["npu_queries"],
                f"{row['speedup']}x" if row["speedup"] is not None else None,
            ]
            for row in summary["seed_comparison"]
        ]
        headers = ["case", "tags", "naive ms", "rows", "NPU ms", "queries", "speed-up"]
        out.append(format_table(headers, rows, right={2, 3, 4, 5, 6}))
        short = [
            row["case"]
            for row in summary["seed_comparison"]
            if row["speedup"] is None or row["speedup"] < SEED_SPEEDUP_TARGET
        ]
        out.append(
            f"target: NPU at least {SEED_SPEEDUP_TARGET}x faster;"
            + (f" short of it: {', '.join(short)}" if short else " met by every tag case")
        )
    for case in summary["explain"]:
        for number, query in enumerate(case["queries"], start=1):
            for warning in query["warnings"]:
                out.append(f"  EXPLAIN warning, {case['case']} query {number}: {warning}")
    out.append("")
    for server, workers in summary["memory"].items():
        sizes = ", ".join(f"pid {w['pid']} {w['rss_mb']} MB" for w in workers) or "none found"
        out.append(f"gunicorn ({server}) workers' resident memory: {sizes}")
    aggregates = summary["aggregates"]
    if aggregates:
        out.append(
            f"aggregates: {aggregates['creations_checked']} creations recomputed from"
            f" their scores, comments and saves, {aggregates['mismatches']} differ"
        )
        out += [f"  {example}" for example in aggregates["examples"]]
    pinned = summary["pinned_queries"]
    for over in pinned["over"]:
        out.append(
            f"queries over pinned: {over['case']} ran {over['queries']}, pinned {over['pinned']}"
        )
    if pinned["missing"]:
        out.append("no pinned query count for: " + ", ".join(pinned["missing"]))
    if pinned["unmeasured"]:
        out.append("no X-NPU-Queries header from: " + ", ".join(pinned["unmeasured"]))
    if pinned["unused"]:
        out.append("pinned cases this run did not have: " + ", ".join(pinned["unused"]))
    out.append("")
    for check in summary["checks"]:
        out.append(f"  [{'PASS' if check['ok'] else 'FAIL'}] {check['condition']}")
    out.append(f"Result: {'PASS' if summary['passed'] else 'FAIL'}")
    print("\n".join(out), flush=True)


def checks(summary: dict, *, smoke: bool) -> list[dict]:
    cases = summary["cases"]
    errors = sum(c["figures"]["errors"] + c["figures"]["warmup_errors"] for c in cases)
    pinned = summary["pinned_queries"]
    result = [
        ("every answer 2xx (score writes 200 or 201, comment posts 201)", errors == 0),
        (
            "every creation's aggregates equal a recomputation",
            summary["aggregates"]["mismatches"] == 0,
        ),
    ]
    if smoke:
        result.append(
            (
                "no case over its pinned query count (benchmarks/bench_queries.json)",
                not pinned["over"] and not pinned["unmeasured"],
            )
        )
    return [{"condition": name, "ok": bool(ok)} for name, ok in result]


def run(args) -> int:
    folder = bench_folder(args.database_url)
    folder.mkdir(parents=True, exist_ok=True)
    ports = {"cached": free_port(), "uncached": free_port()}
    envs = {
        name: production_env(args, folder, port, page_cache=name == "cached")
        for name, port in ports.items()
    }
    # The pool forks before anything else starts a thread.
    driver = Driver(args.driver, args.concurrency)
    servers: dict[str, Server] = {}
    try:
        print(
            f"Bench database {database_name(args.database_url)}"
            f" ({'kept if it matches' if args.reuse else 'filled afresh'}); folder {folder}",
            flush=True,
        )
        try:
            if args.redis_url:
                redis_flush(args.redis_url)
            setup = prepare_database(args, envs["uncached"], folder)
            with psycopg.connect(args.database_url, autocommit=True) as connection:
                targets = choose_targets(connection, args.seed)
                count = args.warmup + args.requests
                writes = {
                    "write-score": score_writes(connection, targets, count, args.seed),
                    "api-comment-post": comment_writes(connection, targets, count, args.seed),
                }
            if args.redis_url:
                redis_flush(args.redis_url)  # nothing cached by the set-up meets the run
            if targets.member is not None:
                # With the secret key of the server that serves member pages (page cache off).
                targets.member_session = member_session(envs["uncached"], targets.member[0])
            for name in ("cached", "uncached"):
                servers[name] = start_gunicorn(
                    name, envs[name], folder / f"gunicorn-{name}.log", ports[name]
                )
        except (OSError, psycopg.Error, subprocess.SubprocessError) as error:
            raise SetupError(str(error)) from error
        if setup["data_reused"]:
            print(
                f"  data generated {setup['generated_at']} reused, with"
                f" {setup['earlier_score_writes']} score writes and"
                f" {setup['earlier_comment_writes']} comment posts of earlier runs on top",
                flush=True,
            )
        print(
            f"  {'reused' if setup['data_reused'] else 'made'} in {setup['seconds']}s;"
            f" {targets.published} published creations; gunicorn {args.workers} workers on"
            f" ports {ports['cached']} (page cache on) and {ports['uncached']} (off);"
            f" {args.concurrency} clients ({args.driver})",
            flush=True,
        )
        skipped = []
        if targets.part is None:
            skipped.append("api-tag-part, api-part, page-part (no creation features a part)")
        if targets.thread is None:
            skipped.append("api-comments (no published creation has comments)")
        if targets.member is None:
            skipped.append(
                "api-feed, api-favourites, api-notifications, page-following and the"
                " member's ranked lists (no bench member follows anything)"
            )
        cases = build_cases(targets)
        results = []
        for case in cases:
            print(f"  {case.name:<28} {case.method} {case.path}", flush=True)
            results.append(run_case(case, args, driver, ports[case.server], writes))
        floor = results[0]["figures"]["median_ms"]
        for result in results:
            median = result["figures"]["median_ms"]
            result["vs_floor"] = round(median / floor, 2) if floor and median else None
        memory = {name: worker_memory(server.process.pid) for name, server in servers.items()}
        for server in servers.values():
            stop_gunicorn(server)
        servers.clear()

        print("  capturing each read case's SQL in-process (benchmarks/explain.py)", flush=True)
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            count_writes(connection, "score_writes", len(writes["write-score"]))
            count_writes(connection, "comment_writes", len(writes["api-comment-post"]))
            aggregates = check_aggregates(connection)
            wanted = cases if args.explain else [c for c in cases if c.seed_tags]
            try:
                captured = capture_queries(envs["uncached"], folder, wanted)
            except (OSError, ValueError, subprocess.SubprocessError) as error:
                raise SetupError(f"capturing the queries: {error}") from error
            capture_errors = [
                f"{name}: status {found['status']} in-process"
                for name, found in captured.items()
                if found["status"] != 200
            ]
            comparison = seed_comparison(connection, cases, captured, args.sql_runs)
            explained = (
                explain_cases(connection, cases, captured, big_tables(connection))
                if args.explain
                else []
            )
        measured = {r["name"]: r["figures"]["queries_median"] for r in results}
        if args.update_queries:
            PINNED_QUERIES.write_text(
                json.dumps({k: v for k, v in measured.items() if v is not None}, indent=2) + "\n"
            )
            print(f"  wrote {PINNED_QUERIES.relative_to(ROOT)}", flush=True)
        summary = {
            "config": {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
                **data_parameters(args),
                "database": database_name(args.database_url),
                "requests": args.requests,
                "warmup": args.warmup,
                "concurrency": args.concurrency,
                "driver": args.driver,
                "workers": args.workers,
                "redis": bool(args.redis_url),
                "smoke": args.smoke,
                "cpus": os.cpu_count(),
            },
            "setup": setup,
            "targets": targets.as_json(),
            "cases": results,
            "skipped": skipped,
            "memory": memory,
            "aggregates": aggregates,
            "seed_comparison": comparison,
            "explain": explained,
            "capture_errors": capture_errors,
            "pinned_queries": compare_queries(measured, load_pinned()),
        }
        summary["checks"] = checks(summary, smoke=args.smoke)
        if capture_errors:
            summary["checks"].append(
                {"condition": "every captured request answered 200 in-process", "ok": False}
            )
        summary["passed"] = all(check["ok"] for check in summary["checks"])
        print_summary(summary)
        if args.report:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(json.dumps(summary, indent=2) + "\n")
        if args.markdown:
            args.markdown.parent.mkdir(parents=True, exist_ok=True)
            args.markdown.write_text(markdown(summary))
        return 0 if summary["passed"] else 1
    finally:
        # Gunicorn first: requests still on their way then fail at once, and the clients end.
        for server in servers.values():
            stop_gunicorn(server)
        driver.close()


def main(argv=None) -> int:
    args = parse_args(argv)

    def interrupt(signum, frame):
        raise KeyboardInterrupt  # Ctrl-C or SIGTERM: stop gunicorn and leave

    # SIGINT too, explicitly: a shell starts background jobs with it ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        return run(args)
    except SetupError as error:
        print(f"Could not set up the benchmark: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted; gunicorn stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
