"""The Atom feeds: /feeds/newest/, /feeds/tags/<slug>/, /feeds/u/<username>/, /feeds/parts/<n>/."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from community.feeds import FEED_SIZE
from creations.models import Creation
from creations.services import creation_set_status
from tests.factories import CreationFactory, UserFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    return feed


def entries(feed: ET.Element) -> list[ET.Element]:
    return feed.findall(f"{ATOM}entry")


def entry_titles(feed: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in entries(feed)]


def dated(creation: Creation, days_ago: int) -> Creation:
    """`creation` as if shared `days_ago` days ago, so the order is not left to the clock."""
    Creation.objects.filter(pk=creation.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return creation


# The newest -----------------------------------------------------------------------------------


def test_newest_feed_lists_published_creations_newest_first(client, owner):
    dated(CreationFactory(owner=owner, title="Oldest"), 3)
    dated(CreationFactory(owner=owner, title="Newest"), 1)
    dated(CreationFactory(owner=owner, title="Middle"), 2)
    dated(CreationFactory(owner=owner, title="Secret", status=Creation.Status.HIDDEN), 0)

    feed = parse(client.get("/feeds/newest/"))

    assert entry_titles(feed) == ["Newest", "Middle", "Oldest"]
    assert feed.findtext(f"{ATOM}title") == "NPU: newest creations"
    assert feed.findtext(f"{ATOM}subtitle")
    assert feed.find(f"{ATOM}link[@rel='alternate']").get("href") == "http://testserver/"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == ("http://testserver/feeds/newest/")


def test_an_entry_carries_link_author_dates_picture_description_and_tags(client, owner):
    creation = CreationFactory(
        owner=owner,
        title="Lamp <b>post</b> & co",
        description="A hand holds <script>alert(1)</script>\nthe lamp.",
        tags="castle, technic pin",
    )

    (entry,) = entries(parse(client.get("/feeds/newest/")))

    assert entry.findtext(f"{ATOM}title") == "Lamp <b>post</b> & co"
    link = f"http://testserver/creations/{creation.pk}/"
    assert entry.find(f"{ATOM}link").get("href") == link
    assert entry.findtext(f"{ATOM}id") == link
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == owner.public_name
    assert entry.findtext(f"{ATOM}author/{ATOM}uri") == "http://testserver/u/owner/"
    assert entry.findtext(f"{ATOM}published")
    assert entry.findtext(f"{ATOM}updated")
    assert sorted(c.get("term") for c in entry.findall(f"{ATOM}category")) == [
        "castle",
        "technic pin",
    ]
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    html = summary.text
    assert f'<img src="http://testserver{creation.thumbnail.url}"' in html
    assert f'<a href="{link}">' in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>the lamp." in html


def test_newest_feed_holds_at_most_fifty_entries(client, owner, settings):
    CreationFactory.create_batch(FEED_SIZE + 1, owner=owner)
    assert len(entries(parse(client.get("/feeds/newest/")))) == FEED_SIZE == 50


def test_an_empty_site_has_an_empty_but_valid_newest_feed(client):
    assert entries(parse(client.get("/feeds/newest/"))) == []


def test_feeds_are_cached_for_anonymous_visitors_and_dropped_on_a_change(client, owner):
    CreationFactory(owner=owner, title="First")
    assert client.get("/feeds/newest/")["X-Page-Cache"] == "miss"
    assert client.get("/feeds/newest/")["X-Page-Cache"] == "hit"

    CreationFactory(owner=owner, title="Second")  # creation_create calls listings_changed()

    response = client.get("/feeds/newest/")
    assert response["X-Page-Cache"] == "miss"
    assert entry_titles(parse(response)) == ["Second", "First"]


def test_a_creation_hidden_by_a_moderator_leaves_the_cached_feed_at_once(client, owner, moderator):
    creation = CreationFactory(owner=owner, title="Soon hidden")
    CreationFactory(owner=owner, title="Stays")
    assert entry_titles(parse(client.get("/feeds/newest/"))) == ["Stays", "Soon hidden"]

    creation_set_status(
        creations=Creation.objects.filter(pk=creation.pk),
        status=Creation.Status.HIDDEN,
        actor=moderator,
        reason="Spam",
    )

    assert entry_titles(parse(client.get("/feeds/newest/"))) == ["Stays"]


# A tag --------------------------------------------------------------------------------------


def test_tag_feed_lists_the_tags_published_creations(client, owner):
    dated(CreationFactory(owner=owner, title="Old castle", tags="castle"), 2)
    dated(CreationFactory(owner=owner, title="New castle", tags="castle, space"), 1)
    CreationFactory(owner=owner, title="Spaceship", tags="space")
    CreationFactory(owner=owner, title="Hidden castle", tags="castle", status="hidden")

    feed = parse(client.get("/feeds/tags/castle/"))

    assert entry_titles(feed) == ["New castle", "Old castle"]
    assert feed.findtext(f"{ATOM}title") == "NPU: creations tagged “castle”"
    assert feed.find(f"{ATOM}link[@rel='alternate']").get("href") == (
        "http://testserver/tags/castle/"
    )


def test_tag_feed_of_an_unknown_tag_is_404(client):
    assert client.get("/feeds/tags/nothing-like-it/").status_code == 404


def test_tag_feed_of_a_tag_only_hidden_creations_carry_is_404(client, owner):
    CreationFactory(owner=owner, title="Secret", tags="secret plan", status="hidden")
    assert client.get("/tags/secret-plan/").status_code == 404  # as the tag page
    assert client.get("/feeds/tags/secret-plan/").status_code == 404


# A member -----------------------------------------------------------------------------------


def test_member_feed_lists_only_the_members_published_creations(client, owner, member):
    dated(CreationFactory(owner=owner, title="Mine, older"), 2)
    dated(CreationFactory(owner=owner, title="Mine, newer"), 1)
    CreationFactory(owner=owner, title="Mine, hidden", status=Creation.Status.HIDDEN)
    CreationFactory(owner=member, title="Someone else's")

    feed = parse(client.get("/feeds/u/owner/"))

    assert entry_titles(feed) == ["Mine, newer", "Mine, older"]
    assert feed.findtext(f"{ATOM}title") == f"NPU: creations by {owner.public_name}"


def test_member_feed_of_a_member_with_nothing_published_is_empty(client, member):
    assert entries(parse(client.get("/feeds/u/member/"))) == []


def test_member_feed_of_an_unknown_or_inactive_member_is_404(client):
    UserFactory(username="gone", is_active=False)
    assert client.get("/feeds/u/nobody/").status_code == 404
    assert client.get("/feeds/u/gone/").status_code == 404


# A part -------------------------------------------------------------------------------------


def test_part_feed_lists_published_creations_featuring_the_part(client, owner, catalog):
    dated(CreationFactory(owner=owner, title="Hand lamp", parts=["3820"]), 2)
    dated(CreationFactory(owner=owner, title="Hands and bricks", parts=["3820", "3001"]), 1)
    CreationFactory(owner=owner, title="Bricks only", parts=["3001"])
    CreationFactory(owner=owner, title="Hidden hand", parts=["3820"], status="hidden")

    feed = parse(client.get("/feeds/parts/3820/"))

    assert entry_titles(feed) == ["Hands and bricks", "Hand lamp"]
    assert feed.findtext(f"{ATOM}title") == "NPU: creations featuring 3820 Minifig Hand"
    assert feed.find(f"{ATOM}link[@rel='alternate']").get("href") == (
        "http://testserver/parts/3820/"
    )


def test_part_feed_of_an_unknown_part_is_404(client, catalog):
    assert client.get("/feeds/parts/99999/").status_code == 404


@pytest.mark.parametrize(
    "url", ["/feeds/tags/a%00b/", "/feeds/u/a%00b/", "/feeds/parts/a%00b/", "/feeds/u/a%01/"]
)
def test_a_control_character_in_a_feed_path_is_404(client, url):
    assert client.get(url).status_code == 404


# Queries ------------------------------------------------------------------------------------

# The subject's row (none for the newest), the tag's id for the tag filter, one page of
# creations with their owners, and their tags.
QUERIES_BY_FEED = {
    "/feeds/newest/": 2,
    "/feeds/tags/castle/": 4,
    "/feeds/u/owner/": 3,
    "/feeds/parts/3820/": 3,
}


@pytest.mark.parametrize("count", [1, 30])
@pytest.mark.parametrize("url", QUERIES_BY_FEED)
def test_feeds_use_a_fixed_number_of_queries(
    client, owner, catalog, settings, django_assert_num_queries, count, url
):
    settings.NPU_PAGE_CACHE_SECONDS = 0  # every request reads the database
    CreationFactory.create_batch(count, owner=owner, tags="castle, space", parts=["3820"])
    ContentType.objects.get_for_model(Creation)  # cached per process, as in production
    with django_assert_num_queries(QUERIES_BY_FEED[url]):
        response = client.get(url)
    assert len(entries(parse(response))) == count


# Links from the pages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "feed"),
    [
        ("/", "/feeds/newest/"),
        ("/tags/castle/", "/feeds/tags/castle/"),
        ("/u/owner/", "/feeds/u/owner/"),
        ("/parts/3820/", "/feeds/parts/3820/"),
    ],
)
def test_pages_link_their_feed(client, owner, catalog, page, feed):
    CreationFactory(owner=owner, tags="castle", parts=["3820"])
    body = client.get(page).content.decode()
    assert '<link rel="alternate" type="application/atom+xml" title="NPU: ' in body
    assert f'href="{feed}">' in body
    assert f'<a href="{feed}" type="application/atom+xml">Atom feed</a>' in body
    parse(client.get(feed))
