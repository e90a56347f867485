"""Reads for moderators looking for score manipulation: one creation's audit, and the
site-wide list of the strongest suspects (the score admin's audit and suspects pages).

Three signs, each counted over counting scores only (a voided score, or one of a suspended
or banned rater, has been dealt with):

- a **young account**: the rater's account was younger than YOUNG_ACCOUNT when they scored;
- a **burst**: at least BURST_SCORES scores of one creation within BURST_WINDOW; a score is
  inside a burst when some window of that length holding that many scores holds it too;
- a **reciprocal pair**: a rater R of a creation whose owner O also scored a creation of R's.
  The pair is *high* when R's scores of O's creations and O's scores of R's creations both
  average at least HIGH_MEAN (a score's value is the mean of its two axes).

Times are when a score was first given (`created_at`): changing a score later does not move
it into or out of a burst.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.models import Avg, Count, F, FloatField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from creations.models import Creation

from .models import Score

YOUNG_ACCOUNT = datetime.timedelta(days=7)
BURST_SCORES = 5
BURST_WINDOW = datetime.timedelta(minutes=10)
HIGH_MEAN = 4
# The audit shows at most this many of a creation's scores (the latest); the signs are read
# from those, the reciprocal pairs from all of the creation's raters.
TIMELINE_LIMIT = 1000


@dataclass(frozen=True)
class TimelineScore:
    """One score of the audited creation, with what the audit noticed about it."""

    score: Score
    account_age: datetime.timedelta  # the rater's account age when they scored
    is_young: bool
    in_burst: bool = False

    @property
    def rater(self):
        return self.score.user

    @property
    def is_voided(self) -> bool:
        return self.score.is_voided


@dataclass(frozen=True)
class Burst:
    """Scores of one creation given close together (counting scores, oldest first)."""

    scores: list[TimelineScore]

    @property
    def count(self) -> int:
        return len(self.scores)

    @property
    def start(self) -> datetime.datetime:
        return self.scores[0].score.created_at

    @property
    def end(self) -> datetime.datetime:
        return self.scores[-1].score.created_at


@dataclass(frozen=True)
class DayCount:
    day: datetime.date
    count: int
    voided: int


@dataclass(frozen=True)
class ReciprocalPair:
    """A rater of the creation and its owner scoring each other's creations."""

    rater: object
    rater_scored: int  # how many of the owner's creations the rater scored
    rater_mean: float
    owner_scored: int  # how many of the rater's creations the owner scored
    owner_mean: float

    @property
    def is_high(self) -> bool:
        return self.rater_mean >= HIGH_MEAN and self.owner_mean >= HIGH_MEAN


@dataclass(frozen=True)
class CreationAudit:
    creation: Creation
    timeline: list[TimelineScore]  # oldest first
    total: int  # all of the creation's scores, voided ones included
    days: list[DayCount]  # per day (in the site's time zone) with scores, oldest first
    young: list[TimelineScore]
    bursts: list[Burst]
    pairs: list[ReciprocalPair]  # high pairs first

    @property
    def is_truncated(self) -> bool:
        return self.total > len(self.timeline)

    @property
    def busiest_day(self) -> int:
        return max((day.count for day in self.days), default=0)

    @property
    def burst_scores(self) -> int:
        return sum(burst.count for burst in self.bursts)

    @property
    def ring_scores(self) -> int:
        high = {pair.rater.pk for pair in self.pairs if pair.is_high}
        return sum(1 for row in self.timeline if not row.is_voided and row.score.user_id in high)

    @property
    def suspicion(self) -> int:
        """The figure `suspects` ranks by (see there), over the scores shown here."""
        return len(self.young) + self.burst_scores + self.ring_scores


def _value_expression():
    return Cast(F("creativity") + F("uniqueness"), FloatField()) / Value(2.0)


def _mark_bursts(rows: list[TimelineScore]) -> list[list[int]]:
    """Indexes of `rows` (sorted by time) inside bursts, one list per burst.

    A sliding window: whenever the window ending at a score holds BURST_SCORES or more,
    every score in it is inside a burst. Each score is marked once, so this is linear.
    """
    marked = [False] * len(rows)
    start, marked_up_to = 0, -1
    for end, row in enumerate(rows):
        while row.score.created_at - rows[start].score.created_at > BURST_WINDOW:
            start += 1
        if end - start + 1 >= BURST_SCORES:
            for index in range(max(start, marked_up_to + 1), end + 1):
                marked[index] = True
            marked_up_to = end
    runs: list[list[int]] = []
    for index, is_marked in enumerate(marked):
        if not is_marked:
            continue
        last = runs[-1][-1] if runs else None
        # Neighbours farther apart than a window are two bursts, not one.
        if last == index - 1 and (
            rows[index].score.created_at - rows[last].score.created_at <= BURST_WINDOW
        ):
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _reciprocal_pairs(creation: Creation, raters: dict) -> list[ReciprocalPair]:
    """One query: the owner's scores of each rater's creations (the owner's scores, through
    the (user, creation) index), and the scores of the owner's creations by those raters
    the owner scored back (through the creation index), each grouped by (rater, owner)."""
    owner_id = creation.owner_id
    counting = Score.objects.counting().order_by()
    rater_ids = counting.filter(creation=creation).exclude(user_id=owner_id).values("user_id")
    scored_back = counting.filter(user_id=owner_id).values("creation__owner_id")

    def grouped(scores):
        return scores.values("user_id", "creation__owner_id").annotate(
            scored=Count("pk"), mean=Avg(_value_expression())
        )

    rows = grouped(counting.filter(user_id=owner_id, creation__owner_id__in=rater_ids)).union(
        grouped(
            counting.filter(creation__owner_id=owner_id, user_id__in=rater_ids).filter(
                user_id__in=scored_back
            )
        ),
        all=True,
    )
    given: dict[tuple[int, int], tuple[int, float]] = {
        (row["user_id"], row["creation__owner_id"]): (row["scored"], float(row["mean"]))
        for row in rows
    }
    pair_ids = sorted(
        rater_id
        for (user_id, rater_id) in given
        if user_id == owner_id and (rater_id, owner_id) in given
    )
    missing = [pk for pk in pair_ids if pk not in raters]
    if missing:  # only when the timeline is cut short
        raters = {**raters, **get_user_model().objects.in_bulk(missing)}
    pairs = [
        ReciprocalPair(
            rater=raters[rater_id],
            rater_scored=given[rater_id, owner_id][0],
            rater_mean=given[rater_id, owner_id][1],
            owner_scored=given[owner_id, rater_id][0],
            owner_mean=given[owner_id, rater_id][1],
        )
        for rater_id in pair_ids
    ]
    pairs.sort(
        key=lambda pair: (
            not pair.is_high,
            -min(pair.rater_scored, pair.owner_scored),
            pair.rater.get_username(),
        )
    )
    return pairs


def creation_audit(*, creation: Creation) -> CreationAudit:
    """What a moderator needs to judge `creation`'s scores: its timeline (the latest
    TIMELINE_LIMIT scores, oldest first, voided ones shown as such), per-day counts, the
    scores from young accounts, the bursts and the reciprocal pairs.

    Two or three queries whatever the number of scores (a third counts them when the
    timeline is cut short).
    """
    latest = list(
        Score.objects.filter(creation=creation)
        .select_related("user", "voided_by")
        .order_by("-created_at", "-id")[: TIMELINE_LIMIT + 1]
    )
    total = len(latest)
    if total > TIMELINE_LIMIT:
        latest = latest[:TIMELINE_LIMIT]
        total = Score.objects.filter(creation=creation).count()
    timeline = []
    for score in reversed(latest):
        age = score.created_at - score.user.date_joined
        timeline.append(TimelineScore(score=score, account_age=age, is_young=age < YOUNG_ACCOUNT))

    # Counting as Score.objects.counting() does: a suspended or banned rater's scores are
    # dealt with too.
    counting = [row for row in timeline if not row.is_voided and not row.score.rater_restricted]
    bursts = []
    for run in _mark_bursts(counting):
        members = []
        for index in run:
            row = TimelineScore(
                score=counting[index].score,
                account_age=counting[index].account_age,
                is_young=counting[index].is_young,
                in_burst=True,
            )
            counting[index] = row
            members.append(row)
        bursts.append(Burst(scores=members))
    in_burst = {row.score.pk: row for row in counting if row.in_burst}
    timeline = [in_burst.get(row.score.pk, row) for row in timeline]

    days: dict[datetime.date, list[int]] = {}
    for row in timeline:
        day = days.setdefault(timezone.localtime(row.score.created_at).date(), [0, 0])
        day[0] += 1
        day[1] += row.is_voided

    raters = {row.score.user_id: row.score.user for row in counting}
    return CreationAudit(
        creation=creation,
        timeline=timeline,
        total=total,
        days=[DayCount(day=day, count=n, voided=voided) for day, (n, voided) in days.items()],
        young=[row for row in counting if row.is_young],
        bursts=bursts,
        pairs=_reciprocal_pairs(creation, raters) if raters else [],
    )


@dataclass(frozen=True)
class SuspectCreation:
    creation: Creation
    scores: int  # counting scores given in the window
    young: int
    burst: int
    ring: int

    @property
    def suspicion(self) -> int:
        return self.young + self.burst + self.ring


@dataclass(frozen=True)
class SuspectPair:
    """Two members who scored each other's creations high in the window."""

    member_a: object
    member_b: object
    a_scored: int  # how many of B's creations A scored
    a_mean: float
    b_scored: int  # how many of A's creations B scored
    b_mean: float


@dataclass(frozen=True)
class Suspects:
    since: datetime.timedelta
    window_start: datetime.datetime
    creations: list[SuspectCreation] = field(default_factory=list)
    pairs: list[SuspectPair] = field(default_factory=list)


def _sql_times(db) -> dict:
    """The SQL that differs between the databases: a score's time as `recent.t`, the burst
    window as a frame offset for it, and whether the rater was young when they scored.

    PostgreSQL orders the frame by the timestamp itself (exact to the microsecond, as the
    audit is). SQLite keeps times as UTC text and reads them to the millisecond: there they
    are whole milliseconds since 1970 (julianday() is that count over 86,400,000), so a gap
    of exactly BURST_WINDOW still compares equal to it.
    """
    young_seconds = int(YOUNG_ACCOUNT.total_seconds())
    window_seconds = int(BURST_WINDOW.total_seconds())
    if db.vendor == "postgresql":
        return {
            "score_time": "s.created_at",
            "window": f"INTERVAL '{window_seconds} seconds'",
            "is_young": f"s.created_at - u.date_joined < INTERVAL '{young_seconds} seconds'",
        }

    def milliseconds(column: str) -> str:
        return f"CAST(ROUND((julianday({column}) - 2440587.5) * 86400000.0) AS INTEGER)"

    score_time = milliseconds("s.created_at")
    return {
        "score_time": score_time,
        "window": str(window_seconds * 1000),
        "is_young": f"{score_time} - {milliseconds('u.date_joined')} < {young_seconds * 1000}",
    }


# The counting scores given in the window, each with its creation's owner, twice its value
# (an integer: the sum of the two axes), its time, and whether its rater was young then,
# read through `score_created_idx` when the window is a small part of the history; all the
# rest works on the window's rows. `high` holds the (rater, owner) pairs whose scores of each
# other's creations both average HIGH_MEAN or more, compared as integers:
# sum >= 2 * HIGH_MEAN * n.
_RECENT = """
    recent AS (
        SELECT s.user_id, s.creation_id, c.owner_id,
               s.creativity + s.uniqueness AS twice,
               {score_time} AS t,
               CASE WHEN {is_young} THEN 1 ELSE 0 END AS young
        FROM {score} AS s
        JOIN {creation} AS c ON c.id = s.creation_id
        JOIN {user} AS u ON u.id = s.user_id
        WHERE s.voided_at IS NULL AND NOT s.rater_restricted
          AND s.created_at >= %(window_start)s
    ),
    edges AS (
        SELECT user_id AS rater_id, owner_id, COUNT(*) AS scored, SUM(twice) AS twice
        FROM recent
        GROUP BY user_id, owner_id
        HAVING SUM(twice) >= {twice_high} * COUNT(*)
    ),
    high AS (
        SELECT a.rater_id, a.owner_id, a.scored AS a_scored, a.twice AS a_twice,
               b.scored AS b_scored, b.twice AS b_twice
        FROM edges AS a
        JOIN edges AS b ON b.rater_id = a.owner_id AND b.owner_id = a.rater_id
    )
"""

# Both lists in one statement, so the window's scores are read once. A score is inside a
# burst when some window of BURST_WINDOW holding it holds BURST_SCORES scores: the latest
# score of such a window sees them all behind it (`behind`), and every score of the window
# sees that one ahead of it (`ahead`); both windows order alike, so the rows sort once. The
# rows come back as (1, creation, 0, scores, young, burst, ring) for the creations, then
# (2, member A, member B, A's scores, twice their sum, B's scores, twice their sum) for the
# pairs, each list in its order.
_SUSPECTS = """
    WITH {recent},
    behind AS (
        SELECT creation_id, user_id, owner_id, young, t,
               COUNT(*) OVER (PARTITION BY creation_id ORDER BY t
                              RANGE BETWEEN {window} PRECEDING AND CURRENT ROW) AS n
        FROM recent
    ),
    ahead AS (
        SELECT creation_id, user_id, owner_id, young,
               MAX(n) OVER (PARTITION BY creation_id ORDER BY t
                            RANGE BETWEEN CURRENT ROW AND {window} FOLLOWING) AS n
        FROM behind
    ),
    figures AS (
        SELECT creation_id, COUNT(*) AS scores, SUM(young) AS young,
               SUM(CASE WHEN n >= {burst} THEN 1 ELSE 0 END) AS burst,
               SUM(CASE WHEN (user_id, owner_id) IN (SELECT rater_id, owner_id FROM high)
                        THEN 1 ELSE 0 END) AS ring
        FROM ahead
        GROUP BY creation_id
    ),
    top_creations AS (
        SELECT creation_id, scores, young, burst, ring,
               ROW_NUMBER() OVER (
                   ORDER BY young + burst + ring DESC, scores DESC, creation_id DESC
               ) AS position
        FROM figures
        WHERE young + burst + ring > 0
    ),
    top_pairs AS (
        SELECT rater_id, owner_id, a_scored, a_twice, b_scored, b_twice,
               ROW_NUMBER() OVER (
                   ORDER BY CASE WHEN a_scored < b_scored THEN a_scored ELSE b_scored END DESC,
                            a_scored + b_scored DESC, rater_id, owner_id
               ) AS position
        FROM high
        WHERE rater_id < owner_id
    )
    SELECT 1 AS kind, position, creation_id, 0, scores, young, burst, ring
    FROM top_creations WHERE position <= %(limit)s
    UNION ALL
    SELECT 2 AS kind, position, rater_id, owner_id, a_scored, a_twice, b_scored, b_twice
    FROM top_pairs WHERE position <= %(limit)s
    ORDER BY kind, position
"""


def suspects(
    *, since: datetime.timedelta = datetime.timedelta(days=30), limit: int = 50
) -> Suspects:
    """The strongest suspects among the counting scores given in the last `since`: at most
    `limit` creations and `limit` reciprocal pairs.

    A creation's suspicion figure adds up, over its counting scores given in the window:
    the scores from young accounts (younger than YOUNG_ACCOUNT when they scored), the scores
    inside bursts (BURST_SCORES or more within BURST_WINDOW, in the window), and the scores
    from a rater who forms a high reciprocal pair with its owner (in the window, each scored
    the other's creations with a mean of at least HIGH_MEAN). A score can count under each
    sign, so the figure is at most three times the window's scores. Creations rank by the
    figure, then by their scores in the window; those with a figure of 0 are left out.

    Pairs are the high reciprocal pairs in the window, strongest first: ranked by the smaller
    of the two numbers of creations each scored of the other's, then by both together.

    Three queries (on the read replica when there is one): one over the window's scores,
    then the creations and the members it names. The window's scores are read in one pass over
    the scores table (no index leads with created_at); keep the window short.
    """
    window_start = timezone.now() - since
    db = connections[router.db_for_read(Score)]
    # Names and numbers from this module and the models, not input: SQL takes a window
    # frame's offset as a literal.
    recent = _RECENT.format(
        score=db.ops.quote_name(Score._meta.db_table),
        creation=db.ops.quote_name(Creation._meta.db_table),
        user=db.ops.quote_name(get_user_model()._meta.db_table),
        twice_high=int(2 * HIGH_MEAN),
        **_sql_times(db),
    ).strip()
    sql = _SUSPECTS.format(recent=recent, burst=int(BURST_SCORES), **_sql_times(db))
    params = {
        "window_start": db.ops.adapt_datetimefield_value(window_start),
        "limit": int(limit),
    }
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    creation_rows = [row[2:3] + row[4:] for row in rows if row[0] == 1]
    pair_rows = [row[2:] for row in rows if row[0] == 2]

    creations = (
        Creation.objects.select_related("owner").in_bulk([row[0] for row in creation_rows])
        if creation_rows
        else {}
    )
    member_ids = {pk for row in pair_rows for pk in row[:2]}
    members = get_user_model().objects.in_bulk(member_ids) if member_ids else {}
    return Suspects(
        since=since,
        window_start=window_start,
        creations=[
            SuspectCreation(
                creation=creations[creation_id],
                scores=int(scores),
                young=int(young),
                burst=int(burst),
                ring=int(ring),
            )
            for creation_id, scores, young, burst, ring in creation_rows
            if creation_id in creations  # deleted between the two reads
        ],
        pairs=[
            SuspectPair(
                member_a=members[a_id],
                member_b=members[b_id],
                a_scored=int(a_scored),
                a_mean=int(a_twice) / (2 * int(a_scored)),
                b_scored=int(b_scored),
                b_mean=int(b_twice) / (2 * int(b_scored)),
            )
            for a_id, b_id, a_scored, a_twice, b_scored, b_twice in pair_rows
            if a_id in members and b_id in members
        ],
    )
