"""Media on S3: a real S3-compatible server (moto's standalone server) on loopback."""

import io
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from creations.models import Creation
from tests.creations.test_images import jpeg_with_gps_and_orientation
from tests.servers import free_port, wait_until_answering

BUCKET = "npu-test-media"
MOTO_SERVER = Path(sys.executable).with_name("moto_server")
KEY_PATTERN = r"creations/\d{4}/\d{2}/[0-9a-f]{32}"


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{endpoint}/moto-api/", process)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint, settings):
    """Point the default storage at a fresh bucket; return a boto3 client to inspect it."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "file_overwrite": True,
                "querystring_auth": True,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def bucket_keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def photo():
    return SimpleUploadedFile("phone.jpg", jpeg_with_gps_and_orientation(), "image/jpeg")


def assert_stored_without_metadata(client, creation):
    keys = bucket_keys(client)
    assert keys == sorted([creation.image.name, creation.thumbnail.name])
    assert re.fullmatch(KEY_PATTERN + r"\.jpg", creation.image.name)
    assert re.fullmatch(KEY_PATTERN + r"\.thumb\.webp", creation.thumbnail.name)
    for key in keys:
        stored = client.get_object(Bucket=BUCKET, Key=key)
        content = stored["Body"].read()
        assert stored["Metadata"] == {}  # no user metadata on the object
        assert stored["CacheControl"] == "public, max-age=31536000, immutable"
        picture = Image.open(io.BytesIO(content))
        assert dict(picture.getexif()) == {}
        assert b"PhoneMaker" not in content


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


@pytest.mark.django_db
def test_upload_through_the_page_stores_both_files_in_the_bucket(
    client, member, s3, django_capture_on_commit_callbacks
):
    client.force_login(member)
    response = client.post(
        "/creations/new/", {"title": "S3 lamp", "tags": "castle", "image": photo()}
    )
    assert response.status_code == 302
    creation = Creation.objects.get()
    assert_stored_without_metadata(s3, creation)

    # The URL the page shows is a signed URL on the bucket, and it downloads.
    page = client.get(creation.get_absolute_url()).content.decode()
    assert creation.image.url.replace("&", "&amp;") in page
    assert "Signature=" in creation.image.url
    assert Image.open(io.BytesIO(download(creation.image.url))).format == "JPEG"

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/creations/{creation.pk}/delete/").status_code == 302
    assert bucket_keys(s3) == []


@pytest.mark.django_db
def test_upload_through_the_api_and_delete(member, s3, django_capture_on_commit_callbacks):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=member).key}")
    response = api.post(
        "/api/v1/creations/", {"title": "API lamp", "image": photo()}, format="multipart"
    )
    assert response.status_code == 201, response.content
    creation = Creation.objects.get()
    assert_stored_without_metadata(s3, creation)
    data = response.json()
    assert data["image"].startswith(s3.meta.endpoint_url + f"/{BUCKET}/{creation.image.name}")
    assert Image.open(io.BytesIO(download(data["image"]))).size == (60, 40)
    assert Image.open(io.BytesIO(download(data["thumbnail"]))).format == "WEBP"

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/creations/{creation.pk}/").status_code == 204
    assert bucket_keys(s3) == []


@pytest.mark.django_db
def test_rejected_upload_writes_nothing_to_the_bucket(client, member, s3):
    client.force_login(member)
    bad = SimpleUploadedFile("x.jpg", b"GIF89a but not really", "image/jpeg")
    response = client.post("/creations/new/", {"title": "Bad", "image": bad})
    assert response.status_code == 200
    assert bucket_keys(s3) == []


@pytest.mark.django_db
def test_readyz_checks_the_bucket(client, s3):
    assert client.get("/readyz").json()["checks"]["storage"] == "ok"


@pytest.mark.django_db
def test_readyz_names_storage_when_the_bucket_is_gone(client, s3, s3_endpoint, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such"},
        },
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"].startswith("failed")
    assert default_storage.bucket_name == "no-such"
