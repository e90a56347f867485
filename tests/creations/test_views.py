import pytest
from django.urls import reverse

from creations.models import Creation
from tests.factories import CreationFactory, ScoreFactory

pytestmark = pytest.mark.django_db


def test_gallery_shows_published_creations_with_thumbnails(client, creation):
    hidden = CreationFactory(title="Hidden one", status=Creation.Status.HIDDEN)

    response = client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Cheese slope roof" in body
    assert creation.thumbnail.url in body
    assert f'alt="{creation.title}"' in body
    assert hidden.title not in body


def test_gallery_says_when_there_is_nothing_yet(client):
    response = client.get("/")
    assert "No creations yet" in response.content.decode()


def test_gallery_paginates_by_24(client, owner):
    CreationFactory.create_batch(25, owner=owner)
    first = client.get("/")
    second = client.get("/?page=2")
    assert len(first.context["page"].object_list) == 24
    assert len(second.context["page"].object_list) == 1
    assert 'rel="next"' in first.content.decode()


@pytest.mark.parametrize("count", [1, 24])
def test_gallery_query_count_is_flat(client, owner, django_assert_max_num_queries, count):
    for creation in CreationFactory.create_batch(count, owner=owner):
        ScoreFactory(creation=creation)
    # count, page, tags; the same for 1 or 24 creations.
    with django_assert_max_num_queries(3):
        response = client.get("/")
    assert len(response.context["page"].object_list) == count


def test_detail_shows_the_creation(client, creation):
    response = client.get(creation.get_absolute_url())
    assert response.status_code == 200
    assert creation.image.url in response.content.decode()


def test_hidden_creation_is_404_for_others_and_visible_to_owner_and_moderator(
    client, owner, member, moderator
):
    hidden = CreationFactory(owner=owner, status=Creation.Status.HIDDEN)
    url = hidden.get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(member)
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200
    client.force_login(moderator)
    assert client.get(url).status_code == 200


def test_unknown_page_uses_the_site_404_template(client):
    response = client.get("/creations/999999/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


def test_profile_lists_the_members_published_creations(client, creation):
    CreationFactory(owner=creation.owner, title="Secret", status=Creation.Status.HIDDEN)
    response = client.get(reverse("accounts:profile", args=[creation.owner.username]))
    body = response.content.decode()
    assert response.status_code == 200
    assert creation.title in body and "Secret" not in body
    assert creation.owner.email not in body
