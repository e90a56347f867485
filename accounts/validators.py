"""Validators for what members choose: usernames that cannot pass for someone else's."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# Unicode character names start with the script for most letters ("LATIN SMALL LETTER A",
# "CYRILLIC SMALL LETTER A"); these name prefixes stand for another script's name.
NAME_SCRIPTS = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}
# Writing systems that mix scripts in ordinary words count as one, as in Unicode's
# mixed-script detection (UTS #39): Japanese, Korean and Chinese with Bopomofo.
SCRIPT_FAMILIES = (
    frozenset({"HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"HAN", "HANGUL"}),
    frozenset({"HAN", "BOPOMOFO"}),
)


def letter_scripts(text: str) -> set[str]:
    """The scripts of the letters in `text` (after NFKC); digits and symbols have none."""
    scripts = set()
    for character in unicodedata.normalize("NFKC", text):
        if unicodedata.category(character).startswith("L"):
            prefix = unicodedata.name(character, "UNKNOWN").split(" ", 1)[0]
            scripts.add(NAME_SCRIPTS.get(prefix, prefix))
    return scripts


@deconstructible
class SingleScriptValidator:
    """Refuse a name whose letters come from more than one script, such as `аxel` with a
    Cyrillic а: it would look like someone else's name."""

    message = (
        "Use letters from one alphabet only (for example all Latin or all Cyrillic): "
        "mixing them makes names that look like other members' names."
    )
    code = "mixed_script"

    def __call__(self, value) -> None:
        scripts = letter_scripts(str(value))
        if len(scripts) > 1 and not any(scripts <= family for family in SCRIPT_FAMILIES):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, SingleScriptValidator)


validate_single_script = SingleScriptValidator()
