"""Trusted scores through the API: blind scoring, the ranking inputs in a creation's JSON, the
calibrated order, voided scores as members meet them, and the caller's own scores."""

import pytest
from rest_framework.test import APIClient

from creations.models import Creation, RankingPrior
from scoring.models import Score, ScoreReveal
from scoring.services import ranking_prior_refresh, score_upsert, scores_void
from tests.conftest import client_for
from tests.factories import CreationFactory, ScoreFactory, UserFactory

pytestmark = pytest.mark.django_db

BLIND_NULLS = ("creativity_avg", "uniqueness_avg", "rating")


@pytest.fixture
def scored(creation, other_member):
    ScoreFactory(user=other_member, creation=creation, creativity=5, uniqueness=3)
    creation.refresh_from_db()
    return creation


def detail(client, creation):
    response = client.get(f"/api/v1/creations/{creation.pk}/")
    assert response.status_code == 200
    return response.json()


# Blind until you score ------------------------------------------------------------------------


def test_a_member_who_has_not_scored_sees_the_count_but_not_the_averages(scored, member):
    data = detail(client_for(member), scored)
    assert data["scores_visible"] is False
    assert data["score_count"] == 1
    assert all(data[field] is None for field in BLIND_NULLS)
    assert data["ranking"]["top"] is None and data["ranking"]["calibrated"] is None
    # What sorts Trending is a count, not a judgement; the prior is the site's.
    assert data["ranking"]["trending"] == scored.trending
    assert data["ranking"]["prior_weight"] == 5


@pytest.mark.parametrize("who", ["anonymous", "owner", "moderator"])
def test_anonymous_visitors_owners_and_moderators_always_see_the_scores(scored, moderator, who):
    client = {
        "anonymous": APIClient(),
        "owner": client_for(scored.owner),
        "moderator": client_for(moderator),
    }[who]
    data = detail(client, scored)
    assert data["scores_visible"] is True
    assert (data["creativity_avg"], data["uniqueness_avg"], data["rating"]) == (5.0, 3.0, 4.0)
    assert data["ranking"]["top"] == pytest.approx(scored.top)
    assert client.get(f"/api/v1/creations/{scored.pk}/scores/").status_code == 200


def test_scoring_unblinds_the_creation(scored, member, other_member):
    client = client_for(member)
    assert client.get(f"/api/v1/creations/{scored.pk}/scores/").status_code == 403
    response = client.put(
        f"/api/v1/creations/{scored.pk}/my-score/", {"creativity": 2, "uniqueness": 2}
    )
    assert response.status_code == 201
    data = detail(client, scored)
    assert data["scores_visible"] is True
    assert data["rating"] == pytest.approx(((5 + 2) / 2 + (3 + 2) / 2) / 2)
    scores = client.get(f"/api/v1/creations/{scored.pk}/scores/").json()
    assert {row["user"] for row in scores["results"]} == {member.username, other_member.username}
    assert scores["count"] == 2


def test_reveal_shows_the_scores_and_is_remembered(scored, member):
    client = client_for(member)
    assert client.get(f"/api/v1/creations/{scored.pk}/scores/").status_code == 403
    response = client.post(f"/api/v1/creations/{scored.pk}/reveal/")
    assert response.status_code == 200
    assert response.json()["scores_visible"] is True
    assert response.json()["rating"] == 4.0
    # Remembered: a new session (another token client) still sees them.
    assert detail(client_for(member), scored)["scores_visible"] is True
    assert client.get(f"/api/v1/creations/{scored.pk}/scores/").status_code == 200
    # Idempotent: one row, whatever the repeats.
    assert client.post(f"/api/v1/creations/{scored.pk}/reveal/").status_code == 200
    assert ScoreReveal.objects.filter(user=member, creation=scored).count() == 1


def test_reveal_needs_a_member_and_a_creation_they_may_see(scored, member, moderator):
    assert APIClient().post(f"/api/v1/creations/{scored.pk}/reveal/").status_code == 401
    Creation.objects.filter(pk=scored.pk).update(status=Creation.Status.HIDDEN)
    assert client_for(member).post(f"/api/v1/creations/{scored.pk}/reveal/").status_code == 404
    # Owners and moderators see the scores anyway: nothing is recorded for them.
    assert client_for(scored.owner).post(f"/api/v1/creations/{scored.pk}/reveal/").status_code == (
        200
    )
    assert client_for(moderator).post(f"/api/v1/creations/{scored.pk}/reveal/").status_code == 200
    assert not ScoreReveal.objects.exists()
    assert client_for(member).post("/api/v1/creations/999999/reveal/").status_code == 404


def test_withdrawing_a_score_keeps_the_scores_shown(scored, member):
    client = client_for(member)
    client.put(f"/api/v1/creations/{scored.pk}/my-score/", {"creativity": 4, "uniqueness": 4})
    assert client.delete(f"/api/v1/creations/{scored.pk}/my-score/").status_code == 204
    assert detail(client, scored)["scores_visible"] is True


def test_the_list_applies_the_rule_per_creation(owner, member, other_member):
    seen, unseen, own = (
        CreationFactory(owner=owner, title="Seen"),
        CreationFactory(owner=owner, title="Unseen"),
        CreationFactory(owner=member, title="Own"),
    )
    for creation in (seen, unseen):
        ScoreFactory(user=other_member, creation=creation)
    ScoreFactory(user=other_member, creation=own)
    client_for(member).post(f"/api/v1/creations/{seen.pk}/reveal/")
    rows = {
        row["title"]: row for row in client_for(member).get("/api/v1/creations/").json()["results"]
    }
    assert rows["Seen"]["scores_visible"] and rows["Seen"]["rating"] is not None
    assert not rows["Unseen"]["scores_visible"] and rows["Unseen"]["rating"] is None
    assert rows["Own"]["scores_visible"] and rows["Own"]["rating"] is not None
    # The gallery still sorts: a blind member's `top` list is in the stored order.
    ordered = client_for(member).get("/api/v1/creations/", {"ordering": "top"}).json()["results"]
    expected = list(Creation.objects.sorted_by("top").values_list("title", flat=True))
    assert [row["title"] for row in ordered] == expected


def test_blind_rule_holds_in_other_lists_of_creations(scored, member):
    client = client_for(member)
    assert client.put(f"/api/v1/creations/{scored.pk}/favourite/").status_code == 201
    saved = client.get("/api/v1/users/me/favourites/").json()["results"][0]
    assert saved["scores_visible"] is False and saved["rating"] is None


# Ranking inputs -------------------------------------------------------------------------------


def test_ranking_holds_the_stored_values_and_the_prior(scored):
    prior = ranking_prior_refresh()
    scored.refresh_from_db()
    data = detail(APIClient(), scored)
    assert data["ranking"] == {
        "top": pytest.approx(scored.top),
        "trending": pytest.approx(scored.trending),
        "calibrated": pytest.approx(scored.calibrated),
        "prior_mean": pytest.approx(prior.mean),
        "prior_weight": prior.weight,
    }
    assert data["ranking"]["top"] == pytest.approx(
        (prior.weight * prior.mean + 1 * 4.0) / (prior.weight + 1)
    )


def test_an_unscored_creation_has_no_ranking_values(creation):
    data = detail(APIClient(), creation)
    ranking = data["ranking"]
    assert (ranking["top"], ranking["trending"], ranking["calibrated"]) == (None, None, None)
    assert ranking["prior_mean"] == RankingPrior.current().mean


@pytest.mark.parametrize("ordering", ["top", "trending", "calibrated"])
def test_unscored_creations_come_after_every_scored_one(owner, other_member, ordering):
    low = CreationFactory(owner=owner, title="Low")
    ScoreFactory(user=other_member, creation=low, creativity=1, uniqueness=1)
    CreationFactory(owner=owner, title="Unscored")
    high = CreationFactory(owner=owner, title="High")
    ScoreFactory(user=other_member, creation=high, creativity=5, uniqueness=5)
    ranking_prior_refresh()
    titles = [
        row["title"]
        for row in APIClient().get("/api/v1/creations/", {"ordering": ordering}).json()["results"]
    ]
    assert titles[-1] == "Unscored"
    if ordering != "trending":
        assert titles[:2] == ["High", "Low"]


def test_calibrated_ordering_discounts_a_rater_who_gives_everything_five(owner):
    """A generous rater's 5 says less than a discerning rater's 5."""
    generous, discerning = UserFactory(), UserFactory()
    a, b, c, d = (CreationFactory(owner=owner, title=t) for t in "ABCD")
    # The generous rater gives everything 5; the discerning one uses the whole scale.
    for creation in (a, b, c, d):
        score_upsert(user=generous, creation=creation, creativity=5, uniqueness=5)
    for creation, value in ((a, 2), (b, 5), (c, 1), (d, 3)):
        score_upsert(user=discerning, creation=creation, creativity=value, uniqueness=value)
    ranking_prior_refresh()
    titles = [
        row["title"]
        for row in APIClient()
        .get("/api/v1/creations/", {"ordering": "calibrated"})
        .json()["results"]
    ]
    assert titles == ["B", "D", "A", "C"]


def test_an_unknown_ordering_is_still_refused():
    response = APIClient().get("/api/v1/creations/", {"ordering": "calibrated-ish"})
    assert response.status_code == 400
    assert "ordering" in response.json()


# Voided scores, as their rater meets them -----------------------------------------------------


def test_a_voided_score_stops_counting_and_cannot_be_changed_by_its_rater(
    scored, member, moderator
):
    score, _ = score_upsert(user=member, creation=scored, creativity=1, uniqueness=1)
    scores_void(scores=[score], actor=moderator, reason="Vote ring")
    client = client_for(member)
    data = detail(client, scored)
    assert data["score_count"] == 1 and data["rating"] == 4.0
    listed = client.get(f"/api/v1/creations/{scored.pk}/scores/").json()
    assert [row["user"] for row in listed["results"]] == [
        Score.objects.counting().get(creation=scored).user.username
    ]
    url = f"/api/v1/creations/{scored.pk}/my-score/"
    response = client.put(url, {"creativity": 5, "uniqueness": 5})
    assert response.status_code == 403 and "voided" in response.json()["detail"]
    assert client.delete(url).status_code == 403
    assert Score.objects.get(pk=score.pk).creativity == 1


# The caller's own scores ----------------------------------------------------------------------


def test_my_scores_lists_my_score_beside_the_average(owner, member, other_member, moderator):
    first, second = CreationFactory(owner=owner, title="First"), CreationFactory(owner=owner)
    ScoreFactory(user=other_member, creation=first, creativity=5, uniqueness=5)
    score_upsert(user=member, creation=first, creativity=1, uniqueness=3)
    voided, _ = score_upsert(user=member, creation=second, creativity=2, uniqueness=2)
    scores_void(scores=[voided], actor=moderator, reason="Burst from new accounts")
    data = client_for(member).get("/api/v1/users/me/scores/").json()
    assert data["count"] == 2
    rows = {row["creation"]["id"]: row for row in data["results"]}
    mine = rows[first.pk]
    assert (mine["creativity"], mine["uniqueness"], mine["voided"]) == (1, 3, False)
    assert mine["creation"]["title"] == "First"
    assert mine["creation"]["rating"] == pytest.approx((3 + 4) / 2)
    assert mine["creation"]["score_count"] == 2
    assert rows[second.pk]["voided"] is True
    assert rows[second.pk]["creation"]["score_count"] == 0


def test_my_scores_leave_out_creations_hidden_since(owner, member):
    creation = CreationFactory(owner=owner)
    score_upsert(user=member, creation=creation, creativity=3, uniqueness=3)
    Creation.objects.filter(pk=creation.pk).update(status=Creation.Status.HIDDEN)
    assert client_for(member).get("/api/v1/users/me/scores/").json()["count"] == 0


def test_my_scores_need_a_member():
    assert APIClient().get("/api/v1/users/me/scores/").status_code == 401


def test_my_scores_use_a_fixed_number_of_queries(owner, member, django_assert_num_queries):
    for creation in CreationFactory.create_batch(5, owner=owner):
        score_upsert(user=member, creation=creation, creativity=3, uniqueness=4)
    client = client_for(member)
    # Token, count, page (scores with their creations and owners).
    with django_assert_num_queries(3):
        response = client.get("/api/v1/users/me/scores/")
    assert len(response.json()["results"]) == 5


def test_my_score_distribution_beside_the_average_rater(owner, member, other_member):
    creations = CreationFactory.create_batch(4, owner=owner)
    # member: three 5/5s and one 1/3; other_member: four 3/3s.
    for creation in creations[:3]:
        score_upsert(user=member, creation=creation, creativity=5, uniqueness=5)
    score_upsert(user=member, creation=creations[3], creativity=1, uniqueness=3)
    for creation in creations:
        score_upsert(user=other_member, creation=creation, creativity=3, uniqueness=3)
    data = client_for(member).get("/api/v1/users/me/score-distribution/").json()
    assert data["count"] == 4
    assert data["mean"] == pytest.approx((5 * 3 + 2) / 4)
    rows = {row["value"]: row for row in data["rows"]}
    assert [row["value"] for row in data["rows"]] == [5, 4, 3, 2, 1]
    # Eight values given: six 5s, one 3, one 1.
    assert (rows[5]["mine"], rows[3]["mine"], rows[1]["mine"], rows[4]["mine"]) == (75, 12, 12, 0)
    # The average rater: member gives 5s 75% of the time, other_member 0%.
    assert rows[5]["site"] == round(100 * (0.75 + 0) / 2)
    assert rows[3]["site"] == round(100 * (0.125 + 1) / 2)


def test_score_distribution_before_any_score(member):
    data = client_for(member).get("/api/v1/users/me/score-distribution/").json()
    assert data["count"] == 0 and all(row["mine"] == 0 for row in data["rows"])
    assert APIClient().get("/api/v1/users/me/score-distribution/").status_code == 401
