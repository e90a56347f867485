"""What the load test (scripts/loadtest.py) and the benchmark (scripts/bench.py) share: a
production environment for manage.py and gunicorn, running manage.py, and starting and
stopping gunicorn on a loopback port."""

import http.client
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The caller's own site configuration, none of which may leak into a run's settings.
SITE_VARIABLES = (
    "DJANGO_",
    "DATABASE_",
    "REDIS_",
    "AWS_",
    "MEDIA_",
    "NPU_",
    "GUNICORN_",
    "RATELIMIT_",
    "CELERY_",
    "EMAIL_",
    "LOG_",
    "WEB_CONCURRENCY",
    "PORT",
)


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def checked_redis_url(url: str) -> str:
    """A Redis database a run may flush: on this machine, named by its number."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "redis" or not is_loopback(parts.hostname):
        raise ValueError("--redis-url must be a redis:// URL on the loopback address")
    if not parts.path.strip("/").isdigit():
        raise ValueError("--redis-url must name its database number: redis://host:port/N")
    return url


def production_env(
    *, name: str, database_url: str, folder: Path, port: int, workers: int, **settings: str
) -> dict:
    """Production settings on plain HTTP for manage.py and gunicorn (a fresh secret key, a
    media and static folder under `folder`, gunicorn on 127.0.0.1:`port`), nothing inherited
    from the caller's own site configuration; `settings` adds or overrides variables."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(SITE_VARIABLES)}
    return {
        **clean,
        "DJANGO_SECRET_KEY": f"{name}-" + secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(folder / "media"),
        "DJANGO_STATIC_ROOT": str(folder / "static"),
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_GRACEFUL_TIMEOUT": "10",
        "LOG_LEVEL": "WARNING",
        **settings,
    }


def manage(
    env: dict,
    *command: str,
    extra_env: dict | None = None,
    stream: bool = False,
    timeout: float | None = None,
) -> str:
    """Run `manage.py command` with `env`; RuntimeError with its output when it fails.
    `stream` shows the output as it comes (a long fill's progress) instead."""
    completed = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env={**env, **(extra_env or {})},
        capture_output=not stream,
        text=True,
        timeout=timeout,
    )
    if completed.returncode != 0:
        output = "(its output is above)" if stream else completed.stdout[-2000:]
        raise RuntimeError(
            f"manage.py {' '.join(command)} failed ({completed.returncode}):\n"
            + output
            + (completed.stderr or "")[-4000:]
        )
    return completed.stdout or ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_path() -> Path:
    beside = Path(sys.executable).with_name("gunicorn")
    return beside if beside.exists() else ROOT / ".venv" / "bin" / "gunicorn"


def start_gunicorn(env: dict, log_path: Path, port: int) -> subprocess.Popen:
    """gunicorn with gunicorn.conf.py, once /healthz answers; RuntimeError if it does not
    within a minute."""
    # The child keeps its own copy of the log's file descriptor after ours is closed.
    with open(log_path, "wb") as log:
        # A session of its own: Ctrl-C in the terminal reaches the script only, which then
        # stops gunicorn itself.
        process = subprocess.Popen(
            [str(gunicorn_path()), "-c", "gunicorn.conf.py", "npu_site.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_gunicorn(process)
            raise RuntimeError(f"gunicorn did not answer; see {log_path}")
        time.sleep(0.2)


def stop_gunicorn(process: subprocess.Popen) -> None:
    """SIGTERM (a graceful stop), then SIGKILL to its process group if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # Workers that outlived a killed master are in its process group: never leave them.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
