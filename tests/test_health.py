import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(databases="__all__")  # every configured database, replica included
def test_readyz_checks_database_cache_and_storage(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "storage": "ok"},
    }


def request_in_subprocess(path: str, **env) -> dict:
    """Ask the real application for `path` in a fresh process with the given environment."""
    script = (
        "import json, django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        f"response = Client().get({path!r})\n"
        "print(json.dumps({'status': response.status_code, 'body': response.json()}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            # The databases and cache are the test's to choose; none is inherited.
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
            "DJANGO_SETTINGS_MODULE": "npu_site.settings",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_readyz_is_503_and_names_the_database_when_it_is_unreachable(tmp_path):
    result = request_in_subprocess(
        "/readyz",
        # Port 1 on loopback: nothing listens there, so the connection is refused.
        DATABASE_URL="postgres://postgres@127.0.0.1:1/npu",
        MEDIA_ROOT=str(tmp_path),
    )
    assert result["status"] == 503
    assert result["body"]["status"] == "unavailable"
    assert result["body"]["checks"]["database"].startswith("failed")
    assert result["body"]["checks"]["cache"] == "ok"
    assert result["body"]["checks"]["storage"] == "ok"


def test_readyz_reports_a_missing_redis_as_degraded_and_stays_in_service(tmp_path):
    result = request_in_subprocess(
        "/readyz",
        DATABASE_URL=f"sqlite:///{tmp_path / 'ready.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:1/0",
        MEDIA_ROOT=str(tmp_path),
    )
    # The site serves without the cache, so the process stays in the load balancer's pool.
    assert result["status"] == 200
    assert result["body"]["status"] == "degraded"
    assert result["body"]["checks"]["cache"].startswith("degraded")
    assert result["body"]["checks"]["database"] == "ok"
    assert result["body"]["checks"]["storage"] == "ok"


def test_readyz_is_503_when_the_media_storage_is_unusable(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    result = request_in_subprocess(
        "/readyz",
        DATABASE_URL=f"sqlite:///{tmp_path / 'ready.sqlite3'}",
        MEDIA_ROOT=str(blocked),
    )
    assert result["status"] == 503
    assert result["body"]["status"] == "unavailable"
    assert result["body"]["checks"]["storage"].startswith("failed")


def test_server_error_page_renders_without_a_request_context(client):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html and 'href="/"' in html


@pytest.mark.django_db
def test_uncaught_error_is_a_500_page_not_a_traceback(client, monkeypatch):
    from creations import gallery

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(gallery, "gallery_creations", broken)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "boom" not in response.content.decode()


@pytest.mark.django_db
def test_local_media_is_served_with_long_caching(client, creation):
    response = client.get(creation.thumbnail.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert "immutable" in response["Cache-Control"]
    assert client.get("/media/../npu_site/settings.py").status_code == 404
    assert client.get("/media/creations/missing.jpg").status_code == 404


@pytest.mark.django_db
def test_a_hidden_creations_pictures_are_served_only_to_who_may_see_it(
    client, creation, owner, moderator
):
    from creations.services import creation_update

    urls = [creation.image.url, creation.thumbnail.url]
    creation_update(creation=creation, actor=owner, status="hidden")
    for url in urls:
        assert client.get(url).status_code == 404
    client.force_login(owner)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-cache"
    client.force_login(moderator)
    assert client.get(urls[0]).status_code == 200


@pytest.mark.django_db
def test_a_deleted_creations_pictures_are_gone(
    client, creation, django_capture_on_commit_callbacks
):
    from creations.services import creation_delete

    urls = [creation.image.url, creation.thumbnail.url]
    with django_capture_on_commit_callbacks(execute=True):
        creation_delete(creation=creation)
    for url in urls:
        assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_file_in_media_that_belongs_to_no_creation_is_not_served(client, settings):
    stray = settings.MEDIA_ROOT / "creations" / "stray.txt"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("not a picture")
    assert client.get("/media/creations/stray.txt").status_code == 404
