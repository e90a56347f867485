import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "AWS_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_refuses_to_start_without_a_secret_key():
    completed = run_manage("check")
    assert completed.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in completed.stderr


def test_check_deploy_is_clean_in_production_mode():
    completed = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="a-long-random-production-key-" + "x7Q!k2@pZ9#mR4$vT8%wL1^" * 2,
        DJANGO_ALLOWED_HOSTS="npu.example.org",
    )
    assert completed.returncode == 0, completed.stderr
    assert "no issues" in completed.stdout
