"""Favourites through the API: PUT/DELETE /api/v1/creations/{id}/favourite/ and
GET /api/v1/users/me/favourites/."""

import pytest
from django.urls import resolve

from community.models import Favourite
from community.services.favourites import favourite_add
from creations.models import Creation
from tests.conftest import client_for
from tests.factories import CreationFactory

pytestmark = pytest.mark.django_db


def url(creation) -> str:
    return f"/api/v1/creations/{creation.pk}/favourite/"


def test_put_saves_with_201_then_200_and_the_count(creation, member, other_member):
    first = client_for(member).put(url(creation))
    assert first.status_code == 201
    assert first.json() == {"saved": True, "favourite_count": 1}
    again = client_for(member).put(url(creation))
    assert again.status_code == 200
    assert again.json() == {"saved": True, "favourite_count": 1}
    assert client_for(other_member).put(url(creation)).json()["favourite_count"] == 2
    detail = client_for(None).get(f"/api/v1/creations/{creation.pk}/").json()
    assert detail["favourite_count"] == 2


def test_delete_unsaves_with_204_every_time(creation, member):
    favourite_add(user=member, creation=creation)
    for _ in range(2):
        response = client_for(member).delete(url(creation))
        assert response.status_code == 204 and response.content == b""
    assert not Favourite.objects.exists()
    assert Creation.objects.get(pk=creation.pk).favourite_count == 0


@pytest.mark.parametrize("method", ["put", "delete"])
def test_anonymous_callers_get_401(creation, method):
    response = getattr(client_for(None), method)(url(creation))
    assert response.status_code == 401


@pytest.mark.parametrize("method", ["put", "delete"])
def test_hidden_or_missing_creations_are_404(owner, member, method):
    hidden = CreationFactory(owner=owner, status=Creation.Status.HIDDEN)
    assert getattr(client_for(member), method)(url(hidden)).status_code == 404
    missing = "/api/v1/creations/99999999999999999999/favourite/"
    assert getattr(client_for(member), method)(missing).status_code == 404
    assert getattr(client_for(owner), method)(url(hidden)).status_code in (201, 204)


def test_my_favourites_lists_newest_saved_first(owner, member, other_member):
    first, second, third = (CreationFactory(owner=owner, title=t) for t in ("A", "B", "C"))
    for creation in (third, first, second):
        favourite_add(user=member, creation=creation)
    favourite_add(user=other_member, creation=third)
    response = client_for(member).get("/api/v1/users/me/favourites/")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert [item["title"] for item in data["results"]] == ["B", "A", "C"]
    assert set(data["results"][0]) >= {"id", "title", "tags", "parts", "favourite_count"}
    theirs = client_for(other_member).get("/api/v1/users/me/favourites/").json()
    assert [item["title"] for item in theirs["results"]] == ["C"]


def test_my_favourites_leave_out_creations_hidden_since(owner, member):
    kept = CreationFactory(owner=owner, title="Kept")
    gone = CreationFactory(owner=owner, title="Gone")
    favourite_add(user=member, creation=kept)
    favourite_add(user=member, creation=gone)
    Creation.objects.filter(pk=gone.pk).update(status=Creation.Status.HIDDEN)
    data = client_for(member).get("/api/v1/users/me/favourites/").json()
    assert data["count"] == 1
    assert [item["title"] for item in data["results"]] == ["Kept"]


def test_my_favourites_need_a_member():
    assert client_for(None).get("/api/v1/users/me/favourites/").status_code == 401


def test_my_favourites_are_paginated(owner, member):
    for creation in CreationFactory.create_batch(3, owner=owner):
        favourite_add(user=member, creation=creation)
    client = client_for(member)
    page = client.get("/api/v1/users/me/favourites/", {"page_size": 2, "page": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 1
    assert client.get("/api/v1/users/me/favourites/", {"page": 9}).status_code == 404


@pytest.mark.parametrize("count", [1, 8])
def test_my_favourites_use_a_fixed_number_of_queries(
    owner, member, django_assert_num_queries, count
):
    for creation in CreationFactory.create_batch(count, owner=owner, tags="castle, space"):
        favourite_add(user=member, creation=creation)
    client = client_for(member)
    # Token, count, page (with the ranking prior), tags, parts, which scores the member sees.
    with django_assert_num_queries(6):
        response = client.get("/api/v1/users/me/favourites/")
    assert len(response.json()["results"]) == count


def test_routes_reach_the_favourite_views_not_the_profiles():
    assert resolve("/api/v1/users/me/favourites/").view_name == "api:my-favourites"
    assert resolve("/api/v1/creations/1/favourite/").view_name == "api:creation-favourite"
    assert resolve("/api/v1/users/me/").view_name == "api:user-me"
