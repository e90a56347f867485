import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from creations.models import Creation
from creations.selectors import DUPLICATE_MAX_DISTANCE
from creations.services import creation_create
from demo.pictures import draw_creation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

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
