"""Favourites: the services, the save button and /saved/ (pages, no JavaScript)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.models import Favourite
from community.services.favourites import (
    HiddenCreationError,
    favourite_add,
    favourite_remove,
)
from creations.models import Creation
from tests.conftest import session_queries
from tests.factories import CreationFactory

pytestmark = pytest.mark.django_db


def favourite_count(creation) -> int:
    return Creation.objects.values_list("favourite_count", flat=True).get(pk=creation.pk)


def titles(response):
    return [creation.title for creation in response.context["page"].object_list]


def hidden_creation(owner, **kwargs):
    return CreationFactory(owner=owner, status=Creation.Status.HIDDEN, **kwargs)


# Services -----------------------------------------------------------------------------------


def test_saving_is_idempotent_and_counts_each_member_once(creation, member, other_member):
    assert favourite_add(user=member, creation=creation) is True
    assert favourite_add(user=member, creation=creation) is False
    assert favourite_count(creation) == 1
    assert favourite_add(user=other_member, creation=creation) is True
    assert favourite_count(creation) == 2
    assert Favourite.objects.filter(creation=creation).count() == 2


def test_unsaving_is_idempotent_and_only_counts_down_what_was_saved(creation, member):
    favourite_add(user=member, creation=creation)
    assert favourite_remove(user=member, creation=creation) is True
    assert favourite_remove(user=member, creation=creation) is False
    assert favourite_count(creation) == 0
    assert not Favourite.objects.exists()


def test_nobody_saves_a_creation_they_cannot_see(owner, member):
    hidden = hidden_creation(owner)
    with pytest.raises(HiddenCreationError):
        favourite_add(user=member, creation=hidden)
    assert favourite_count(hidden) == 0 and not Favourite.objects.exists()


def test_owner_and_moderators_may_save_a_hidden_creation(owner, moderator):
    hidden = hidden_creation(owner)
    assert favourite_add(user=owner, creation=hidden) is True
    assert favourite_add(user=moderator, creation=hidden) is True
    assert favourite_count(hidden) == 2


def test_saving_drops_the_cached_creation_page(client, creation, member):
    assert "1 saved" not in client.get(creation.get_absolute_url()).content.decode()
    assert client.get(creation.get_absolute_url())["X-Page-Cache"] == "hit"
    favourite_add(user=member, creation=creation)
    response = client.get(creation.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assert "1 saved" in response.content.decode()
    favourite_remove(user=member, creation=creation)
    assert "1 saved" not in client.get(creation.get_absolute_url()).content.decode()


# The button ---------------------------------------------------------------------------------


def test_member_sees_a_save_form_that_comes_back(client, creation, member):
    client.force_login(member)
    body = client.get(f"{creation.get_absolute_url()}").content.decode()
    assert f'action="/creations/{creation.pk}/favourite/"' in body
    assert 'name="action" value="save"' in body
    assert f'name="next" value="/creations/{creation.pk}/"' in body
    assert 'aria-pressed="false">Save<' in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_saving_through_the_form_redirects_back_and_turns_the_button(client, creation, member):
    client.force_login(member)
    response = client.post(
        f"/creations/{creation.pk}/favourite/", {"action": "save", "next": "/?sort=top"}
    )
    assert response.status_code == 302 and response["Location"] == "/?sort=top"
    assert favourite_count(creation) == 1
    page = client.get("/?sort=top").content.decode()
    assert "Saved “Cheese slope roof”" in page  # the message
    assert 'name="action" value="unsave"' in page
    assert 'aria-pressed="true">Saved ✓ (unsave)<' in page

    response = client.post(f"/creations/{creation.pk}/favourite/", {"action": "unsave"})
    assert response["Location"] == creation.get_absolute_url()
    assert favourite_count(creation) == 0
    assert "Removed “Cheese slope roof”" in client.get(response["Location"]).content.decode()


def test_saving_twice_through_the_form_saves_once(client, creation, member):
    client.force_login(member)
    for _ in range(2):
        client.post(f"/creations/{creation.pk}/favourite/", {"action": "save"})
    assert favourite_count(creation) == 1


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "/ok\r\nSet-Cookie: x=1", "/" + "a" * 3000],
)
def test_form_never_redirects_off_site_or_to_a_broken_url(client, creation, member, next_url):
    client.force_login(member)
    response = client.post(
        f"/creations/{creation.pk}/favourite/", {"action": "save", "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == creation.get_absolute_url()


def test_unknown_action_changes_nothing(client, creation, member):
    client.force_login(member)
    response = client.post(f"/creations/{creation.pk}/favourite/", {"action": "frob"}, follow=True)
    assert "Choose to save or to unsave" in response.content.decode()
    assert favourite_count(creation) == 0


def test_the_form_only_answers_posts(client, creation, member):
    client.force_login(member)
    assert client.get(f"/creations/{creation.pk}/favourite/").status_code == 405


def test_anonymous_visitor_gets_a_log_in_link_and_a_post_goes_to_log_in(client, creation):
    body = client.get(creation.get_absolute_url()).content.decode()
    assert f'href="/accounts/login/?next=/creations/{creation.pk}/"' in body
    assert 'name="action" value="save"' not in body
    response = client.post(f"/creations/{creation.pk}/favourite/", {"action": "save"})
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/creations/{creation.pk}/"
    assert favourite_count(creation) == 0


def test_a_hidden_creation_cannot_be_saved_by_others(client, owner, member):
    hidden = hidden_creation(owner)
    client.force_login(member)
    response = client.post(f"/creations/{hidden.pk}/favourite/", {"action": "save"})
    assert response.status_code == 404
    assert client.post("/creations/999999/favourite/", {"action": "save"}).status_code == 404
    assert not Favourite.objects.exists()


def test_gallery_looks_up_the_saved_cards_in_one_query(client, owner, member):
    creations = CreationFactory.create_batch(5, owner=owner)
    favourite_add(user=member, creation=creations[1])
    favourite_add(user=member, creation=creations[3])
    client.force_login(member)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/").content.decode()
    lookups = [q["sql"] for q in queries.captured_queries if "community_favourite" in q["sql"]]
    assert len(lookups) == 1
    assert body.count('aria-pressed="true"') == 2
    assert body.count('aria-pressed="false"') == 3


# /saved/ --------------------------------------------------------------------------------------


def test_saved_page_needs_a_member(client):
    response = client.get("/saved/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/saved/"


def test_saved_page_lists_my_saves_newest_saved_first(client, owner, member):
    first, second, third = (CreationFactory(owner=owner, title=t) for t in ("A", "B", "C"))
    for creation in (second, third, first):
        favourite_add(user=member, creation=creation)
    client.force_login(member)
    response = client.get("/saved/")
    assert titles(response) == ["A", "C", "B"]
    body = response.content.decode()
    assert "3 creations" in body
    assert body.count('aria-pressed="true"') == 3  # every card is saved


def test_saved_page_is_private(client, creation, member, other_member):
    favourite_add(user=member, creation=creation)
    client.force_login(other_member)
    response = client.get("/saved/")
    assert titles(response) == []
    assert "Nothing saved yet" in response.content.decode()
    # Nothing on the creation's page says who saved it: only how many.
    body = client.get(creation.get_absolute_url()).content.decode()
    assert "1 saved" in body and member.public_name not in body


def test_saved_page_leaves_out_creations_hidden_since(client, owner, member):
    kept = CreationFactory(owner=owner, title="Kept")
    gone = CreationFactory(owner=owner, title="Hidden since")
    favourite_add(user=member, creation=kept)
    favourite_add(user=member, creation=gone)
    Creation.objects.filter(pk=gone.pk).update(status=Creation.Status.HIDDEN)
    client.force_login(member)
    response = client.get("/saved/")
    assert titles(response) == ["Kept"]
    assert response.context["page"].paginator.count == 1
    # Its owner still sees it among theirs.
    favourite_add(user=owner, creation=Creation.objects.get(pk=gone.pk))
    client.force_login(owner)
    assert titles(client.get("/saved/")) == ["Hidden since"]


def test_saved_page_paginates_by_24(client, owner, member):
    for creation in CreationFactory.create_batch(25, owner=owner):
        favourite_add(user=member, creation=creation)
    client.force_login(member)
    assert len(titles(client.get("/saved/"))) == 24
    assert len(titles(client.get("/saved/?page=2"))) == 1
    assert len(titles(client.get("/saved/?page=x%00"))) == 24


@pytest.mark.parametrize("count", [1, 6])
def test_saved_page_uses_a_fixed_number_of_queries(
    client, owner, member, django_assert_num_queries, count
):
    for creation in CreationFactory.create_batch(count, owner=owner, tags="castle, space"):
        favourite_add(user=member, creation=creation)
    client.force_login(member)
    # The member, the count, the page, its tags, which cards' ratings the member may see
    # (blind scoring) and the notification badge (+ the session); the save buttons need no
    # query here.
    with django_assert_num_queries(6 + session_queries()):
        response = client.get("/saved/")
    assert len(response.context["page"].object_list) == count


@pytest.mark.parametrize("count", [1, 24])
def test_gallery_for_a_member_uses_a_fixed_number_of_queries(
    client, owner, member, django_assert_num_queries, count
):
    for creation in CreationFactory.create_batch(count, owner=owner, tags="castle, space"):
        favourite_add(user=member, creation=creation)
    client.force_login(member)
    # The gallery's five for a member (tests/creations/test_views.py), the notification
    # badge and one lookup of which cards the member saved.
    with django_assert_num_queries(7 + session_queries()):
        response = client.get("/")
    assert len(response.context["page"].object_list) == count
