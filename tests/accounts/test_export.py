"""A member's data export: asked for on the settings page or the API, built by the worker (inline
here: no broker), announced by a notification, downloaded by its member only while it lasts,
and removed once it expires (the beat task and `manage.py purge_exports`)."""

import io
import json
import zipfile
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.exports import EXPORTS_PER_DAY, data_export_request, data_exports_purge
from accounts.models import DataExport
from community.models import Notification
from community.services.comments import comment_create
from community.services.favourites import favourite_add
from community.services.follows import follow_add
from tests.conftest import client_for
from tests.factories import CreationFactory, ScoreFactory, UserFactory


@pytest.fixture
def builder(db):
    member = UserFactory(username="builder", bio="I build lamps.")
    other = UserFactory(username="neighbour")
    own = CreationFactory(owner=member, title="My lamp", tags=("lamp", "technic pin"))
    theirs = CreationFactory(owner=other, title="Their boat")
    ScoreFactory(user=member, creation=theirs, creativity=5, uniqueness=2)
    comment_create(user=member, creation=theirs, body="Great hull")
    favourite_add(user=member, creation=theirs)
    follow_add(follower=member, user=other)
    return member, own, theirs


def ready_export(member) -> DataExport:
    export, created = data_export_request(user=member)
    assert created
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    return export


def download_link(member) -> str:
    notification = Notification.objects.get(recipient=member, kind=Notification.Kind.EXPORT_READY)
    assert notification.url.startswith("/accounts/export/")
    return notification.url


def test_the_zip_holds_every_section_and_the_original_picture(builder, client):
    member, own, theirs = builder
    export = ready_export(member)
    assert export.file_name.startswith("exports/") and export.file_name.endswith(".zip")
    assert export.size == default_storage.size(export.file_name)
    assert export.expires_at > timezone.now() + timedelta(days=6)
    client.force_login(member)
    response = client.get(download_link(member))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert {
        "profile.json",
        "creations.json",
        "scores.json",
        "comments.json",
        "favourites.json",
        "follows.json",
    } <= names
    profile = json.loads(archive.read("profile.json"))
    assert (profile["username"], profile["bio"]) == ("builder", "I build lamps.")
    creations = json.loads(archive.read("creations.json"))
    assert [(c["id"], c["title"], c["tags"]) for c in creations] == [
        (own.pk, "My lamp", ["lamp", "technic pin"])
    ]
    picture = creations[0]["picture"]
    assert picture in names and picture.startswith(f"creations/{own.pk}-")
    with default_storage.open(own.image.name, "rb") as original:
        assert archive.read(picture) == original.read()
    scores = json.loads(archive.read("scores.json"))
    assert [(s["creation_id"], s["creativity"], s["uniqueness"]) for s in scores] == [
        (theirs.pk, 5, 2)
    ]
    assert [c["body"] for c in json.loads(archive.read("comments.json"))] == ["Great hull"]
    assert [f["creation_id"] for f in json.loads(archive.read("favourites.json"))] == [theirs.pk]
    assert [f["member"] for f in json.loads(archive.read("follows.json"))] == ["neighbour"]
    # Nobody else's data.
    assert "Their boat" not in archive.read("creations.json").decode()


def test_the_settings_page_starts_an_export_and_the_notification_links_to_it(builder, client):
    member, _, _ = builder
    client.force_login(member)
    settings_page = client.get("/accounts/settings/").content.decode()
    assert 'action="/accounts/export/"' in settings_page
    response = client.post("/accounts/export/", follow=True)
    assert "Your data export is ready" in response.content.decode()
    link = download_link(member)
    notifications = client.get("/notifications/").content.decode()
    assert f'href="{link}"' in notifications
    assert "Your data export is ready" in notifications
    api_row = client_for(member).get("/api/v1/notifications/").json()["results"][0]
    assert api_row["kind"] == "export_ready"
    assert client.get(link).status_code == 200


def test_the_link_is_for_its_member_only(builder, client):
    member, _, _ = builder
    ready_export(member)
    link = download_link(member)
    assert client.get(link).status_code == 404  # anonymous
    client.force_login(UserFactory())
    assert client.get(link).status_code == 404
    assert client.get("/accounts/export/forged-token/").status_code == 404


def test_the_link_stops_working_once_expired(
    builder, client, media_files, django_capture_on_commit_callbacks
):
    member, _, _ = builder
    export = ready_export(member)
    link = download_link(member)
    client.force_login(member)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    assert client.get(link).status_code == 404
    name = export.file_name
    with django_capture_on_commit_callbacks(execute=True):
        assert data_exports_purge() == 1
    export.refresh_from_db()
    assert export.status == DataExport.Status.EXPIRED
    assert not default_storage.exists(name)
    assert not [name for name in media_files() if name.startswith("exports/")]


def test_the_signature_expires_after_seven_days(builder, client):
    member, _, _ = builder
    export = ready_export(member)
    link = download_link(member)
    client.force_login(member)
    later = timezone.now() + timedelta(days=8)
    DataExport.objects.filter(pk=export.pk).update(expires_at=later + timedelta(days=1))
    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        assert client.get(link).status_code == 404


def test_the_zip_is_not_served_at_a_media_url(builder, client):
    member, _, _ = builder
    export = ready_export(member)
    client.force_login(member)
    assert client.get(f"/media/{export.file_name}").status_code == 404


def test_api_starts_an_export(builder):
    member, _, _ = builder
    response = client_for(member).post("/api/v1/users/me/export/")
    assert response.status_code == 202
    export = DataExport.objects.get(user=member)
    assert response.json() == {"id": export.pk, "status": "ready"}
    assert client_for(None).post("/api/v1/users/me/export/").status_code == 401


def test_one_export_at_a_time_and_a_few_a_day(builder, settings):
    member, _, _ = builder
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a worker would build it later
    api = client_for(member)
    first = api.post("/api/v1/users/me/export/")
    again = api.post("/api/v1/users/me/export/")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() == {"id": first.json()["id"], "status": "pending"}
    assert DataExport.objects.filter(user=member).count() == 1
    DataExport.objects.update(status=DataExport.Status.READY)
    for _ in range(EXPORTS_PER_DAY - 1):
        assert api.post("/api/v1/users/me/export/").status_code == 202
        DataExport.objects.update(status=DataExport.Status.READY)
    refused = api.post("/api/v1/users/me/export/")
    assert refused.status_code == 400 and "detail" in refused.json()
    assert DataExport.objects.filter(user=member).count() == EXPORTS_PER_DAY


def test_purge_exports_command(manage):
    completed = manage("manage.py", "purge_exports", "--dry-run")
    assert completed.returncode == 0, completed.stderr
    assert "0 expired export(s) would be deleted." in completed.stdout
    completed = manage("manage.py", "purge_exports")
    assert completed.returncode == 0, completed.stderr
    assert "Deleted 0 expired export(s)." in completed.stdout


def test_purge_is_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.tasks.purge_exports" in tasks
