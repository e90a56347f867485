import pytest
from django.urls import reverse

from creations.models import Creation
from scoring.models import Score
from tests.factories import CreationFactory, ScoreFactory

pytestmark = pytest.mark.django_db


def submit(client, creation, **values):
    return client.post(reverse("scoring:submit", args=[creation.pk]), values, follow=True)


def test_member_scores_then_changes_the_score(client, creation, member):
    client.force_login(member)
    response = submit(client, creation, creativity=4, uniqueness=2)
    assert "Your score is saved." in response.content.decode()
    assert response.redirect_chain[-1][0].endswith(f"/creations/{creation.pk}/#score")

    response = submit(client, creation, creativity=5, uniqueness=5)
    assert "Your score is updated." in response.content.decode()
    score = Score.objects.get()
    assert (score.creativity, score.uniqueness) == (5, 5)
    creation.refresh_from_db()
    assert creation.rating == 5.0


def test_member_withdraws_a_score(client, creation, member):
    ScoreFactory(user=member, creation=creation)
    client.force_login(member)
    response = client.post(reverse("scoring:withdraw", args=[creation.pk]), follow=True)
    assert "Your score is withdrawn." in response.content.decode()
    assert not Score.objects.exists()
    creation.refresh_from_db()
    assert creation.score_count == 0


@pytest.mark.parametrize(
    "values", [{}, {"creativity": 6, "uniqueness": 3}, {"creativity": "x", "uniqueness": 3}]
)
def test_invalid_score_is_refused_with_a_message(client, creation, member, values):
    client.force_login(member)
    response = submit(client, creation, **values)
    assert "Pick a value from 1 to 5" in response.content.decode()
    assert not Score.objects.exists()


def test_owner_gets_a_clear_refusal(client, creation):
    client.force_login(creation.owner)
    response = submit(client, creation, creativity=5, uniqueness=5)
    assert "You can't score your own creation." in response.content.decode()
    assert not Score.objects.exists()


def test_hidden_creation_cannot_be_scored(client, member):
    hidden = CreationFactory(status=Creation.Status.HIDDEN)
    client.force_login(member)
    response = client.post(
        reverse("scoring:submit", args=[hidden.pk]), {"creativity": 3, "uniqueness": 3}
    )
    assert response.status_code == 404


def test_anonymous_score_goes_to_log_in(client, creation):
    response = client.post(
        reverse("scoring:submit", args=[creation.pk]), {"creativity": 3, "uniqueness": 3}
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Score.objects.exists()


def test_get_is_not_allowed(client, creation, member):
    client.force_login(member)
    assert client.get(reverse("scoring:submit", args=[creation.pk])).status_code == 405


def test_score_writes_are_limited_per_member(client, creation, member, settings):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "score": "3/m"}
    client.force_login(member)
    for value in (1, 2, 3):
        submit(client, creation, creativity=value, uniqueness=value)
    response = client.post(
        reverse("scoring:submit", args=[creation.pk]), {"creativity": 5, "uniqueness": 5}
    )
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 60
    assert Score.objects.get().creativity == 3
