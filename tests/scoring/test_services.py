import threading
from statistics import mean

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction

from creations.models import Creation
from scoring.models import Score
from scoring.services import (
    OwnCreationScoreError,
    score_delete_many,
    score_upsert,
    score_withdraw,
)
from tests.factories import CreationFactory, ScoreFactory, UserFactory

pytestmark = pytest.mark.django_db


def expected_aggregates(creation):
    scores = list(Score.objects.filter(creation=creation))
    if not scores:
        return (0, None, None, None)
    creativity = mean(score.creativity for score in scores)
    uniqueness = mean(score.uniqueness for score in scores)
    return (len(scores), creativity, uniqueness, (creativity + uniqueness) / 2)


def stored_aggregates(creation):
    creation.refresh_from_db()
    return (
        creation.score_count,
        creation.creativity_avg,
        creation.uniqueness_avg,
        creation.rating,
    )


def test_first_score_creates_and_sets_aggregates(creation, member):
    score, created = score_upsert(user=member, creation=creation, creativity=5, uniqueness=2)
    assert created and score.pk
    assert stored_aggregates(creation) == (1, 5.0, 2.0, 3.5)


def test_second_upsert_replaces_the_score(creation, member):
    score_upsert(user=member, creation=creation, creativity=5, uniqueness=2)
    score, created = score_upsert(user=member, creation=creation, creativity=1, uniqueness=1)
    assert not created
    assert Score.objects.get() == score
    assert stored_aggregates(creation) == (1, 1.0, 1.0, 1.0)


def test_aggregates_follow_several_members(creation):
    for creativity, uniqueness in [(5, 4), (4, 4), (2, 5)]:
        ScoreFactory(creation=creation, creativity=creativity, uniqueness=uniqueness)
    assert stored_aggregates(creation) == expected_aggregates(creation)
    assert stored_aggregates(creation) == (3, 11 / 3, 13 / 3, (11 / 3 + 13 / 3) / 2)


def test_withdraw_removes_the_score_and_updates_aggregates(creation, member, other_member):
    score_upsert(user=member, creation=creation, creativity=5, uniqueness=5)
    score_upsert(user=other_member, creation=creation, creativity=1, uniqueness=3)

    assert score_withdraw(user=member, creation=creation) is True
    assert stored_aggregates(creation) == (1, 1.0, 3.0, 2.0)

    assert score_withdraw(user=other_member, creation=creation) is True
    assert stored_aggregates(creation) == (0, None, None, None)


def test_withdrawing_a_missing_score_changes_nothing(creation, member):
    assert score_withdraw(user=member, creation=creation) is False
    assert stored_aggregates(creation) == (0, None, None, None)


def test_owner_cannot_score_own_creation(creation):
    with pytest.raises(OwnCreationScoreError, match="can't score your own creation"):
        score_upsert(user=creation.owner, creation=creation, creativity=5, uniqueness=5)
    assert not Score.objects.exists()
    assert stored_aggregates(creation) == (0, None, None, None)


@pytest.mark.parametrize(
    ("creativity", "uniqueness", "field"),
    [
        (0, 3, "creativity"),
        (6, 3, "creativity"),
        (3, -1, "uniqueness"),
        (3, 2.5, "uniqueness"),
        ("4", 3, "creativity"),
        (True, 3, "creativity"),
    ],
)
def test_out_of_range_or_non_integer_values_are_refused(
    creation, member, creativity, uniqueness, field
):
    with pytest.raises(ValidationError) as excinfo:
        score_upsert(user=member, creation=creation, creativity=creativity, uniqueness=uniqueness)
    assert field in excinfo.value.message_dict
    assert not Score.objects.exists()


@pytest.mark.parametrize("field", ["creativity", "uniqueness"])
@pytest.mark.parametrize("value", [0, 6])
def test_database_refuses_values_outside_one_to_five(creation, member, field, value):
    values = {"creativity": 3, "uniqueness": 3, field: value}
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(user=member, creation=creation, **values)


def test_database_refuses_a_second_score_by_the_same_member(creation, member):
    Score.objects.create(user=member, creation=creation, creativity=3, uniqueness=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(user=member, creation=creation, creativity=4, uniqueness=4)


def test_database_refuses_inconsistent_aggregates(creation):
    with pytest.raises(IntegrityError), transaction.atomic():
        Creation.objects.filter(pk=creation.pk).update(score_count=0, rating=4.0)


def test_moderator_deleting_scores_refreshes_each_creation(creation):
    other = CreationFactory()
    doomed = [ScoreFactory(creation=creation, creativity=1), ScoreFactory(creation=other)]
    kept = ScoreFactory(creation=creation, creativity=5, uniqueness=5)

    assert score_delete_many(scores=doomed) == 2

    assert list(Score.objects.all()) == [kept]
    assert stored_aggregates(creation) == (1, 5.0, 5.0, 5.0)
    assert stored_aggregates(other) == (0, None, None, None)


def test_recompute_scores_repairs_drifted_aggregates(creation, capsys):
    ScoreFactory(creation=creation, creativity=4, uniqueness=2)
    ScoreFactory(creation=creation, creativity=5, uniqueness=3)
    untouched = CreationFactory()
    # Scores written behind the services' back leave the aggregates stale.
    Score.objects.filter(creation=creation).update(creativity=1)
    Creation.objects.filter(pk=untouched.pk).update(
        score_count=7, creativity_avg=3, uniqueness_avg=3, rating=3
    )

    call_command("recompute_scores")

    assert stored_aggregates(creation) == (2, 1.0, 2.5, 1.75)
    assert stored_aggregates(untouched) == (0, None, None, None)
    assert "2 had drifted" in capsys.readouterr().out


def test_refresh_of_one_creation_matches_the_full_rebuild(creation):
    for creativity, uniqueness in [(5, 4), (3, 1), (2, 2), (4, 5), (1, 3), (5, 5), (2, 4)]:
        ScoreFactory(creation=creation, creativity=creativity, uniqueness=uniqueness)
    single = stored_aggregates(creation)
    call_command("recompute_scores")
    assert stored_aggregates(creation) == single == expected_aggregates(creation)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_concurrent_scores_never_lose_an_update():
    creation = CreationFactory()
    members = UserFactory.create_batch(16)
    barrier = threading.Barrier(len(members))
    errors = []

    def score(member, index):
        try:
            barrier.wait()
            # Each member scores twice: a create racing the others, then a replace.
            score_upsert(user=member, creation=creation, creativity=1 + index % 5, uniqueness=2)
            score_upsert(
                user=member, creation=creation, creativity=1 + index % 5, uniqueness=1 + index % 3
            )
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=score, args=(member, index)) for index, member in enumerate(members)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert stored_aggregates(creation) == expected_aggregates(creation)
    assert stored_aggregates(creation)[0] == 16


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_concurrent_withdrawals_and_scores_keep_aggregates_exact():
    creation = CreationFactory()
    members = UserFactory.create_batch(12)
    for member in members:
        score_upsert(user=member, creation=creation, creativity=3, uniqueness=3)
    barrier = threading.Barrier(len(members))

    def change(member, index):
        try:
            barrier.wait()
            if index % 2:
                score_withdraw(user=member, creation=creation)
            else:
                score_upsert(user=member, creation=creation, creativity=5, uniqueness=4)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=change, args=(member, index))
        for index, member in enumerate(members)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert stored_aggregates(creation) == (6, 5.0, 4.0, 4.5)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_same_score_sent_twice_at_once_makes_one_row():
    creation = CreationFactory()
    member = UserFactory()
    barrier = threading.Barrier(2)
    created, errors = [], []

    def send():
        try:
            barrier.wait()
            created.append(
                score_upsert(user=member, creation=creation, creativity=4, uniqueness=2)[1]
            )
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(created) == [False, True]
    assert Score.objects.filter(user=member, creation=creation).count() == 1
    assert stored_aggregates(creation) == (1, 4.0, 2.0, 3.0)


def test_rankings_refresh_in_batches_matches_one_pass(owner):
    """refresh_rankings re-ranks in id ranges, one transaction each: however the ranges fall,
    every scored creation gets the values one pass gives, and unscored ones none."""
    from creations.models import RankingPrior
    from scoring.services import _rankings_refresh, ranking_prior_refresh

    raters = UserFactory.create_batch(3)
    creations = CreationFactory.create_batch(7, owner=owner)
    for index, creation in enumerate(creations[:-2]):
        for offset, rater in enumerate(raters[: 1 + index % 3]):
            ScoreFactory(
                user=rater,
                creation=creation,
                creativity=1 + (index + offset) % 5,
                uniqueness=1 + (2 * index + offset) % 5,
            )
    ranking_prior_refresh()
    columns = ("pk", "top", "calibrated")
    one_pass = list(Creation.objects.order_by("pk").values_list(*columns))
    Creation.objects.update(top=None, calibrated=None)
    refreshed = _rankings_refresh(RankingPrior.current(), batch_size=2)
    assert refreshed == 5
    assert list(Creation.objects.order_by("pk").values_list(*columns)) == one_pass
    assert [row[1:] for row in one_pass[-2:]] == [(None, None), (None, None)]
