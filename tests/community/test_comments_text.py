import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from community.selectors import mentioned_members
from community.text import comment_html, mentioned_usernames
from tests.factories import UserFactory
from tests.hostile import UNESCAPED


class Member:
    def __init__(self, username):
        self.username = username

    def get_absolute_url(self):
        return f"/u/{self.username}/"


MEMBERS = {"alice": Member("alice"), "bob.b": Member("bob.b")}


def html(body, members=MEMBERS):
    return str(comment_html(body, members=members))


# Escaping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<b>x</b>",
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        '"><script>alert(1)</script>',
        "javascript:alert(1)",
        "<a href='javascript:alert(1)'>x</a>",
        "&lt;b&gt; already escaped",
    ],
)
def test_markup_is_text(body):
    out = html(body)
    for fragment in UNESCAPED:
        assert fragment not in out
    assert "<script" not in out and "onerror=" not in out.replace("onerror=alert", "")
    # Nothing but the paragraph is markup.
    assert re.sub(r"</?p>", "", out).count("<") == 0


def test_an_escaped_entity_stays_visible_as_typed():
    assert html("&lt;b&gt;") == "<p>&amp;lt;b&amp;gt;</p>"


def test_line_breaks_and_paragraphs():
    assert html("one\ntwo\r\nthree\n\n\nnext") == "<p>one<br>\ntwo<br>\nthree</p><p>next</p>"


def test_an_empty_body_renders_nothing():
    assert html("") == ""


# Links --------------------------------------------------------------------------------------


def test_http_and_https_addresses_are_links_nobody_vouches_for():
    out = html("See https://rebrickable.com/parts/3001/ and http://example.com")
    assert (
        '<a href="https://rebrickable.com/parts/3001/" rel="nofollow ugc">'
        "https://rebrickable.com/parts/3001/</a>" in out
    )
    assert '<a href="http://example.com" rel="nofollow ugc">http://example.com</a>' in out


@pytest.mark.parametrize(
    "body, url, after",
    [
        ("Look: https://example.com/a.", "https://example.com/a", "."),
        ("(see https://example.com/a)", "https://example.com/a", ")"),
        (
            "https://en.wikipedia.org/wiki/Brick_(toy)!",
            "https://en.wikipedia.org/wiki/Brick_(toy)",
            "!",
        ),
        ("'https://example.com/x'", "https://example.com/x", "'"),
        ("https://example.com/?a=1&b=2, ok", "https://example.com/?a=1&amp;b=2", ","),
    ],
)
def test_trailing_punctuation_is_not_part_of_the_address(body, url, after):
    out = html(body)
    assert f'href="{url}"' in out
    assert f"</a>{after}" in out or f"</a>{after.replace(chr(39), '&#x27;')}" in out


@pytest.mark.parametrize(
    "body",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "ftp://example.com/file",
        "http://",
        "http://.",
        "xhttp://example.com",
    ],
)
def test_other_schemes_and_non_addresses_are_not_links(body):
    assert "<a" not in html(body)


def test_an_address_cannot_break_out_of_its_attribute():
    out = html('https://example.com/"onmouseover="alert(1) https://example.com/<script>')
    assert 'href="https://example.com/"' in out
    assert '"onmouseover' not in out
    assert "&quot;onmouseover=&quot;alert(1)" in out
    assert "<script" not in out


def test_unicode_in_an_address_is_quoted_in_the_link_and_shown_as_typed():
    out = html("https://example.com/café")
    assert 'href="https://example.com/caf%C3%A9"' in out
    assert ">https://example.com/café</a>" in out


def test_a_long_address_is_shown_shortened_but_linked_whole():
    url = "https://example.com/" + "a" * 200
    out = html(url)
    assert f'href="{url}"' in out
    assert "…</a>" in out and len(re.search(r">([^<]*)</a>", out).group(1)) == 60


def test_a_broken_ipv6_address_is_text():
    out = html("http://[::1 is not an address")
    assert "<a" not in out or 'rel="nofollow ugc"' in out  # never a 500, never raw


# Mentions -----------------------------------------------------------------------------------


def test_mentions_of_members_link_to_their_profiles():
    out = html("Thanks @alice and @bob.b. Ask @nobody.")
    assert '<a class="mention" href="/u/alice/">@alice</a>' in out
    assert '<a class="mention" href="/u/bob.b/">@bob.b</a>.' in out
    assert "@nobody" in out and "/u/nobody/" not in out


def test_an_email_address_mentions_nobody():
    assert "mention" not in html("Write to me@alice or alice@example.com")


def test_without_members_mentions_stay_text():
    assert "<a" not in html("Hi @alice", members=None)


def test_a_mention_inside_an_address_stays_part_of_the_link():
    out = html("https://example.com/@alice")
    assert out.count("<a") == 1 and 'rel="nofollow ugc"' in out


def test_only_the_first_ten_mentions_are_linked():
    members = {f"m{i}": Member(f"m{i}") for i in range(12)}
    out = html(" ".join(f"@m{i}" for i in range(12)), members=members)
    assert out.count('class="mention"') == 10
    assert mentioned_usernames(" ".join(f"@m{i}" for i in range(12)))[-1] == "m9"


@pytest.mark.django_db
def test_mentioned_members_are_found_in_one_query_exact_or_in_lower_case(
    django_assert_num_queries,
):
    alice = UserFactory(username="alice")
    Bob = UserFactory(username="Bob")
    UserFactory(username="gone", is_active=False)
    bodies = ["@alice and @Alice", "@Bob, @bob and @gone", "@nobody"]
    with django_assert_num_queries(1):
        members = mentioned_members(bodies)
    # A name is looked up once whatever its case; the rendering matches the other spellings.
    assert members == {"alice": alice, "Bob": Bob}
    out = str(comment_html(" ".join(bodies), members=members))
    assert out.count('href="/u/alice/"') == 2 and out.count('href="/u/Bob/"') == 2


@pytest.mark.django_db
def test_no_mentions_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert mentioned_members(["plain text", ""]) == {}


# Whatever the text --------------------------------------------------------------------------


@given(st.text(max_size=300))
def test_any_text_renders_without_raw_markup(body):
    out = html(body)
    text_only = re.sub(r'<a (class="mention" )?href="[^"<>]*"( rel="nofollow ugc")?>', "", out)
    text_only = re.sub(r"</a>|</?p>|<br>", "", text_only)
    assert "<" not in text_only and ">" not in text_only


@given(st.text(alphabet=st.sampled_from("ab:/.h t p s@<>\"&'()\n"), max_size=80))
def test_links_only_ever_point_to_http_addresses(body):
    for href in re.findall(r'href="([^"]*)"', html(body)):
        assert href.startswith(("http://", "https://", "/u/"))
