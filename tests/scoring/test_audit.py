import datetime
import random

import pytest
from django.utils import timezone

from scoring.audit import (
    BURST_SCORES,
    BURST_WINDOW,
    YOUNG_ACCOUNT,
    creation_audit,
    suspects,
)
from scoring.models import Score
from scoring.services import scores_void
from tests.factories import CreationFactory, ScoreFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LONG_AGO = NOW - datetime.timedelta(days=400)


def veteran(**kwargs):
    """A member whose account is far older than any score in these tests."""
    return UserFactory(date_joined=LONG_AGO, **kwargs)


def scored(creation, *, at, user=None, creativity=4, uniqueness=3):
    """A score given through the service, then moved to `at` (when it was first given)."""
    score = ScoreFactory(
        creation=creation, user=user or veteran(), creativity=creativity, uniqueness=uniqueness
    )
    Score.objects.filter(pk=score.pk).update(created_at=at, updated_at=at)
    score.refresh_from_db()
    return score


def minutes(n):
    return datetime.timedelta(minutes=n)


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture
def work():
    """A veteran's creation."""
    return CreationFactory(owner=veteran(), title="Studs-not-on-top lighthouse")


def test_timeline_is_oldest_first_with_account_age_and_per_day_counts(work, moderator):
    late = scored(work, at=NOW - days(1))
    early = scored(work, at=NOW - days(3))
    same_day = scored(work, at=NOW - days(3) + minutes(30))
    scores_void(scores=[same_day], actor=moderator, reason="Duplicate account")

    audit = creation_audit(creation=work)

    assert [row.score.pk for row in audit.timeline] == [early.pk, same_day.pk, late.pk]
    assert audit.timeline[0].account_age == early.created_at - LONG_AGO
    assert [row.is_voided for row in audit.timeline] == [False, True, False]
    assert [(day.count, day.voided) for day in audit.days] == [(2, 1), (1, 0)]
    assert audit.days[0].day == timezone.localtime(early.created_at).date()
    assert audit.busiest_day == 2
    assert (audit.total, audit.is_truncated) == (3, False)


def test_audit_finds_scores_from_accounts_young_when_they_scored(work):
    newcomer = UserFactory(date_joined=NOW - days(2))
    was_new = UserFactory(date_joined=NOW - days(30))  # old now, 5 days old when it scored
    settled = UserFactory(date_joined=NOW - days(30))  # 8 days old when it scored
    young_then = scored(work, at=NOW - days(25), user=was_new)
    scored(work, at=NOW - days(22), user=settled)
    young_now = scored(work, at=NOW - days(1), user=newcomer)
    scored(work, at=NOW - days(1))

    audit = creation_audit(creation=work)

    assert {row.score.pk for row in audit.young} == {young_then.pk, young_now.pk}
    flagged = {row.score.pk for row in audit.timeline if row.is_young}
    assert flagged == {young_then.pk, young_now.pk}
    assert all(row.account_age < YOUNG_ACCOUNT for row in audit.young)


def test_a_voided_young_score_shows_in_the_timeline_but_is_no_longer_suspect(work, moderator):
    young = scored(work, at=NOW - days(1), user=UserFactory(date_joined=NOW - days(2)))
    scores_void(scores=[young], actor=moderator, reason="Sock puppet")

    audit = creation_audit(creation=work)

    assert [(row.score.pk, row.is_voided) for row in audit.timeline] == [(young.pk, True)]
    assert audit.young == [] and audit.suspicion == 0


def test_audit_finds_bursts_and_leaves_spread_scores_alone(work):
    start = NOW - days(5)
    burst = [scored(work, at=start + minutes(2 * i)) for i in range(BURST_SCORES)]  # 8 minutes
    late = scored(work, at=start + minutes(25))
    # Four scores within ten minutes are not a burst, nor are five over eleven minutes.
    almost = [scored(work, at=NOW - days(3) + minutes(i)) for i in range(BURST_SCORES - 1)]
    spread = [scored(work, at=NOW - days(2) + minutes(11 * i / 4)) for i in range(5)]

    audit = creation_audit(creation=work)

    assert [[row.score.pk for row in found.scores] for found in audit.bursts] == [
        [score.pk for score in burst]
    ]
    assert audit.bursts[0].start == burst[0].created_at
    assert audit.bursts[0].end == burst[-1].created_at
    in_burst = {row.score.pk for row in audit.timeline if row.in_burst}
    assert in_burst == {score.pk for score in burst}
    assert late.pk not in in_burst and not in_burst & {s.pk for s in almost + spread}


def test_a_window_of_exactly_ten_minutes_is_a_burst(work):
    start = NOW - days(1)
    scores = [scored(work, at=start + BURST_WINDOW * i / 4) for i in range(BURST_SCORES)]
    assert creation_audit(creation=work).burst_scores == len(scores)


def test_voided_scores_make_no_burst(work, moderator):
    start = NOW - days(1)
    scores = [scored(work, at=start + minutes(i)) for i in range(BURST_SCORES)]
    assert creation_audit(creation=work).burst_scores == BURST_SCORES

    scores_void(scores=scores[:1], actor=moderator, reason="Part of a ring")

    audit = creation_audit(creation=work)
    assert audit.bursts == [] and audit.burst_scores == 0


def test_audit_finds_reciprocal_pairs_and_not_false_ones(work, moderator):
    owner = work.owner
    # A friend: scores the owner high, and the owner scored two of the friend's creations high.
    friend = veteran(username="friend")
    scored(work, user=friend, at=NOW - days(1), creativity=5, uniqueness=5)
    for creation in CreationFactory.create_batch(2, owner=friend):
        scored(creation, user=owner, at=NOW - days(2), creativity=5, uniqueness=4)
    # Mutual, but low on one side: a pair, not a high one.
    rival = veteran(username="rival")
    scored(work, user=rival, at=NOW - days(1), creativity=5, uniqueness=5)
    scored(CreationFactory(owner=rival), user=owner, at=NOW - days(2), creativity=2, uniqueness=3)
    # Scores the owner, but the owner never scored their creations (a third member did).
    stranger = veteran(username="stranger")
    scored(work, user=stranger, at=NOW - days(1), creativity=5, uniqueness=5)
    scored(CreationFactory(owner=stranger), at=NOW - days(2), creativity=5, uniqueness=5)
    # The owner's score of this one's creation was voided: it no longer makes a pair.
    voided = veteran(username="voided")
    scored(work, user=voided, at=NOW - days(1), creativity=5, uniqueness=5)
    back = scored(CreationFactory(owner=voided), user=owner, at=NOW - days(2), creativity=5)
    scores_void(scores=[back], actor=moderator, reason="Ring")

    audit = creation_audit(creation=work)

    found = [
        (p.rater.username, p.rater_scored, p.rater_mean, p.owner_scored, p.owner_mean, p.is_high)
        for p in audit.pairs
    ]
    assert found == [("friend", 1, 5.0, 2, 4.5, True), ("rival", 1, 5.0, 1, 2.5, False)]
    assert audit.ring_scores == 1


def test_audit_reads_a_creation_in_a_fixed_number_of_queries(work, django_assert_num_queries):
    for i in range(20):
        scored(work, at=NOW - minutes(i))
    with django_assert_num_queries(2):  # the scores, the reciprocal pairs
        audit = creation_audit(creation=work)
    assert len(audit.timeline) == 20


def test_timeline_shows_the_latest_scores_when_there_are_too_many(work, monkeypatch):
    monkeypatch.setattr("scoring.audit.TIMELINE_LIMIT", 3)
    scores = [scored(work, at=NOW - days(5 - i)) for i in range(5)]

    audit = creation_audit(creation=work)

    assert [row.score.pk for row in audit.timeline] == [score.pk for score in scores[2:]]
    assert (audit.total, audit.is_truncated) == (5, True)


@pytest.fixture
def vote_ring():
    """Three fresh accounts scoring each other's creations 5/5 within minutes, plus a burst
    of sock puppets on the first member's creation."""
    members = [UserFactory(username=f"ring{i}", date_joined=NOW - days(3)) for i in range(3)]
    works = [CreationFactory(owner=member, title=f"Ring {i}") for i, member in enumerate(members)]
    for i, member in enumerate(members):
        for j, creation in enumerate(works):
            if i != j:
                scored(
                    creation, user=member, at=NOW - days(1) + minutes(i), creativity=5, uniqueness=5
                )
    for i in range(BURST_SCORES):
        puppet = UserFactory(date_joined=NOW - days(1))
        scored(works[0], user=puppet, at=NOW - hours(2) + minutes(i), creativity=5, uniqueness=5)
    return members, works


def hours(n):
    return datetime.timedelta(hours=n)


@pytest.fixture
def ordinary_site():
    """Honest activity: veterans scoring spread out, one newcomer, an old burst, and a
    mutual pair that scores each other low."""
    works = CreationFactory.create_batch(4, owner=veteran())
    raters = [veteran() for _ in range(6)]
    for i, creation in enumerate(works):
        for j, rater in enumerate(raters):
            scored(creation, user=rater, at=NOW - days(1 + i) - hours(3 * j))
    scored(works[1], user=UserFactory(date_joined=NOW - days(1)), at=NOW - hours(1))
    old = CreationFactory(owner=veteran())
    for i in range(BURST_SCORES + 2):
        scored(old, at=NOW - days(60) + minutes(i))  # outside the 30-day window
    harsh_a, harsh_b = veteran(), veteran()
    scored(CreationFactory(owner=harsh_a), user=harsh_b, at=NOW - days(2), creativity=2)
    scored(CreationFactory(owner=harsh_b), user=harsh_a, at=NOW - days(2), creativity=2)
    return works, old


def test_suspects_ranks_a_planted_vote_ring_first(vote_ring, ordinary_site):
    members, works = vote_ring
    honest, old = ordinary_site

    found = suspects()

    ranked = [suspect.creation for suspect in found.creations]
    assert ranked[0] == works[0]
    assert set(ranked[1:3]) == set(works[1:])
    first = found.creations[0]
    # 2 ring scores (young, ring) a day ago + 5 puppets (young, burst) two hours ago.
    assert (first.scores, first.young, first.burst, first.ring) == (7, 7, 5, 2)
    assert first.suspicion == 14
    assert honest[1] in ranked  # the newcomer's score
    assert old not in ranked  # its burst is older than the window
    assert honest[0] not in ranked
    pairs = {(p.member_a, p.member_b) for p in found.pairs}
    assert pairs == {
        (members[0], members[1]),
        (members[0], members[2]),
        (members[1], members[2]),
    }
    pair = found.pairs[0]
    assert (pair.a_scored, pair.a_mean, pair.b_scored, pair.b_mean) == (1, 5.0, 1, 5.0)


def test_suspects_windows_and_limits(vote_ring, ordinary_site):
    honest, old = ordinary_site
    assert old in [s.creation for s in suspects(since=days(90)).creations]
    assert len(suspects(limit=2).creations) == 2
    assert suspects(since=minutes(1)).creations == []


def test_voided_scores_leave_the_suspects(vote_ring, moderator):
    members, works = vote_ring
    scores_void(
        scores=Score.objects.filter(creation__in=works), actor=moderator, reason="Vote ring"
    )
    found = suspects()
    assert found.creations == [] and found.pairs == []


def test_a_lone_mutual_pair_of_veterans_is_a_pair_but_not_a_suspect_creation():
    a, b = veteran(), veteran()
    work_a, work_b = CreationFactory(owner=a), CreationFactory(owner=b)
    scored(work_a, user=b, at=NOW - days(2), creativity=5, uniqueness=4)
    scored(work_b, user=a, at=NOW - days(3), creativity=4, uniqueness=4)

    found = suspects()

    # Equal figures and counts: the newer creation first.
    assert [(s.creation, s.ring, s.suspicion) for s in found.creations] == [
        (work_b, 1, 1),
        (work_a, 1, 1),
    ]
    assert [(p.member_a, p.member_b, p.a_mean, p.b_mean) for p in found.pairs] == [(a, b, 4.0, 4.5)]


def test_the_audit_and_suspects_find_the_same_bursts():
    """The audit finds bursts in Python, `suspects` in SQL: on any times they agree."""
    draw = random.Random(14)
    start = NOW - days(1)
    cases = [
        [0, 150, 300, 450, 600],  # five scores exactly ten minutes apart, end to end
        [0, 150, 300, 450, 601],  # a second too long
        [0, 0, 0, 0, 0, 1200, 1200, 1300, 1350, 1799],  # two bursts
    ] + [
        sorted(
            draw.choice([draw.randrange(0, 7200), draw.randrange(0, 40) * 60])
            for _ in range(draw.randrange(1, 14))
        )
        for _ in range(9)
    ]
    works = []
    for offsets in cases:
        work = CreationFactory(owner=veteran())
        raters = [veteran() for _ in offsets]
        Score.objects.bulk_create(
            Score(user=rater, creation=work, creativity=3, uniqueness=3) for rater in raters
        )
        for score, offset in zip(
            Score.objects.filter(creation=work).order_by("pk"), offsets, strict=True
        ):
            when = start + datetime.timedelta(seconds=offset)
            Score.objects.filter(pk=score.pk).update(created_at=when)
        works.append(work)

    found = {s.creation: s.burst for s in suspects().creations}

    audits = [creation_audit(creation=work) for work in works]
    expected = [audit.burst_scores for audit in audits]
    assert expected[:3] == [5, 0, 10]
    assert [burst.count for burst in audits[2].bursts] == [5, 5]
    assert any(expected[3:])  # the drawn cases hold bursts too
    assert [found.get(work, 0) for work in works] == expected
