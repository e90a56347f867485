"""Every string of a hostile corpus (tests/hostile.py) through every text field of every page
form and API endpoint, and every filter of every list.

For each (field, string) the answer is never a 5xx. Either the value is refused cleanly (API: a
400 naming the field, or a documented `detail`; pages: the form again with an error on that
field, or a 400 page for a query filter) and nothing is stored, or it is stored and shown
escaped wherever it appears: the creation page, the gallery card, the profile, the admin, the
API's JSON and its browsable HTML. After every case the database rows are read back: no stored
text holds NUL, a lone surrogate, a C0 or C1 control or a bidi control (line breaks and tabs
aside, in long text).

The database refuses NUL and lone surrogates in any query parameter, as PostgreSQL (psycopg)
does, so a value that would reach PostgreSQL unchecked fails here on SQLite too.
"""

import json
import re
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import DataError, connection
from django.test import Client
from django.utils.html import escape
from taggit.models import Tag

from accounts.models import User
from community.models import Comment, CommentReport, Notification
from community.services.comments import comment_create
from community.text import normalised_line_breaks
from creations.models import Creation
from creations.services import creation_update
from moderation.members import member_suspend
from moderation.models import Appeal, ModerationAction, Report
from scoring.models import Score
from tests.conftest import client_for
from tests.factories import PASSWORD, CreationFactory
from tests.hostile import (
    BAD_UTF8,
    CONTROL,
    CORPUS,
    HUGE,
    LINES,
    MARKUP,
    MULTIPART,
    TEXT,
    UNESCAPED,
    URLENCODED,
    Hostile,
    forbidden_character,
    json_body,
    multipart_body,
    query_string,
    urlencoded,
)
from tests.images import image_bytes

pytestmark = pytest.mark.django_db

# What a field is, which decides what it must do with each kind of string.
LINE = "one-line text"  # title, alt text, display name
LONG = "long text"  # description, bio, report note, reason for hiding: line breaks kept
TAGS = "tags"  # normalised: whitespace (line breaks too) collapses to one space
PARTS = "part numbers"  # looked up in the catalog: none of the corpus is a part
CHOICE = "choice"  # a fixed set of values: none of the corpus is one
USERNAME = "username"
EMAIL = "e-mail address"  # sent as `"<string>"@example.com`: a quoted local part
SECRET = "password"  # never stored as text
LOOKUP = "identifier"  # looked up, never stored

ACCEPT, REFUSE, EITHER = "accepted", "refused", "either"
FORM, JSON = "form", "json"  # how the string travels: form or query bytes, or JSON text

NEW_PASSWORD = "Another-long-passphrase-42"
PNG = image_bytes("PNG")


def expected(kind: str, hostile: Hostile, transport: str = FORM) -> str:
    """What a field of `kind` must do with `hostile`."""
    if hostile.kind == BAD_UTF8 and transport == JSON:
        return REFUSE  # a lone surrogate or a stray byte in JSON: refused before any field
    if kind in (SECRET, LOOKUP):
        return EITHER  # what is typed is compared, not stored
    if kind in (PARTS, CHOICE) or hostile.kind in (CONTROL, HUGE):
        return REFUSE
    if hostile.kind == LINES:
        return {LONG: ACCEPT, TAGS: EITHER}.get(kind, REFUSE)
    if kind in (USERNAME, EMAIL):
        return EITHER  # markup and spaces are not in a username; accents not in a local part
    if kind == TAGS and hostile.name == "emoji-zwj":
        return EITHER  # tags refuse every invisible character, the joiner included
    # Markup, ordinary Unicode, and bad bytes in forms (which Django decodes to U+FFFD).
    assert hostile.kind in (MARKUP, TEXT, BAD_UTF8)
    return ACCEPT


def check(outcome: str, kind: str, hostile: Hostile, transport: str = FORM) -> None:
    wanted = expected(kind, hostile, transport)
    assert wanted in (EITHER, outcome), f"{hostile.name} in a {kind} field was {outcome}"


def cases(fields, *, megabyte=()):
    """Parametrize a test by field × corpus string. The megabyte goes only to the `megabyte`
    fields: every field refuses it the same way (by its length), and each case is slow."""
    pairs = [
        (field, hostile)
        for field in fields
        for hostile in CORPUS
        if hostile.kind != HUGE or field in megabyte
    ]
    return pytest.mark.parametrize(
        "field, hostile", pairs, ids=[f"{field}-{hostile.name}" for field, hostile in pairs]
    )


def in_email(hostile: Hostile) -> Hostile:
    """The string as the quoted local part of an address, which Django's validator lets hold
    any printable ASCII and most C0 controls."""
    return replace(
        hostile,
        text=f'"{hostile.text}"@example.com',
        raw=b'"' + hostile.raw + b'"@example.com' if hostile.raw is not None else None,
        json_literal=(
            b'"\\"' + hostile.json_literal[1:-1] + b'\\"@example.com"'
            if hostile.json_literal is not None
            else None
        ),
    )


def tags_of(text: str) -> list[str]:
    return sorted({" ".join(piece.split()).lower() for piece in text.split(",") if piece.strip()})


# The database: refuses what PostgreSQL refuses; checked after every case ----------------------

# Every stored text column a member can write to, and whether it is long text.
STORED_TEXT = {
    Creation: {"title": False, "description": True, "alt_text": False, "hidden_reason": True},
    Tag: {"name": False, "slug": False},
    Report: {"note": True},
    Comment: {"body": True},
    CommentReport: {"note": True},
    Notification: {"reason": True},
    User: {
        "username": False,
        "email": False,
        "display_name": False,
        "bio": True,
        "restriction_reason": True,
    },
    Appeal: {"note": True, "decision_note": True},
    ModerationAction: {"reason": True, "target_repr": False},
}


def _strings(params):
    if isinstance(params, str):
        yield params
    elif isinstance(params, dict):
        for value in params.values():
            yield from _strings(value)
    elif isinstance(params, list | tuple):
        for value in params:
            yield from _strings(value)


POSTGRESQL_REFUSES = re.compile("[\x00\ud800-\udfff]")


def _like_postgresql(execute, sql, params, many, context):
    for value in _strings(params):
        if POSTGRESQL_REFUSES.search(value):
            # psycopg: "PostgreSQL text fields cannot contain NUL (0x00) bytes", or a
            # UnicodeEncodeError for a surrogate; either is a 500 if it gets this far.
            raise DataError(f"PostgreSQL cannot take this parameter: {value[:40]!r}")
    return execute(sql, params, many, context)


@pytest.fixture(autouse=True)
def _database_refuses_nul_and_checks_stored_text(db):
    with connection.execute_wrapper(_like_postgresql):
        yield
    problems = []
    for model, columns in STORED_TEXT.items():
        for row in model.objects.values("pk", *columns):
            for column, multiline in columns.items():
                bad = forbidden_character(row[column], multiline=multiline)
                if bad:
                    problems.append(f"{model.__name__} {row['pk']} {column}: {bad}")
    assert problems == [], "stored text holds control characters"


# Answers ---------------------------------------------------------------------------------------


def html_of(response) -> str:
    assert response.status_code < 500, response.status_code
    content = response.content.decode()  # an answer is UTF-8, whatever was sent
    for marker in UNESCAPED:
        assert marker not in content, f"{marker!r} unescaped in {response.request['PATH_INFO']}"
    return content


def json_of(response):
    assert response.status_code < 500, response.status_code
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def names(data, field: str) -> bool:
    return isinstance(data, dict) and any(
        key == field or key.startswith((f"{field}[", f"{field}.")) for key in data
    )


def form_outcome(response, *error_fields: str, every: bool = False) -> str:
    """A page's form: a redirect when it is accepted, or the form again with an error on
    one of `error_fields` (on `every` one of them) when it is refused."""
    assert response.status_code < 500, response.status_code
    if response.status_code == 302:
        return ACCEPT
    assert response.status_code == 200, response.status_code
    html_of(response)
    errors = set(response.context["form"].errors)
    missing = set(error_fields) - errors
    assert not missing if every else missing != set(error_fields), f"no error on {missing}"
    return REFUSE


def api_outcome(response, field: str, hostile: Hostile, *, also=()) -> str:
    """An endpoint's answer: 200 or 201 when accepted; when refused, a 400 naming the field
    (or `also`; each field of a group), or the parser's `detail` for a body that is not JSON."""
    data = json_of(response)
    if response.status_code in (200, 201):
        return ACCEPT
    assert response.status_code == 400, (response.status_code, data)
    if hostile.json_literal is not None and "detail" in data:
        assert "JSON parse error" in data["detail"]
    else:
        for name in field.split("+"):
            assert any(names(data, key) for key in (name, *also)), (name, data)
    return REFUSE


def assert_shown(client, urls: list[str], text: str = "") -> None:
    """Every page shows escaped HTML (the first shows each line of `text`); JSON parses."""
    for index, url in enumerate(urls):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response["Content-Type"].startswith("application/json"):
            json_of(response)
            continue
        content = html_of(response)
        if index == 0:
            for line in text.splitlines():
                assert escape(line) in content, f"{line!r} is not shown on {url}"


def assert_creation_stored_and_shown(
    client, creation: Creation, group: str, text: str, *, on_page=True, also=()
) -> None:
    """`text` is stored in each field of `group` and shown escaped on the creation page (which
    shows it, unless not `on_page`), in the JSON, and on the pages `also` names: "gallery" (the
    card and, for tags, the tag pages and cloud) and "browsable" (the browsable API's HTML).
    How a value was stored does not change how it is shown, so each test checks a share."""
    creation.refresh_from_db()
    data = json_of(client.get(f"/api/v1/creations/{creation.pk}/"))
    shown = []
    for field in group.split("+"):
        if field == "tags":
            stored = sorted(creation.tags.names())
            assert stored == tags_of(text) == sorted(data["tags"])
            shown += stored
        else:
            stored = getattr(creation, field)
            assert stored == text.strip() == data[field]
            shown.append(stored)
    pages = [f"/creations/{creation.pk}/"]
    if "gallery" in also:
        pages.append("/")
        if group == "tags" and creation.is_published:  # else a tag page is a 404
            pages += [f"/tags/{tag.slug}/" for tag in creation.tags.all()] + ["/tags/"]
    if "browsable" in also:
        pages.append(f"/api/v1/creations/{creation.pk}/?format=api")
    assert_shown(client, pages, "\n".join(shown) if on_page else "")


def hostile_in(group: str, hostile) -> dict:
    """The hostile value in every field of a group such as "title+alt_text"."""
    return dict.fromkeys(group.split("+"), hostile)


def mailed_path(pattern: str) -> str:
    (message,) = mail.outbox
    return re.search(rf"https?://testserver({pattern})", message.body).group(1)


# Creations: the upload and edit pages ------------------------------------------------------

# Fields that treat every string alike share a request: the form or serializer reports each
# field's refusal on its own, so one request answers for both.
CREATION_FORM = {"title+alt_text": LINE, "description": LONG, "tags": TAGS, "parts": PARTS}
UNCHANGED = {
    "title": "Cheese slope roof",
    "description": "A minifig hand holds the lamp.",
    "alt_text": "",
    "tags": "technic pin",
    "parts": "",
}


def assert_creation_unchanged(creation: Creation) -> None:
    creation.refresh_from_db()
    assert (creation.title, creation.description, creation.alt_text) == (
        UNCHANGED["title"],
        UNCHANGED["description"],
        "",
    )
    assert list(creation.tags.names()) == ["technic pin"]
    assert not creation.parts.exists()


@cases(CREATION_FORM, megabyte=("description",))
def test_upload_page(client, member, media_files, field, hostile):
    client.force_login(member)
    fields = {"title": "Hostile upload", "description": "", "alt_text": "", "tags": "", "parts": ""}
    body = multipart_body(
        {**fields, **hostile_in(field, hostile)}, {"image": ("photo.png", PNG, "image/png")}
    )
    response = client.post("/creations/new/", body, content_type=MULTIPART)
    outcome = form_outcome(response, *field.split("+"), every=True)
    check(outcome, CREATION_FORM[field], hostile)
    if outcome == REFUSE:
        assert not Creation.objects.exists() and media_files() == []
    else:
        creation = Creation.objects.get()
        assert_creation_stored_and_shown(client, creation, field, hostile.as_received)


@cases(CREATION_FORM, megabyte=("title+alt_text", "tags"))
def test_edit_page(client, creation, owner, field, hostile):
    client.force_login(owner)
    body = urlencoded({**UNCHANGED, **hostile_in(field, hostile)})
    response = client.post(f"/creations/{creation.pk}/edit/", body, content_type=URLENCODED)
    outcome = form_outcome(response, *field.split("+"), every=True)
    check(outcome, CREATION_FORM[field], hostile)
    if outcome == REFUSE:
        assert_creation_unchanged(creation)
    else:
        assert_creation_stored_and_shown(
            client, creation, field, hostile.as_received, also=("gallery",)
        )


# Creations: the API ------------------------------------------------------------------------

CREATION_API = {**CREATION_FORM, "status": CHOICE, "hidden_reason": LONG}
# In JSON the parser refuses the first NUL or lone surrogate it meets, naming that field only,
# so the fields of a group go one by one.
CREATION_JSON = {"title": LINE, "alt_text": LINE, **CREATION_API}
del CREATION_JSON["title+alt_text"]


def _api_creation_fields(field, hostile):
    # A reason for hiding is kept only for a hidden creation.
    status = {"status": "hidden"} if field == "hidden_reason" else {}
    return {**status, **hostile_in(field, hostile)}


@cases(CREATION_API, megabyte=("description",))
def test_upload_api(client, member, media_files, field, hostile):
    body = multipart_body(
        {"title": "Hostile upload", **_api_creation_fields(field, hostile)},
        {"image": ("photo.png", PNG, "image/png")},
    )
    response = client_for(member).generic("POST", "/api/v1/creations/", body, MULTIPART)
    outcome = api_outcome(response, field, hostile)
    check(outcome, CREATION_API[field], hostile)
    if outcome == REFUSE:
        assert not Creation.objects.exists() and media_files() == []
    else:
        assert response.status_code == 201
        client.force_login(member)
        creation = Creation.objects.get()
        # The page shows the reason for hiding only when a moderator hid the creation.
        assert_creation_stored_and_shown(
            client,
            creation,
            field,
            hostile.as_received,
            on_page=field != "hidden_reason",
        )


@cases(CREATION_JSON, megabyte=("title", "parts", "hidden_reason"))
def test_edit_api(request, client, creation, owner, field, hostile):
    value = [hostile] if field in ("tags", "parts") else hostile
    # A moderator hides, so that the creation page shows the owner the reason.
    editor = request.getfixturevalue("moderator") if field == "hidden_reason" else owner
    response = client_for(editor).generic(
        "PATCH",
        f"/api/v1/creations/{creation.pk}/",
        json_body(_api_creation_fields(field, value)),
        "application/json",
    )
    outcome = api_outcome(response, field, hostile)
    check(outcome, CREATION_JSON[field], hostile, JSON)
    if outcome == REFUSE:
        assert_creation_unchanged(creation)
        assert creation.status == Creation.Status.PUBLISHED
    else:
        client.force_login(owner)
        assert_creation_stored_and_shown(
            client, creation, field, hostile.text, also=("gallery", "browsable")
        )


# Scores and reports ------------------------------------------------------------------------

SCORE = {"creativity": CHOICE, "uniqueness": CHOICE}
REPORT = {"reason": CHOICE, "note": LONG}


@cases(SCORE, megabyte=("creativity",))
def test_score_page(client, creation, member, field, hostile):
    client.force_login(member)
    body = urlencoded({"creativity": "4", "uniqueness": "3", field: hostile})
    response = client.post(f"/creations/{creation.pk}/score/", body, content_type=URLENCODED)
    # The score form lives on the creation page: a refusal goes back there with a message.
    assert response.status_code == 302 and response["Location"].endswith("#score")
    check(REFUSE if not Score.objects.exists() else ACCEPT, SCORE[field], hostile)
    assert_shown(client, [f"/creations/{creation.pk}/"])


@cases(SCORE, megabyte=("uniqueness",))
def test_score_api(creation, member, field, hostile):
    body = json_body({"creativity": 4, "uniqueness": 3, field: hostile})
    response = client_for(member).generic(
        "PUT", f"/api/v1/creations/{creation.pk}/my-score/", body, "application/json"
    )
    check(api_outcome(response, field, hostile), SCORE[field], hostile, JSON)
    assert not Score.objects.exists()


def assert_report_stored_and_shown(moderator, text: str) -> None:
    """Moderators read reports in the admin."""
    report = Report.objects.get()
    assert report.note == text.strip()
    admin = Client()
    admin.force_login(moderator)
    pages = [f"/admin/moderation/report/{report.pk}/change/", "/admin/moderation/report/"]
    assert_shown(admin, pages, report.note)


@cases(REPORT, megabyte=("note",))
def test_report_page(request, client, creation, member, field, hostile):
    client.force_login(member)
    body = urlencoded({"reason": "spam", "note": "", field: hostile})
    response = client.post(f"/creations/{creation.pk}/report/", body, content_type=URLENCODED)
    outcome = form_outcome(response, field)
    check(outcome, REPORT[field], hostile)
    if outcome == REFUSE:
        assert not Report.objects.exists()
    else:
        assert_report_stored_and_shown(request.getfixturevalue("moderator"), hostile.as_received)


@cases(REPORT, megabyte=("note",))
def test_report_api(request, creation, member, field, hostile):
    body = json_body({"reason": "spam", field: hostile})
    response = client_for(member).generic(
        "POST", f"/api/v1/creations/{creation.pk}/reports/", body, "application/json"
    )
    outcome = api_outcome(response, field, hostile)
    check(outcome, REPORT[field], hostile, JSON)
    if outcome == REFUSE:
        assert not Report.objects.exists()
    else:
        assert_report_stored_and_shown(request.getfixturevalue("moderator"), hostile.text)


# Comments and their reports ------------------------------------------------------------------

COMMENT = {"body": LONG}
COMMENT_REPORT = {"reason": CHOICE, "note": LONG}


def page_outcome(response, field: str) -> str:
    """A community form: a redirect back to the creation when accepted; when refused, the form
    again as a 400 page with an error on `field`."""
    assert response.status_code < 500, response.status_code
    if response.status_code == 302:
        return ACCEPT
    assert response.status_code == 400, response.status_code
    html_of(response)
    assert field in response.context["form"].errors, response.context["form"].errors
    return REFUSE


def assert_comment_stored_and_shown(client, creation: Creation, text: str) -> None:
    """The comment is stored trimmed, shown escaped in the thread, the JSON and the admin."""
    comment = Comment.objects.get()
    assert comment.body == normalised_line_breaks(text).strip()
    creation.refresh_from_db()
    assert creation.comment_count == 1
    data = json_of(client.get(f"/api/v1/creations/{creation.pk}/comments/"))
    assert [item["body"] for item in data["results"]] == [comment.body]
    # Addresses in the text become links, so the page is checked for escaping, not for lines.
    assert_shown(
        client,
        [
            f"/creations/{creation.pk}/",
            f"/api/v1/creations/{creation.pk}/comments/?format=api",
            "/",
        ],
    )


def assert_no_comment(creation: Creation) -> None:
    assert not Comment.objects.exists()
    creation.refresh_from_db()
    assert creation.comment_count == 0


@cases(COMMENT, megabyte=("body",))
def test_comment_page(client, creation, member, field, hostile):
    client.force_login(member)
    body = urlencoded({"body": "", field: hostile})
    response = client.post(f"/creations/{creation.pk}/comments/", body, content_type=URLENCODED)
    outcome = page_outcome(response, field)
    check(outcome, COMMENT[field], hostile)
    if outcome == REFUSE:
        assert_no_comment(creation)
    else:
        assert_comment_stored_and_shown(client, creation, hostile.as_received)


@cases(COMMENT, megabyte=("body",))
def test_comment_api(client, creation, member, field, hostile):
    body = json_body({field: hostile})
    response = client_for(member).generic(
        "POST", f"/api/v1/creations/{creation.pk}/comments/", body, "application/json"
    )
    outcome = api_outcome(response, field, hostile)
    check(outcome, COMMENT[field], hostile, JSON)
    if outcome == REFUSE:
        assert_no_comment(creation)
    else:
        assert_comment_stored_and_shown(client, creation, hostile.text)


@cases(COMMENT, megabyte=("body",))
def test_comment_edit_api(client, creation, member, field, hostile):
    comment = comment_create(user=member, creation=creation, body="How is it attached?")
    body = json_body({field: hostile})
    response = client_for(member).generic(
        "PATCH", f"/api/v1/comments/{comment.pk}/", body, "application/json"
    )
    outcome = api_outcome(response, field, hostile)
    check(outcome, COMMENT[field], hostile, JSON)
    comment.refresh_from_db()
    if outcome == REFUSE:
        assert (comment.body, comment.edited_at) == ("How is it attached?", None)
    else:
        assert comment.edited_at is not None
        assert_comment_stored_and_shown(client, creation, hostile.text)


def assert_comment_report_stored_and_shown(moderator, text: str) -> None:
    """Moderators read comment reports in the admin's comment queue."""
    report = CommentReport.objects.get()
    assert report.note == text.strip()
    admin = Client()
    admin.force_login(moderator)
    pages = [
        f"/admin/community/commentreport/{report.pk}/change/",
        "/admin/community/commentreport/",
        "/admin/community/comment/",
    ]
    assert_shown(admin, pages, report.note)


@cases(COMMENT_REPORT, megabyte=("note",))
def test_comment_report_page(request, client, creation, owner, member, field, hostile):
    comment = comment_create(user=owner, creation=creation, body="Thanks for looking!")
    client.force_login(member)
    body = urlencoded({"reason": "spam", "note": "", field: hostile})
    response = client.post(f"/comments/{comment.pk}/report/", body, content_type=URLENCODED)
    outcome = page_outcome(response, field)
    check(outcome, COMMENT_REPORT[field], hostile)
    if outcome == REFUSE:
        assert not CommentReport.objects.exists()
    else:
        moderator = request.getfixturevalue("moderator")
        assert_comment_report_stored_and_shown(moderator, hostile.as_received)


@cases(COMMENT_REPORT, megabyte=("note",))
def test_comment_report_api(request, creation, owner, member, field, hostile):
    comment = comment_create(user=owner, creation=creation, body="Thanks for looking!")
    body = json_body({"reason": "spam", field: hostile})
    response = client_for(member).generic(
        "POST", f"/api/v1/comments/{comment.pk}/reports/", body, "application/json"
    )
    outcome = api_outcome(response, field, hostile)
    check(outcome, COMMENT_REPORT[field], hostile, JSON)
    if outcome == REFUSE:
        assert not CommentReport.objects.exists()
    else:
        moderator = request.getfixturevalue("moderator")
        assert_comment_report_stored_and_shown(moderator, hostile.text)


# Saving, following and notifications: choices, ids and where to go back to ----------------

TOGGLES = {
    "favourite": ("/creations/{creation}/favourite/", "save"),
    "follow member": ("/u/{owner}/follow/", "follow"),
    "follow tag": ("/tags/technic-pin/follow/", "follow"),
}


@pytest.mark.parametrize("toggle", TOGGLES)
@cases({"action": CHOICE, "next": LOOKUP})
def test_save_and_follow_pages(client, creation, owner, member, toggle, field, hostile):
    path, action = TOGGLES[toggle]
    client.force_login(member)
    body = urlencoded({"action": action, "next": "/", field: hostile})
    url = path.format(creation=creation.pk, owner=owner.username)
    response = client.post(url, body, content_type=URLENCODED)
    assert response.status_code < 500, response.status_code
    if response.status_code == 302:
        # Never sent off the site, whatever `next` said.
        assert urlsplit(response["Location"]).netloc in ("", "testserver")
    done = member.favourites.exists() or member.follows.exists()
    check(
        ACCEPT if done else REFUSE,
        COMMENT_REPORT["reason"] if field == "action" else LOOKUP,
        hostile,
    )


@cases({"ids": CHOICE})
def test_mark_notifications_read_api(member, field, hostile):
    body = json_body({field: [hostile]})
    response = client_for(member).generic(
        "POST", "/api/v1/notifications/read/", body, "application/json"
    )
    check(api_outcome(response, field, hostile), CHOICE, hostile, JSON)


@pytest.mark.parametrize("hostile", CORPUS, ids=[hostile.name for hostile in CORPUS])
def test_notification_preferences_api(member, hostile):
    """A kind is one of a fixed set, its choice a boolean: hostile as either is a 400."""
    api = client_for(member)
    as_key = json.dumps({"email": {hostile.text: True}}).encode()
    as_value = b'{"email": ' + json_body({"score": hostile}) + b"}"
    for body in (as_key, as_value, json_body({"email": hostile})):
        response = api.generic(
            "PUT", "/api/v1/notifications/preferences/", body, "application/json"
        )
        check(api_outcome(response, "email", hostile), CHOICE, hostile, JSON)
    assert not member.notification_preferences.exists()


@cases({"email": CHOICE})
def test_notification_settings_page(client, member, field, hostile):
    client.force_login(member)
    body = urlencoded({field: hostile})
    response = client.post("/notifications/settings/", body, content_type=URLENCODED)
    assert response.status_code < 500, response.status_code
    if response.status_code == 200:
        html_of(response)
    assert not member.notification_preferences.filter(email=True).exists()


# Members: sign-up, log-in, settings, passwords ---------------------------------------------

SIGNUP = {"username": USERNAME, "email": EMAIL}
LOGIN = {"username": LOOKUP, "password": SECRET}
PROFILE = {"display_name": LINE, "bio": LONG, "email": EMAIL, "current_password": SECRET}
PASSWORD_CHANGE = {"old_password": SECRET, "new_password": SECRET}


@cases(SIGNUP, megabyte=("email",))
def test_signup_page(client, field, hostile):
    sent = in_email(hostile) if field == "email" else hostile
    passwords = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    body = urlencoded(
        {"username": "newcomer", "email": "newcomer@example.com", **passwords, field: sent}
    )
    outcome = form_outcome(client.post("/accounts/signup/", body, content_type=URLENCODED), field)
    check(outcome, SIGNUP[field], hostile)
    if outcome == REFUSE:
        assert mail.outbox == [] and not User.objects.exists()
        return
    # The account is made unverified; the mailed link verifies its address.
    user = User.objects.get()
    assert getattr(user, field) == sent.as_received.strip()
    html_of(client.get(mailed_path(r"/accounts/verify/[^/\s]+/")))
    assert User.objects.get().email_verified
    client.force_login(user)
    assert_shown(client, [f"/u/{user.username}/", "/accounts/settings/", "/api/v1/users/me/"])


@cases({**LOGIN, "next": LOOKUP}, megabyte=("password", "next"))
def test_login_page(client, member, field, hostile):
    if field == "next":
        html_of(client.get(f"/accounts/login/?{query_string('next', hostile)}"))
    body = urlencoded({"username": "member", "password": PASSWORD, field: hostile})
    response = client.post("/accounts/login/", body, content_type=URLENCODED)
    if field != "next":
        assert response.status_code == 200  # the form again: nobody is logged in
        html_of(response)
        assert response.context["form"].errors
        assert "_auth_user_id" not in client.session
        return
    # Logged in, and sent somewhere on this site whatever `next` said.
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.scheme in ("", "http", "https") and location.netloc in ("", "testserver")
    assert not re.search(r"[\x00-\x20\x7f]", response["Location"])


@pytest.mark.parametrize("hostile", CORPUS, ids=[f"address-{hostile.name}" for hostile in CORPUS])
def test_login_with_an_address(client, member, hostile):
    """An address is looked up (for the log-in limit, too) before the form refuses it."""
    sent = replace(
        hostile,
        text=f"{hostile.text}@example.com",
        raw=hostile.raw + b"@example.com" if hostile.raw is not None else None,
        json_literal=None,
    )
    body = urlencoded({"username": sent, "password": PASSWORD})
    response = client.post("/accounts/login/", body, content_type=URLENCODED)
    assert response.status_code == 200 and response.context["form"].errors
    html_of(response)
    api = client_for(None).generic("POST", "/api/v1/auth/token/", body, URLENCODED)
    assert api.status_code == 400 and json_of(api)


@cases(LOGIN, megabyte=("username",))
def test_token_api(member, field, hostile):
    body = json_body({"username": "member", "password": PASSWORD, field: hostile})
    response = client_for(None).generic("POST", "/api/v1/auth/token/", body, "application/json")
    outcome = api_outcome(response, field, hostile, also=("non_field_errors",))
    assert outcome == REFUSE


def _profile_fields(member, field, hostile):
    fields = {"display_name": "Member", "bio": "", "email": member.email, "current_password": ""}
    if field == "email":
        return {**fields, "email": in_email(hostile), "current_password": PASSWORD}
    if field == "current_password":
        return {**fields, "email": "new-address@example.com", "current_password": hostile}
    return {**fields, field: hostile}


def assert_profile_stored_and_shown(client, member, field, hostile, text):
    member.refresh_from_db()
    if field == "email":
        # The address changes when the link mailed to it is opened.
        link = mailed_path(r"/accounts/email/confirm/[^/\s]+/")
        html_of(client.get(link))
        assert client.post(link).status_code == 302
        member.refresh_from_db()
        assert member.email == in_email(hostile).as_received.strip()
        assert_shown(client, ["/accounts/settings/", "/api/v1/users/me/"])
        return
    assert field != "current_password", "a wrong password was taken"
    assert getattr(member, field) == text.strip()
    pages = [f"/u/{member.username}/"]
    if field == "display_name":
        # Every page's navigation shows the member's name; the gallery card and the creation
        # page show the owner's.
        CreationFactory(owner=member)
        pages += ["/", f"/creations/{member.creations.get().pk}/"]
    assert_shown(client, pages, getattr(member, field))
    assert json_of(client.get(f"/api/v1/users/{member.username}/"))[field] == text.strip()


def assert_profile_unchanged(member, before):
    member.refresh_from_db()
    assert (member.display_name, member.bio, member.email) == before


@cases(PROFILE, megabyte=("bio", "email"))
def test_settings_page(client, owner, field, hostile):
    client.force_login(owner)
    before = (owner.display_name, owner.bio, owner.email)
    body = urlencoded(_profile_fields(owner, field, hostile))
    outcome = form_outcome(client.post("/accounts/settings/", body, content_type=URLENCODED), field)
    check(outcome, PROFILE[field], hostile)
    if outcome == REFUSE:
        assert_profile_unchanged(owner, before)
        assert mail.outbox == []
    else:
        assert_profile_stored_and_shown(client, owner, field, hostile, hostile.as_received)


@cases(PROFILE, megabyte=("display_name", "current_password"))
def test_profile_api(client, owner, field, hostile):
    before = (owner.display_name, owner.bio, owner.email)
    fields = _profile_fields(owner, field, hostile)
    if field not in ("email", "current_password"):
        fields = {field: hostile}
    response = client_for(owner).generic(
        "PATCH", "/api/v1/users/me/", json_body(fields), "application/json"
    )
    outcome = api_outcome(response, field, hostile)
    check(outcome, PROFILE[field], hostile, JSON)
    if outcome == REFUSE:
        assert_profile_unchanged(owner, before)
        assert mail.outbox == []
    else:
        client.force_login(owner)
        assert_profile_stored_and_shown(client, owner, field, hostile, hostile.text)


@cases(PASSWORD_CHANGE, megabyte=("new_password",))
def test_password_change_page(client, member, field, hostile):
    client.force_login(member)
    fields = {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    if field == "old_password":
        fields["old_password"] = hostile
    else:
        fields.update(new_password1=hostile, new_password2=hostile)
    response = client.post(
        "/accounts/password/change/", urlencoded(fields), content_type=URLENCODED
    )
    error_fields = (
        ("old_password",) if field == "old_password" else ("new_password1", "new_password2")
    )
    outcome = form_outcome(response, *error_fields)
    member.refresh_from_db()
    if outcome == REFUSE:
        assert member.check_password(PASSWORD)
    else:
        assert field == "new_password", "a wrong old password was taken"
        assert member.check_password(hostile.as_received)
        html_of(client.get("/accounts/settings/"))


@pytest.mark.parametrize("hostile", CORPUS, ids=[f"email-{hostile.name}" for hostile in CORPUS])
def test_password_reset_page(client, member, hostile):
    body = urlencoded({"email": in_email(hostile)})
    response = client.post("/accounts/password/reset/", body, content_type=URLENCODED)
    if response.status_code != 302:
        form_outcome(response, "email")
    assert mail.outbox == []  # no account has that address


def test_an_address_with_a_bidi_override_in_its_domain_is_refused(client, owner):
    address = "owner@exam\u202eple.com"  # Django's validator takes any letter in a domain
    client.force_login(owner)
    response = client.post(
        "/accounts/settings/",
        {"display_name": "", "bio": "", "email": address, "current_password": PASSWORD},
    )
    assert form_outcome(response, "email") == REFUSE
    api = client_for(owner).patch(
        "/api/v1/users/me/", {"email": address, "current_password": PASSWORD}, format="json"
    )
    assert api.status_code == 400 and "email" in api.json()
    client.logout()
    signup = client.post("/accounts/signup/", {"username": "newcomer", "email": address})
    assert form_outcome(signup, "email") == REFUSE
    assert mail.outbox == []


# Members' data and moderation: appeals, restrictions, account deletion, the log -----------

APPEAL = {"note": LONG}


@pytest.fixture
def moderator_hidden(creation, moderator):
    return creation_update(
        creation=creation, actor=moderator, status="hidden", hidden_reason="Not LEGO"
    )


def assert_appeal_stored_and_shown(moderator, text: str) -> None:
    appeal = Appeal.objects.get()
    assert appeal.note in (normalised_line_breaks(text).strip(), text.strip())
    admin = Client()
    admin.force_login(moderator)
    pages = [f"/admin/moderation/appeal/{appeal.pk}/change/", "/admin/moderation/appeal/"]
    assert_shown(admin, pages)


@cases(APPEAL, megabyte=("note",))
def test_appeal_page(client, moderator_hidden, owner, moderator, field, hostile):
    client.force_login(owner)
    body = urlencoded({field: hostile})
    response = client.post(
        f"/creations/{moderator_hidden.pk}/appeal/", body, content_type=URLENCODED
    )
    outcome = page_outcome(response, field)
    check(outcome, APPEAL[field], hostile)
    if outcome == REFUSE:
        assert not Appeal.objects.exists()
    else:
        assert_appeal_stored_and_shown(moderator, hostile.as_received)


@cases(APPEAL, megabyte=("note",))
def test_appeal_api(moderator_hidden, owner, moderator, field, hostile):
    body = json_body({field: hostile})
    response = client_for(owner).generic(
        "POST", f"/api/v1/creations/{moderator_hidden.pk}/appeal/", body, "application/json"
    )
    outcome = api_outcome(response, field, hostile)
    check(outcome, APPEAL[field], hostile, JSON)
    if outcome == REFUSE:
        assert not Appeal.objects.exists()
    else:
        assert_appeal_stored_and_shown(moderator, hostile.text)


RESTRICTION = {"reason": LONG, "category": CHOICE, "restriction": CHOICE}


@cases(RESTRICTION, megabyte=("reason",))
def test_restriction_api(client, member, moderator, field, hostile):
    fields = {"restriction": "suspended", "reason": "Spam links", "category": "spam"}
    body = json_body({**fields, field: hostile})
    response = client_for(moderator).generic(
        "PUT", "/api/v1/users/member/restriction/", body, "application/json"
    )
    outcome = api_outcome(response, field, hostile)
    check(outcome, RESTRICTION[field], hostile, JSON)
    member.refresh_from_db()
    if outcome == REFUSE:
        assert member.restriction == "" and not ModerationAction.objects.exists()
        return
    assert member.restriction_reason == hostile.text.strip()
    (row,) = ModerationAction.objects.all()
    assert row.reason == member.restriction_reason
    # Shown escaped where it appears: the member's log-in refusal, the admin, the log's JSON.
    refused = client_for(None).post(
        "/api/v1/auth/token/", {"username": "member", "password": PASSWORD}, format="json"
    )
    assert refused.status_code == 400
    json_of(refused)
    login = client.post("/accounts/login/", {"username": "member", "password": PASSWORD})
    html_of(login)
    admin = Client()
    admin.force_login(moderator)
    pages = [
        f"/admin/moderation/member/{member.pk}/change/",
        f"/admin/moderation/moderationaction/{row.pk}/change/",
        "/api/v1/moderation/actions/?format=api",
    ]
    assert_shown(admin, pages)
    json_of(client_for(moderator).get("/api/v1/moderation/actions/"))


@cases({"reason": LONG}, megabyte=("reason",))
def test_lift_api(member, moderator, field, hostile):
    member_suspend(member=member, moderator=moderator, reason="Spam", category="spam")
    body = json_body({field: hostile})
    response = client_for(moderator).generic(
        "DELETE", "/api/v1/users/member/restriction/", body, "application/json"
    )
    outcome = api_outcome(response, field, hostile)
    check(outcome, LONG, hostile, JSON)
    member.refresh_from_db()
    lifted = ModerationAction.objects.filter(action="lift")
    if outcome == REFUSE:
        assert member.restriction == "suspended" and not lifted.exists()
    else:
        assert member.restriction == "" and lifted.get().reason == hostile.text.strip()


@cases({"password": SECRET}, megabyte=("password",))
def test_account_delete_api(owner, creation, field, hostile):
    body = json_body({field: hostile})
    response = client_for(owner).generic("DELETE", "/api/v1/users/me/", body, "application/json")
    assert response.status_code < 500
    # No string of the corpus is the password: the account stays, with its creation.
    assert response.status_code in (400, 429), response.status_code
    data = json_of(response)
    assert response.status_code == 429 or "password" in data or "detail" in data
    assert (
        User.objects.filter(pk=owner.pk).exists()
        and Creation.objects.filter(pk=creation.pk).exists()
    )


@cases({"password": SECRET}, megabyte=("password",))
def test_account_delete_page(client, owner, creation, field, hostile):
    client.force_login(owner)
    body = urlencoded({field: hostile})
    response = client.post("/accounts/delete/", body, content_type=URLENCODED)
    assert response.status_code < 500
    if response.status_code not in (429,):
        html_of(response)
    assert User.objects.filter(pk=owner.pk).exists()
    assert Creation.objects.filter(pk=creation.pk).exists()


# Lists: query strings on pages and API -----------------------------------------------------

GALLERY_FILTERS = ("q", "tag", "part", "sort", "page", "min_rating", "owner")
API_FILTERS = ("tag", "part", "owner", "q", "min_rating", "ordering", "page", "page_size")


def filter_must_refuse(name: str, hostile: Hostile, *, api: bool) -> bool:
    """Filters that parse their value refuse a control character; a rating takes numbers
    only, and the API's ordering known names only."""
    if name in ("tag", "part") and hostile.kind == CONTROL:
        return True
    return name == "min_rating" or (api and name == "ordering")


def query_cases(names, *, megabyte=("q",)):
    mark = cases(names, megabyte=megabyte)
    return pytest.mark.parametrize("name, hostile", mark.args[1], ids=mark.kwargs["ids"])


@query_cases(GALLERY_FILTERS, megabyte=("q", "tag", "owner"))
def test_gallery_filters(client, name, hostile):
    response = client.get(f"/?{query_string(name, hostile)}")
    html_of(response)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert name in response.context["filter_errors"]
    assert (response.status_code == 400) >= filter_must_refuse(name, hostile, api=False)


@query_cases(("q",))
def test_tag_page_filter(client, creation, name, hostile):
    response = client.get(f"/tags/technic-pin/?{query_string(name, hostile)}")
    html_of(response)
    assert response.status_code in (200, 400)


@query_cases(("q",))
def test_part_catalog_search(client, catalog, name, hostile):
    response = client.get(f"/parts/?{query_string(name, hostile)}")
    html_of(response)
    assert response.status_code == 200


@query_cases(API_FILTERS, megabyte=("q", "part", "page"))
def test_creation_list_filters(name, hostile):
    response = client_for(None).get(f"/api/v1/creations/?{query_string(name, hostile)}")
    data = json_of(response)
    if response.status_code == 404:
        assert name == "page" and "detail" in data  # "Invalid page."
    elif response.status_code == 400:
        assert name in data, data
    else:
        assert response.status_code == 200 and "results" in data
    assert (response.status_code == 400) >= filter_must_refuse(name, hostile, api=True)


@query_cases(("action", "category", "target_type", "page"), megabyte=("target_type",))
def test_moderation_log_filters(moderator, name, hostile):
    response = client_for(moderator).get(
        f"/api/v1/moderation/actions/?{query_string(name, hostile)}"
    )
    data = json_of(response)
    if response.status_code == 404:
        assert name == "page" and "detail" in data
    elif response.status_code == 400:
        assert name in data, data
    else:
        assert response.status_code == 200 and "results" in data
    if name in ("action", "category"):
        assert response.status_code == 400  # none of the corpus is an action or a category


@query_cases(("q",))
def test_tag_and_part_list_search(creation, catalog, name, hostile):
    api = client_for(None)
    for url in ("/api/v1/tags/", "/api/v1/parts/"):
        response = api.get(f"{url}?{query_string(name, hostile)}")
        assert response.status_code == 200
        json_of(response)
