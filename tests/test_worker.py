"""The background worker for real: a Celery worker process fed through Redis by the production
path (npu_site.background.enqueue → once the transaction commits → the broker), and what a
request does when the broker is down.

The worker tests need REDIS_URL and PostgreSQL (the worker reads and writes the test's own
database, committed: SQLite's test database lives in this process's memory). Without them they
skip; under CI=true (.ci/run sets both) they fail if Redis does not answer or the worker does
not start. Each run uses a queue of its own, so a worker elsewhere on the same Redis never
takes its tasks. The worker's log goes to test-output/worker.log and, with -s, to the terminal.

The broker-down tests need neither and run everywhere.
"""

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
import yaml
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.exports import data_export_request
from accounts.models import DataExport
from community.events import event_record
from community.models import Follow, Notification, PendingEvent
from community.notifications import events_process_pending
from community.services.follows import follow_add
from npu_site.celery import app as celery_app
from npu_site.mail import mail_queue
from tests.factories import CreationFactory, UserFactory

# Committed rows the worker can read; "__all__": with a read replica configured (as in CI),
# the site's reads in this process go through it too.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ROOT = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).with_name("celery")
LOG_FILE = ROOT / "test-output" / "worker.log"
# Nothing listens on port 1: publishing fails at once, as with a broker that is down.
CLOSED_BROKER = "redis://127.0.0.1:1/0"
# How long the worker may take to start, and a task to show its effect.
START_SECONDS = 60
TASK_SECONDS = 30
# The tests whose worker's log test-output/worker.log holds, in this run.
_logged_tests: list[str] = []


@contextmanager
def publishing_to(broker_url: str, *, queue: str | None = None):
    """Queue tasks in this process as production does: not inline, to `broker_url`, and (for
    the worker test) routed to `queue`.

    Celery copies the settings into its own configuration once, so both change here, and the
    app forgets its connection pools so that the next publish connects to `broker_url`.
    """
    conf = celery_app.conf
    saved = {name: conf[name] for name in ("task_always_eager", "broker_url", "task_routes")}

    def drop_pools():
        # Not closed: kombu shares a pool among equal connections (the next test's, say).
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.update(
        task_always_eager=False,
        broker_url=broker_url,
        task_routes={"*": {"queue": queue}} if queue else saved["task_routes"],
    )
    drop_pools()
    try:
        with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker_url):
            yield
    finally:
        conf.update(saved)
        drop_pools()


# The real worker ------------------------------------------------------------------------------


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"The worker test must run in CI: {reason}")
    pytest.skip(reason)


def _database_url() -> str:
    """The URL of this test's database (test_…), for the worker to use the same one."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    at = "@" if credentials else ""
    return f"postgres://{credentials}{at}{host}{port}/{quote(db['NAME'], safe='')}"


def _worker_env(*, broker_url: str, mail_dir: Path) -> dict:
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_", "CELERY_", "EMAIL_", "REDIS_"))
    }
    return {
        **kept,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "worker-test-" + "k" * 40,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        # Each mail a file there, which this process reads.
        "EMAIL_FILE_PATH": str(mail_dir),
        # The test's own media folder: the worker reads and stores files where the test does.
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LOG_FORMAT": "plain",
        "LOG_LEVEL": "INFO",
    }


class Worker:
    """A `celery worker` process on a queue of its own, and what it wrote."""

    def __init__(self, *, queue: str, mail_dir: Path, log_path: Path, process):
        self.queue = queue
        self.mail_dir = mail_dir
        self.log_path = log_path
        self.process = process

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, what: str, found, seconds: float = TASK_SECONDS):
        """Poll `found()` until it returns something true; fail with the worker's log."""
        deadline = time.monotonic() + seconds
        while True:
            result = found()
            if result:
                return result
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"No {what} within {seconds} s. The worker's log:\n{self.log()}")
            time.sleep(0.1)

    def wait_for_log(self, text: str, seconds: float = TASK_SECONDS) -> list[str]:
        """The log's lines holding `text`, once there is one."""
        return self.wait_for(
            f"“{text}” in the worker's log",
            lambda: [line for line in self.log().splitlines() if text in line],
            seconds,
        )

    def task_lines(self, task_name: str) -> list[str]:
        """The log's lines saying the worker received and ran `task_name`, once it succeeded."""
        self.wait_for_log(f"Task {task_name}[")
        succeeded = self.wait_for(
            f"success of {task_name}",
            lambda: [
                line
                for line in self.log().splitlines()
                if f"Task {task_name}[" in line and " succeeded in " in line
            ],
        )
        received = [
            line
            for line in self.log().splitlines()
            if f"Task {task_name}[" in line and line.endswith("received")
        ]
        return received + succeeded

    def stop(self) -> None:
        """Stop the worker and anything it started: its process group, warm then cold."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def worker(transactional_db, tmp_path, request):
    """A real worker on the test's database and Redis; tasks queued in the test reach it."""
    broker_url = os.environ.get("REDIS_URL", "")
    if not broker_url:
        pytest.skip("The worker test needs REDIS_URL.")
    if connection.vendor != "postgresql":
        pytest.skip("The worker test needs PostgreSQL (DATABASE_URL=postgres://…).")
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _unavailable(f"Redis at REDIS_URL does not answer: {error}")
    if not CELERY.exists():
        _unavailable(f"{CELERY} is missing.")

    queue = f"npu-test-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(CELERY), "-A", "npu_site", "worker", "--pool=solo", "--concurrency=1"]
            + ["-Q", queue, "-n", f"{queue}@%h", "-l", "info"]
            + ["--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=ROOT,
            env=_worker_env(broker_url=broker_url, mail_dir=mail_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    started = Worker(queue=queue, mail_dir=mail_dir, log_path=log_path, process=process)
    try:
        started.wait_for_log(" ready.", seconds=START_SECONDS)
        with publishing_to(broker_url, queue=queue):
            yield started
    finally:
        started.stop()
        log = started.log()
        LOG_FILE.parent.mkdir(exist_ok=True)
        # Started afresh by each run's first worker, then added to.
        with LOG_FILE.open("a" if _logged_tests else "w") as kept:
            kept.write(f"===== {request.node.nodeid} (queue {queue})\n{log}\n")
        _logged_tests.append(request.node.nodeid)
        print(f"\n----- the worker's log ({request.node.name})\n{log}")


def _mail_files(mail_dir: Path) -> list[Path]:
    return sorted(mail_dir.glob("*.log"))


def _whole_mail(path: Path) -> str:
    """The file's text once the backend has written the whole message (and its separator)."""
    text = path.read_text()
    return text if text.rstrip().endswith("-" * 79) else ""


def test_a_password_reset_mail_is_sent_by_the_worker(worker, client):
    UserFactory(username="forgetful", email="forgetful@example.com")

    response = client.post("/accounts/password/reset/", {"email": "forgetful@example.com"})

    assert response.status_code == 302
    assert mail.outbox == []  # not sent by this process
    (sent,) = worker.wait_for("mail file", lambda: _mail_files(worker.mail_dir))
    text = worker.wait_for("a whole mail", lambda: _whole_mail(sent))
    assert "To: forgetful@example.com" in text
    assert "/accounts/password/reset/" in text
    lines = worker.task_lines("npu_site.mail.send_email_message")
    print("\n".join(["The worker's own words:", *lines]))


def test_queued_mail_reaches_the_worker_and_is_sent_once(worker):
    mail_queue(EmailMessage("Worker check", "Sent by the worker.", None, ["fan@example.com"]))

    (sent,) = worker.wait_for("mail file", lambda: _mail_files(worker.mail_dir))
    text = worker.wait_for("a whole mail", lambda: _whole_mail(sent))
    assert "Subject: Worker check" in text and "Sent by the worker." in text
    assert "Message-ID: <" in text
    lines = worker.task_lines("npu_site.mail.send_email_message")
    assert len([line for line in lines if " succeeded in " in line]) == 1
    print("\n".join(["The worker's own words:", *lines]))


def test_a_follow_event_becomes_a_notification_on_the_worker(worker):
    follower = UserFactory(username="fan")
    followed = UserFactory(username="builder")

    with transaction.atomic():
        follow = Follow.objects.create(follower=follower, followed_user=followed)
        event = event_record(
            "follow_created",
            follow_id=follow.pk,
            follower_id=follower.pk,
            followed_user_id=followed.pk,
        )
        # Queued when this commits, so the worker finds the rows.

    worker.wait_for(
        "processed event",
        lambda: PendingEvent.objects.filter(pk=event.pk, processed_at__isnull=False).exists(),
    )
    notification = Notification.objects.get(recipient=followed)
    assert notification.kind == Notification.Kind.FOLLOWER
    assert notification.actor == follower
    assert notification.read_at is None
    lines = worker.task_lines("community.tasks.process_event")
    print("\n".join(["The worker's own words:", *lines]))


def test_a_data_export_is_built_by_the_worker_and_announced(worker, client):
    member = UserFactory(username="archivist")
    creation = CreationFactory(owner=member, title="Lamp from a dish")
    original = creation.image.read()

    with transaction.atomic():
        export, created = data_export_request(user=member)
        # Queued when this commits, so the worker finds the row.
    assert created and export.status == DataExport.Status.PENDING

    worker.wait_for(
        "a ready export",
        lambda: DataExport.objects.filter(pk=export.pk, status=DataExport.Status.READY).exists(),
    )
    export.refresh_from_db()
    notification = worker.wait_for(
        "the export's notification",
        lambda: Notification.objects.filter(
            recipient=member, kind=Notification.Kind.EXPORT_READY
        ).first(),
    )
    client.force_login(member)
    response = client.get(notification.url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    (row,) = json.loads(archive.read("creations.json"))
    assert row["title"] == "Lamp from a dish"
    assert archive.read(row["picture"]) == original
    lines = worker.task_lines("accounts.tasks.data_export_build")
    print("\n".join(["The worker's own words:", *lines]))


# With the broker down -------------------------------------------------------------------------


def test_with_the_broker_down_a_password_reset_answers_and_mails_inline(
    transactional_db, client, caplog
):
    UserFactory(username="forgetful", email="forgetful@example.com")

    with publishing_to(CLOSED_BROKER):
        started = time.monotonic()
        response = client.post("/accounts/password/reset/", {"email": "forgetful@example.com"})
        elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert elapsed < 10
    (message,) = mail.outbox  # sent by this process, inline
    assert message.to == ["forgetful@example.com"]
    assert "/accounts/password/reset/" in message.body
    assert "broker unavailable; running npu_site.mail.send_email_message inline" in caplog.text


def test_with_the_broker_down_an_event_waits_in_the_outbox_for_the_sweep(transactional_db, caplog):
    follower = UserFactory(username="fan")
    followed = UserFactory(username="builder")

    with publishing_to(CLOSED_BROKER):
        assert follow_add(follower=follower, user=followed) is True

    event = PendingEvent.objects.get(kind="follow_created")
    assert event.processed_at is None
    assert not Notification.objects.exists()
    assert "community.tasks.process_event is left for the periodic sweep" in caplog.text

    # The broker is back: the sweep that beat runs every minute picks the event up.
    PendingEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert events_process_pending() == 1
    event.refresh_from_db()
    assert event.processed_at is not None
    assert Notification.objects.get(recipient=followed).kind == Notification.Kind.FOLLOWER


# What the workers and beat are given -------------------------------------------------------


def test_every_scheduled_task_is_registered_with_the_workers(settings):
    celery_app.loader.import_default_modules()  # what a worker imports at start
    registered = set(celery_app.tasks)
    assert "npu_site.mail.send_email_message" in registered
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in registered


def test_compose_runs_a_worker_and_one_beat_like_web():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    web, worker, beat = services["web"], services["worker"], services["beat"]
    assert worker["command"][:4] == ["celery", "-A", "npu_site", "worker"]
    assert beat["command"][:4] == ["celery", "-A", "npu_site", "beat"]
    assert "--schedule" in beat["command"]
    for service in (worker, beat):
        assert service["environment"] == web["environment"]
        assert service.get("build") == web.get("build")
        assert "ports" not in service
        assert "deploy" not in service  # beat must never be scaled by the file
        for needed in ("db", "redis"):
            assert service["depends_on"][needed]["condition"] == "service_healthy"
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["environment"]["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
