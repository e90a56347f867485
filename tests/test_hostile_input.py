"""Defects found by attacking the running site: each of these answered a 500 or hung a worker."""

import time

import pytest
from django.db import connection

from creations.models import Creation
from tests.conftest import client_for
from tests.images import image_bytes

pytestmark = pytest.mark.django_db

MANY = ",".join(f"a{n}" for n in range(1300))


@pytest.mark.parametrize(
    "url, query",
    [
        ("/", {"part": MANY}),
        ("/", {"tag": MANY}),
        ("/api/v1/creations/", {"part": MANY}),
        ("/api/v1/creations/", {"tag": MANY}),
        ("/api/v1/creations/", {"tag": MANY.split(",")}),
    ],
)
def test_a_thousand_filter_values_are_refused_at_once(client, url, query):
    started = time.perf_counter()
    response = client.get(url, query)
    assert response.status_code == 400
    assert time.perf_counter() - started < 1  # no query per value: the parser stops at 11


def test_a_huge_tag_list_in_an_upload_is_refused_at_once(member, media_files):
    tags = ",".join(f"tag{n}" for n in range(40_000))  # about 290 KB
    started = time.perf_counter()
    response = client_for(member).post(
        "/api/v1/creations/",
        {"title": "Many tags", "tags": tags, "image": png_upload()},
        format="multipart",
    )
    assert response.status_code == 400 and "tags" in response.json()
    assert time.perf_counter() - started < 2
    assert media_files() == [] and not Creation.objects.exists()


def png_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.png", image_bytes("PNG"), content_type="image/png")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_every_postgresql_connection_has_a_statement_timeout():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "10s"


def patch_json(user, creation, body: str):
    return client_for(user).generic(
        "PATCH",
        f"/api/v1/creations/{creation.pk}/",
        body.encode(),
        content_type="application/json",
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"status": "\\ud800"}', "status"),
        ('{"title": "lone \\udfff"}', "title"),
        ('{"title": "nul \\u0000"}', "title"),
        ('{"tags": ["ok", "\\ud83d"]}', "tags[1]"),
        ('{"\\ud800": 1}', "detail"),
    ],
)
def test_lone_surrogates_and_nul_in_json_are_a_400_naming_the_field(creation, owner, body, field):
    response = patch_json(owner, creation, body)
    assert response.status_code == 400
    assert field in response.json()
    creation.refresh_from_db()
    assert creation.title == "Cheese slope roof"


def test_absurdly_nested_json_is_a_400(creation, owner):
    response = patch_json(owner, creation, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400


@pytest.mark.parametrize("character", ["\u202e", "\u2066", "\x07", "\x00", "\u200b"])
@pytest.mark.parametrize("field", ["title", "alt_text"])
def test_one_line_text_refuses_control_and_bidi_characters(
    client, creation, owner, field, character
):
    value = f"Roof{character}tile"
    api = client_for(owner).patch(f"/api/v1/creations/{creation.pk}/", {field: value})
    assert api.status_code == 400 and field in api.json()
    client.force_login(owner)
    page = client.post(
        f"/creations/{creation.pk}/edit/",
        {"title": "Cheese slope roof", "description": "", "alt_text": "", field: value},
    )
    assert page.status_code == 200 and field in page.context["form"].errors
    creation.refresh_from_db()
    assert (creation.title, creation.alt_text) == ("Cheese slope roof", "")


def test_descriptions_keep_line_breaks_but_refuse_bidi_overrides(creation, owner):
    client = client_for(owner)
    url = f"/api/v1/creations/{creation.pk}/"
    assert client.patch(url, {"description": "Line one\r\nLine two\tend"}).status_code == 200
    refused = client.patch(url, {"description": "gpj.\u202eexe"})
    assert refused.status_code == 400
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in refused.json()["description"][0]


def test_an_emoji_sequence_with_a_zero_width_joiner_is_text(creation, owner):
    response = client_for(owner).patch(
        f"/api/v1/creations/{creation.pk}/", {"title": "Mechanic \U0001f469\u200d\U0001f527"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/parts/%00/",
        "/parts/a%00b/",
        "/tags/%00/",
        "/tags/x%07/",
        "/u/%00/",
        "/api/v1/parts/%00/",
        "/api/v1/users/%00/",
    ],
)
def test_a_control_character_in_a_url_path_is_a_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("digits", ["\u0661", "\U0001d7cf"])
def test_a_creation_id_is_ascii_digits_only(client, creation, digits):
    assert client.get(f"/api/v1/creations/{digits}/").status_code == 404
