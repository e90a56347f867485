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


@pytest.mark.django_db
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
            **os.environ,
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


def test_readyz_names_the_cache_when_redis_is_unreachable(tmp_path):
    result = request_in_subprocess(
        "/readyz",
        DATABASE_URL=f"sqlite:///{tmp_path / 'ready.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:1/0",
        MEDIA_ROOT=str(tmp_path),
    )
    assert result["status"] == 503
    assert result["body"]["checks"]["cache"].startswith("failed")
    assert result["body"]["checks"]["database"] == "ok"
