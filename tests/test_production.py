"""The production shape: gunicorn processes sharing Redis, security headers, logs, Docker files."""

import http.cookiejar
import json
import logging
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import pytest
import redis
import yaml

from tests.servers import free_port, wait_until_answering

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
# A database number of its own, so this test never touches what other tests keep in Redis.
REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


def redis_available() -> bool:
    try:
        return redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def production_env(tmp_path, **extra) -> dict:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "AWS_", "MEDIA_"))
    }
    return {
        **clean,
        "DJANGO_SECRET_KEY": "two-process-test-key-" + "k" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "REDIS_URL": REDIS_TEST_URL,
        "RATELIMIT_ENABLE": "1",
        "WEB_CONCURRENCY": "1",
        **extra,
    }


class Browser:
    """A cookie-keeping HTTP client, enough to post Django forms with their CSRF token."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url):
        with self.opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()

    def post_form(self, url, fields):
        _, page = self.get(url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(url, data=data, headers={"Referer": url})
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers)


@pytest.fixture
def two_web_processes(tmp_path):
    """Two gunicorn processes, as behind a load balancer: one database, one Redis."""
    if not redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis on 127.0.0.1:6379 is needed in CI.")
        pytest.skip("Redis is not running on 127.0.0.1:6379.")
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    env = production_env(tmp_path, DJANGO_SUPERUSER_PASSWORD="shared-brick-password")
    for command in (
        ["migrate", "--noinput", "-v0"],
        # Production mode serves hashed static files: they must be collected first.
        ["collectstatic", "--noinput", "-v0"],
        ["createsuperuser", "--noinput", "--username", "sharer", "--email", "s@example.com"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=120
        )
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
            + ["npu_site.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_until_answering(f"{url}/healthz", process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        redis.Redis.from_url(REDIS_TEST_URL).flushdb()


def wait_for_a_fresh_rate_window(value: str, period: int, needed: float) -> None:
    """django-ratelimit counts in fixed windows (offset per key): if the current one ends in
    less than `needed` seconds, wait for the next, so a burst is counted in one window.

    It works in whole seconds (django_ratelimit.core._get_window): a window is named by its
    last second, and every request whose int(time.time()) is that second still counts in it.
    So the window ends one second after its boundary, not at it.
    """
    now = time.time()
    second = int(now)
    last_second = second - second % period + zlib.crc32(value.encode()) % period
    if last_second < second:
        last_second += period
    left = last_second + 1 - now
    if left < needed:
        time.sleep(left + 0.5)


def test_log_in_limit_holds_across_two_processes(two_web_processes):
    first, second = two_web_processes
    wait_for_a_fresh_rate_window("127.0.0.1", 60, needed=30)
    statuses = []
    for attempt in range(10):
        url = (first if attempt % 2 else second) + "/accounts/login/"
        status, _ = Browser().post_form(url, {"username": f"guess{attempt}", "password": "x"})
        statuses.append(status)
    assert statuses == [200] * 10  # wrong passwords: the form again

    status, headers = Browser().post_form(
        f"{first}/accounts/login/", {"username": "sharer", "password": "shared-brick-password"}
    )
    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= 60


def test_a_session_made_on_one_process_works_on_the_other(two_web_processes):
    first, second = two_web_processes
    browser = Browser()
    status, _ = browser.post_form(
        f"{first}/accounts/login/", {"username": "sharer", "password": "shared-brick-password"}
    )
    assert status == 200  # redirected to the gallery, which answered
    _, page = browser.get(f"{second}/accounts/settings/")
    assert "Save profile" in page and 'value="s@example.com"' in page
    keys = redis.Redis.from_url(REDIS_TEST_URL).keys("npu:*django.contrib.sessions*")
    assert keys, "the session should be cached in Redis"


def test_gunicorn_settings():
    namespace: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)
    assert namespace["workers"] >= 1 and namespace["timeout"] >= 30
    assert namespace["graceful_timeout"] > 0 and namespace["accesslog"] == "-"
    assert "x-request-id" in namespace["access_log_format"]


# Security and logs ---------------------------------------------------------------------------


def test_security_headers(client, db):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_every_response_has_a_request_id_and_a_good_incoming_one_is_kept(client, db):
    generated = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234-abcd")["X-Request-ID"]
    assert kept == "lb-1234-abcd"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_json_log_lines_carry_the_request_id(client, db, caplog):
    from npu_site.logging import JsonFormatter, RequestIdFilter

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/creations/987654/", HTTP_X_REQUEST_ID="trace-0001-xyz")
    record = next(r for r in caplog.records if r.name == "django.request")
    line = json.loads(JsonFormatter().format(record))
    assert response.status_code == 404
    assert line["request_id"] == "trace-0001-xyz"
    assert line["level"] == "WARNING" and "Not Found" in line["message"]
    assert line["status"] == 404


def test_production_mode_json_logs_from_a_real_process(tmp_path):
    env = production_env(
        tmp_path, LOG_FORMAT="json", DATABASE_URL=f"sqlite:///{tmp_path / 'log.sqlite3'}"
    )
    env.pop("REDIS_URL")
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "Client().get('/nowhere/', HTTP_X_REQUEST_ID='proc-test-42')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "npu_site.settings", "DJANGO_ALLOWED_HOSTS": "*"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in completed.stderr.splitlines() if line.startswith("{")]
    assert any(line["request_id"] == "proc-test-42" for line in lines), completed.stderr


def test_health_probes_are_not_redirected_to_https(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


def test_client_ip_honours_only_trusted_proxies(rf, settings):
    from npu_site.middleware import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2")
    settings.NPU_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.NPU_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"
    garbled = rf.get("/", HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="10.0.0.2")
    assert client_ip(garbled) == "10.0.0.2"


# Docker -------------------------------------------------------------------------------------


def test_dockerfile_runs_gunicorn_as_a_non_root_user_with_a_healthcheck():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") == 2  # multi-stage
    assert re.search(r"^USER npu$", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert "collectstatic" in dockerfile
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "npu_site.wsgi"]' in dockerfile
    assert "migrate" not in dockerfile.split("CMD")[-1]


def test_compose_file_parses_and_migrates_once():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "redis", "s3", "migrate", "web"} <= set(services)
    assert (
        "migrate" in " ".join(services["migrate"]["command"])
        if isinstance(services["migrate"]["command"], list)
        else "migrate" in services["migrate"]["command"]
    )
    web = services["web"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "command" not in web or "migrate" not in str(web["command"])
    environment = web["environment"]
    for name in ("DATABASE_URL", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL"):
        assert name in environment
