"""The same upload sent twice makes one creation: the page form's upload key, the API's
Idempotency-Key, and two copies in flight at once."""

import re
import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse

from creations.models import Creation
from creations.services import creation_create_once
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.images import image_bytes

pytestmark = pytest.mark.django_db


def picture() -> SimpleUploadedFile:
    return SimpleUploadedFile("lamp.png", image_bytes("PNG"), content_type="image/png")


def api_upload(client, key: str | None, title: str = "Hand lamp"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        "/api/v1/creations/",
        {"title": title, "tags": "lamp", "image": picture()},
        format="multipart",
        **headers,
    )


def test_the_same_api_upload_sent_twice_makes_one_creation(member, media_files):
    api = client_for(member)
    key = uuid.uuid4().hex
    first = api_upload(api, key)
    again = api_upload(api, key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again["Location"] == first["Location"]
    assert Creation.objects.get().upload_key == key
    assert len(media_files()) == 2  # the repeat stored nothing


def test_an_upload_key_is_the_members_own(member, other_member):
    key = uuid.uuid4().hex
    assert api_upload(client_for(member), key).status_code == 201
    assert api_upload(client_for(other_member), key).status_code == 201
    assert Creation.objects.count() == 2


def test_uploads_without_a_key_are_each_new(member):
    api = client_for(member)
    assert api_upload(api, None).status_code == api_upload(api, None).status_code == 201
    assert Creation.objects.count() == 2


@pytest.mark.parametrize("key", ["a" * 65, "two words", "nul\x00", "é", "<script>"])
def test_a_malformed_idempotency_key_is_a_400_naming_it(member, media_files, key):
    response = api_upload(client_for(member), key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Creation.objects.exists() and media_files() == []


def test_the_upload_form_carries_a_fresh_key_each_time(client, member):
    client.force_login(member)
    keys = [
        re.search(
            r'name="upload_key" value="([0-9a-f]{32})"',
            client.get(reverse("creations:new")).content.decode(),
        ).group(1)
        for _ in range(2)
    ]
    assert keys[0] != keys[1]


def test_the_same_upload_form_posted_twice_makes_one_creation(client, member, media_files):
    client.force_login(member)
    fields = {"title": "Hand lamp", "tags": "lamp", "upload_key": uuid.uuid4().hex}
    first = client.post(reverse("creations:new"), {**fields, "image": picture()})
    again = client.post(reverse("creations:new"), {**fields, "image": picture()})
    creation = Creation.objects.get()
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == creation.get_absolute_url()
    assert len(media_files()) == 2
    page = client.get(again["Location"]).content.decode()
    assert "already published" in page


def test_a_malformed_upload_key_in_the_form_is_an_error_and_stores_nothing(
    client, member, media_files
):
    client.force_login(member)
    response = client.post(
        reverse("creations:new"),
        {"title": "Hand lamp", "upload_key": "bad\x00key", "image": picture()},
    )
    assert response.status_code == 200
    assert "upload key" in response.content.decode()
    assert not Creation.objects.exists() and media_files() == []


def test_a_twin_committed_after_the_check_is_found_not_refused(member, media_files, monkeypatch):
    """The twin commits between creation_create_once's look-up and the insert: the database
    refuses the second row, and the caller gets the twin's creation, not an error."""
    from creations import services

    key = uuid.uuid4().hex
    twin, created = creation_create_once(owner=member, upload_key=key, title="T", image=picture())
    assert created
    looked_up = []

    def too_early(**kwargs):
        looked_up.append(kwargs)
        return None if len(looked_up) == 1 else Creation.objects.get(upload_key=key)

    monkeypatch.setattr(services, "creation_by_upload_key", too_early)
    creation, created = creation_create_once(
        owner=member, upload_key=key, title="T", image=picture()
    )
    assert (creation.pk, created) == (twin.pk, False)
    assert len(looked_up) == 2  # once before, once after the refused insert
    assert media_files() == sorted([twin.image.name, twin.thumbnail.name])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two PostgreSQL sessions")
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_two_copies_of_one_upload_in_flight_at_once_make_one_creation(media_files):
    member = UserFactory()
    key = uuid.uuid4().hex
    barrier = threading.Barrier(2)
    results, errors = [], []

    def send():
        try:
            barrier.wait()
            results.append(
                creation_create_once(
                    owner=member, upload_key=key, title="Twice", image=picture(), tags="lamp"
                )
            )
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    creation = Creation.objects.get()
    assert sorted(created for _, created in results) == [False, True]
    assert {made.pk for made, _ in results} == {creation.pk}
    # Both processed and stored their picture; the one the database refused removed its files.
    assert media_files() == sorted([creation.image.name, creation.thumbnail.name])
