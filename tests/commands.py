"""Running management commands the way an operator does: `python manage.py ...` in a process of
its own, with Django's system checks, on a database of its own (a migrated SQLite file)."""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def operator_env(database_url: str, media_root: Path, **extra) -> dict:
    """The environment of an operator's shell on one site: its database and media, production
    settings, and nothing of the test run's own site configuration."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "AWS_", "MEDIA_", "NPU_"))
    }
    return {
        **inherited,
        "DJANGO_SECRET_KEY": "command-test-key-" + "k" * 40,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
        **extra,
    }


def command_env(tmp_path: Path, database: Path, **extra) -> dict:
    return operator_env(f"sqlite:///{database}", tmp_path / "media", **extra)


@dataclass
class Manage:
    """`manage("manage.py", "import_parts", "file.csv")` runs that command line in the project
    folder, as an operator types it, and returns the CompletedProcess."""

    tmp_path: Path
    database: Path

    def __call__(self, script: str, *arguments: str, timeout: float = 300, **env):
        assert script == "manage.py", "commands run through the project's manage.py"
        return subprocess.run(
            [sys.executable, script, *arguments],
            cwd=ROOT,
            env=command_env(self.tmp_path, self.database, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def sql(self, query: str):
        import sqlite3

        with sqlite3.connect(self.database) as connection:
            return connection.execute(query).fetchall()


def migrated_database(directory: Path) -> Path:
    """A SQLite file migrated from empty by `manage.py migrate`; fails loudly if that fails."""
    database = directory / "template.sqlite3"
    completed = Manage(directory, database)("manage.py", "migrate", "--noinput")
    assert completed.returncode == 0, completed.stderr
    return database


def manage_on_copy(template: Path, tmp_path: Path) -> Manage:
    database = tmp_path / "command.sqlite3"
    shutil.copy(template, database)
    return Manage(tmp_path, database)
