"""One FilterSet for pages and API: the same parameters are refused the same way."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from creations.filters import CreationFilter, GalleryFilter
from creations.models import Creation
from creations.tagging import tags_parse
from npu_site.text import comma_separated
from parts.selectors import part_numbers_parse
from tests.factories import CreationFactory

pytestmark = pytest.mark.django_db

ELEVEN = ",".join(f"v{n}" for n in range(11))
REFUSED = [
    ({"tag": ELEVEN}, "tag"),
    ({"tag": "x" * 51}, "tag"),
    ({"tag": "!!!"}, "tag"),
    ({"tag": "bell\x07"}, "tag"),
    ({"part": ELEVEN}, "part"),
    ({"part": "30\x0001"}, "part"),
    ({"q": "x" * 201}, "q"),
    ({"min_rating": "9"}, "min_rating"),
]


def test_pages_and_api_share_one_filterset():
    assert issubclass(GalleryFilter, CreationFilter)
    shared = set(CreationFilter.base_filters) - {"ordering"}
    assert shared <= set(GalleryFilter.base_filters)


@pytest.mark.parametrize("query, parameter", REFUSED)
def test_a_refused_filter_is_a_400_naming_it_on_pages_and_api(client, creation, query, parameter):
    api = APIClient().get("/api/v1/creations/", query)
    assert api.status_code == 400 and parameter in api.json()
    page = client.get("/", query)
    assert page.status_code == 400
    assert f"<strong>{parameter}</strong>" in page.content.decode()
    assert list(page.context["page"].object_list) == []


def test_repeated_and_comma_separated_tags_mean_the_same(client, owner):
    CreationFactory(owner=owner, title="Both", tags="castle, space")
    CreationFactory(owner=owner, title="One", tags="castle")
    for query in ("tag=castle&tag=Space", "tag=castle,%20SPACE"):
        assert [c.title for c in client.get(f"/?{query}").context["page"].object_list] == ["Both"]
        results = APIClient().get(f"/api/v1/creations/?{query}").json()["results"]
        assert [c["title"] for c in results] == ["Both"]


def test_an_unknown_sort_shows_the_newest_on_pages_but_is_a_400_in_the_api(client, creation):
    assert client.get("/", {"sort": "DROP TABLE"}).status_code == 200
    assert APIClient().get("/api/v1/creations/", {"ordering": "DROP TABLE"}).status_code == 400


def test_a_tag_only_hidden_creations_carry_stays_secret_even_when_filtered(client, owner):
    CreationFactory(owner=owner, tags="secret", status=Creation.Status.HIDDEN)
    for query in ("", "?q=zz", "?sort=top", "?tag=castle", "?tag=!!!"):
        response = client.get(f"/tags/secret/{query}")
        assert response.status_code == 404, query
        assert "secret" not in response.content.decode().lower().replace("/tags/secret/", "")


def consumed_at_most(limit, pieces):
    """An iterator that fails the test if more than `limit` items are taken from it."""
    for index, piece in enumerate(pieces):
        assert index < limit, "the parser kept reading after it had enough to refuse"
        yield piece


@pytest.mark.parametrize("parser", [tags_parse, part_numbers_parse])
def test_a_huge_list_is_refused_after_eleven_values_without_reading_the_rest(parser):
    pieces = consumed_at_most(11, (f"value{n}" for n in range(100_000)))
    with pytest.raises(ValidationError, match="At most 10"):
        parser(pieces)


def test_duplicates_and_blanks_do_not_count_towards_the_limit():
    assert comma_separated(["a, a ,", "", "b", "a,b"], limit=2, noun="tags") == ["a", "b"]
