import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from creations.models import Creation
from demo.pictures import draw_creation
from tests.factories import CreationFactory, UserFactory

pytestmark = pytest.mark.django_db

# Pages and API ------------------------------------------------------------------------------


def test_creation_features_parts_by_number_or_name(owner, catalog):
    creation = CreationFactory(owner=owner, parts="3820, brick 2 x 4 ,3820")
    assert [part.part_num for part in creation.parts.all()] == ["3001", "3820"]


def test_unknown_parts_are_refused_naming_them(owner, catalog, media_files):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        CreationFactory(owner=owner, parts="3001, 99999x, nope")
    assert excinfo.value.message_dict["parts"] == ["Unknown part numbers: 99999x, nope."]
    assert not Creation.objects.exists() and media_files() == []


def test_upload_form_takes_parts_and_the_page_shows_chips(client, member, catalog):
    client.force_login(member)
    photo = SimpleUploadedFile("p.jpg", draw_creation(3), "image/jpeg")
    response = client.post(
        "/creations/new/", {"title": "Hand lamp", "parts": "3820", "image": photo}, follow=True
    )
    body = response.content.decode()
    assert 'href="/parts/3820/"' in body and "Minifig Hand" in body
    bad = client.post(
        "/creations/new/",
        {
            "title": "x",
            "parts": "3820, 123456789",
            "image": SimpleUploadedFile("p.jpg", draw_creation(4), "image/jpeg"),
        },
    )
    assert "Unknown part number: 123456789." in str(bad.context["form"].errors["parts"])


def test_edit_form_shows_and_changes_parts(client, owner, catalog):
    creation = CreationFactory(owner=owner, parts="3001")
    client.force_login(owner)
    url = reverse("creations:edit", args=[creation.pk])
    assert client.get(url).context["form"]["parts"].value() == "3001"
    client.post(url, {"title": "T", "tags": "", "parts": "3820, 54200"})
    assert sorted(creation.parts.values_list("part_num", flat=True)) == ["3820", "54200"]


def test_part_pages(client, owner, catalog):
    CreationFactory(owner=owner, title="With hand", parts="3820")
    CreationFactory(owner=owner, title="Hidden hand", parts="3820", status="hidden")
    CreationFactory(owner=owner, title="Brick thing", parts="3001, 3820")

    listing = client.get("/parts/")
    counts = {part.part_num: part.creation_count for part in listing.context["page"].object_list}
    assert counts == {"3820": 2, "3001": 1, "54200": 0}
    assert [p.part_num for p in listing.context["page"].object_list][0] == "3820"
    assert [p.part_num for p in client.get("/parts/?q=minifig").context["page"].object_list] == [
        "3820"
    ]
    assert [p.part_num for p in client.get("/parts/?q=300").context["page"].object_list] == ["3001"]

    detail = client.get("/parts/3820/?sort=newest")
    titles = [creation.title for creation in detail.context["page"].object_list]
    assert titles == ["Brick thing", "With hand"]
    assert client.get("/parts/nope/").status_code == 404


def test_gallery_and_api_filter_by_every_part(client, owner, catalog):
    CreationFactory(owner=owner, title="Both", parts="3001, 3820")
    CreationFactory(owner=owner, title="Hand only", parts="3820")
    page = client.get("/?part=3820&part=3001")
    assert [c.title for c in page.context["page"].object_list] == ["Both"]
    assert "Remove the part filter 3001" in page.content.decode()

    api = APIClient().get("/api/v1/creations/", {"part": ["3820", "3001"]}).json()
    assert [item["title"] for item in api["results"]] == ["Both"]
    assert api["results"][0]["parts"] == ["3001", "3820"]


def test_parts_api(owner, catalog):
    CreationFactory(owner=owner, parts="3820")
    listed = APIClient().get("/api/v1/parts/", {"q": "hand"}).json()
    assert listed["results"] == [
        {
            "part_num": "3820",
            "name": "Minifig Hand",
            "category": "Minifig Accessories",
            "creation_count": 1,
        }
    ]
    one = APIClient().get("/api/v1/parts/54200/").json()
    assert one == {
        "part_num": "54200",
        "name": "Slope 30° 1 x 1 x 2/3",
        "category": "",
        "creation_count": 0,
    }
    assert APIClient().get("/api/v1/parts/nope/").status_code == 404


def test_api_upload_refuses_unknown_parts(member, catalog, media_files):
    api = APIClient()
    api.force_authenticate(member)
    response = api.post(
        "/api/v1/creations/",
        {
            "title": "x",
            "parts": ["3001", "42x"],
            "image": SimpleUploadedFile("p.jpg", draw_creation(1), "image/jpeg"),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"parts": ["Unknown part number: 42x."]}
    assert media_files() == []


# Anonymous: the count and the page; a part page looks up its part first, and creation cards
# add their tags.
QUERIES_BY_PAGE = {"/parts/": 2, "/parts/3820/": 4, "/?part=3820": 3}


@pytest.mark.parametrize("url", QUERIES_BY_PAGE)
@pytest.mark.parametrize("count", [1, 24])
def test_part_pages_use_a_fixed_number_of_queries(
    client, owner, catalog, django_assert_num_queries, url, count
):
    for _ in range(count):
        CreationFactory(owner=owner, parts="3820, 3001")
    with django_assert_num_queries(QUERIES_BY_PAGE[url]):
        assert client.get(url).status_code == 200


def test_api_part_filter_keeps_the_list_query_budget(owner, catalog, django_assert_num_queries):
    for _ in range(30):
        CreationFactory(owner=owner, parts="3820, 3001")
    # Count, page, tags prefetch, parts prefetch.
    with django_assert_num_queries(4):
        response = APIClient().get("/api/v1/creations/", {"part": "3820", "page_size": 30})
    assert len(response.json()["results"]) == 30


@pytest.mark.parametrize("value", ["30\x0001", "a\x07b"])
def test_control_characters_in_part_filters_are_refused_not_a_crash(client, catalog, value):
    response = APIClient().get("/api/v1/creations/", {"part": ["3001", value]})
    assert response.status_code == 400 and "part" in response.json()
    assert client.get("/", {"part": value}).status_code == 400
    api = APIClient()
    api.force_authenticate(UserFactory())
    upload = api.post(
        "/api/v1/creations/",
        {"title": "x", "parts": value, "image": SimpleUploadedFile("p.jpg", draw_creation(1))},
        format="multipart",
    )
    assert upload.status_code == 400 and "parts" in upload.json()


def test_searches_with_control_characters_do_not_crash(client, catalog):
    assert client.get("/parts/", {"q": "min\x00ifig"}).status_code == 200
    assert APIClient().get("/api/v1/parts/", {"q": "\x009"}).status_code == 200
    assert APIClient().get("/api/v1/tags/", {"q": "ca\x00"}).status_code == 200
