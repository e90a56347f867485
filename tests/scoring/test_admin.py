import pytest
from django.urls import reverse

from scoring.models import Score
from tests.conftest import run_action
from tests.factories import ScoreFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_score_in_the_admin_updates_the_aggregates(moderator_client, creation):
    abusive = ScoreFactory(creation=creation, creativity=1, uniqueness=1)
    ScoreFactory(creation=creation, creativity=5, uniqueness=5)

    response = moderator_client.post(
        reverse("admin:scoring_score_delete", args=[abusive.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Score.objects.filter(pk=abusive.pk).exists()
    creation.refresh_from_db()
    assert (creation.score_count, creation.rating) == (1, 5.0)


def test_bulk_deleting_scores_updates_the_aggregates(moderator_client, creation):
    scores = ScoreFactory.create_batch(2, creation=creation)
    response = run_action(
        moderator_client, "admin:scoring_score_changelist", "delete_selected", scores, post="yes"
    )
    assert response.status_code == 302
    creation.refresh_from_db()
    assert (creation.score_count, creation.rating) == (0, None)
