"""Property-based tests (Hypothesis) for the parsers of outside text, and a stateful test that
drives the REST API as several members at once and checks the invariants after every step.

Everything is derandomised and uses no example database, so CI sees the same examples on
every run and nothing is written to `.hypothesis/`.
"""

import math
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from unittest import mock
from urllib.parse import quote

import hypothesis
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.services import user_set_moderator
from creations.models import Creation
from creations.tagging import tag_normalize, tags_parse
from moderation.models import Report
from npu_site.text import comma_separated, search_text, validate_line, validate_text
from parts.selectors import part_numbers_parse
from scoring.models import Score
from tests.conftest import client_for
from tests.factories import CreationFactory, UserFactory
from tests.images import image_bytes

PARSERS = hypothesis.settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# For the tests that draw many valid tags per example, which take longer to generate.
FEWER = hypothesis.settings(PARSERS, max_examples=100)


# Strategies -----------------------------------------------------------------------------------

# Characters the parsers treat specially: separators, every kind of whitespace (including the
# control characters Python counts as whitespace), NUL and other controls, bidi overrides,
# zero-width characters, lone surrogates, private use, unassigned, and letters whose case
# mapping changes their length.
TRICKY = (
    ", \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2028\u2029\u3000"
    "\x00\x07\x7f\u200b\u200c\u200d\u202e\u2066\ufeff\ud800\udfff\ue000\u0378"
    "İßẞſﬁΣς-!.'aAzZ09"
)
ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates and unassigned included
CHARACTERS = st.one_of(st.sampled_from(TRICKY), ANY_CHARACTER)
TEXT = st.text(alphabet=CHARACTERS, max_size=80)
# Comma-separated strings with many pieces, and lists whose items may hold commas.
LISTISH = st.lists(st.text(alphabet=CHARACTERS, max_size=12), max_size=15)
COMMA_SEPARATED = LISTISH.map(",".join)
LIST_INPUT = st.one_of(TEXT, COMMA_SEPARATED, LISTISH)


def _normalized_or_none(text: str) -> str | None:
    try:
        return tag_normalize(text)
    except ValidationError:
        return None


# A valid tag, as tag_normalize gives it: words of letters, digits and a little punctuation.
WORD = st.text(
    alphabet=st.one_of(
        st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-'.&+"),
        st.characters(categories=["L", "N"]),
    ),
    min_size=1,
    max_size=8,
)
VALID_TAG = (
    st.lists(WORD, min_size=1, max_size=4)
    .map(" ".join)
    .map(_normalized_or_none)
    .filter(lambda tag: tag is not None)
)
WHITESPACE_RUN = st.text(alphabet=st.sampled_from(" \t\xa0\u3000\u2028"), min_size=1, max_size=3)


@st.composite
def spelling_of(draw, tag: str) -> str:
    """Another spelling of `tag`: letters in other cases, other whitespace inside and around."""
    letters = []
    for character in tag:
        if character == " ":
            letters.append(draw(WHITESPACE_RUN))
        # Only case changes that lower() undoes: "ß".upper() is "SS", which is another tag.
        elif character.upper().lower() == character and draw(st.booleans()):
            letters.append(character.upper())
        else:
            letters.append(character)
    padding = st.text(alphabet=st.sampled_from(" \t\xa0"), max_size=2)
    return draw(padding) + "".join(letters) + draw(padding)


def _is_other(character: str) -> bool:
    return unicodedata.category(character).startswith("C")


def _pieces(value) -> list[str]:
    """What comma_separated should give, written out the obvious way (no limit)."""
    items = [value] if isinstance(value, str) else value
    pieces = [piece.strip() for item in items for piece in str(item).split(",")]
    return list(dict.fromkeys(piece for piece in pieces if piece))


def _guarded(items: list[str], readable: int):
    """Yield `items`, failing the test if anything reads past item number `readable`."""
    for position, item in enumerate(items):
        assert position < readable, f"the parser read item {position + 1} of {len(items)}"
        yield item


# Tags -----------------------------------------------------------------------------------------


@PARSERS
@given(LIST_INPUT)
@example("Technic Pin, technic  pin ,TECHNIC\tPIN,,")
@example(["İstanbul", "STRASSE", "straße", "ﬁ"])
@example("a" * 50 + "," + "b" * 51)
@example("\ud800, \u202e, \u200b, \u200d")
def test_tags_parse_returns_clean_distinct_tags_or_refuses(value):
    try:
        tags = tags_parse(value)
    except ValidationError:
        return
    assert len(tags) <= django_settings.NPU_MAX_TAGS, f"more than 10 tags: {tags!r}"
    assert len(set(tags)) == len(tags), f"duplicate tags: {tags!r}"
    for tag in tags:
        assert tag_normalize(tag) == tag, f"{tag!r} is not normalised"
        assert tag == tag.lower(), f"{tag!r} is not lower-case"
        assert tag == " ".join(tag.split()), f"{tag!r} is not trimmed and single-spaced"
        assert 1 <= len(tag) <= django_settings.NPU_MAX_TAG_LENGTH, f"{tag!r}: bad length"
        assert not any(map(_is_other, tag)), f"{tag!r} holds a control/format/surrogate char"
        assert any(character.isalnum() for character in tag), f"{tag!r} has no letter or digit"
        assert "," not in tag, f"{tag!r} holds a comma"


@PARSERS
@given(LIST_INPUT)
def test_tags_parse_agrees_with_the_rules_written_out(value):
    """Refused exactly when there are more than 10 distinct pieces or one piece is not a tag;
    otherwise the normalised pieces, first spelling first."""
    pieces = _pieces(value)
    normalized = [_normalized_or_none(piece) for piece in pieces]
    should_refuse = len(pieces) > django_settings.NPU_MAX_TAGS or None in normalized
    try:
        tags = tags_parse(value)
    except ValidationError:
        assert should_refuse, f"tags_parse refused {value!r}, whose pieces are all tags"
        return
    assert not should_refuse, f"tags_parse accepted {value!r} as {tags!r}"
    assert tags == list(dict.fromkeys(normalized))


@PARSERS
@given(LIST_INPUT)
def test_tags_parse_is_idempotent(value):
    try:
        tags = tags_parse(value)
    except ValidationError:
        return
    assert tags_parse(tags) == tags, "parsing parsed tags changed them"
    assert tags_parse(", ".join(tags)) == tags, "parsing the joined tags changed them"


@PARSERS
@given(LISTISH)
def test_a_list_and_its_comma_joined_string_parse_alike(items):
    def outcome(value):
        try:
            return ("tags", tags_parse(value))
        except ValidationError as error:
            return ("refused", error.messages)

    assert outcome(items) == outcome(",".join(items))


@FEWER
@given(
    st.lists(VALID_TAG, max_size=10, unique=True).flatmap(
        lambda tags: st.tuples(
            st.just(tags),
            st.permutations(tags).flatmap(
                lambda shuffled: st.tuples(*(spelling_of(tag) for tag in shuffled))
            ),
        )
    )
)
def test_order_case_and_whitespace_variants_give_the_same_tags(tags_and_spellings):
    tags, spellings = tags_and_spellings
    spellings = list(spellings)
    assert tags_parse(tags) == tags
    assert set(tags_parse(spellings)) == set(tags), f"{spellings!r} are not {tags!r}"
    assert tags_parse(",".join(spellings)) == tags_parse(spellings)


def test_the_limit_counts_values_as_typed_before_they_are_normalised():
    # Documented in tags_parse: the bound is applied to the pieces as sent, before any work.
    spellings = ["tag", "Tag", "TAG", "tAg", "taG", "TAg", "tAG", "TaG", "t a", "T A", "T  A"]
    with pytest.raises(ValidationError, match="At most 10"):
        tags_parse(spellings)
    assert tags_parse(spellings[:10]) == ["tag", "t a"]


@FEWER
@given(st.lists(VALID_TAG, min_size=11, max_size=25, unique=True))
def test_more_than_ten_distinct_tags_is_refused_after_reading_eleven(tags):
    with mock.patch("creations.tagging.tag_normalize", wraps=tag_normalize) as normalize:
        with pytest.raises(ValidationError) as refused:
            tags_parse(_guarded(tags, readable=11))
    assert refused.value.code == "too_many"
    assert "At most 10 tags" in refused.value.messages[0]
    assert not normalize.called, "tags were normalised before the count was refused"


# Part numbers ---------------------------------------------------------------------------------

# Part numbers near the 250-character cut, with whitespace where the cut falls.
LONG_PART_NUMBER = st.builds(
    lambda length, gap, tail: "7" * length + gap + tail,
    st.integers(min_value=240, max_value=260),
    WHITESPACE_RUN,
    st.text(alphabet=CHARACTERS, min_size=1, max_size=5),
)
PART_INPUT = st.one_of(LIST_INPUT, st.lists(st.one_of(LONG_PART_NUMBER, TEXT), max_size=12))


@PARSERS
@given(PART_INPUT)
@example(["3001", " 3001 ", "Brick  2 x 4", "brick 2 x 4"])
@example("3001\x00, 3020")
def test_part_numbers_parse_returns_bounded_clean_values_or_refuses(value):
    try:
        numbers = part_numbers_parse(value)
    except ValidationError:
        return
    assert len(numbers) <= django_settings.NPU_MAX_PARTS, f"more than 10 parts: {numbers!r}"
    assert len(set(numbers)) == len(numbers), f"duplicate part numbers: {numbers!r}"
    for number in numbers:
        assert 1 <= len(number) <= 250, f"{number[:30]!r}…: bad length {len(number)}"
        assert not any(map(_is_other, number)), f"{number!r} holds a control character"
        assert number == number.lstrip(), f"{number!r} starts with whitespace"
        # Inner whitespace is single spaces (the end is the next test's business).
        assert " ".join(number.split()) == number.rstrip(), f"{number!r}: whitespace kept"
        assert "," not in number


@PARSERS
@given(PART_INPUT)
@example("a" * 249 + " b")
def test_part_numbers_have_no_trailing_space_after_the_250_character_cut(value):
    try:
        numbers = part_numbers_parse(value)
    except ValidationError:
        return
    for number in numbers:
        assert number == number.strip(), (
            f"BUG: part_numbers_parse cuts at 250 characters after collapsing whitespace, so "
            f"{number[-10:]!r} (length {len(number)}) ends with a space; "
            f"parsing it again gives {part_numbers_parse([number])[0][-10:]!r}"
        )
    assert part_numbers_parse(numbers) == numbers, "parsing parsed part numbers changed them"


@PARSERS
@given(PART_INPUT)
@example("1" * 250 + "\x00")
def test_part_numbers_are_refused_exactly_when_a_piece_holds_a_control_character(value):
    """Refused when there are more than 10 distinct pieces or a piece holds a control (format,
    surrogate...) character other than whitespace, which is collapsed; accepted otherwise."""
    pieces = _pieces(value)
    holds_control = any(_is_other(c) and not c.isspace() for piece in pieces for c in piece)
    should_refuse = len(pieces) > django_settings.NPU_MAX_PARTS or holds_control
    try:
        numbers = part_numbers_parse(value)
    except ValidationError:
        assert should_refuse, f"part_numbers_parse refused {value!r}"
        return
    assert not should_refuse, (
        f"part_numbers_parse accepted {value!r} as {numbers!r}, though a piece holds a control "
        f"character. (BUG when it is past character 250: the piece is cut at 250 characters "
        f"before it is checked, so the control character is dropped, not refused.)"
    )


# Part numbers as Rebrickable writes them: 3001, 3626cpr0001, 973c01.
PART_NUMBER = st.builds(
    "{}{}".format, st.integers(1, 99999), st.sampled_from(["", "a", "b", "c01", "cpr0001"])
)


@PARSERS
@given(st.lists(PART_NUMBER, min_size=11, max_size=40, unique=True))
def test_more_than_ten_part_numbers_is_refused_after_reading_eleven(numbers):
    with pytest.raises(ValidationError) as refused:
        part_numbers_parse(_guarded(numbers, readable=11))
    assert refused.value.code == "too_many"
    assert "At most 10 parts" in refused.value.messages[0]


# comma_separated ------------------------------------------------------------------------------


@PARSERS
@given(st.one_of(st.none(), LIST_INPUT), st.integers(min_value=0, max_value=12))
def test_comma_separated_gives_distinct_non_blank_pieces_in_first_seen_order(value, limit):
    expected = [] if value is None else _pieces(value)
    try:
        pieces = comma_separated(value, limit=limit, noun="things")
    except ValidationError as refused:
        assert len(expected) > limit, f"refused {len(expected)} pieces with a limit of {limit}"
        assert refused.code == "too_many"
        assert f"At most {limit} things" in refused.messages[0]
        return
    assert len(pieces) <= limit
    assert all(piece and piece == piece.strip() for piece in pieces), f"blank: {pieces!r}"
    assert len(set(pieces)) == len(pieces), f"duplicates: {pieces!r}"
    assert pieces == expected, "pieces missing, added or out of first-seen order"


@PARSERS
@given(st.lists(st.text(alphabet="abc,", max_size=4), max_size=30), st.integers(0, 12))
def test_comma_separated_stops_reading_at_the_piece_over_the_limit(items, limit):
    """An iterator of items is read only as far as the item holding piece number limit+1."""
    expected = _pieces(items)
    if len(expected) <= limit:
        assert comma_separated(iter(items), limit=limit, noun="things") == expected
        return
    over = expected[limit]  # the first piece over the limit
    readable = next(
        position + 1
        for position, item in enumerate(items)
        if over in [piece.strip() for piece in item.split(",")]
    )
    with pytest.raises(ValidationError):
        comma_separated(_guarded(items, readable=readable), limit=limit, noun="things")


# Stored text ----------------------------------------------------------------------------------


def _first_refused(text: str, allowed: str) -> str | None:
    return next((c for c in text if _is_other(c) and c not in allowed), None)


@PARSERS
@given(st.text(alphabet=CHARACTERS, max_size=30))
@example("")
@example("zero\u200dwidth\u200cjoiners")
@example("two\nlines")
@example("tab\there")
@example("\ud800")
@example("\U000e0001")
def test_validate_line_and_validate_text_refuse_exactly_the_other_characters(text):
    for validator, allowed in (
        (validate_line, "\u200c\u200d"),
        (validate_text, "\u200c\u200d\n\r\t"),
    ):
        refused = _first_refused(text, allowed)
        try:
            validator(text)
        except ValidationError as error:
            assert refused is not None, f"{validator} refused {text!r}, which is plain text"
            assert error.code == "control_character"
            assert error.params["character"].startswith(f"U+{ord(refused):04X}"), (
                "the message names the wrong character"
            )
        else:
            assert refused is None, f"{validator} accepted {refused!r} in {text!r}"


@PARSERS
@given(TEXT, st.integers(min_value=1, max_value=100))
def test_search_text_is_single_spaced_plain_text_within_the_limit(text, limit):
    query = search_text(text, limit)
    assert len(query) <= limit
    assert not any(map(_is_other, query)), f"{query!r} holds a control character"
    assert query == query.lstrip() and "  " not in query
    assert " ".join(query.split()) == query.rstrip(), f"{query!r}: other whitespace kept"


# List filters through the API -----------------------------------------------------------------

API_READS = hypothesis.settings(PARSERS, max_examples=60)
FILTER_VALUES = st.lists(st.text(alphabet=CHARACTERS, max_size=12), min_size=1, max_size=12)


def _query(parameters: list[tuple[str, str]]) -> str:
    """A query string, percent-encoded as a browser would; a lone surrogate goes as the bytes
    Python's surrogatepass gives, which the server can only decode as U+FFFD."""
    return "&".join(
        f"{quote(name)}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"
        for name, value in parameters
    )


def _as_received(value: str) -> str:
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _refused_by(parser, values: list[str]) -> bool:
    try:
        parser([value for value in values if value])  # the widget drops empty values
    except ValidationError:
        return True
    return False


@pytest.mark.django_db
def test_list_filters_answer_200_or_a_400_naming_the_parameter(settings, catalog):
    settings.RATELIMIT_ENABLE = False
    CreationFactory(tags=("castle", "technic pin"), parts=["3001"])
    anonymous = client_for(None)

    @API_READS
    @given(
        tags=st.one_of(st.just([]), FILTER_VALUES),
        parts=st.one_of(st.just([]), FILTER_VALUES),
        others=st.lists(
            st.tuples(
                st.sampled_from(["q", "owner", "min_rating", "ordering", "page", "page_size"]),
                st.one_of(
                    st.sampled_from(["1", "4.5", "5", "0", "NaN", "-1", "1e999", "top", "x"]),
                    st.text(alphabet=CHARACTERS, max_size=20),
                ),
            ),
            max_size=4,
        ),
    )
    @example(tags=["castle", "Castle"], parts=["3001"], others=[("ordering", "top")])
    @example(tags=["a\x00"], parts=[], others=[])
    @example(tags=[], parts=["3001\ud800"], others=[("page", "9" * 30)])
    def check(tags, parts, others):
        parameters = [("tag", v) for v in tags] + [("part", v) for v in parts] + others
        response = anonymous.get(f"/api/v1/creations/?{_query(parameters)}")
        sent = {name for name, _ in parameters}
        assert response.status_code in (200, 400, 404), f"{parameters!r}: {response.status_code}"
        errors = response.json() if response.status_code == 400 else {}
        assert set(errors) <= sent, f"the 400 names {set(errors)}, not what was sent"
        # Tags and parts are refused exactly when their parser refuses them, naming them.
        received_tags = [_as_received(value) for value in tags]
        received_parts = [_as_received(value) for value in parts]
        assert ("tag" in errors) == _refused_by(tags_parse, received_tags), (
            f"tags {received_tags!r}: {response.status_code} {errors}"
        )
        assert ("part" in errors) == _refused_by(part_numbers_parse, received_parts), (
            f"parts {received_parts!r}: {response.status_code} {errors}"
        )
        if response.status_code == 404:
            assert "page" in sent, f"{parameters!r}: a 404 without a page number"

    check()


@pytest.mark.django_db
def test_tag_and_part_searches_never_refuse_text(settings, catalog):
    settings.RATELIMIT_ENABLE = False
    CreationFactory(tags=("castle",))
    anonymous = client_for(None)

    @API_READS
    @given(st.sampled_from(["/api/v1/tags/", "/api/v1/parts/"]), TEXT)
    @example("/api/v1/tags/", "\x00")
    @example("/api/v1/parts/", "\ud800 30")
    def check(path, text):
        response = anonymous.get(f"{path}?{_query([('q', text)])}")
        assert response.status_code == 200, f"{path}?q={text!r}: {response.status_code}"

    check()


# The API as a state machine -------------------------------------------------------------------

MEMBERS = ("ann", "bob", "cy")
MODERATOR = "mod"
MAX_CREATIONS = 3
# What the machine does to a creation. Hypothesis favours the first of a sampled list, so the
# actions that touch the aggregates come first and more than once.
ACTIONS = ("score", "withdraw", "report", "score", "hide", "publish", "delete", "score")
# Who acts, relative to the creation picked: another member, a member who has scored it or
# reported it, its owner, a moderator, or an anonymous visitor (whose writes are a 401).
ROLES = ("member", "scorer", "reporter", "owner", "moderator", "anonymous")
REASONS = [*Report.Reason.values, "bogus", ""]
SCORE_VALUE = st.one_of(st.integers(min_value=1, max_value=5), st.integers(-2, 8))
PICK = st.integers(min_value=0, max_value=99)
PICK_ANY = 90  # picks from 90 up may land on a deleted creation
# Good values, so most uploads succeed and the other rules have creations to act on; and
# values the API must refuse with a 400. (No lone surrogates: they cannot be encoded in a
# multipart body at all, so the client library, not the site, would refuse them.)
GOOD_TITLES = st.sampled_from(["Lamp", "  Cheese roof ", "x" * 120, "e\u200dmoji"])
GOOD_TAGS = st.lists(
    st.sampled_from(["castle", "Space", " technic  pin", "NPU, lamp", "SPACE"]), max_size=4
)
ANY_TITLES = st.one_of(
    st.sampled_from(["", "   ", "x" * 121, "NUL\x00", "bidi\u202e", "tab\there"]),
    st.text(alphabet=st.sampled_from("aB \t\x00\u202e\u200d"), max_size=6),
)
ANY_TAGS = st.lists(
    st.text(alphabet=st.sampled_from("aAbB İß,\t!\x00\x1f\u202e\u200d"), max_size=6),
    max_size=12,
)


@dataclass
class CreationModel:
    """What the machine expects of one creation."""

    owner: str
    status: str = Creation.Status.PUBLISHED
    hidden_by_moderator: bool = False
    scores: dict[str, tuple[int, int]] = field(default_factory=dict)
    reporters: set[str] = field(default_factory=set)
    deleted: bool = False


def _title_is_valid(title: str) -> bool:
    # DRF trims a title before validating it: "B\t" is stored as "B".
    title = title.strip()
    return 1 <= len(title) <= 120 and _first_refused(title, "\u200c\u200d") is None


def _tags_or_none(tags: list[str]) -> list[str] | None:
    try:
        return tags_parse(tags)
    except ValidationError:
        return None


class CreationApiMachine(RuleBasedStateMachine):
    """Members upload, score, withdraw, report, hide, publish and delete through the API."""

    # (action, status code) -> how often, over every run: shows which branches the runs took.
    outcomes: Counter = Counter()

    def __init__(self, users):
        super().__init__()
        # Every run of the machine is one savepoint, rolled back in teardown(): the next run
        # starts from the same empty site, even after a failure.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.clients = {name: client_for(user) for name, user in users.items()}
        self.clients[None] = client_for(None)
        self.creations: dict[int, CreationModel] = {}
        self.uploads = 0

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # Helpers

    def _call(self, actor, method, path, body=None, fmt="json"):
        response = getattr(self.clients[actor], method)(path, body, format=fmt)
        assert response.status_code < 500, (
            f"{method.upper()} {path} as {actor}: {response.status_code} {response.content[:300]}"
        )
        return response

    def _expect(self, response, expected: int, what: str, action: str | None = None):
        assert response.status_code == expected, (
            f"{what}: expected {expected}, got {response.status_code}: {response.content[:300]}"
        )
        if action is not None:
            self.outcomes[action, expected] += 1

    def _live(self) -> dict[int, CreationModel]:
        return {pk: model for pk, model in self.creations.items() if not model.deleted}

    def _pick(self, pick: int, prefer=None) -> tuple[int, CreationModel]:
        """A live creation, preferably one `prefer` accepts; for a high `pick` (or with none
        live) any creation made so far, deleted ones included."""
        ids = sorted(self._live()) if pick < PICK_ANY else []
        if prefer is not None:
            ids = [pk for pk in ids if prefer(self.creations[pk])] or ids
        ids = ids or sorted(self.creations)
        creation_id = ids[pick % len(ids)]
        return creation_id, self.creations[creation_id]

    @staticmethod
    def _actor(role: str, model: CreationModel, pick: int):
        others = [name for name in (*MEMBERS, MODERATOR) if name != model.owner]
        chosen = {
            "owner": model.owner,
            "moderator": MODERATOR,
            "anonymous": None,
            "scorer": sorted(model.scores) or others,
            "reporter": sorted(model.reporters) or others,
        }.get(role, others)
        return chosen[pick % len(chosen)] if isinstance(chosen, list) else chosen

    @staticmethod
    def _visible(model: CreationModel, actor) -> bool:
        if model.deleted:
            return False
        return model.status == Creation.Status.PUBLISHED or actor in (model.owner, MODERATOR)

    def _refusal(self, model: CreationModel, actor) -> int | None:
        """What every write to a creation answers first: 401 for anonymous, 404 when hidden
        (or gone) for the actor; None when the action decides."""
        if actor is None:
            return 401
        return None if self._visible(model, actor) else 404

    def has_room(self) -> bool:
        return len(self._live()) < MAX_CREATIONS

    def has_creations(self) -> bool:
        return bool(self.creations)

    # Rules

    @initialize(owners=st.permutations(MEMBERS), tags=GOOD_TAGS)
    def two_creations(self, owners, tags):
        """Every run starts with two creations by two members, so the actions have targets."""
        for owner in owners[:2]:
            self._upload(owner, "Lamp", tags)

    @precondition(has_room)
    @rule(
        actor=st.sampled_from(MEMBERS),
        title=GOOD_TITLES,
        tags=GOOD_TAGS,
        spoil=st.sampled_from(["nothing", "title", "tags", "both"]),
        bad_title=ANY_TITLES,
        bad_tags=ANY_TAGS,
    )
    def upload(self, actor, title, tags, spoil, bad_title, bad_tags):
        """An upload, with the title or tags (or both) replaced by fuzzed ones if `spoil` says."""
        if spoil in ("title", "both"):
            title = bad_title
        if spoil in ("tags", "both"):
            tags = bad_tags
        self._upload(actor, title, tags)

    @precondition(has_creations)
    @rule(
        action=st.sampled_from(ACTIONS),
        role=st.sampled_from(ROLES),
        pick=PICK,
        values=st.tuples(SCORE_VALUE, SCORE_VALUE),
        reason=st.sampled_from(REASONS),
    )
    def act(self, action, role, pick, values, reason):
        """One member's action on one creation; `values` and `reason` serve score and report."""
        if action in ("hide", "publish"):
            status = Creation.Status.HIDDEN if action == "hide" else Creation.Status.PUBLISHED
            pk, model = self._pick(pick, prefer=lambda model: model.status != status)
        else:
            prefer = {"scorer": lambda m: m.scores, "reporter": lambda m: m.reporters}.get(role)
            pk, model = self._pick(pick, prefer=prefer)
        actor = self._actor(role, model, pick)
        if action == "delete" and len(self._live()) < 2:
            action = "score"  # keep a creation to act on
        if action == "score":
            self._score(pk, model, actor, *values)
        elif action == "withdraw":
            self._withdraw(pk, model, actor)
        elif action == "report":
            self._report(pk, model, actor, reason)
        elif action == "delete":
            self._delete(pk, model, actor)
        else:
            self._change_status(pk, model, actor, status)

    # Actions

    def _upload(self, actor, title, tags):
        self.uploads += 1
        picture = image_bytes("PNG", color=(self.uploads * 40 % 256, 90, 200))
        body = {
            "title": title,
            "description": "A minifig hand holds the lamp.",
            "tags": tags,
            "image": SimpleUploadedFile("photo.png", picture, "image/png"),
        }
        response = self._call(actor, "post", "/api/v1/creations/", body, fmt="multipart")
        what = f"{actor} uploads {title!r} with tags {tags!r}"
        expected_tags = _tags_or_none(tags)
        if not _title_is_valid(title) or expected_tags is None:
            self._expect(response, 400, what, "upload")
            return
        self._expect(response, 201, what, "upload")
        data = response.json()
        assert data["tags"] == sorted(expected_tags), f"{what}: stored as {data['tags']}"
        assert data["title"] == title.strip(), f"{what}: title stored as {data['title']!r}"
        assert data["status"] == Creation.Status.PUBLISHED, f"{what}: not published"
        assert data["score_count"] == 0 and data["rating"] is None, f"{what}: scores at birth"
        self.creations[data["id"]] = CreationModel(owner=actor)

    def _score(self, pk, model, actor, creativity, uniqueness):
        path = f"/api/v1/creations/{pk}/my-score/"
        response = self._call(
            actor, "put", path, {"creativity": creativity, "uniqueness": uniqueness}
        )
        expected = self._refusal(model, actor)
        if expected is None:
            if actor == model.owner:
                expected = 403
            elif not (1 <= creativity <= 5 and 1 <= uniqueness <= 5):
                expected = 400
            else:
                expected = 200 if actor in model.scores else 201
        self._expect(
            response, expected, f"{actor} scores {pk} ({model}) {creativity}/{uniqueness}", "score"
        )
        if expected in (200, 201):
            model.scores[actor] = (creativity, uniqueness)
            data = response.json()
            answered = (data["user"], data["creativity"], data["uniqueness"])
            assert answered == (actor, creativity, uniqueness), f"score answer {answered}"
            mine = self._call(actor, "get", path)
            self._expect(mine, 200, f"{actor} reads their score of {pk}")
            read = (mine.json()["creativity"], mine.json()["uniqueness"])
            assert read == model.scores[actor], f"{actor} reads their score of {pk} as {read}"

    def _withdraw(self, pk, model, actor):
        path = f"/api/v1/creations/{pk}/my-score/"
        response = self._call(actor, "delete", path)
        expected = self._refusal(model, actor)
        if expected is None:
            if actor == model.owner:
                expected = 403
            else:
                expected = 204 if actor in model.scores else 404
        self._expect(response, expected, f"{actor} withdraws from {pk} ({model})", "withdraw")
        if expected == 204:
            del model.scores[actor]
            after = self._call(actor, "get", path)
            self._expect(after, 404, f"{actor} reads their withdrawn score of {pk}")

    def _report(self, pk, model, actor, reason):
        body = {"reason": reason, "note": "Looks copied."}
        response = self._call(actor, "post", f"/api/v1/creations/{pk}/reports/", body)
        expected = self._refusal(model, actor)
        if expected is None:
            if actor == model.owner:
                expected = 403
            elif actor in model.reporters or reason not in Report.Reason.values:
                expected = 400
            else:
                expected = 201
        self._expect(response, expected, f"{actor} reports {pk} ({model}) as {reason!r}", "report")
        if expected == 201:
            model.reporters.add(actor)

    def _change_status(self, pk, model, actor, status):
        response = self._call(actor, "patch", f"/api/v1/creations/{pk}/", {"status": status})
        expected = self._refusal(model, actor)
        if expected is None:
            if actor not in (model.owner, MODERATOR):
                expected = 403
            elif (
                status != model.status
                and status == Creation.Status.PUBLISHED
                and model.hidden_by_moderator
                and actor != MODERATOR
            ):
                expected = 403  # only a moderator publishes what a moderator hid
            else:
                expected = 200
        self._expect(response, expected, f"{actor} sets {pk} ({model}) to {status}", str(status))
        if expected == 200:
            if status != model.status:
                model.status = status
                model.hidden_by_moderator = status == Creation.Status.HIDDEN and actor == MODERATOR
            answered = response.json()["status"]
            assert answered == model.status, f"creation {pk}: PATCH answers status {answered}"
            if model.status == Creation.Status.HIDDEN:  # its owner and moderators still see it
                for reader in (model.owner, MODERATOR):
                    seen = self._call(reader, "get", f"/api/v1/creations/{pk}/")
                    self._expect(seen, 200, f"{reader} reads hidden creation {pk}")

    def _delete(self, pk, model, actor):
        response = self._call(actor, "delete", f"/api/v1/creations/{pk}/")
        expected = self._refusal(model, actor)
        if expected is None:
            expected = 204 if actor in (model.owner, MODERATOR) else 403
        self._expect(response, expected, f"{actor} deletes {pk} ({model})", "delete")
        if expected == 204:
            model.deleted = True
            model.scores.clear()
            model.reporters.clear()
            gone = self._call(model.owner, "get", f"/api/v1/creations/{pk}/")
            self._expect(gone, 404, f"the owner reads deleted creation {pk}")

    # Invariants

    @invariant()
    def database_matches_the_model(self):
        live = self._live()
        stored = {creation.pk: creation for creation in Creation.objects.select_related("owner")}
        assert set(stored) == set(live), f"creations {sorted(stored)} != model {sorted(live)}"
        scores_of = defaultdict(dict)
        for creation_id, user, creativity, uniqueness in Score.objects.values_list(
            "creation_id", "user__username", "creativity", "uniqueness"
        ):
            scores_of[creation_id][user] = (creativity, uniqueness)
        reporters_of = defaultdict(set)
        for creation_id, reporter in Report.objects.values_list(
            "creation_id", "reporter__username"
        ):
            reporters_of[creation_id].add(reporter)
        for pk, creation in stored.items():
            model, scores, reporters = live[pk], scores_of[pk], reporters_of[pk]
            assert creation.status == model.status, f"creation {pk}: status {creation.status}"
            assert creation.hidden_by_moderator == model.hidden_by_moderator, f"creation {pk}"
            assert scores == model.scores, f"creation {pk}: scores {scores} != {model.scores}"
            assert reporters == model.reporters, f"creation {pk}: reports by {reporters}"
            owner = creation.owner.username
            assert owner not in scores, f"{owner} scored their own creation {pk}"
            assert owner not in reporters, f"{owner} reported their own creation {pk}"
            # The stored aggregates are exactly what the Score rows give.
            assert creation.score_count == len(scores), f"creation {pk}: score_count"
            if not scores:
                assert creation.creativity_avg is None, f"creation {pk}: creativity_avg"
                assert creation.uniqueness_avg is None, f"creation {pk}: uniqueness_avg"
                assert creation.rating is None, f"creation {pk}: a rating with no scores"
                continue
            creativity = sum(value for value, _ in scores.values()) / len(scores)
            uniqueness = sum(value for _, value in scores.values()) / len(scores)
            for name, stored_value, expected in (
                ("creativity_avg", creation.creativity_avg, creativity),
                ("uniqueness_avg", creation.uniqueness_avg, uniqueness),
                ("rating", creation.rating, (creativity + uniqueness) / 2),
            ):
                assert stored_value is not None and math.isclose(stored_value, expected), (
                    f"creation {pk}: {name} is {stored_value}, its scores give {expected}"
                )
        # Rows of deleted creations went with them.
        assert set(scores_of) <= set(stored), "scores of a deleted creation remain"
        assert set(reporters_of) <= set(stored), "reports of a deleted creation remain"

    @invariant()
    def anonymous_visitors_see_exactly_the_published_creations(self):
        live = self._live()
        published = {pk for pk, model in live.items() if model.status == "published"}
        response = self._call(None, "get", "/api/v1/creations/")
        self._expect(response, 200, "anonymous list")
        data = response.json()
        assert data["count"] == len(published), (
            f"the anonymous list counts {data['count']}, but {len(published)} are published"
        )
        listed = {item["id"] for item in data["results"]}
        assert listed == published, f"the anonymous list shows {listed}, not {published}"
        for item in data["results"]:
            assert "status" not in item, "an anonymous visitor sees the status"
            expected_count = len(live[item["id"]].scores)
            assert item["score_count"] == expected_count, (
                f"creation {item['id']} is listed with score_count {item['score_count']}, "
                f"not {expected_count}"
            )

    @invariant()
    def hidden_creations_are_not_found_by_anyone_else(self):
        for pk, model in self._live().items():
            if model.status != Creation.Status.HIDDEN:
                continue
            other = next(name for name in MEMBERS if name != model.owner)
            for actor in (None, other):
                response = self._call(actor, "get", f"/api/v1/creations/{pk}/")
                self._expect(response, 404, f"{actor} reads hidden creation {pk}")
            self.outcomes["hidden checked", 404] += 1


@pytest.mark.django_db
def test_api_state_machine_keeps_scores_reports_and_visibility_consistent(settings):
    settings.RATELIMIT_ENABLE = False
    CreationApiMachine.outcomes.clear()
    users = {name: UserFactory(username=name) for name in MEMBERS}
    users[MODERATOR] = user_set_moderator(user=UserFactory(username=MODERATOR), is_moderator=True)
    run_state_machine_as_test(
        lambda: CreationApiMachine(users),
        settings=hypothesis.settings(
            max_examples=20,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    outcomes = CreationApiMachine.outcomes
    print(sorted(outcomes.items()))  # shown with -s: which branches the runs took
    # The runs must reach the branches that change what the invariants check, or they prove
    # little. (Refusals are asserted whenever they come up, and derandomised runs are stable,
    # but other seeds may not reach every refusal, so they are not required here.)
    for reached in [
        ("upload", 201), ("upload", 400), ("score", 201), ("score", 200), ("score", 400),
        ("score", 403), ("withdraw", 204), ("report", 201), ("report", 400), ("hidden", 200),
        ("published", 200), ("delete", 204), ("hidden checked", 404),
    ]:  # fmt: skip
        assert outcomes[reached], f"no run reached {reached}: {sorted(outcomes.items())}"
