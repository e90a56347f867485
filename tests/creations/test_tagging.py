import pytest
from django.core.exceptions import ValidationError

from creations.tagging import tag_normalize, tags_from_string, tags_parse
from tests.factories import CreationFactory


@pytest.mark.parametrize("raw", ["Technic Pin", " technic  pin ", "technic pin", "TECHNIC\tPIN"])
def test_spellings_of_one_tag_normalise_to_the_same_name(raw):
    assert tag_normalize(raw) == "technic pin"


def test_tags_parse_splits_on_commas_only_and_removes_duplicates():
    assert tags_parse("Technic Pin, cheese slope,technic  pin,, ") == [
        "technic pin",
        "cheese slope",
    ]


def test_tags_parse_accepts_a_list_with_commas_inside_items():
    assert tags_parse(["Castle", "space, Minifig Hand"]) == ["castle", "space", "minifig hand"]


def test_ten_tags_are_allowed_and_eleven_are_refused():
    assert len(tags_parse([f"tag {n}" for n in range(10)])) == 10
    with pytest.raises(ValidationError) as excinfo:
        tags_parse([f"tag {n}" for n in range(11)])
    assert "At most 10 tags" in excinfo.value.messages[0]


def test_duplicates_do_not_count_towards_the_limit():
    assert len(tags_parse([f"Tag {n % 10}" for n in range(30)])) == 10


def test_fifty_characters_are_allowed_and_fifty_one_are_refused():
    assert tag_normalize("a" * 50) == "a" * 50
    with pytest.raises(ValidationError) as excinfo:
        tag_normalize("a" * 51)
    assert "longer than 50 characters" in excinfo.value.messages[0]


def test_length_is_counted_after_whitespace_is_collapsed():
    assert tag_normalize("  " + "a " * 25 + "  ") == ("a " * 25).strip()


@pytest.mark.parametrize("raw", ["", "   ", "!!!", "--", "u\x15f", "zero\u200bwidth", "a\x00"])
def test_empty_or_punctuation_only_tags_are_refused(raw):
    with pytest.raises(ValidationError):
        tag_normalize(raw)


def test_taggit_string_hook_uses_the_same_rules():
    assert tags_from_string("Space, Technic Pin") == ["space", "technic pin"]


@pytest.mark.django_db
def test_creations_with_differently_spelled_tags_share_one_tag():
    first = CreationFactory(tags="Technic Pin")
    second = CreationFactory(tags=" technic  pin ")
    assert list(first.tags.values_list("pk", flat=True)) == list(
        second.tags.values_list("pk", flat=True)
    )
    assert first.tags.get().slug == "technic-pin"
