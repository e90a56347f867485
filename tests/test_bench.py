"""The benchmark (`make bench`, scripts/bench.py): the query-count header it reads, its pure
figures, and one small run end to end against gunicorn on PostgreSQL."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import dj_database_url
import psycopg
import pytest
import redis
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from psycopg import sql

from creations.tagging import tag_normalize
from demo.bench_data import BenchData, BenchSize, Picture
from npu_site.middleware import QueryCountHeaderMiddleware
from tests.factories import CreationFactory

ROOT = Path(__file__).resolve().parent.parent
SERVER = dj_database_url.parse(os.environ.get("DATABASE_URL") or "sqlite://")
on_postgresql = pytest.mark.skipif(
    SERVER.get("ENGINE") != "django.db.backends.postgresql",
    reason="the benchmark needs PostgreSQL: set DATABASE_URL to a postgres:// URL",
)


@pytest.fixture(scope="module")
def bench():
    """scripts/bench.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("npu_bench_script", ROOT / "scripts/bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


# The X-NPU-Queries header ---------------------------------------------------------------------


@pytest.mark.django_db
def test_query_count_header_says_how_many_statements_a_request_ran(
    client, settings, django_assert_num_queries
):
    settings.NPU_QUERY_COUNT_HEADER = True
    CreationFactory.create_batch(3, tags=["castle"])
    client.get("/api/v1/creations/")  # counts the list once; later requests read the count
    first = client.get("/api/v1/creations/")
    count = int(first["X-NPU-Queries"])
    assert count > 0
    with django_assert_num_queries(count):
        second = client.get("/api/v1/creations/")
    assert second.status_code == 200
    assert second["X-NPU-Queries"] == str(count)


@pytest.mark.django_db
def test_query_count_header_is_zero_for_a_request_without_sql(client, settings):
    settings.NPU_QUERY_COUNT_HEADER = True
    assert client.get("/healthz")["X-NPU-Queries"] == "0"


@pytest.mark.django_db
def test_query_count_header_is_absent_by_default(client):
    response = client.get("/api/v1/creations/")
    assert response.status_code == 200
    assert "X-NPU-Queries" not in response


def test_query_count_middleware_leaves_the_chain_when_off(settings):
    settings.NPU_QUERY_COUNT_HEADER = False
    with pytest.raises(MiddlewareNotUsed):
        QueryCountHeaderMiddleware(lambda request: HttpResponse())


def test_query_count_middleware_is_outermost(settings):
    assert settings.MIDDLEWARE[0] == "npu_site.middleware.QueryCountHeaderMiddleware"


# Pure figures ---------------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks(bench):
    assert bench.percentile([], 0.5) is None
    assert bench.percentile([7.0], 0.95) == 7.0
    assert bench.percentile([4, 1, 3, 2], 0.5) == 2.5
    assert bench.percentile(list(range(1, 101)), 0.95) == pytest.approx(95.05)
    assert bench.percentile([1, 2, 3], 1.0) == 3


def test_case_figures_count_statuses_queries_and_errors(bench):
    results = [
        bench.Result(200, 0.010, 4),
        bench.Result(200, 0.020, 5),
        bench.Result(500, 0.030, 2, excerpt="Something went wrong"),
        bench.Result(None, 0.040, None, error="ConnectionRefusedError"),
    ]
    figures = bench.case_figures("GET", results, wall_seconds=0.5)
    assert figures["requests"] == 4
    assert figures["median_ms"] == 25.0
    assert figures["per_second"] == 8.0
    assert (figures["queries_min"], figures["queries_max"]) == (2, 5)
    assert figures["queries_varied"] is True
    assert figures["queries_missing"] == 1
    assert figures["statuses"] == {"200": 2, "500": 1, "no answer": 1}
    assert figures["errors"] == 2
    assert figures["error_examples"][0] == "500: Something went wrong"
    assert bench.queries_text(figures) == "2-5*"


def test_score_writes_may_answer_200_or_201_comment_posts_201_and_reads_any_2xx(bench):
    assert bench.expected_status("PUT", 201) and bench.expected_status("PUT", 200)
    assert not bench.expected_status("PUT", 204)
    assert bench.expected_status("POST", 201)
    assert not bench.expected_status("POST", 200) and not bench.expected_status("POST", 429)
    assert bench.expected_status("GET", 200) and not bench.expected_status("GET", 302)
    assert not bench.expected_status("GET", None)


def test_format_table_aligns_columns(bench):
    table = bench.format_table(
        ["case", "median ms"], [["floor", 1.5], ["api-newest", None]], right={1}
    )
    lines = table.splitlines()
    assert lines[0] == "case        median ms"
    assert lines[1] == "----------  ---------"
    assert lines[2] == "floor             1.5"
    assert lines[3] == "api-newest          -"


def test_results_table_has_a_row_for_every_case(bench):
    figures = bench.case_figures("GET", [bench.Result(200, 0.002, 0)], 0.01)
    cases = [
        {"name": name, "method": "GET", "path": "/x", "figures": figures, "vs_floor": 1.0}
        for name in ("floor", "api-newest", "page-home/cache")
    ]
    table = bench.results_table(cases)
    for name in ("floor", "api-newest", "page-home/cache"):
        assert any(line.startswith(name + " ") for line in table.splitlines())


@pytest.mark.parametrize(
    "url",
    [
        "postgres://postgres@127.0.0.1:5432/npu_bench",
        "postgresql://postgres@localhost/npu_bench_test",
        "postgres://postgres@[::1]:5432/npu_benchdev",
    ],
)
def test_database_guard_accepts_a_bench_database_on_this_machine(bench, url):
    assert bench.checked_database_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "postgres://postgres@127.0.0.1:5432/postgres",
        "postgres://postgres@127.0.0.1:5432/template0",
        "postgres://postgres@127.0.0.1:5432/template1",
        "postgres://postgres@127.0.0.1:5432/npu",
        "postgres://postgres@127.0.0.1:5432/npu_loadtest",
        "postgres://postgres@127.0.0.1:5432/",
        "postgres://postgres@db.example.com:5432/npu_bench",
        "postgres://postgres@10.0.0.5:5432/npu_bench",
        "mysql://root@127.0.0.1/npu_bench",
    ],
)
def test_database_guard_refuses_other_databases_and_hosts(bench, url):
    with pytest.raises(ValueError):
        bench.checked_database_url(url)


def test_pinned_query_counts_are_compared_per_case(bench):
    measured = {"floor": 0, "api-newest": 5, "api-top": 4, "page-home/cache": None, "new": 3}
    pinned = {"floor": 0, "api-newest": 4, "api-top": 4, "page-home/cache": 0, "gone": 1}
    compared = bench.compare_queries(measured, pinned)
    assert compared["over"] == [{"case": "api-newest", "queries": 5, "pinned": 4}]
    assert compared["missing"] == ["new"]
    assert compared["unmeasured"] == ["page-home/cache"]
    assert compared["unused"] == ["gone"]


def test_pinned_query_counts_cover_every_case_of_the_smoke_run(bench):
    pinned = json.loads((ROOT / "benchmarks" / "bench_queries.json").read_text())
    targets = bench.Targets(
        published=2000,
        popular_tag=("castle", "castle", 300),
        rare_tag=("ingot", "ingot", 1),
        second_tag=("space", "space", 30),
        part=("3001", 40),
        popular_creation=(1, 50),
        ordinary_creation=(2, 10),
        prolific=("bench00001", 40),
        deep_page=84,
        member=("bench00001", "f" * 40),
        member_session="s" * 32,
        thread=(1, 5),
    )
    names = {case.name for case in bench.build_cases(targets)}
    community = {
        "api-comments",
        "api-feed",
        "api-favourites",
        "api-notifications",
        "page-following",
    }
    ranked = {
        f"{kind}-{ordering}{suffix}"
        for kind, suffixes in [
            ("api", ["", "-member"]),
            ("page", ["/cache", "/nocache", "-member"]),
        ]
        for suffix in suffixes
        for ordering in ("top", "trending", "calibrated")
    }
    assert community | ranked | {"api-comment-post"} <= names
    assert names == set(pinned)
    assert all(isinstance(count, int) and count >= 0 for count in pinned.values())


def test_cases_have_unique_names_and_skip_what_the_data_lacks(bench):
    targets = bench.Targets(
        published=300,
        popular_tag=("castle", "castle", 90),
        rare_tag=("ingot", "ingot", 1),
        second_tag=("space", "space", 4),
        part=None,
        popular_creation=(1, 50),
        ordinary_creation=(2, 10),
        prolific=("bench00001", 40),
        deep_page=13,
    )
    cases = bench.build_cases(targets)
    names = [case.name for case in cases]
    assert len(names) == len(set(names))
    assert names[0] == "floor" and names[-2:] == ["write-score", "api-comment-post"]
    assert {"api-calibrated", "page-calibrated/cache", "page-calibrated/nocache"} <= set(names)
    assert not {"api-tag-part", "api-part", "page-part/cache", "page-part/nocache"} & set(names)
    # Data without community rows: no thread to read, no member whose lists to read.
    assert not {"api-comments", "api-feed", "api-favourites", "page-following"} & set(names)
    assert not {name for name in names if name.endswith("-member")}
    deep = next(case for case in cases if case.name == "api-deep-page")
    assert deep.path.endswith("?page=13")
    assert {case.server for case in cases if case.kind == "page"} == {"cached", "uncached"}


def test_a_members_lists_are_read_with_their_token_or_session_kept_out_of_the_report(bench):
    token = "0123456789abcdef" * 2 + "01234567"
    session = "k" * 32
    targets = bench.Targets(
        published=300,
        popular_tag=("castle", "castle", 90),
        rare_tag=("ingot", "ingot", 1),
        second_tag=("space", "space", 4),
        part=None,
        popular_creation=(7, 50),
        ordinary_creation=(2, 10),
        prolific=("bench00001", 40),
        deep_page=13,
        writers=[(1, token)],
        member=("bench00001", token),
        member_lists={"followed_members": 20, "followed_tags": 5},
        member_session=session,
        thread=(7, 12),
    )
    cases = {case.name: case for case in bench.build_cases(targets)}

    for name, path in [
        ("api-feed", "/api/v1/feed/"),
        ("api-favourites", "/api/v1/users/me/favourites/"),
        ("api-notifications", "/api/v1/notifications/"),
    ]:
        assert (cases[name].method, cases[name].path, cases[name].kind) == ("GET", path, "api")
        assert cases[name].headers == {"Authorization": f"Token {token}"}
    # A thread is public: read anonymously.
    assert cases["api-comments"].path == "/api/v1/creations/7/comments/"
    assert cases["api-comments"].headers == {}
    assert (cases["api-comment-post"].method, cases["api-comment-post"].kind) == ("POST", "write")
    # The page: with their session, on the server without the page cache.
    following = cases["page-following"]
    assert (following.path, following.kind, following.server) == ("/following/", "page", "uncached")
    assert following.headers == {"Cookie": f"sessionid={session}"}
    # The ranked lists as the member too (blind scoring changes what they are shown): the
    # API with their token, the gallery with their session on the uncached server, each
    # captured apart from the anonymous page of the same path.
    for ordering in ("top", "trending", "calibrated"):
        api, page = cases[f"api-{ordering}-member"], cases[f"page-{ordering}-member"]
        assert api.path == f"/api/v1/creations/?ordering={ordering}" and api.kind == "api"
        assert api.headers == {"Authorization": f"Token {token}"}
        assert cases[f"api-{ordering}"].headers == {}
        assert (page.path, page.kind, page.server) == (f"/?sort={ordering}", "page", "uncached")
        assert page.headers == {"Cookie": f"sessionid={session}"}
        assert bench.capture_name(page) != bench.capture_name(cases[f"page-{ordering}/nocache"])
    assert token not in json.dumps(targets.as_json()) and session not in json.dumps(
        targets.as_json()
    )
    assert token not in repr(cases["api-feed"]) and session not in repr(following)
    assert session not in repr(targets)
    assert targets.as_json()["member"] == "bench00001"


def test_read_statements_keep_selects_and_unions_of_them(bench):
    queries = [
        'SELECT "creations_creation"."id" FROM "creations_creation"',
        "  with recent AS (SELECT 1) SELECT * FROM recent",
        '(SELECT "scoring_score"."creation_id" FROM "scoring_score") UNION'
        ' (SELECT "scoring_scorereveal"."creation_id" FROM "scoring_scorereveal")',
        'UPDATE "creations_creation" SET "top" = 1',
        'INSERT INTO "scoring_score" VALUES (1)',
        "SAVEPOINT s1",
    ]
    assert bench.read_statements(queries) == queries[:3]


def test_smoke_defaults_give_way_to_explicit_options(bench):
    smoke = bench.parse_args(["--smoke"])
    assert (smoke.creations, smoke.scores, smoke.users) == (2000, 20000, 100)
    assert (smoke.requests, smoke.warmup) == (20, 10)
    tiny = bench.parse_args(["--smoke", "--creations", "300", "--requests", "5", "--warmup", "1"])
    assert (tiny.creations, tiny.scores, tiny.requests, tiny.warmup) == (300, 3000, 5, 1)
    full = bench.parse_args([])
    assert (full.creations, full.scores, full.users, full.requests) == (100000, 1000000, 5000, 200)


def test_plan_warnings_flag_sequential_scans_of_big_tables_and_many_rows(bench):
    plan = """Limit  (cost=0.42..10.0 rows=24 width=8) (actual time=0.1..0.2 rows=24 loops=1)
  ->  Seq Scan on creations_creation  (cost=0.00..5000.00 rows=100 width=8) (actual time=0.01..9.0 rows=24 loops=1)
        Filter: (status = 'published'::text)
        Rows Removed by Filter: 9000
  ->  Seq Scan on parts_partcategory  (cost=0.00..1.00 rows=10 width=8) (actual time=0.01..0.02 rows=10 loops=1)
  ->  Index Scan using score_idx on scoring_score  (cost=0.42..8.44 rows=1 width=8) (actual time=0.01..0.01 rows=300 loops=24)
Planning Time: 0.2 ms
Execution Time: 12.5 ms"""  # noqa: E501
    warnings = bench.plan_warnings(plan, big_tables={"creations_creation", "scoring_score"})
    assert warnings == [
        "sequential scan of big table creations_creation, read 9,024 rows:"
        " Seq Scan on creations_creation",
        "reads 7,200 rows: Index Scan using score_idx on scoring_score",
    ]
    assert bench.execution_ms(plan) == 12.5


# The bench data's community rows -----------------------------------------------------------------


def community_rows(size) -> dict[str, list[list[str]]]:
    """Every row of the tables the community reads, split into fields, without a database."""
    data = BenchData(size, first_user_id=1, password_hash="x")
    list(data.users())
    list(data.tags(tag_normalize))
    picture = Picture("creations/a.jpg", "creations/a.thumb.webp", 640, 480)
    rows = {"creations": list(data.creations([picture])), "scores": list(data.scores())}
    for table in ("follows", "favourites", "comments", "notifications"):
        rows[table] = list(getattr(data, table)())
    return {
        table: [line.rstrip("\n").split("\t") for line in lines] for table, lines in rows.items()
    }


def test_bench_data_has_threads_saves_follows_and_notifications_that_add_up():
    size = BenchSize(
        creations=400,
        scores=4000,
        tags=30,
        users=80,
        parts=2,
        pictures=1,
        tokens=5,
        seed=3,
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    rows = community_rows(size)
    assert rows == community_rows(size)  # the same seed, the same rows
    columns = BenchData.CREATION_COLUMNS
    creations = {row[0]: dict(zip(columns, row, strict=True)) for row in rows["creations"]}

    # Each creation's counts are those of its comments (all live) and its saves.
    comments = Counter(row[1] for row in rows["comments"])
    saves = Counter(row[2] for row in rows["favourites"])
    for creation_id, creation in creations.items():
        assert int(creation["comment_count"]) == comments[creation_id]
        assert int(creation["favourite_count"]) == saves[creation_id]
    assert sum(comments.values()) > 100 and max(comments.values()) > 3

    # Saves: once per member and creation, never by the owner unless a bench member saved it.
    pairs = [(row[1], row[2]) for row in rows["favourites"]]
    assert len(pairs) == len(set(pairs))
    bench_members = {str(n) for n in range(1, 6)}
    assert all(
        user in bench_members for user, creation in pairs if creations[creation]["owner_id"] == user
    )
    assert {user for user, _ in pairs} >= bench_members
    assert all(sum(user == member for user, _ in pairs) >= 60 for member in bench_members)

    # Threads: a reply answers an earlier top-level comment of the same creation.
    by_id = {row[0]: row for row in rows["comments"]}
    replies = [row for row in rows["comments"] if row[2] != "\\N"]
    assert replies
    for reply in replies:
        parent = by_id[reply[2]]
        assert parent[1] == reply[1] and parent[2] == "\\N"
        assert int(parent[0]) < int(reply[0]) and parent[5] <= reply[5]
    assert all(row[5] > creations[row[1]]["created_at"] for row in rows["comments"])
    assert all(0 < len(row[4]) <= 2000 for row in rows["comments"])

    # Follows: a bench member follows 20 members and 5 tags; nobody follows themselves or
    # anything twice.
    follows = rows["follows"]
    assert all(row[1] != row[2] for row in follows)
    assert len({(row[1], row[2], row[3]) for row in follows}) == len(follows)
    for member in bench_members:
        theirs = [row for row in follows if row[1] == member]
        assert sum(row[2] != "\\N" for row in theirs) == 20
        assert sum(row[3] != "\\N" for row in theirs) == 5

    # Notifications: once per recipient and source, never to whoever did it.
    notifications = rows["notifications"]
    assert len({(row[1], row[8]) for row in notifications}) == len(notifications)
    assert all(row[1] != row[3] for row in notifications)
    assert {row[2] for row in notifications} == {"comment", "reply", "follower"}
    # The owner hears of every comment by someone else (as a reply when it answers them).
    told = {(row[1], row[5]) for row in notifications if row[2] in ("comment", "reply")}
    owners = {
        (creations[row[1]]["owner_id"], row[0])
        for row in rows["comments"]
        if creations[row[1]]["owner_id"] != row[3]
    }
    assert owners <= told
    assert all((row[1], row[5]) in owners for row in notifications if row[2] == "comment")
    followed = [row for row in follows if row[2] != "\\N"]
    assert sum(row[2] == "follower" for row in notifications) == len(followed)
    assert any(row[11] == "\\N" for row in notifications)  # some unread
    assert any(row[12] != "\\N" for row in notifications)  # some mailed


# End to end -----------------------------------------------------------------------------------


def bench_database_url(name: str) -> str:
    user = urllib.parse.quote(SERVER.get("USER") or "postgres")
    password = SERVER.get("PASSWORD")
    credentials = f"{user}:{urllib.parse.quote(password)}" if password else user
    host = SERVER.get("HOST") or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{SERVER.get('PORT') or 5432}/{name}"


@pytest.fixture
def bench_database():
    """The end-to-end run's own database and folder, removed afterwards."""
    name = "npu_bench_test"
    url = bench_database_url(name)
    yield url
    maintenance = urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    shutil.rmtree(Path(tempfile.gettempdir()) / f"npu-bench-{name}", ignore_errors=True)


@on_postgresql
def test_a_small_smoke_run_measures_every_case(bench_database, tmp_path):
    report = tmp_path / "bench.json"
    markdown = tmp_path / "bench.md"
    # Redis when there is one, as in production: without it each gunicorn worker caches on
    # its own, and a cached page's first request in each worker runs its queries. The
    # benchmark flushes the Redis database it uses, so it gets one of its own.
    server = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    redis_url = urllib.parse.urlsplit(server)._replace(path="/11").geturl()
    try:
        redis.Redis.from_url(redis_url, socket_timeout=2).ping()
        redis_options = ["--redis-url", redis_url]
    except redis.RedisError:
        redis_options = ["--no-redis"]
    completed = subprocess.run(
        [
            sys.executable,
            "scripts/bench.py",
            "--smoke",
            "--creations",
            "300",
            "--tags",
            "60",
            "--requests",
            "5",
            "--warmup",
            "8",
            "--sql-runs",
            "2",
            "--explain",
            "--database-url",
            bench_database,
            "--report",
            str(report),
            "--markdown",
            str(markdown),
            *redis_options,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-4000:]
    summary = json.loads(report.read_text())
    names = [case["name"] for case in summary["cases"]]
    assert {"floor", "api-newest", "api-tag-two", "page-home/cache", "page-home/nocache"} <= set(
        names
    )
    assert names[-2:] == ["write-score", "api-comment-post"]
    # The generated data has threads, and a member who follows, saved and hears of things.
    assert {"api-comments", "api-feed", "api-favourites", "api-notifications"} <= set(names)
    assert "page-following" in names
    # The three ranked orderings, anonymously and as the member, API and gallery.
    for ordering in ("top", "trending", "calibrated"):
        assert {
            f"api-{ordering}",
            f"api-{ordering}-member",
            f"page-{ordering}/cache",
            f"page-{ordering}/nocache",
            f"page-{ordering}-member",
        } <= set(names)
    lists = summary["targets"]["member_lists"]
    assert (lists["followed_members"], lists["followed_tags"]) == (20, 5)
    assert lists["saved"] >= 60 and lists["notifications"] > 0
    posts = next(case for case in summary["cases"] if case["name"] == "api-comment-post")
    assert posts["figures"]["statuses"] == {"201": 5}
    table = completed.stdout[completed.stdout.index("case ") :]
    for name in names:
        assert any(line.startswith(name + " ") for line in table.splitlines()), name
    for case in summary["cases"]:
        assert isinstance(case["figures"]["queries_max"], int), case["name"]
        assert case["figures"]["errors"] == 0, case
    assert summary["aggregates"]["mismatches"] == 0
    assert {row["case"] for row in summary["seed_comparison"]} == {
        "api-tag-popular",
        "api-tag-rare",
        "api-tag-two",
    }
    assert "### EXPLAIN api-newest" in markdown.read_text()
    # The member's lists are captured with their token, so their plans are shown too.
    assert "community_follow" in markdown.read_text().split("### EXPLAIN api-feed")[1]
    assert "community_follow" in markdown.read_text().split("### EXPLAIN page-following")[1]
    # The calibrated lists read the stored column, like top and trending.
    assert '"calibrated" DESC' in markdown.read_text().split("### EXPLAIN api-calibrated")[1]
    assert "### EXPLAIN page-calibrated-member" in markdown.read_text()
    # Which of the listed creations the member scored or revealed: a union, explained too.
    member_plans = markdown.read_text().split("### EXPLAIN api-calibrated-member")[1]
    assert "scoring_score" in member_plans.split("### EXPLAIN")[0]
    assert not summary["capture_errors"]
    assert summary["passed"] is True
