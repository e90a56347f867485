"""Scores that can be trusted, on pages: blind scoring (the score panel and the cards), the
ranking block and /about/ranking/, a member's score distribution, /u/<me>/scores/."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from community.services.favourites import favourite_add
from community.services.follows import follow_add
from creations.models import Creation, RankingPrior
from creations.ranking import TOP_PRIOR_WEIGHT, top_value
from scoring.models import Score, ScoreReveal
from scoring.services import score_upsert, scores_reveal, scores_void
from tests.conftest import session_queries
from tests.factories import CreationFactory, ScoreFactory, UserFactory

pytestmark = pytest.mark.django_db

RATING = "★ 3.5"  # two scores of 4 and 3: the rating the cards and the panel show
HISTOGRAM = 'class="histogram"'
REVEAL_BUTTON = "Show me the scores"


@pytest.fixture
def scored(creation):
    """The owner's creation with two scores from other members (rating 3.5)."""
    ScoreFactory.create_batch(2, creation=creation, creativity=4, uniqueness=3)
    return creation


def page_of(client, creation) -> str:
    return client.get(creation.get_absolute_url()).content.decode()


def reveal(client, creation, **extra):
    return client.post(reverse("scoring:reveal", args=[creation.pk]), **extra)


# The creation page's score panel ------------------------------------------------------------


def test_member_who_has_not_scored_sees_the_count_but_no_averages(client, scored, member):
    client.force_login(member)
    body = page_of(client, scored)
    assert "2 scores" in body
    assert REVEAL_BUTTON in body
    assert RATING not in body
    assert HISTOGRAM not in body
    assert "Ranking" not in body and "Prior mean" not in body and "Calibrated" not in body
    assert "Save my score" in body  # scoring it is still open


def test_member_sees_averages_histogram_and_ranking_after_revealing(client, scored, member):
    client.force_login(member)
    reveal(client, scored)
    body = page_of(client, scored)
    assert RATING in body and HISTOGRAM in body
    assert "Prior mean" in body and "Recent-score figure" in body
    assert REVEAL_BUTTON not in body


def test_member_sees_the_scores_once_they_scored(client, scored, member):
    ScoreFactory(user=member, creation=scored, creativity=4, uniqueness=3)
    client.force_login(member)
    body = page_of(client, scored)
    assert RATING in body and HISTOGRAM in body
    assert REVEAL_BUTTON not in body


def test_scoring_through_the_page_reveals(client, scored, member):
    client.force_login(member)
    response = client.post(
        reverse("scoring:submit", args=[scored.pk]), {"creativity": 4, "uniqueness": 3}
    )
    assert response.status_code == 302
    assert RATING in page_of(client, scored)


@pytest.mark.parametrize("viewer", ["owner", "moderator", "anonymous"])
def test_owner_moderator_and_anonymous_always_see_the_scores(
    client, scored, owner, moderator, viewer
):
    if viewer != "anonymous":
        client.force_login({"owner": owner, "moderator": moderator}[viewer])
    body = page_of(client, scored)
    assert RATING in body and HISTOGRAM in body and "Prior mean" in body
    assert REVEAL_BUTTON not in body


def test_ranking_block_shows_the_inputs_and_the_explanation(client, scored):
    RankingPrior.objects.update_or_create(pk=1, defaults={"mean": 3.25, "weight": 5})
    body = page_of(client, scored)
    block = body[body.index('id="ranking-heading"') :]
    inputs = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", block))
    assert inputs["Rating"] == "3.50"
    assert inputs["Scores"] == "2"
    assert inputs["Prior mean"] == "3.25"
    assert inputs["Prior weight"] == "5 scores"
    assert inputs["Recent-score figure"] == "2.00"  # two scores given just now
    assert "Rated 3.50 from 2 scores." in block
    assert reverse("scoring:about-ranking") in block


def test_an_unscored_creation_has_nothing_to_hide(client, creation, member):
    client.force_login(member)
    body = page_of(client, creation)
    assert "Not scored yet" in body and "Not scored yet, so it has no place" in body
    assert REVEAL_BUTTON not in body  # nothing to hide yet


def test_voided_own_score_is_shown_as_voided_and_cannot_be_changed(
    client, scored, member, moderator
):
    score = ScoreFactory(user=member, creation=scored, creativity=1, uniqueness=1)
    scores_void(scores=[score], actor=moderator, reason="A ring of accounts")
    client.force_login(member)
    body = page_of(client, scored)
    assert "A moderator voided this score" in body
    assert "Change my score" not in body
    response = client.post(
        reverse("scoring:submit", args=[scored.pk]), {"creativity": 5, "uniqueness": 5}, follow=True
    )
    assert response.status_code == 200
    assert "voided your score" in response.content.decode()
    assert (Score.objects.get(pk=score.pk).creativity, score.uniqueness) == (1, 1)


# The reveal endpoint ------------------------------------------------------------------------


def test_reveal_sends_anonymous_visitors_to_log_in(client, scored):
    response = reveal(client, scored)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert f"next=/creations/{scored.pk}/" in response["Location"]
    assert not ScoreReveal.objects.exists()


def test_reveal_of_a_hidden_creation_is_a_404(client, owner, member):
    hidden = CreationFactory(owner=owner, status=Creation.Status.HIDDEN)
    client.force_login(member)
    assert reveal(client, hidden).status_code == 404
    assert reveal(client, Creation(pk=999_999)).status_code == 404
    assert not ScoreReveal.objects.exists()


def test_reveal_answers_only_posts(client, scored, member):
    client.force_login(member)
    assert client.get(reverse("scoring:reveal", args=[scored.pk])).status_code == 405


def test_reveal_redirects_to_the_scores_and_is_remembered(client, scored, member):
    client.force_login(member)
    response = reveal(client, scored, follow=True)
    assert response.redirect_chain == [(f"/creations/{scored.pk}/#scores", 302)]
    assert "Here are the scores." in response.content.decode()
    assert ScoreReveal.objects.filter(user=member, creation=scored).count() == 1
    # Remembered: a later visit (a new session) still shows them, and asking twice is fine.
    client.logout()
    client.force_login(member)
    assert RATING in page_of(client, scored)
    assert reveal(client, scored).status_code == 302
    assert ScoreReveal.objects.filter(user=member, creation=scored).count() == 1


# Cards --------------------------------------------------------------------------------------


def card_of(body: str, title: str) -> str:
    start = body.index(f">{title}</a>")
    return body[start : body.index("</article>", start)]


def test_gallery_cards_hide_the_rating_from_a_blind_member_until_revealed(client, scored, member):
    client.force_login(member)
    card = card_of(client.get("/").content.decode(), scored.title)
    assert "2 scores" in card and RATING not in card and "rating hidden" in card
    reveal(client, scored)
    card = card_of(client.get("/").content.decode(), scored.title)
    assert RATING in card and "rating hidden" not in card


def test_gallery_cards_show_the_rating_to_anonymous_visitors_and_owners(client, scored, owner):
    assert RATING in card_of(client.get("/").content.decode(), scored.title)
    client.force_login(owner)
    assert RATING in card_of(client.get("/").content.decode(), scored.title)


def test_a_card_shows_ratings_per_creation_on_one_page(client, owner, member):
    seen = CreationFactory(owner=owner, title="Seen")
    blind = CreationFactory(owner=owner, title="Blind")
    for creation in (seen, blind):
        ScoreFactory.create_batch(2, creation=creation, creativity=4, uniqueness=3)
    scores_reveal(user=member, creation=seen)
    client.force_login(member)
    body = client.get("/").content.decode()
    assert RATING in card_of(body, "Seen")
    assert RATING not in card_of(body, "Blind")


@pytest.mark.parametrize("page", ["tag", "profile", "part", "saved", "following"])
def test_every_page_of_cards_hides_the_rating_from_a_blind_member(
    client, owner, member, catalog, page
):
    creation = CreationFactory(owner=owner, title="Castle lamp", tags="castle", parts=["3001"])
    ScoreFactory.create_batch(2, creation=creation, creativity=4, uniqueness=3)
    favourite_add(user=member, creation=creation)
    follow_add(follower=member, user=owner)
    url = {
        "tag": "/tags/castle/",
        "profile": "/u/owner/",
        "part": "/parts/3001/",
        "saved": "/saved/",
        "following": "/following/",
    }[page]
    client.force_login(member)
    card = card_of(client.get(url).content.decode(), "Castle lamp")
    assert "2 scores" in card and RATING not in card
    scores_reveal(user=member, creation=creation)
    assert RATING in card_of(client.get(url).content.decode(), "Castle lamp")


def test_a_card_nobody_marked_hides_the_rating(scored):
    # A list rendered without creations.visibility.mark_scores_visible leaks nothing.
    scored.refresh_from_db()
    request = RequestFactory().get("/")
    request.user = scored.owner
    html = render_to_string(
        "includes/_creation_card.html", {"creation": scored, "request": request}
    )
    assert "2 scores" in html and RATING not in html
    scored.scores_shown = True
    html = render_to_string(
        "includes/_creation_card.html", {"creation": scored, "request": request}
    )
    assert RATING in html


def test_anonymous_gallery_spends_no_query_on_blind_scoring(
    client, scored, django_assert_num_queries
):
    # The count, the page, its tags: as before blind scoring (QUERIES_BY_PAGE's anonymous part).
    with django_assert_num_queries(3):
        response = client.get("/")
    assert RATING in response.content.decode()
    assert response["X-Page-Cache"] == "miss"


# /about/ranking/ ----------------------------------------------------------------------------


def test_about_ranking_explains_the_orders_with_the_current_prior(client):
    RankingPrior.objects.update_or_create(
        pk=1, defaults={"mean": 3.42, "weight": TOP_PRIOR_WEIGHT, "rater_variance": 0.81}
    )
    body = client.get(reverse("scoring:about-ranking")).content.decode()
    assert f"<strong>{TOP_PRIOR_WEIGHT} scores</strong>" in body
    assert "<strong>3.42</strong>" in body
    example = top_value(score_count=1, rating=5.0, prior_mean=3.42)
    assert f"<strong>{example:.2f}</strong>" in body
    assert "<strong>3 days</strong>" in body  # the half-life
    assert "0.900" in body  # the typical rater's spread √0.81, in the calibrated formula
    assert "after every scored creation" in body and "newest first" in body
    assert "voids a score" in body


def test_about_ranking_is_public_linked_from_every_page_and_cached_for_anonymous(
    client, member, django_assert_num_queries
):
    url = reverse("scoring:about-ranking")
    assert url == "/about/ranking/"
    # One query (the prior) the first time, none once cached.
    with django_assert_num_queries(1):
        first = client.get(url)
    with django_assert_num_queries(0):
        second = client.get(url)
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert f'href="{url}"' in client.get("/").content.decode()  # footer and sort controls
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200 and "X-Page-Cache" not in response


def test_about_ranking_follows_a_prior_refresh(client):
    RankingPrior.objects.update_or_create(pk=1, defaults={"mean": 3.42})
    assert "<strong>3.42</strong>" in client.get("/about/ranking/").content.decode()
    from scoring.services import ranking_prior_refresh

    creation = CreationFactory()
    ScoreFactory(creation=creation, creativity=5, uniqueness=4)
    ranking_prior_refresh()
    assert "<strong>4.50</strong>" in client.get("/about/ranking/").content.decode()


# The settings page's score distribution -----------------------------------------------------


def test_settings_show_how_often_the_member_gives_each_value(client, owner, member):
    first, second, third, fourth = CreationFactory.create_batch(4, owner=owner)
    score_upsert(user=member, creation=first, creativity=5, uniqueness=5)
    score_upsert(user=member, creation=second, creativity=5, uniqueness=4)
    score_upsert(user=member, creation=third, creativity=1, uniqueness=1)
    # The other rater only ever gives 3s.
    score_upsert(user=UserFactory(), creation=fourth, creativity=3, uniqueness=3)
    client.force_login(member)
    body = client.get(reverse("accounts:settings")).content.decode()
    rows = re.findall(r'<tr><th scope="row">(\d)</th><td>(\d+)%</td><td>(\d+)%</td></tr>', body)
    # Mine: six values given (5, 5, 5, 4, 1, 1); the site's: the mean of the two raters'
    # shares (mine and an always-3 rater's).
    assert rows == [
        ("5", "50", "25"),
        ("4", "17", "8"),
        ("3", "0", "50"),
        ("2", "0", "0"),
        ("1", "33", "17"),
    ]
    assert "from your 3 scores" in body
    # The value where the member differs most from the average rater.
    assert "You give 3s 0% of the time; the site&#x27;s average rater 50%." in body
    assert reverse("scoring:member-scores", args=[member.username]) in body


def test_settings_show_no_distribution_before_the_first_score(client, member):
    client.force_login(member)
    body = client.get(reverse("accounts:settings")).content.decode()
    assert "How you score" not in body


# /u/<me>/scores/ ----------------------------------------------------------------------------


def test_my_scores_sends_anonymous_visitors_to_log_in(client, member):
    response = client.get("/u/member/scores/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/u/member/scores/"


def test_my_scores_are_a_404_for_any_other_member(client, member, other_member):
    client.force_login(other_member)
    assert client.get("/u/member/scores/").status_code == 404
    assert client.get("/u/nobody/scores/").status_code == 404


def test_moderators_see_a_members_scores(client, scored, member, moderator):
    ScoreFactory(user=member, creation=scored, creativity=2, uniqueness=5)
    client.force_login(moderator)
    response = client.get("/u/member/scores/")
    assert response.status_code == 200
    assert "Scores by Member" in response.content.decode()


def test_my_scores_list_newest_first_beside_the_averages(client, owner, member):
    older = CreationFactory(owner=owner, title="Older one")
    newer = CreationFactory(owner=owner, title="Newer one")
    ScoreFactory(creation=older, creativity=4, uniqueness=4)
    score_upsert(user=member, creation=older, creativity=2, uniqueness=3)
    score_upsert(user=member, creation=newer, creativity=5, uniqueness=1)
    client.force_login(member)
    response = client.get("/u/member/scores/")
    body = response.content.decode()
    assert response.status_code == 200
    assert [score.creation.title for score in response.context["page"].object_list] == [
        "Newer one",
        "Older one",
    ]
    assert body.index("Newer one") < body.index("Older one")
    older_item = body[body.index("Older one") :]
    assert "you gave <strong>2</strong> · average 3.00" in older_item
    assert "you gave <strong>3</strong> · average 3.50" in older_item
    assert "★ 3.25 from 2 scores" in older_item
    assert older.thumbnail.url in body
    assert f'href="{older.get_absolute_url()}"' in body
    assert "Voided by a moderator" not in body


def test_my_scores_label_a_voided_score(client, scored, member, moderator):
    score = ScoreFactory(user=member, creation=scored, creativity=1, uniqueness=1)
    scores_void(scores=[score], actor=moderator, reason="A ring of accounts")
    client.force_login(member)
    body = client.get("/u/member/scores/").content.decode()
    assert "Voided by a moderator" in body
    assert "you gave <strong>1</strong> · average 4.00" in body  # the average without it


def test_my_scores_leave_out_creations_hidden_from_me(client, owner, member):
    shown = CreationFactory(owner=owner, title="Still shown")
    hidden = CreationFactory(owner=owner, title="Hidden later")
    for creation in (shown, hidden):
        score_upsert(user=member, creation=creation, creativity=3, uniqueness=3)
    Creation.objects.filter(pk=hidden.pk).update(status=Creation.Status.HIDDEN)
    client.force_login(member)
    body = client.get("/u/member/scores/").content.decode()
    assert "Still shown" in body and "Hidden later" not in body


def test_my_scores_are_paginated_by_24(client, owner, member):
    for creation in CreationFactory.create_batch(25, owner=owner):
        score_upsert(user=member, creation=creation, creativity=3, uniqueness=3)
    client.force_login(member)
    assert len(client.get("/u/member/scores/").context["page"].object_list) == 24
    assert len(client.get("/u/member/scores/?page=2").context["page"].object_list) == 1


def test_my_own_profile_links_to_my_scores(client, member, other_member):
    link = 'href="/u/member/scores/"'
    client.force_login(member)
    assert link in client.get("/u/member/").content.decode()
    assert 'href="/u/other/scores/"' not in client.get("/u/other/").content.decode()
    client.logout()
    assert link not in client.get("/u/member/").content.decode()


# Pinned query counts ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 24])
def test_my_scores_page_uses_a_fixed_number_of_queries(
    client, owner, member, django_assert_num_queries, count
):
    for creation in CreationFactory.create_batch(count, owner=owner):
        score_upsert(user=member, creation=creation, creativity=3, uniqueness=3)
    client.force_login(member)
    # The viewer, the member the page is about, the count, the page of scores with their
    # creations and owners, and the notification badge.
    with django_assert_num_queries(5 + session_queries()):
        response = client.get("/u/member/scores/")
    assert len(response.context["page"].object_list) == count


# The viewer, the creation, its tags and parts, whether they saved it, their score, whether
# they revealed its scores and whether they reported it (the badge, the histogram and the
# empty thread cost nothing once cached); showing the scores adds the ranking prior.
@pytest.mark.parametrize(("revealed", "queries"), [(False, 8), (True, 9)])
def test_creation_page_for_a_member_uses_a_fixed_number_of_queries(
    client, scored, member, django_assert_num_queries, revealed, queries
):
    if revealed:
        scores_reveal(user=member, creation=scored)
    client.force_login(member)
    client.get(scored.get_absolute_url())  # fills the cached badge and histogram
    with django_assert_num_queries(queries + session_queries()):
        body = page_of(client, scored)
    assert (RATING in body) is revealed


def test_settings_page_with_a_distribution_uses_a_fixed_number_of_queries(
    client, owner, member, django_assert_num_queries
):
    for creation in CreationFactory.create_batch(3, owner=owner):
        score_upsert(user=member, creation=creation, creativity=4, uniqueness=2)
    client.force_login(member)
    client.get(reverse("accounts:settings"))  # the site's shares, cached for an hour
    # The viewer and the member's stored calibration (the badge is cached by now).
    with django_assert_num_queries(2 + session_queries()):
        response = client.get(reverse("accounts:settings"))
    assert "How you score" in response.content.decode()
