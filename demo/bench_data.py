"""Generate benchmark data: the rows `manage.py generate_bench_data` streams into COPY.

A benchmark needs a site the size of a busy one (a million creations, ten million scores) in
minutes, and the same site again on the next run so two measurements compare. So nothing here
goes through the ORM row by row: each table's rows are drawn from a `random.Random` of its own,
seeded from the run's seed and the table's name (changing `--tags` leaves the members alike),
and written as PostgreSQL COPY text. What must stay consistent across tables (who owns what,
when each creation appeared, how many scores it gets) is kept in compact arrays, never as lists
of row tuples, so memory stays flat however many scores are asked for.

Every time is a whole number of seconds after `Clock.origin`, which is a fixed offset back from
the run's `now`: the data always ends just before `now`, whatever day it is generated.
"""

from __future__ import annotations

import json
import math
import random
import re
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate

from django.db.models import NOT_PROVIDED
from django.db.models.fields import AutoFieldMixin

DAY = 86_400
# Members joined over the last 800 days; creations appeared over the last two years, and never
# in the hour before `now`, so every creation has had time to be scored.
MEMBERSHIP_DAYS = 800
HISTORY_DAYS = 730
NEWEST_CREATION_AGE = 3_600
# Creation ages are HISTORY_DAYS * u ** AGE_SKEW (u uniform): above 1, more recent creations,
# as on a site that grows. 1.25 puts about 2.5 % of them in the last week.
AGE_SKEW = 1.25

BENCH_PASSWORD = "bench-password"
BENCH_USERNAME_PREFIX = "bench"
# The members a run made, and only those: `bench` and at least five digits.
BENCH_USERNAME_PATTERN = r"^bench[0-9]{5,}$"
BENCH_PART_PREFIX = "bench-"
BENCH_CATEGORY_ID = 990_001
BENCH_CATEGORY_NAME = "Bench parts"

HIDDEN_SHARE = 0.02
# How often the title and text mention these words: a common and a rare search term. No other
# vocabulary below contains either word, so these shares are what a search finds.
BRICK_SHARE = 0.20
CHANDELIER_SHARE = 0.005

# Tags: 1 to 6 per creation, in these proportions, drawn with Zipf-like weights
# 1 / (k + 1 + offset) ** TAG_EXPONENT, the offset chosen so the most used tag is on about
# TOP_TAG_SHARE of creations whatever the number of tags.
TAG_COUNT_WEIGHTS = (22, 30, 22, 13, 8, 5)
TAG_EXPONENT = 1.05
TOP_TAG_SHARE = 0.12
# Parts: 0 to 4 per creation, the first parts of the catalog order far more often.
PART_COUNT_WEIGHTS = (30, 35, 20, 10, 5)
PART_EXPONENT = 1.0
PART_OFFSET = 2.0
# Owners: Zipf-like over the members in the order they joined, so early members are prolific.
OWNER_EXPONENT = 0.8
# Scores per creation: an exponential spread around the mean (some creations get none), plus
# a Zipf head holding HEAD_SHARE of all scores; creations younger than EXPOSURE_DAYS have had
# less time to collect theirs.
HEAD_SHARE = 0.3
HEAD_EXPONENT = 1.0
EXPOSURE_DAYS = 30
LOVED_SHARE = 0.02  # the head's top creations are also the best rated
# Most scores come in the days after a creation appears (exponential, mean SOON_DAYS), the
# rest at any time since, so trending always has recent material.
SOON_SHARE = 0.65
SOON_DAYS = 10
FIRST_SCORE_DELAY = 60
# The community: comments and saves per creation follow its scores (a creation people score is
# one they talk about and save); members follow a few members (the prolific ones more often)
# and tags. The benchmark's members (those with an API token) follow BENCH_FOLLOWED_MEMBERS
# members and BENCH_FOLLOWED_TAGS tags and saved BENCH_FAVOURITES creations each, so their
# feed, saved list and inbox are those of an active member.
COMMENTS_PER_SCORE = 0.05
FAVOURITES_PER_SCORE = 0.05
REPLY_SHARE = 0.35  # of comments after a thread's first: replies to an earlier top-level one
OWNER_COMMENT_SHARE = 0.15  # comments by the creation's owner, answering in its thread
MENTION_SHARE = 0.3  # replies that name the member they answer (@username)
FOLLOWED_MEMBER_WEIGHTS = (40, 20, 12, 8, 6, 5, 4, 3, 2)  # 0 to 8 members
FOLLOWED_TAG_WEIGHTS = (55, 25, 12, 8)  # 0 to 3 tags
BENCH_FOLLOWED_MEMBERS = 20
BENCH_FOLLOWED_TAGS = 5
BENCH_FAVOURITES = 60
# Notifications: read after an exponential delay (mean READ_DAYS) if that is before now; those
# that come by e-mail (comments, replies) mailed in the next hourly digest unless read first.
READ_DAYS = 2
DIGEST_SECONDS = 3_600

COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

PART_PHRASES = [
    "technic pin",
    "cheese slope",
    "minifig hand",
    "1x1 round tile",
    "1x1 round plate",
    "grille tile",
    "clip plate",
    "bar holder",
    "hinge plate",
    "jumper plate",
    "ingot",
    "tooth plate",
    "lightsaber hilt",
    "minifig skate",
    "croissant",
    "banana",
    "frog",
    "wheel arch",
    "lever base",
    "paint roller",
    "snot bracket",
    "droid arm",
    "hot dog",
    "magnifying glass",
    "binoculars",
    "frying pan",
    "bucket handle",
    "palm leaf",
    "flower stem",
    "telescope",
    "minifig leg",
    "umbrella",
    "crown",
    "harpoon",
    "cutlass",
    "whip",
    "stud shooter",
    "ski pole",
    "megaphone",
    "carrot top",
]
BRICK_PHRASES = [
    "headlight brick",
    "masonry brick",
    "round brick",
    "arch brick",
    "1x2 brick with grille",
    "brick with side studs",
    "curved slope brick",
]
USES = [
    "lamp bracket",
    "roof tiles",
    "window shutters",
    "ship railing",
    "tree bark",
    "robot fingers",
    "engine greebles",
    "bookshelf",
    "fence",
    "bird beak",
    "door handle",
    "chimney pot",
    "flower petals",
    "rocket nozzle",
    "chair legs",
    "street light",
    "antenna",
    "waterfall",
    "cobblestones",
    "piano keys",
    "eyelashes",
    "dragon scales",
    "bicycle spokes",
    "rain gutter",
    "sushi",
    "picture frame",
    "teeth",
    "hair",
    "feathers",
    "mailbox",
    "clock hands",
    "gear teeth",
    "stained glass",
    "ladder rungs",
    "wind chimes",
]
THEMES = [
    "castle",
    "space",
    "city",
    "technic",
    "train",
    "pirates",
    "botanical",
    "microscale",
    "steampunk",
    "cyberpunk",
    "western",
    "underwater",
    "fantasy",
    "mecha",
    "winter village",
    "jungle",
    "desert",
    "post-apocalyptic",
]
SCENES = [
    "tavern",
    "lighthouse",
    "workshop",
    "greenhouse",
    "starfighter",
    "cottage",
    "library",
    "market stall",
    "harbour",
    "treehouse",
    "diner",
    "observatory",
    "ballroom",
    "cathedral",
    "dragon",
    "owl",
    "locomotive",
    "hot air balloon",
    "submarine",
    "bakery",
    "garage",
    "throne room",
    "footbridge",
    "windmill",
    "food truck",
    "robot",
    "rover",
    "galleon",
    "barber shop",
    "fire station",
]
ADJECTIVES = [
    "tiny",
    "cozy",
    "abandoned",
    "floating",
    "mossy",
    "rusty",
    "golden",
    "haunted",
    "modular",
    "ancient",
    "neon",
    "snowy",
    "sunken",
    "hidden",
    "crooked",
    "busy",
]
# The second sentence of a description; each brings words of its own, some rare.
REMARKS = [
    "No pieces were cut or glued.",
    "It took three evenings to get the angles right.",
    "Inspired by a walk along the canal last autumn.",
    "Everything came from my loose parts bin.",
    "The colours follow an old postcard my grandmother kept.",
    "A commission for a friend's wedding table.",
    "Built for the monthly club challenge.",
    "Second version: the first one collapsed under its own weight.",
    "The interior is fully furnished, have a look through the windows.",
    "Lit from inside with a tiny battery lamp.",
    "My kids named every minifigure in it.",
    "It rotates on a turntable hidden in the base.",
    "Shown at the regional fan exhibition in spring.",
    "Half of it is held together by a single clip.",
    "Photographed on the kitchen windowsill at sunset.",
    "Twenty-seven parts in total, counting the base.",
    "Nothing is glued; it survives gentle handling.",
    "The mechanism uses a rubber band as a spring.",
    "Feedback welcome, especially on the colour palette.",
    "A sequel to my harbour scene from last year.",
    "The trickiest part was the asymmetric roofline.",
    "Uses an unusual hinge angle nobody noticed at the meetup.",
    "Perfect for a shelf above the desk.",
    "The figures are posed mid-argument about the recipe.",
    "Entirely in earth tones, as a palette exercise.",
]
TECHNIQUE_TAGS = [
    "snot",
    "greebling",
    "nice part usage",
    "studs not on top",
    "vignette",
    "diorama",
    "minifig scale",
    "forced perspective",
    "mosaic",
    "lighting",
    "mechanism",
    "moc",
    "sculpture",
    "landscaping",
    "interior",
    "vehicle",
    "creature",
    "architecture",
    "food",
    "micro build",
]
HIDDEN_REASONS = [
    "Hidden by the owner while rebuilding it.",
    "Taken down until the photos are redone.",
    "Duplicate of a newer upload.",
]
FIRST_NAMES = ["Ada", "Bo", "Cleo", "Dev", "Edda", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kira"]
SURNAMES = ["Studwell", "Plateman", "Tiles", "Hinge", "Clutch", "Axle", "Slope", "Greeble"]
BIOS = [
    "Builds small and sideways.",
    "Parts collector, occasional builder.",
    "Mostly castles; sometimes a spaceship sneaks in.",
    "Returning fan after a long dark age.",
    "Club member, loves a good challenge theme.",
]
PART_SHAPES = ["Plate", "Tile", "Slope", "Bracket", "Panel", "Wedge", "Round Plate", "Hinge"]
COMMENT_OPENINGS = [
    "Love this!",
    "Brilliant use of that part.",
    "I would never have thought of that.",
    "The colours work so well together.",
    "How did you attach the roof?",
    "This made me smile.",
    "Great lighting in the photo.",
    "Such a clever angle.",
    "Is that held by a single clip?",
    "The details reward a second look.",
    "Wonderful build.",
    "That texture is perfect.",
]
COMMENT_REMARKS = [
    "Going to try this in my next build.",
    "Would love to see the back side.",
    "The base alone is a work of art.",
    "Took me a while to spot the trick.",
    "Saving this for inspiration.",
    "It reminds me of a set from my childhood.",
    "Any chance of building instructions?",
    "The minifigures really sell the scene.",
]
REPLY_BODIES = [
    "Thanks! It took a few tries.",
    "Two clips and a bar, hidden behind the wall.",
    "Agreed, that corner is the best part.",
    "Good question, I wondered the same.",
    "Thank you, the photo was the hardest part.",
    "Yes, a single clip holds it all.",
    "Ha, I only noticed it on the third look.",
    "Instructions are on my list.",
]


def copy_text(value: str) -> str:
    """A string as a field of COPY's text format (backslash, tab and line breaks escaped)."""
    return value.translate(COPY_ESCAPES)


def copy_value(value) -> str:
    """A Python value as COPY text, for the model defaults written to columns we don't set."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        return copy_text(value)
    if isinstance(value, list | tuple):
        items = ",".join(json.dumps(item) if isinstance(item, str) else str(item) for item in value)
        return copy_text("{" + items + "}")
    if isinstance(value, dict) or hasattr(value, "obj"):  # psycopg's Jsonb wraps the value
        return copy_text(json.dumps(getattr(value, "obj", value)))
    raise TypeError(f"no COPY text for {value!r}")


class UnknownColumnError(Exception):
    """A NOT NULL column without a default: the generator would need to learn what to write."""


def column_defaults(model, written: set[str], connection) -> list[tuple[str, str]]:
    """The columns `written` leaves out that the database cannot fill by itself, with their
    model default as COPY text.

    Models gain columns over time (a flag, a denormalised field the services fill); a NOT NULL
    column with only a Python default would otherwise make COPY fail. Nullable columns and
    columns with a database default are left to the database.
    """
    extra = []
    for field in model._meta.concrete_fields:
        if field.column in written or field.null or field.db_default is not NOT_PROVIDED:
            continue
        if field.primary_key and isinstance(field, AutoFieldMixin):
            continue
        if not field.has_default():
            raise UnknownColumnError(f"{model._meta.db_table}.{field.column}")
        value = field.get_db_prep_save(field.get_default(), connection)
        extra.append((field.column, copy_value(value)))
    return extra


class Clock:
    """Times as whole seconds after `origin`, written as PostgreSQL timestamp text.

    Formatting a datetime per row would cost more than drawing the row; the text of every day
    and every second of a day is made once instead.
    """

    def __init__(self, now: datetime):
        now = now.astimezone(UTC).replace(microsecond=0)
        self.origin = now - timedelta(days=MEMBERSHIP_DAYS)
        self.now = MEMBERSHIP_DAYS * DAY
        self._start = int(self.origin.timestamp())
        self._first_day = self._start // DAY
        self._days = [
            f"{datetime.fromtimestamp(day * DAY, UTC):%Y-%m-%d} "
            for day in range(self._first_day, self._first_day + MEMBERSHIP_DAYS + 2)
        ]
        self._times = [
            f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+00"
            for second in range(DAY)
        ]

    def text(self, seconds: int) -> str:
        moment = self._start + seconds
        return self._days[moment // DAY - self._first_day] + self._times[moment % DAY]


class Zipf:
    """Draws 0 … n-1 with weights 1 / (k + 1 + offset) ** exponent: a few very often, a long
    tail rarely. `below` restricts a draw to the first indexes, in the same proportions."""

    def __init__(self, n: int, exponent: float, offset: float = 0.0):
        self.cumulative = array(
            "d", accumulate(1.0 / (k + 1 + offset) ** exponent for k in range(n))
        )

    def draw(self, rng: random.Random, below: int | None = None) -> int:
        limit = len(self.cumulative) if below is None else below
        index = bisect_right(self.cumulative, rng.random() * self.cumulative[limit - 1], 0, limit)
        return min(index, limit - 1)

    def distinct(self, rng: random.Random, count: int) -> list[int]:
        """`count` different indexes (at most n), drawn in the same proportions."""
        count = min(count, len(self.cumulative))
        chosen: list[int] = []
        while len(chosen) < count:
            index = self.draw(rng)
            if index not in chosen:
                chosen.append(index)
        return chosen


def mean_count(weights: tuple[int, ...], start: int, limit: int) -> float:
    """The mean of counts start, start+1, … drawn with `weights`, each capped at `limit`."""
    total = sum(weights)
    return sum(min(start + k, limit) * w for k, w in enumerate(weights)) / total


def tag_offset(tag_count: int, tags_per_creation: float) -> float:
    """The Zipf offset that puts the most used tag on about TOP_TAG_SHARE of creations.

    Plain 1/k weights would give the top tag of 2,000 an eighth of all draws, so a third of
    creations (with 2.6 tags each); a few tags have no offset that fits, and get near-even odds.
    """

    def top_share(offset: float) -> float:
        total = sum(1.0 / (k + 1 + offset) ** TAG_EXPONENT for k in range(tag_count))
        first = 1.0 / (1 + offset) ** TAG_EXPONENT / total
        return 1 - (1 - first) ** tags_per_creation

    low, high = 0.0, float(tag_count)
    if top_share(low) <= TOP_TAG_SHARE:
        return low
    for _ in range(30):
        middle = (low + high) / 2
        if top_share(middle) > TOP_TAG_SHARE:
            low = middle
        else:
            high = middle
    return high


def tag_names(count: int, rng: random.Random, normalize) -> list[tuple[str, str]]:
    """`count` distinct (name, slug) pairs, the most popular first and real-sounding.

    Techniques and part names lead, then themes, then combinations ("haunted lighthouse"), then
    numbered variants ("snot 2") for as many as asked. `normalize` is the site's tag rule.
    """
    from django.utils.text import slugify

    head = [*TECHNIQUE_TAGS[:3], *PART_PHRASES[:6], *TECHNIQUE_TAGS[3:], *PART_PHRASES[6:]]
    head += THEMES
    combinations = [f"{adjective} {scene}" for adjective in ADJECTIVES for scene in SCENES]
    combinations += [f"{theme} {scene}" for theme in THEMES for scene in SCENES]
    combinations += [f"{part} {use}" for part in PART_PHRASES for use in USES]
    rng.shuffle(combinations)
    names: list[tuple[str, str]] = []
    seen_names: set[str] = set()
    seen_slugs: set[str] = set()

    def add(name: str) -> None:
        name = normalize(name)
        slug = slugify(name)
        if name not in seen_names and slug and slug not in seen_slugs:
            seen_names.add(name)
            seen_slugs.add(slug)
            names.append((name, slug))

    for name in [*head, *combinations]:
        if len(names) == count:
            return names
        add(name)
    number = 2
    while len(names) < count:
        for name in head:
            if len(names) == count:
                break
            add(f"{name} {number}")
        number += 1
    return names


@dataclass(frozen=True)
class Picture:
    """One stored picture of the shared pool, and its size."""

    image: str
    thumbnail: str
    width: int
    height: int


@dataclass(frozen=True)
class BenchSize:
    """What one run generates."""

    creations: int
    scores: int
    tags: int
    users: int
    parts: int
    pictures: int
    tokens: int
    seed: int
    now: datetime


class BenchData:
    """The rows of one run, table by table, as COPY text lines.

    Call the row generators in the order they appear here: each later table reads what the
    earlier ones decided (the members' join times, the creations' owners and times).
    """

    def __init__(self, size: BenchSize, *, first_user_id: int, password_hash: str):
        self.size = size
        self.clock = Clock(size.now)
        self.first_user_id = first_user_id
        self.password_hash = password_hash
        self.username_width = max(5, len(str(size.users)))
        self.joined = array("q")
        self.created = array("q")
        self.owner = array("l")
        self.main_tag = array("l")
        self.tag_labels: list[str] = []
        self.score_counts: array | None = None
        self.quality = array("d")
        self.comment_counts = array("l")
        self.favourite_counts = array("l")
        self.bench_saves: dict[int, list[int]] = {}
        self.hidden: set[int] = set()
        tags_per_creation = mean_count(TAG_COUNT_WEIGHTS, 1, size.tags)
        self.tag_draw = Zipf(size.tags, TAG_EXPONENT, tag_offset(size.tags, tags_per_creation))
        self.owner_draw = Zipf(size.users, OWNER_EXPONENT)

    def rng(self, table: str) -> random.Random:
        """The random stream of one table: the same for the same seed, whatever else changes."""
        return random.Random(f"npu-bench:{self.size.seed}:{table}")

    def username(self, index: int) -> str:
        return f"{BENCH_USERNAME_PREFIX}{index + 1:0{self.username_width}d}"

    # Members ---------------------------------------------------------------------------------

    USER_COLUMNS = (
        "id",
        "password",
        "is_superuser",
        "username",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "date_joined",
        "email",
        "display_name",
        "bio",
    )

    def users(self, suffix: str = "") -> Iterator[str]:
        """Members in the order they joined (ids too); the first joined 800 days before now."""
        rng = self.rng("users")
        latest = (MEMBERSHIP_DAYS - 1) * DAY
        joins = sorted(rng.randrange(1, latest) for _ in range(self.size.users - 1))
        self.joined = array("q", [0, *joins])
        password = copy_text(self.password_hash)
        for index, joined in enumerate(self.joined):
            username = self.username(index)
            display_name = ""
            if rng.random() < 0.4:
                display_name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            bio = rng.choice(BIOS) if rng.random() < 0.3 else ""
            yield (
                f"{self.first_user_id + index}\t{password}\tf\t{username}\t\t\tf\tt\t"
                f"{self.clock.text(joined)}\t{username}@example.invalid\t{display_name}\t"
                f"{bio}{suffix}\n"
            )

    def user_id(self, index: int) -> int:
        return self.first_user_id + index

    # Tags ------------------------------------------------------------------------------------

    TAG_COLUMNS = ("id", "name", "slug")

    def tags(self, normalize, suffix: str = "") -> Iterator[str]:
        names = tag_names(self.size.tags, self.rng("tags"), normalize)
        self.tag_labels = [name for name, _ in names]
        for index, (name, slug) in enumerate(names):
            yield f"{index + 1}\t{copy_text(name)}\t{copy_text(slug)}{suffix}\n"

    # Creations -------------------------------------------------------------------------------

    CREATION_COLUMNS = (
        "id",
        "owner_id",
        "title",
        "description",
        "alt_text",
        "image",
        "thumbnail",
        "width",
        "height",
        "image_hash",
        "status",
        "hidden_at",
        "hidden_by_moderator",
        "hidden_reason",
        "upload_key",
        "created_at",
        "updated_at",
        "score_count",
        "comment_count",
        "favourite_count",
    )

    def creations(self, pictures: list[Picture], suffix: str = "") -> Iterator[str]:
        """Creations, oldest first (ids follow time), sharing the pictures round-robin.

        Averages and rating stay NULL with score_count 0: the scoring services compute them
        from the scores afterwards, as the check constraint requires. comment_count and
        favourite_count are those of the comments and saves generated later (`plan`).
        """
        rng = self.rng("creations")
        span = HISTORY_DAYS * DAY - NEWEST_CREATION_AGE
        ages = sorted(
            (NEWEST_CREATION_AGE + int(span * rng.random() ** AGE_SKEW))
            for _ in range(self.size.creations)
        )
        self.created = array("q", (self.clock.now - age for age in reversed(ages)))
        del ages
        self.plan()
        comment_counts, favourite_counts = self.comment_counts, self.favourite_counts
        self.owner = array("l")
        self.main_tag = array("l")
        pool = [
            (copy_text(p.image), copy_text(p.thumbnail), f"{p.width}\t{p.height}") for p in pictures
        ]
        curated = set(PART_PHRASES)
        for index, created in enumerate(self.created):
            # Only members who had joined an hour before may have uploaded it.
            members = bisect_right(self.joined, created - 3_600)
            owner = self.owner_draw.draw(rng, below=max(1, members))
            main_tag = self.tag_draw.draw(rng)
            self.owner.append(owner)
            self.main_tag.append(main_tag)
            tag = self.tag_labels[main_tag]
            part = tag if tag in curated else rng.choice(PART_PHRASES)
            if rng.random() < BRICK_SHARE:
                part = rng.choice(BRICK_PHRASES)
            use = "chandelier" if rng.random() < CHANDELIER_SHARE else rng.choice(USES)
            theme, scene = rng.choice(THEMES), rng.choice(SCENES)
            title = self._title(rng, part, use, theme, scene)
            description = f"A {theme} {scene} where the {part} becomes the {use}."
            if rng.random() < 0.7:
                description += " " + rng.choice(REMARKS)
            if rng.random() < 0.25:
                description += " " + rng.choice(REMARKS)
            alt_text = ""
            if rng.random() < 0.85:
                alt_text = f"A {theme} {scene} in which a {part} is used as the {use}."
            image, thumbnail, dimensions = pool[index % len(pool)]
            timestamp = self.clock.text(created)
            status, hidden_at, hidden_reason = "published", r"\N", ""
            if rng.random() < HIDDEN_SHARE:
                # Hidden by its owner: no moderator, no hidden_by.
                status = "hidden"
                self.hidden.add(index)
                hidden_at = self.clock.text(
                    created + int((self.clock.now - created) * rng.random())
                )
                hidden_reason = rng.choice(HIDDEN_REASONS)
            # hidden_by_moderator false, upload_key empty, score_count 0.
            yield (
                f"{index + 1}\t{self.user_id(owner)}\t{copy_text(title)}\t"
                f"{copy_text(description)}\t{copy_text(alt_text)}\t{image}\t{thumbnail}\t"
                f"{dimensions}\t{rng.getrandbits(128):032x}\t{status}\t{hidden_at}\tf\t"
                f"{hidden_reason}\t\t{timestamp}\t{timestamp}\t0\t{comment_counts[index]}\t"
                f"{favourite_counts[index]}{suffix}\n"
            )

    @staticmethod
    def _title(rng: random.Random, part: str, use: str, theme: str, scene: str) -> str:
        shape = rng.randrange(5)
        if shape == 0:
            title = f"{part} as {use}"
        elif shape == 1:
            title = f"{part} {use} ({theme})"
        elif shape == 2:
            title = f"{rng.choice(ADJECTIVES)} {scene} with {part} {use}"
        elif shape == 3:
            title = f"{theme} {scene}: {part} {use}"
        else:
            title = f"{use} from a {part}"
        return (title[0].upper() + title[1:])[:120]

    # Tags and parts of each creation ---------------------------------------------------------

    TAGGED_ITEM_COLUMNS = ("id", "object_id", "content_type_id", "tag_id")

    def taggings(self, content_type_id: int, suffix: str = "") -> Iterator[str]:
        """1 to 6 different tags per creation, its main tag (the one its title may name) first."""
        rng = self.rng("taggings")
        counts = range(1, len(TAG_COUNT_WEIGHTS) + 1)
        row_id = 0
        for index, main_tag in enumerate(self.main_tag):
            wanted = min(rng.choices(counts, weights=TAG_COUNT_WEIGHTS)[0], self.size.tags)
            chosen = [main_tag]
            while len(chosen) < wanted:
                tag = self.tag_draw.draw(rng)
                if tag not in chosen:
                    chosen.append(tag)
            for tag in chosen:
                row_id += 1
                yield f"{row_id}\t{index + 1}\t{content_type_id}\t{tag + 1}{suffix}\n"

    CREATION_PART_COLUMNS = ("id", "creation_id", "part_id")

    def creation_parts(self, part_numbers: list[str], suffix: str = "") -> Iterator[str]:
        """0 to 4 different parts per creation, the first of `part_numbers` most often."""
        if not part_numbers:
            return
        rng = self.rng("creation-parts")
        draw = Zipf(len(part_numbers), PART_EXPONENT, PART_OFFSET)
        numbers = [copy_text(number) for number in part_numbers]
        counts = range(len(PART_COUNT_WEIGHTS))
        row_id = 0
        for index in range(len(self.created)):
            wanted = rng.choices(counts, weights=PART_COUNT_WEIGHTS)[0]
            for part in draw.distinct(rng, wanted):
                row_id += 1
                yield f"{row_id}\t{index + 1}\t{numbers[part]}{suffix}\n"

    # Scores ----------------------------------------------------------------------------------

    SCORE_COLUMNS = (
        "id",
        "creativity",
        "uniqueness",
        "created_at",
        "updated_at",
        "creation_id",
        "user_id",
    )

    def plan(self) -> None:
        """Decide, once, how many scores, comments and saves each creation gets (the
        creations' rows carry the counts, the later tables make exactly that many rows), and
        which creations the benchmark's members saved."""
        if self.score_counts is not None:
            return
        self.score_counts, self.quality = self.score_plan()
        rng = self.rng("community-plan")
        count = len(self.created)
        members = min(self.size.tokens, self.size.users)
        self.bench_saves = {}
        for member in range(members):
            for index in rng.sample(range(count), min(BENCH_FAVOURITES, count)):
                self.bench_saves.setdefault(index, []).append(member)

        def drawn(expected: float) -> int:
            whole = int(expected)
            return whole + (1 if rng.random() < expected - whole else 0)

        self.comment_counts = array(
            "l", (drawn(scores * COMMENTS_PER_SCORE) for scores in self.score_counts)
        )
        cap = self.size.users - 1
        self.favourite_counts = array("l")
        for index, scores in enumerate(self.score_counts):
            saved_by_bench = len(self.bench_saves.get(index, ()))
            others = min(drawn(scores * FAVOURITES_PER_SCORE), max(0, cap - saved_by_bench))
            self.favourite_counts.append(others + saved_by_bench)

    def score_plan(self) -> tuple[array, array]:
        """How many scores each creation gets (exactly `scores` in all) and how good it is.

        A creation's weight is an exponential draw (most get a handful, some none) plus a Zipf
        head over a random popularity order (a few get hundreds), times how long it has been
        online. Counts are capped at the members who can score it (all but its owner).
        """
        rng = self.rng("score-plan")
        count = len(self.created)
        cap = self.size.users - 1
        popularity = array("l", range(count))
        rng.shuffle(popularity)
        exposure = array(
            "d",
            (
                min(1.0, max(0.05, (self.clock.now - created) / (EXPOSURE_DAYS * DAY)))
                for created in self.created
            ),
        )
        spread = array("d", (rng.expovariate(1.0) * weight for weight in exposure))
        head = array(
            "d",
            (
                weight / (rank + 1) ** HEAD_EXPONENT
                for weight, rank in zip(exposure, popularity, strict=True)
            ),
        )
        head_scale = HEAD_SHARE / (1 - HEAD_SHARE) * sum(spread) / sum(head)
        weights = array("d", (a + b * head_scale for a, b in zip(spread, head, strict=True)))
        del spread, head, exposure
        total_weight = sum(weights)
        counts = array("l")
        for weight in weights:
            expected = self.size.scores * weight / total_weight
            whole = int(expected)
            if rng.random() < expected - whole:
                whole += 1
            counts.append(min(whole, cap))
        cumulative = array("d", accumulate(weights))
        del weights
        settle(rng, counts, cumulative, self.size.scores, cap)
        loved = max(1, int(count * LOVED_SHARE))
        quality = array(
            "d",
            (
                min(4.9, max(1.2, rng.gauss(3.1, 0.7) + (0.9 if rank < loved else 0.0)))
                for rank in popularity
            ),
        )
        return counts, quality

    def scores(self, suffix: str = "") -> Iterator[str]:
        """Each creation's scores by different members, never its owner, after it appeared
        and after the member joined; mostly soon after, some at any time up to now.

        The hot loop of a run (ten million times for a large one), so what can be worked out
        once per creation is: the odds of each (creativity, uniqueness) pair, the delay limits.
        """
        self.plan()
        counts, quality = self.score_counts, self.quality
        rng = self.rng("scores")
        users = range(self.size.users)
        now = self.clock.now
        moment_text = self.clock.text
        joined = self.joined
        soon = SOON_DAYS * DAY
        uniform, sample, log, exp = rng.random, rng.sample, math.log, math.exp
        user_ids = [str(self.first_user_id + user) for user in users]
        pairs = [f"{c}\t{u}" for c in range(1, 6) for u in range(1, 6)]
        last_pair = len(pairs) - 1
        score_id = 0
        for index, wanted in enumerate(counts):
            if not wanted:
                continue
            owner = self.owner[index]
            raters = [user for user in sample(users, min(wanted + 1, len(users))) if user != owner]
            odds = pair_odds(
                quality[index] + rng.gauss(0, 0.35), quality[index] + rng.gauss(0, 0.45)
            )
            created = self.created[index]
            tail = f"\t{index + 1}\t"
            for user in raters[:wanted]:
                start = max(created, joined[user]) + FIRST_SCORE_DELAY
                span = now - start
                draw = uniform()
                if draw < SOON_SHARE:
                    # An exponential delay, cut off at now without piling up there.
                    fraction = draw / SOON_SHARE
                    delay = -soon * log(1 - fraction * (1 - exp(-span / soon)))
                else:
                    delay = (draw - SOON_SHARE) / (1 - SOON_SHARE) * span
                moment = moment_text(start + min(int(delay), span - 1))
                pair = pairs[min(bisect_right(odds, uniform()), last_pair)]
                score_id += 1
                yield f"{score_id}\t{pair}\t{moment}\t{moment}{tail}{user_ids[user]}{suffix}\n"

    # API tokens ------------------------------------------------------------------------------

    TOKEN_COLUMNS = ("key", "user_id", "created")

    def tokens(self, suffix: str = "") -> Iterator[str]:
        """A token for each of the first members, from the seed: the benchmark's writers."""
        rng = self.rng("tokens")
        created = self.clock.text(self.clock.now)
        for index in range(self.size.tokens):
            yield f"{rng.getrandbits(160):040x}\t{self.user_id(index)}\t{created}{suffix}\n"

    # The community ---------------------------------------------------------------------------

    FOLLOW_COLUMNS = ("id", "follower_id", "followed_user_id", "tag_id", "created_at")

    def _follow_plan(self) -> Iterator[tuple[int, int, int | None, int | None, int]]:
        """(id, follower, followed member or None, tag or None, when) of every follow, by
        member index and tag index; the same every time it is asked for."""
        rng = self.rng("follows")
        members = range(len(FOLLOWED_MEMBER_WEIGHTS))
        tags = range(len(FOLLOWED_TAG_WEIGHTS))
        now, joined = self.clock.now, self.joined
        follow_id = 0
        for follower in range(self.size.users):
            if follower < self.size.tokens:
                wanted_members, wanted_tags = BENCH_FOLLOWED_MEMBERS, BENCH_FOLLOWED_TAGS
            else:
                wanted_members = rng.choices(members, weights=FOLLOWED_MEMBER_WEIGHTS)[0]
                wanted_tags = rng.choices(tags, weights=FOLLOWED_TAG_WEIGHTS)[0]
            wanted_members = min(wanted_members, self.size.users - 1)
            # Prolific members are followed more, as they are seen more.
            followed = [
                member
                for member in self.owner_draw.distinct(rng, wanted_members + 1)
                if member != follower
            ][:wanted_members]
            for member in followed:
                start = max(joined[follower], joined[member])
                follow_id += 1
                yield follow_id, follower, member, None, start + int((now - start) * rng.random())
            for tag in self.tag_draw.distinct(rng, min(wanted_tags, self.size.tags)):
                start = joined[follower]
                follow_id += 1
                yield follow_id, follower, None, tag, start + int((now - start) * rng.random())

    def follows(self, suffix: str = "") -> Iterator[str]:
        """Whom and what members follow: a few members each (the prolific ones most), a tag or
        two; the benchmark's members BENCH_FOLLOWED_MEMBERS members and BENCH_FOLLOWED_TAGS tags."""
        text = self.clock.text
        for follow_id, follower, member, tag, moment in self._follow_plan():
            followed = r"\N" if member is None else str(self.user_id(member))
            tag_id = r"\N" if tag is None else str(tag + 1)
            yield (
                f"{follow_id}\t{self.user_id(follower)}\t{followed}\t{tag_id}\t"
                f"{text(moment)}{suffix}\n"
            )

    FAVOURITE_COLUMNS = ("id", "user_id", "creation_id", "created_at")

    def favourites(self, suffix: str = "") -> Iterator[str]:
        """Each creation's saves (as many as its favourite_count), by different members other
        than its owner, after it appeared and the member joined; the benchmark's members'
        saves among them."""
        self.plan()
        rng = self.rng("favourites")
        users = range(self.size.users)
        now, joined, text = self.clock.now, self.joined, self.clock.text
        favourite_id = 0
        for index, wanted in enumerate(self.favourite_counts):
            if not wanted:
                continue
            bench = self.bench_saves.get(index, [])
            others = wanted - len(bench)
            owner = self.owner[index]
            excluded = {owner, *bench}
            drawn = rng.sample(users, min(others + len(excluded), len(users)))
            savers = bench + [user for user in drawn if user not in excluded][:others]
            created = self.created[index]
            for user in savers:
                start = max(created, joined[user]) + FIRST_SCORE_DELAY
                moment = start + min(after(rng.random(), now - start), now - start - 1)
                favourite_id += 1
                yield (
                    f"{favourite_id}\t{self.user_id(user)}\t{index + 1}\t{text(moment)}{suffix}\n"
                )

    COMMENT_COLUMNS = ("id", "creation_id", "parent_id", "user_id", "body", "created_at")

    def _comment_plan(self) -> Iterator[tuple]:
        """(id, creation index, parent id or None, author, parent's author or None, when,
        body) of every comment, thread by thread; the same every time it is asked for.

        A thread's comments come in time order (ids too); after the first, some are replies
        to an earlier top-level comment, some by the creation's owner.
        """
        self.plan()
        rng = self.rng("comments")
        users = self.size.users
        now, joined = self.clock.now, self.joined
        comment_id = 0
        for index, wanted in enumerate(self.comment_counts):
            if not wanted:
                continue
            owner, created = self.owner[index], self.created[index]
            drafts = []
            for _ in range(wanted):
                author = owner if rng.random() < OWNER_COMMENT_SHARE else rng.randrange(users)
                start = max(created, joined[author]) + FIRST_SCORE_DELAY
                span = max(1, now - start)
                drafts.append((start + min(after(rng.random(), span), span - 1), author))
            drafts.sort()
            top_level: list[tuple[int, int]] = []  # (id, author)
            for moment, author in drafts:
                comment_id += 1
                if top_level and rng.random() < REPLY_SHARE:
                    parent_id, parent_author = rng.choice(top_level)
                    body = rng.choice(REPLY_BODIES)
                    if parent_author != author and rng.random() < MENTION_SHARE:
                        body = f"@{self.username(parent_author)} {body}"
                    yield comment_id, index, parent_id, author, parent_author, moment, body
                else:
                    body = rng.choice(COMMENT_OPENINGS)
                    if rng.random() < 0.5:
                        body += " " + rng.choice(COMMENT_REMARKS)
                    top_level.append((comment_id, author))
                    yield comment_id, index, None, author, None, moment, body

    def comments(self, suffix: str = "") -> Iterator[str]:
        """Each creation's thread: as many live comments as its comment_count."""
        text = self.clock.text
        for comment_id, index, parent_id, author, _, moment, body in self._comment_plan():
            parent = r"\N" if parent_id is None else str(parent_id)
            yield (
                f"{comment_id}\t{index + 1}\t{parent}\t{self.user_id(author)}\t"
                f"{copy_text(body)}\t{text(moment)}{suffix}\n"
            )

    NOTIFICATION_COLUMNS = (
        "id",
        "recipient_id",
        "kind",
        "actor_id",
        "creation_id",
        "comment_id",
        "count",
        "reason",
        "source",
        "created_at",
        "updated_at",
        "read_at",
        "emailed_at",
    )

    def notifications(self, suffix: str = "") -> Iterator[str]:
        """What community.notifications makes of the comments and follows: the owner hears of
        a comment by someone else, the parent's author of a reply (once each; nobody about a
        hidden creation but its owner), a member of a new follower. Read after a while, or
        not yet; comments and replies mailed in the next digest unless read first. (No score
        notifications: the bench's scores are not events.)"""
        rng = self.rng("notifications")
        now, text = self.clock.now, self.clock.text
        hidden = self.hidden
        notification_id = 0

        def row(recipient, kind, actor, creation, comment, source, moment, mailed=True) -> str:
            nonlocal notification_id
            notification_id += 1
            read = moment + int(rng.expovariate(1.0) * READ_DAYS * DAY)
            read_text = text(read) if read < now else r"\N"
            mail = (moment // DIGEST_SECONDS + 1) * DIGEST_SECONDS
            mail_text = text(mail) if mailed and mail < min(read, now) else r"\N"
            stamp = text(moment)
            return (
                f"{notification_id}\t{self.user_id(recipient)}\t{kind}\t{self.user_id(actor)}\t"
                f"{creation}\t{comment}\t1\t\t{source}\t{stamp}\t{stamp}\t{read_text}\t"
                f"{mail_text}{suffix}\n"
            )

        for comment_id, index, parent_id, author, parent_author, moment, _ in self._comment_plan():
            owner = self.owner[index]
            told = {author}
            source = f"comment:{comment_id}"
            if parent_id is not None and parent_author not in told and index not in hidden:
                told.add(parent_author)
                yield row(parent_author, "reply", author, index + 1, comment_id, source, moment)
            if owner not in told:
                yield row(owner, "comment", author, index + 1, comment_id, source, moment)
        for follow_id, follower, member, _, moment in self._follow_plan():
            if member is not None:
                source = f"follow:{follow_id}"
                yield row(member, "follower", follower, r"\N", r"\N", source, moment, mailed=False)


def after(draw: float, span: int) -> int:
    """Seconds after a start for something that mostly happens soon (an exponential delay,
    mean SOON_DAYS, cut off at `span` without piling up there), otherwise at any time within
    `span`; `draw` is uniform in [0, 1)."""
    if draw < SOON_SHARE:
        soon = SOON_DAYS * DAY
        fraction = draw / SOON_SHARE
        return int(-soon * math.log(1 - fraction * (1 - math.exp(-span / soon))))
    return int((draw - SOON_SHARE) / (1 - SOON_SHARE) * span)


def pair_odds(creativity_mean: float, uniqueness_mean: float) -> list[float]:
    """Cumulative odds of the 25 (creativity, uniqueness) pairs, in the order 1/1, 1/2 … 5/5,
    for values drawn from normal curves around the means (spread 0.8 and 0.9), rounded and
    kept within 1 to 5."""

    def odds(mean: float, spread: float) -> list[float]:
        below = [
            0.5 * (1 + math.erf((edge - mean) / (spread * math.sqrt(2))))
            for edge in (1.5, 2.5, 3.5, 4.5)
        ]
        edges = [0.0, *below, 1.0]
        return [edges[k + 1] - edges[k] for k in range(5)]

    return list(
        accumulate(c * u for c in odds(creativity_mean, 0.8) for u in odds(uniqueness_mean, 0.9))
    )


def settle(rng: random.Random, counts: array, cumulative: array, target: int, cap: int) -> None:
    """Add or remove single scores, drawn by weight, until the counts sum to `target`."""
    total = sum(counts)
    population = range(len(counts))
    while total != target:
        missing = target - total
        picks = rng.choices(population, cum_weights=cumulative, k=min(abs(missing), 1_000_000))
        changed = 0
        for index in picks:
            if total == target:
                break
            if missing > 0 and counts[index] < cap:
                counts[index] += 1
                total += 1
                changed += 1
            elif missing < 0 and counts[index] > 0:
                counts[index] -= 1
                total -= 1
                changed += 1
        if not changed:
            # Nearly every creation is full (or empty): fill (or drain) them in order.
            step = 1 if missing > 0 else -1
            for index in population:
                while total != target and 0 <= counts[index] + step <= cap:
                    counts[index] += step
                    total += step


def bench_part_number(part_num: str) -> int | None:
    """n for a generated part `bench-n`, else None."""
    match = re.fullmatch(r"bench-([0-9]+)", part_num)
    return int(match.group(1)) if match else None
