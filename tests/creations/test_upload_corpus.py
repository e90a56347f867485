"""The upload corpus through the upload page and the API.

Each file is either accepted as a clean re-encoded picture or refused with a message on the
`image` field, leaving storage and the database as they were.
"""

import io

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from creations.models import Creation
from tests.conftest import client_for
from tests.images import stored_metadata
from tests.upload_corpus import CORPUS, Case

pytestmark = pytest.mark.django_db

CASE_NAMES = [case.name for case in CORPUS]


def upload_fields(case: Case) -> dict:
    return {
        "title": "Hand lamp",
        "description": "A minifig hand holds the lamp.",
        "alt_text": "A lamp on a grey baseplate",
        "tags": "lamp, minifig hand",
        "parts": "3820",
        "image": SimpleUploadedFile(case.filename, case.content(), case.content_type),
    }


def assert_stored_clean(case: Case, creation: Creation) -> None:
    with default_storage.open(creation.image.name) as file:
        picture = file.read()
    with default_storage.open(creation.thumbnail.name) as file:
        thumbnail = file.read()

    assert len(picture) <= settings.NPU_IMAGE_MAX_BYTES
    stored = Image.open(io.BytesIO(picture))
    assert stored.format == case.stored_format
    assert stored.size == (creation.width, creation.height)
    assert creation.width * creation.height <= settings.NPU_IMAGE_MAX_PIXELS
    stored.load()
    small = Image.open(io.BytesIO(thumbnail))
    assert small.format == "WEBP"
    assert max(small.size) <= settings.NPU_THUMBNAIL_SIZE
    for content in (picture, thumbnail):
        assert stored_metadata(content) == []
        for secret in case.secrets:
            assert secret not in content
    if case.pixel is not None:
        found = stored.getpixel((0, 0))
        found = found if isinstance(found, tuple) else (found,)
        assert len(found) == len(case.pixel)
        assert all(abs(a - b) <= 4 for a, b in zip(found, case.pixel, strict=True)), found


@pytest.mark.parametrize("case", CORPUS, ids=CASE_NAMES)
def test_upload_page_stores_a_clean_picture_or_refuses_on_the_image_field(
    case, client, member, catalog, media_files
):
    client.force_login(member)
    before = media_files()

    response = client.post(reverse("creations:new"), upload_fields(case))

    if case.accepted:
        creation = Creation.objects.get()
        assert response.status_code == 302
        assert response["Location"] == creation.get_absolute_url()
        assert_stored_clean(case, creation)
        assert len(media_files()) == len(before) + 2
    else:
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert list(errors) == ["image"]
        assert case.message in " ".join(errors["image"])
        assert escape(errors["image"][0]) in response.content.decode()
        assert not Creation.objects.exists()
        assert media_files() == before


@pytest.mark.parametrize("case", CORPUS, ids=CASE_NAMES)
def test_api_upload_stores_a_clean_picture_or_is_a_400_on_image(case, member, catalog, media_files):
    before = media_files()

    response = client_for(member).post(
        "/api/v1/creations/", upload_fields(case), format="multipart"
    )

    if case.accepted:
        assert response.status_code == 201, response.content
        creation = Creation.objects.get()
        assert response.json()["id"] == creation.pk
        assert_stored_clean(case, creation)
        assert len(media_files()) == len(before) + 2
    else:
        assert response.status_code == 400
        body = response.json()
        assert list(body) == ["image"]
        assert case.message in " ".join(body["image"])
        assert not Creation.objects.exists()
        assert media_files() == before


def test_corpus_is_big_and_names_are_unique():
    assert len(CORPUS) >= 20
    assert len(set(CASE_NAMES)) == len(CASE_NAMES)
    assert {case.accepted for case in CORPUS} == {True, False}
