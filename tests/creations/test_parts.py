import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from creations.demo_images import draw_creation
from creations.models import Creation, Part, PartCategory
from creations.selectors import DUPLICATE_MAX_DISTANCE
from creations.services import creation_create
from tests.factories import CreationFactory, UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "creations" / "fixtures"


def import_parts(path, *args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_parts", str(path), *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


# Import -------------------------------------------------------------------------------------


def test_sample_catalog_imports_and_a_second_run_changes_nothing():
    out, err = import_parts(
        FIXTURES / "parts.csv", categories=str(FIXTURES / "part_categories.csv")
    )
    assert err == ""
    total = Part.objects.count()
    assert 140 <= total <= 200
    assert f"Parts: {total} added, 0 updated, 0 unchanged, 0 row(s) skipped." in out
    assert Part.objects.get(part_num="3001").name == "Brick 2 x 4"
    assert Part.objects.get(part_num="3001").category.name == "Bricks"
    assert "] 100%" in out  # the progress bar got to the end

    out, _ = import_parts(FIXTURES / "parts.csv", categories=str(FIXTURES / "part_categories.csv"))
    assert f"Parts: 0 added, 0 updated, {total} unchanged" in out
    assert "Categories: 0 added, 0 renamed" in out


def test_renamed_parts_and_categories_are_updated(tmp_path):
    header = "part_num,name,part_cat_id,part_material\n"
    categories = write(tmp_path, "cats.csv", "id,name\n11,Bricks\n")
    parts = write(tmp_path, "parts.csv", header + "3001,Brick 2x4,11,Plastic\n")
    import_parts(parts, categories=str(categories))
    write(tmp_path, "cats.csv", "id,name\n11,Bricks (basic)\n")
    write(
        tmp_path,
        "parts.csv",
        header + '3001,"Brick 2 x 4",11,Plastic\n3003,Brick 2 x 2,11,Plastic\n',
    )
    out, _ = import_parts(parts, categories=str(categories))
    assert "Parts: 1 added, 1 updated, 0 unchanged" in out
    assert Part.objects.get(part_num="3001").name == "Brick 2 x 4"
    assert PartCategory.objects.get(pk=11).name == "Bricks (basic)"


def test_missing_columns_refuse_the_file_and_write_nothing(tmp_path):
    parts = write(tmp_path, "parts.csv", "part_num,name\n3001,Brick 2 x 4\n")
    with pytest.raises(CommandError, match="lacks the column.*part_cat_id"):
        import_parts(parts)
    assert not Part.objects.exists()


def test_malformed_rows_are_reported_by_line_and_skipped(tmp_path):
    content = (
        b"part_num,name,part_cat_id,part_material\n"
        b"3001,Brick 2 x 4,11,Plastic\n"
        b"\n"
        b"3003,Brick 2 x 2,eleven,Plastic\n"
        b"3004,Brick \xff\xfe 1 x 2,11,Plastic\n"
        b"3001,Brick 2 x 4 again,11,Plastic\n"
        b",No number,11,Plastic\n"
        b"3005,Brick 1 x 1\n"
        b"\n"
        b"3010,Brick 1 x 4,11,Plastic\n"
    )
    parts = write(tmp_path, "parts.csv", content)
    out, err = import_parts(parts)
    assert sorted(Part.objects.values_list("part_num", flat=True)) == ["3001", "3010"]
    assert "line 4: bad category id 'eleven'" in err
    assert "line 5: not valid UTF-8" in err
    assert "line 6: part 3001 again (first on line 2)" in err
    assert "line 7: bad part number ''" in err
    assert "line 8: 2 fields where the header has 4" in err
    assert "2 added, 0 updated, 0 unchanged, 5 row(s) skipped" in out
    # A category the catalog does not know yet gets a placeholder until it is imported.
    assert PartCategory.objects.get(pk=11).name == "Category 11"


def test_strict_refuses_the_whole_file_when_any_row_is_malformed(tmp_path):
    parts = write(
        tmp_path,
        "parts.csv",
        "part_num,name,part_cat_id,part_material\n3001,Brick 2 x 4,11,Plastic\n3003,,11,Plastic\n",
    )
    with pytest.raises(CommandError, match="1 malformed row"):
        import_parts(parts, strict=True)
    assert not Part.objects.exists()


def test_a_batch_is_never_half_applied(tmp_path, monkeypatch):
    parts = write(
        tmp_path,
        "parts.csv",
        "part_num,name,part_cat_id,part_material\n3001,Brick 2 x 4,11,Plastic\n3003,Brick,11,\n",
    )
    import_parts(parts)
    write(
        tmp_path,
        "parts.csv",
        "part_num,name,part_cat_id,part_material\n3001,Renamed,11,Plastic\n3004,New,11,\n",
    )

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away mid-batch")

    monkeypatch.setattr(Part.objects, "bulk_update", broken)
    with pytest.raises(RuntimeError):
        import_parts(parts)
    assert sorted(Part.objects.values_list("part_num", "name")) == [
        ("3001", "Brick 2 x 4"),
        ("3003", "Brick"),
    ]


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="is empty"):
        import_parts(write(tmp_path, "parts.csv", ""))


# Pages and API ------------------------------------------------------------------------------


@pytest.fixture
def catalog():
    bricks = PartCategory.objects.create(id=11, name="Bricks")
    hands = PartCategory.objects.create(id=27, name="Minifig Accessories")
    return {
        "3001": Part.objects.create(part_num="3001", name="Brick 2 x 4", category=bricks),
        "3820": Part.objects.create(part_num="3820", name="Minifig Hand", category=hands),
        "54200": Part.objects.create(part_num="54200", name="Slope 30° 1 x 1 x 2/3"),
    }


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


@pytest.mark.parametrize("url", ["/parts/", "/parts/3820/", "/?part=3820"])
@pytest.mark.parametrize("count", [1, 24])
def test_part_pages_use_a_fixed_number_of_queries(
    client, owner, catalog, django_assert_max_num_queries, url, count
):
    for _ in range(count):
        CreationFactory(owner=owner, parts="3820, 3001")
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


def test_api_part_filter_keeps_the_list_query_budget(owner, catalog, django_assert_max_num_queries):
    for _ in range(30):
        CreationFactory(owner=owner, parts="3820, 3001")
    with django_assert_max_num_queries(6):
        response = APIClient().get("/api/v1/creations/", {"part": "3820", "page_size": 30})
    assert len(response.json()["results"]) == 30


# Look-alike pictures ------------------------------------------------------------------------


def jpeg(image: Image.Image, **options) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return SimpleUploadedFile("copy.jpg", buffer.getvalue(), "image/jpeg")


def copies_of(seed: int) -> dict[str, SimpleUploadedFile]:
    original = Image.open(io.BytesIO(draw_creation(seed)))
    width, height = original.size
    return {
        "resized": jpeg(original.resize((width // 2, height // 2)), quality=85),
        "recompressed": jpeg(original, quality=40),
        "cropped": jpeg(
            original.crop((int(width * 0.02), int(height * 0.02), width, height)), quality=80
        ),
    }


@pytest.mark.parametrize("variant", ["resized", "recompressed", "cropped"])
def test_a_copy_of_an_earlier_picture_is_recognised(owner, member, variant):
    original = creation_create(
        owner=owner,
        title="Original",
        image=SimpleUploadedFile("o.jpg", draw_creation(5), "image/jpeg"),
    )
    copy = creation_create(owner=member, title="Re-upload", image=copies_of(5)[variant])
    assert list(copy.possible_duplicates.all()) == [original]
    assert list(original.possible_duplicates.all()) == [copy]


def test_different_demo_pictures_are_not_flagged(owner):
    for seed in range(24):
        creation_create(
            owner=owner,
            title=f"Demo {seed}",
            image=SimpleUploadedFile("d.jpg", draw_creation(seed), "image/jpeg"),
        )
    assert Creation.possible_duplicates.through.objects.count() == 0
    assert DUPLICATE_MAX_DISTANCE < 20  # the closest two different demo pictures measured 20


def test_uploader_is_told_with_a_link_and_the_creation_is_published(client, owner, member):
    original = creation_create(
        owner=owner,
        title="Original lamp",
        image=SimpleUploadedFile("o.jpg", draw_creation(9), "image/jpeg"),
    )
    client.force_login(member)
    response = client.post(
        "/creations/new/", {"title": "Mine", "image": copies_of(9)["resized"]}, follow=True
    )
    body = response.content.decode()
    assert f'This looks like <a href="/creations/{original.pk}/">“Original lamp”</a>' in body
    assert Creation.objects.get(title="Mine").status == "published"


def test_a_hidden_look_alike_is_not_revealed_to_the_uploader(client, owner, member):
    creation_create(
        owner=owner,
        title="Secret original",
        image=SimpleUploadedFile("o.jpg", draw_creation(9), "image/jpeg"),
        status="hidden",
    )
    client.force_login(member)
    response = client.post(
        "/creations/new/", {"title": "Mine", "image": copies_of(9)["resized"]}, follow=True
    )
    assert "Secret original" not in response.content.decode()


def test_moderators_see_possible_duplicates_and_can_filter_them(client, owner, moderator):
    original = creation_create(
        owner=owner,
        title="First",
        image=SimpleUploadedFile("o.jpg", draw_creation(2), "image/jpeg"),
    )
    copy = creation_create(owner=UserFactory(), title="Copy", image=copies_of(2)["recompressed"])
    creation_create(
        owner=owner,
        title="Other",
        image=SimpleUploadedFile("x.jpg", draw_creation(30), "image/jpeg"),
    )
    client.force_login(moderator)
    page = client.get(reverse("admin:creations_creation_change", args=[copy.pk])).content.decode()
    assert f"#{original.pk} “First”" in page
    flagged = client.get(reverse("admin:creations_creation_changelist"), {"duplicate": "yes"})
    assert sorted(c.title for c in flagged.context["cl"].result_list) == ["Copy", "First"]


@pytest.mark.parametrize("value", ["30\x0001", "a\x07b"])
def test_control_characters_in_part_filters_are_refused_not_a_crash(client, catalog, value):
    response = APIClient().get("/api/v1/creations/", {"part": ["3001", value]})
    assert response.status_code == 400 and "part" in response.json()
    assert client.get("/", {"part": value}).status_code == 200
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
