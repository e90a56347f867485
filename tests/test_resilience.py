"""Serving through failed dependencies: Redis down or hanging, the database down, and bodies
too large for the request they come with."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse

from creations.models import Creation
from scoring.models import Score
from tests.conftest import client_for
from tests.factories import CreationFactory
from tests.images import image_bytes

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
# Nothing listens on port 1 of loopback: a connection there is refused at once, as to a
# stopped Redis or PostgreSQL.
DEAD_REDIS = "redis://127.0.0.1:1/0"


def resilient_cache(location: str, timeout: float = 0.5) -> dict:
    return {
        "default": {
            "BACKEND": "npu_site.cache.ResilientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "npu",
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }


@pytest.fixture
def redis_down(settings):
    """The production cache settings (Redis, cached_db sessions) with Redis stopped."""
    settings.CACHES = resilient_cache(DEAD_REDIS)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.RATELIMIT_ENABLE = True


def upload(title: str = "Lamp from a hand") -> dict:
    picture = SimpleUploadedFile("lamp.png", image_bytes("PNG"), content_type="image/png")
    return {"title": title, "tags": "lamp", "image": picture}


# Redis down -------------------------------------------------------------------------------


def test_without_redis_visitors_browse_every_page_and_the_api(client, creation, redis_down):
    for url in [
        "/",
        "/?sort=top",
        reverse("creations:tags"),
        creation.get_absolute_url(),
        creation.owner.get_absolute_url(),
        "/parts/",
        "/api/v1/creations/",
        f"/api/v1/creations/{creation.pk}/scores/",
    ]:
        for _ in range(2):  # the second visit is rendered afresh too: nothing was cached
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.get("X-Page-Cache") in (None, "miss"), url


def test_without_redis_members_keep_their_sessions_upload_and_score(
    client, owner, member, redis_down, media_files
):
    creation = CreationFactory(owner=owner)
    client.force_login(member)  # the session is written to the database behind the cache
    assert "Log out" in client.get("/").content.decode()

    response = client.post(reverse("creations:new"), upload("Page upload"))
    assert response.status_code == 302
    assert Creation.objects.filter(title="Page upload", owner=member).exists()

    response = client.post(
        reverse("scoring:submit", args=[creation.pk]), {"creativity": 4, "uniqueness": 5}
    )
    assert response.status_code == 302
    assert Score.objects.get(user=member, creation=creation).uniqueness == 5

    api = client_for(member)
    response = api.post("/api/v1/creations/", upload("API upload"), format="multipart")
    assert response.status_code == 201
    response = api.put(
        f"/api/v1/creations/{creation.pk}/my-score/", {"creativity": 2, "uniqueness": 2}
    )
    assert response.status_code == 200
    creation.refresh_from_db()
    assert (creation.score_count, creation.rating) == (1, 2.0)
    assert len(media_files()) == 2 * Creation.objects.count() == 6  # pictures, thumbnails


def test_without_redis_log_in_and_sign_up_refuse_with_503_rather_than_go_uncounted(
    client, member, redis_down
):
    assert client.get(reverse("accounts:login")).status_code == 200  # the form still shows
    for url, fields in [
        (reverse("accounts:login"), {"username": "member", "password": "x"}),
        (reverse("accounts:signup"), {"username": "newbie", "email": "new@example.com"}),
        (reverse("accounts:password_reset"), {"email": "member@example.com"}),
    ]:
        response = client.post(url, fields)
        assert response.status_code == 503, url
        assert int(response["Retry-After"]) > 0
        assert "try again" in response.content.decode()
    response = client_for(None).post(
        "/api/v1/auth/token/", {"username": "member", "password": "x"}, format="json"
    )
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0 and "try again" in response.json()["detail"]


def test_without_redis_members_limits_let_requests_through_uncounted(
    client, owner, member, redis_down, settings
):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "score": "1/m", "api_member": "1/m"}
    creation = CreationFactory(owner=owner)
    api = client_for(member)
    for creativity in (1, 2, 3):
        response = api.put(
            f"/api/v1/creations/{creation.pk}/my-score/",
            {"creativity": creativity, "uniqueness": 1},
        )
        assert response.status_code in (200, 201)
    assert Score.objects.get(user=member).creativity == 3


class HungServer:
    """A TCP server that accepts connections and never answers, like a Redis that hangs."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.held = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(connection)

    def close(self):
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def hung_redis(settings):
    server = HungServer()
    settings.CACHES = resilient_cache(f"redis://127.0.0.1:{server.port}/0", timeout=0.3)
    settings.NPU_CACHE_RETRY_SECONDS = 60
    yield server
    server.close()


def test_a_hanging_redis_costs_one_timeout_then_is_left_alone(client, creation, hung_redis):
    started = time.monotonic()
    for _ in range(5):
        assert client.get("/").status_code == 200
    elapsed = time.monotonic() - started
    # One connection, one 0.3 s timeout; the other calls skip Redis until the retry time.
    assert hung_redis.accepted == 1
    assert elapsed < 5, elapsed  # not five requests × several cache calls × 0.3 s


def test_after_the_retry_time_the_cache_is_tried_again(client, creation, hung_redis, settings):
    settings.NPU_CACHE_RETRY_SECONDS = 0.2
    client.get("/")
    assert hung_redis.accepted == 1
    time.sleep(0.3)
    client.get("/")
    assert hung_redis.accepted == 2


@pytest.mark.django_db(databases="__all__")  # readyz checks every database, replica included
def test_readyz_pings_redis_past_the_back_off(client, hung_redis):
    client.get("/healthz")
    first = client.get("/readyz")
    second = client.get("/readyz")
    assert first.status_code == second.status_code == 200
    assert second.json()["checks"]["cache"].startswith("degraded")
    assert hung_redis.accepted == 2  # each probe asks Redis itself


# The database down --------------------------------------------------------------------------


def test_a_database_error_in_a_page_is_a_503_with_retry_after(client, monkeypatch):
    from creations import gallery

    def down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(gallery, "gallery_creations", down)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert "Back in a moment" in body and "Traceback" not in body and "server closed" not in body


def test_a_database_error_in_the_api_is_a_json_503_with_retry_after(client, monkeypatch):
    from creations.api import views

    def down(self):
        raise OperationalError("the database system is starting up")

    monkeypatch.setattr(views.CreationViewSet, "get_queryset", down)
    response = client.get("/api/v1/creations/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again" in response.json()["detail"]
    assert "starting up" not in response.content.decode()


class BrokenDatabaseMiddleware:
    """Fails as a middleware that reads the database does while the database restarts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise OperationalError("terminating connection due to administrator command")


@pytest.mark.parametrize("path", ["/", "/api/v1/creations/"])
def test_a_database_error_in_a_middleware_is_a_503_too(client, settings, path):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_resilience.BrokenDatabaseMiddleware"]
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "administrator command" not in response.content.decode()


def test_with_no_database_server_pages_and_api_answer_503_not_tracebacks(tmp_path):
    """A real refused connection, in a process of its own with production settings."""
    script = (
        "import json, django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "client = Client(raise_request_exception=False)\n"
        "answers = {}\n"
        "for path in ['/', '/creations/1/', '/api/v1/creations/', '/u/someone/']:\n"
        "    response = client.get(path)\n"
        "    answers[path] = [response.status_code, response.get('Retry-After'),\n"
        "                     'Traceback' in response.content.decode()]\n"
        "response = client.post('/api/v1/auth/token/', {'username': 'a', 'password': 'b'},\n"
        "                       content_type='application/json')\n"
        "answers['token'] = [response.status_code, response.get('Retry-After'), False]\n"
        "print(json.dumps(answers))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
            "DJANGO_SETTINGS_MODULE": "npu_site.settings",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:1/npu",
            "MEDIA_ROOT": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    answers = json.loads(completed.stdout.strip().splitlines()[-1])
    for path, (status, retry_after, traceback) in answers.items():
        assert (status, retry_after, traceback) == (503, "5", False), path


# Request bodies -----------------------------------------------------------------------------


def test_an_oversized_json_body_is_refused_unread_with_413(member, creation):
    body = json.dumps({"creativity": 5, "uniqueness": 5, "padding": "x" * 5_000_000})
    response = client_for(member).put(
        f"/api/v1/creations/{creation.pk}/my-score/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert not Score.objects.exists()


def test_an_oversized_form_post_is_a_413_page(client):
    response = client.post(reverse("accounts:login"), {"username": "x" * 5_000_000})
    assert response.status_code == 413
    assert "too large" in response.content.decode()


def test_upload_views_take_a_picture_at_the_limit_but_no_more(member, settings):
    api = client_for(member)
    # Over the picture limit, within the request limit: the image pipeline refuses it by name.
    big = SimpleUploadedFile(
        "big.png", b"\x89PNG" + b"0" * (settings.NPU_IMAGE_MAX_BYTES + 1000), "image/png"
    )
    response = api.post("/api/v1/creations/", {"title": "Big", "image": big}, format="multipart")
    assert response.status_code == 400 and "image" in response.json()
    # Over the request limit: refused before anything reads it.
    huge = SimpleUploadedFile(
        "huge.png", b"0" * (settings.NPU_UPLOAD_REQUEST_MAX_BYTES + 1), "image/png"
    )
    response = api.post("/api/v1/creations/", {"title": "Huge", "image": huge}, format="multipart")
    assert response.status_code == 413
    assert not Creation.objects.exists()


def test_an_unreachable_picture_store_is_a_503_and_leaves_no_row(member, settings):
    from botocore.config import Config

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "npu-media",
                "endpoint_url": "http://127.0.0.1:1",
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "client_config": Config(connect_timeout=1, retries={"max_attempts": 1}),
            },
        },
    }
    response = client_for(member).post("/api/v1/creations/", upload(), format="multipart")
    assert response.status_code == 503
    assert response["Retry-After"] == "5" and "storage" in response.json()["detail"]
    assert not Creation.objects.exists()


def usage_answering(usage: dict):
    """django-ratelimit's get_usage, answering `usage` whatever it is asked."""

    def get_usage(*args, **kwargs):
        return usage

    get_usage.ALL = None
    return get_usage


@pytest.mark.parametrize(
    ("usage", "wait"),
    [
        # The window ended during the call: counted, under the limit.
        ({"count": 3, "limit": 10, "should_limit": False, "time_left": -1}, None),
        # Counted, over the limit, the window ending: a short wait, not an outage.
        ({"count": 11, "limit": 10, "should_limit": True, "time_left": -1}, 1),
        ({"count": 11, "limit": 10, "should_limit": True, "time_left": 42}, 42),
    ],
)
def test_a_window_ending_mid_count_is_not_taken_for_an_outage(rf, monkeypatch, usage, wait):
    from npu_site import ratelimit

    monkeypatch.setattr(ratelimit, "get_usage", usage_answering(usage))
    assert ratelimit.rate_limit_exceeded(rf.post("/"), "login_ip", key="ip") == wait


def test_an_uncounted_log_in_is_refused_and_an_uncounted_score_let_through(rf, monkeypatch):
    from npu_site import ratelimit
    from npu_site.unavailable import ServiceUnavailable

    uncounted = {"count": 0, "limit": 0, "should_limit": True, "time_left": -1}
    monkeypatch.setattr(ratelimit, "get_usage", usage_answering(uncounted))
    with pytest.raises(ServiceUnavailable):
        ratelimit.rate_limit_exceeded(rf.post("/"), "login_ip", key="ip")
    assert ratelimit.rate_limit_exceeded(rf.post("/"), "score", key="ip") is None
