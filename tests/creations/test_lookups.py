"""The stored lookup columns (tag ids, part numbers, the search document) follow every change
to tags, parts and text, so the indexed filters find exactly what the relations say."""

import pytest
from django.db import connection
from taggit.models import Tag

from creations.models import Creation
from creations.services import (
    creation_lookups_refresh,
    creation_update,
    tag_merge,
    tag_update,
    tags_delete,
)
from npu_site.paginator import CountingPaginator, list_count
from tests.factories import CreationFactory

pytestmark = pytest.mark.django_db


def tag_ids(*names):
    return sorted(Tag.objects.filter(name__in=names).values_list("pk", flat=True))


def stored(creation):
    creation.refresh_from_db()
    return creation.tag_ids, creation.part_nums


def filtered(tags=(), parts=(), query=""):
    creations = Creation.objects.published().with_tags(list(tags)).with_parts(list(parts))
    return sorted(creations.matching(query).values_list("title", flat=True))


def test_create_and_update_keep_the_columns(catalog):
    creation = CreationFactory(tags="castle, space", parts=["3001", "3820"])
    assert stored(creation) == (tag_ids("castle", "space"), ["3001", "3820"])
    creation_update(creation=creation, tags="space, train", parts=["54200"], title="Moon rail")
    assert stored(creation) == (tag_ids("space", "train"), ["54200"])
    # The instance carries the new values: saving it again cannot bring the old ones back.
    creation_update(creation=creation, title="Moon railway")
    assert stored(creation) == (tag_ids("space", "train"), ["54200"])


def test_filters_find_exactly_what_the_relations_say(catalog):
    CreationFactory(title="Keep", tags="castle, space", parts=["3001"])
    CreationFactory(title="Rocket", tags="space", parts=["3001", "3820"])
    CreationFactory(title="Tower", tags="castle", description="A chandelier hangs inside.")
    assert filtered(tags=["castle"]) == ["Keep", "Tower"]
    assert filtered(tags=["castle", "space"]) == ["Keep"]
    assert filtered(tags=["space"], parts=["3820"]) == ["Rocket"]
    assert filtered(parts=["3001"]) == ["Keep", "Rocket"]
    assert filtered(tags=["castle", "no such tag"]) == []
    assert filtered(parts=["99999"]) == []
    assert filtered(query="chandelier") == ["Tower"]
    # Tags are part of what text search reads.
    assert filtered(query="space") == ["Keep", "Rocket"]


def test_merging_renaming_and_deleting_tags_rewrite_the_columns():
    first = CreationFactory(title="First", tags="castle, space")
    second = CreationFactory(title="Second", tags="castel")
    target = tag_merge(
        sources=Tag.objects.filter(name__in=["castle", "castel"]), target_name="castle"
    )
    assert stored(first)[0] == sorted([target.pk, *tag_ids("space")])
    assert stored(second)[0] == [target.pk]
    assert filtered(tags=["castle"]) == ["First", "Second"]
    tag_update(tag=target, name="fortress", slug="fortress")
    assert filtered(query="fortress") == ["First", "Second"]
    tags_delete(tags=Tag.objects.filter(name="space"))
    assert stored(first)[0] == [target.pk]
    assert filtered(tags=["space"]) == []


def test_rows_written_without_the_columns_are_rewritten_by_the_refresh():
    creation = CreationFactory(title="Imported", tags="castle")
    Creation.objects.filter(pk=creation.pk).update(tag_ids=None, part_nums=None)
    assert filtered(tags=["castle"]) == ([] if connection.vendor == "postgresql" else ["Imported"])
    assert creation_lookups_refresh() == 1
    assert stored(creation) == (tag_ids("castle"), [])
    assert filtered(tags=["castle"]) == ["Imported"]


def test_counts_are_cached_until_listings_change(django_assert_num_queries):
    CreationFactory.create_batch(2)
    creations = Creation.objects.published().sorted_by("newest")
    with django_assert_num_queries(1):
        assert CountingPaginator(creations, 24).count == 2
    with django_assert_num_queries(0):
        assert list_count(creations) == 2
    # A new creation changes the listings: the count follows at once, in the same
    # transaction and after it commits.
    CreationFactory()
    with django_assert_num_queries(1):
        assert list_count(creations) == 3
    assert list_count(creations.none()) == 0
    # Lists of other things are counted every time.
    with django_assert_num_queries(1):
        assert list_count(Tag.objects.all()) >= 1


def test_pages_go_no_deeper_than_the_offset_limit(settings, client):
    settings.NPU_MAX_PAGE_OFFSET = 4
    CreationFactory.create_batch(7)
    paginator = CountingPaginator(Creation.objects.published().sorted_by("newest"), 2)
    assert (paginator.count, paginator.num_pages) == (7, 2)
    api = client.get("/api/v1/creations/", {"page_size": 2, "page": 2}).json()
    assert api["count"] == 7 and api["next"] is None and len(api["results"]) == 2
    assert client.get("/api/v1/creations/", {"page_size": 2, "page": 3}).status_code == 404
