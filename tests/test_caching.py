import pytest
from django.core.cache import caches
from django.urls import reverse

from creations.models import Creation
from npu_site.caching import listings_version
from scoring.services import score_upsert
from tests.factories import CreationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (the cache bump) as if each change had committed."""

    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


def test_anonymous_gallery_is_served_from_the_cache_until_a_creation_changes(
    client, owner, committed, django_assert_num_queries
):
    committed(CreationFactory, owner=owner, title="First")
    assert client.get("/")["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        cached = client.get("/")
    assert cached["X-Page-Cache"] == "hit" and "First" in cached.content.decode()

    committed(CreationFactory, owner=owner, title="Second")

    fresh = client.get("/")
    assert fresh["X-Page-Cache"] == "miss" and "Second" in fresh.content.decode()


def test_a_new_score_drops_the_creations_page_but_keeps_listings_cached(
    client, creation, member, committed
):
    detail = creation.get_absolute_url()
    client.get(reverse("creations:tags"))
    client.get("/")
    assert client.get(detail)["X-Page-Cache"] == "miss"
    assert client.get(detail)["X-Page-Cache"] == "hit"
    version = listings_version()

    committed(score_upsert, user=member, creation=creation, creativity=5, uniqueness=3)

    assert listings_version() == version
    assert client.get(reverse("creations:tags"))["X-Page-Cache"] == "hit"
    assert client.get("/")["X-Page-Cache"] == "hit"
    fresh = client.get(detail)
    assert fresh["X-Page-Cache"] == "miss"
    assert "1 score" in fresh.content.decode()


def test_a_score_on_one_creation_keeps_another_creations_page_cached(
    client, creation, owner, member, committed
):
    other = committed(CreationFactory, owner=owner, title="Other")
    client.get(other.get_absolute_url())
    committed(score_upsert, user=member, creation=creation, creativity=4, uniqueness=4)
    assert client.get(other.get_absolute_url())["X-Page-Cache"] == "hit"


def test_editing_a_creation_drops_listings_and_its_page(client, creation, owner, committed):
    from creations.services import creation_update

    client.get("/")
    client.get(creation.get_absolute_url())
    committed(creation_update, creation=creation, actor=owner, title="Renamed roof")
    gallery = client.get("/")
    page = client.get(creation.get_absolute_url())
    assert gallery["X-Page-Cache"] == page["X-Page-Cache"] == "miss"
    assert "Renamed roof" in gallery.content.decode() and "Renamed roof" in page.content.decode()


def test_a_hidden_creations_cached_page_is_gone_for_visitors(client, creation, owner, committed):
    from creations.services import creation_update

    assert client.get(creation.get_absolute_url()).status_code == 200
    committed(creation_update, creation=creation, actor=owner, status="hidden")
    assert client.get(creation.get_absolute_url()).status_code == 404


def test_hiding_a_creation_in_the_admin_drops_it_from_the_cached_gallery(
    client, creation, moderator, committed
):
    assert creation.title in client.get("/").content.decode()
    staff = client.__class__()
    staff.force_login(moderator)
    committed(
        staff.post,
        reverse("admin:creations_creation_changelist"),
        {"action": "hide_selected", "_selected_action": [creation.pk]},
    )
    assert Creation.objects.get().status == "hidden"
    assert creation.title not in client.get("/").content.decode()


def test_members_and_visitors_with_messages_are_never_served_a_cached_page(
    client, creation, member
):
    client.get("/")
    client.force_login(member)
    response = client.get("/")
    assert "X-Page-Cache" not in response and "Log out" in response.content.decode()
    client.logout()
    client.cookies["messages"] = "pending"
    assert "X-Page-Cache" not in client.get("/")


def test_cache_keys_follow_the_query_string(client, owner, committed):
    committed(CreationFactory, owner=owner, title="Castle thing", tags="castle")
    committed(CreationFactory, owner=owner, title="Space thing", tags="space")
    client.get("/?tag=castle")
    response = client.get("/?tag=space")
    assert response["X-Page-Cache"] == "miss"
    assert "Space thing" in response.content.decode()
    assert "Castle thing" not in response.content.decode()


def stored_page_keys() -> list:
    """The page-cache entries the cache holds, from the local-memory or the Redis backend."""
    from django.core.cache.backends.locmem import LocMemCache
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return backend._cache.get_client().keys("*npu:page:*")
    assert isinstance(backend, LocMemCache)
    return [key for key in backend._cache if ":npu:page:" in key]


def test_junk_query_parameters_share_one_cache_entry(client, creation):
    assert client.get("/?junk=1")["X-Page-Cache"] == "miss"
    for junk in ("2", "3", "<script>", "x" * 500):
        response = client.get("/", {"junk": junk})
        assert response["X-Page-Cache"] == "hit"
        assert "junk" not in response.content.decode()
    assert len(stored_page_keys()) == 1
    # Known parameters still make their own pages.
    assert client.get("/", {"q": "roof", "junk": "1"})["X-Page-Cache"] == "miss"
    assert client.get("/", {"q": "roof", "junk": "2"})["X-Page-Cache"] == "hit"
