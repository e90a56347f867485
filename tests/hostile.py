"""A corpus of hostile text, and how to send it the way a browser or an API client would.

Each string says what kind it is, and the kind decides what a field must do with it: markup is
text like any other (stored, and escaped wherever it is shown), control characters and bidi
overrides are refused in stored text, line breaks are kept in long text and refused in one-line
fields, and a megabyte is longer than any field.

A lone surrogate cannot be written in UTF-8, so it reaches the site in two spellings: as a JSON
escape (`"\\ud800"`), which parses into a Python string no encoder can write back, and, in
forms and query strings, as the bytes a careless encoder would make of it (`ED A0 80`) or as a
byte that is never UTF-8 (`FF`); Django decodes those to U+FFFD.
"""

import json
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote_from_bytes, urlencode

# Kinds of hostile string.
MARKUP = "markup"  # plain text that looks like HTML or a URL to a browser
CONTROL = "control"  # NUL, C0 controls, bidi overrides: never stored
LINES = "lines"  # line breaks: kept in long text, refused in one-line fields
HUGE = "huge"  # longer than any field
TEXT = "text"  # ordinary Unicode: stored as it is
BAD_UTF8 = "bad-utf8"  # a lone surrogate, or bytes that are not UTF-8

MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class Hostile:
    name: str
    kind: str
    # What the string is to Python (a lone surrogate included, as a JSON escape makes it).
    text: str
    # The bytes a form or a query string carries, when they are not `text` in UTF-8.
    raw: bytes | None = None
    # The JSON string literal a client sends, when json.dumps cannot spell it (a stray byte).
    json_literal: bytes | None = None

    def __str__(self) -> str:
        return self.name

    @property
    def form_bytes(self) -> bytes:
        return self.raw if self.raw is not None else self.text.encode()

    @property
    def as_received(self) -> str:
        """The text a form or query string hands the site: bad bytes decoded to U+FFFD."""
        return self.form_bytes.decode("utf-8", "replace")


CORPUS = [
    Hostile("html-bold", MARKUP, "<b>x</b>"),
    Hostile("html-img-onerror", MARKUP, "<img src=x onerror=alert(1)>"),
    Hostile("script", MARKUP, "<script>alert(1)</script>"),
    Hostile("javascript-url", MARKUP, "javascript:alert(1)"),
    Hostile("bidi-rlo", CONTROL, "Roof gpj.\u202eexe"),
    Hostile("bidi-lri", CONTROL, "Roof \u2066tile\u2069 slope"),
    Hostile("nul", CONTROL, "Roof\x00tile"),
    Hostile("bel", CONTROL, "Roof\x07tile"),
    Hostile("esc", CONTROL, "\x1b[31mRoof tile\x1b[0m"),
    Hostile(
        "lone-surrogate",
        BAD_UTF8,
        "Roof \ud800 tile",
        raw=b"Roof \xed\xa0\x80 tile",
    ),
    Hostile(
        "invalid-byte",
        BAD_UTF8,
        "Roof \ufffd tile",
        raw=b"Roof \xff tile",
        json_literal=b'"Roof \xff tile"',
    ),
    Hostile("megabyte", HUGE, ("Technic brick " * (MEGABYTE // 14 + 1))[:MEGABYTE]),
    Hostile("newlines", LINES, "Line one\nLine two\r\nLine three"),
    Hostile(
        "emoji-zwj",
        TEXT,
        "Mechanic \U0001f469\u200d\U0001f527 and family \U0001f468\u200d\U0001f469\u200d\U0001f467",
    ),
    Hostile("accents", TEXT, "Crème brûlée façade, Ærø, naïve"),
    Hostile("cjk", TEXT, "レゴの城乐高"),
]
BY_NAME = {hostile.name: hostile for hostile in CORPUS}
assert len(BY_NAME) == len(CORPUS)
assert len(BY_NAME["megabyte"].text) == MEGABYTE

# What must never appear as-is in an HTML page, whatever was typed.
UNESCAPED = (
    "<b>x</b>",
    "<img src=x",
    "<script>alert(1)",
    'href="javascript:',
    'src="javascript:',
    "href='javascript:",
)

# Characters no stored text holds: bidi controls (embeddings, overrides, isolates, marks).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def forbidden_character(value: str, *, multiline: bool) -> str | None:
    """The first character stored text must not hold: NUL and the other C0 and C1 controls
    (line breaks and tabs allowed in long text), DEL, lone surrogates, bidi controls."""
    for character in value:
        code = ord(character)
        if multiline and character in "\n\r\t":
            continue
        if (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or 0xD800 <= code <= 0xDFFF
            or character in BIDI_CONTROLS
        ):
            return f"U+{code:04X} {unicodedata.name(character, '')}".strip()
    return None


# Sending ---------------------------------------------------------------------------------------

BOUNDARY = "HostileTextBoundary0123456789"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"


def _as_bytes(value) -> bytes:
    if isinstance(value, Hostile):
        return value.form_bytes
    return value if isinstance(value, bytes) else str(value).encode()


def multipart_body(fields: dict, files: dict | None = None) -> bytes:
    """A multipart/form-data body with every value sent byte for byte (`MULTIPART` is its
    content type). `files` maps a name to (filename, content, content type)."""
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + _as_bytes(value)
            + b"\r\n"
        )
    for name, (filename, content, content_type) in (files or {}).items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def urlencoded(fields: dict) -> str:
    """A form body or query string, every value's bytes percent-encoded as they are."""
    return urlencode({name: _as_bytes(value) for name, value in fields.items()})


def query_string(name: str, hostile: Hostile) -> str:
    return f"{name}={quote_from_bytes(hostile.form_bytes)}"


_MARKER = "\u0091hostile-literal-{}\u0091"  # a placeholder no corpus string holds


def json_body(fields: dict) -> bytes:
    """A JSON object body. A Hostile value (alone or in a list) is sent as its JSON literal:
    escapes for what UTF-8 cannot carry (json.dumps spells a lone surrogate `\\ud800`), or
    its raw bytes when it has them."""
    literals: dict[str, bytes] = {}

    def plain(value):
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, Hostile) and value.json_literal is not None:
            marker = _MARKER.format(len(literals))
            literals[marker] = value.json_literal
            return marker
        return value.text if isinstance(value, Hostile) else value

    body = json.dumps({name: plain(value) for name, value in fields.items()}).encode()
    for marker, literal in literals.items():
        body = body.replace(json.dumps(marker).encode(), literal)
    return body
