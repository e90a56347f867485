"""Comment text: who it mentions, and how it is shown.

A comment is plain text. Shown on a page it is escaped in full; only what this module adds is
markup: paragraphs and line breaks, links to the http(s) addresses it holds (`rel="nofollow
ugc"`: the site vouches for none of them) and links to the profiles of the members it
mentions.
"""

import re
from collections.abc import Mapping

from django.utils.html import escape, smart_urlquote
from django.utils.safestring import SafeString, mark_safe

# A mention is @ and a username (letters, digits and @ . + - _), after the start of the text or
# a character that cannot end a word or an address, so `me@example.com` mentions nobody.
MENTION_RE = re.compile(r"(?<![\w@.+-])@([\w.@+-]{1,150})")
# A comment mentions at most this many members; more are plain text.
MAX_MENTIONS = 10

# An http or https address: a host, then anything up to white space, a quote or an angle
# bracket (which no address holds unencoded). Other schemes (javascript:, data:) are text.
URL_RE = re.compile(r"\bhttps?://[^\s<>\"/?#]+[^\s<>\"]*", re.IGNORECASE)
# What ends a sentence rather than the address it follows.
TRAILING_PUNCTUATION = ".,:;!?'*"
CLOSING_BRACKETS = {")": "(", "]": "[", "}": "{"}
# A longer address is shown shortened (the link goes to the whole of it).
URL_DISPLAY_LENGTH = 60
PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n\s*")


def mentioned_usernames(body: str) -> list[str]:
    """The usernames `body` mentions, in order, each once (case-insensitively), at most
    MAX_MENTIONS. A trailing dot or hyphen ends the sentence, not the name."""
    names: list[str] = []
    seen: set[str] = set()
    for match in MENTION_RE.finditer(body):
        name = match.group(1).rstrip(".-")
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
            if len(names) == MAX_MENTIONS:
                break
    return names


def normalised_line_breaks(text: str) -> str:
    """`text` with every line break a plain newline (browsers send CR LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def comment_html(body: str, *, members: Mapping[str, object] | None = None) -> SafeString:
    """`body` as HTML: escaped, in paragraphs with line breaks, its http(s) addresses linked
    (`rel="nofollow ugc"`) and its mentions linked to the members' profiles.

    `members` maps a mentioned name, in any letter case, to the member it names (anything
    with `get_absolute_url()`); a mention of anyone else stays text. Look the names of a
    whole thread up at once (community.selectors.mentioned_members), not comment by comment.
    """
    text = normalised_line_breaks(str(body)).strip()
    if not text:
        return mark_safe("")
    linkable = {name.casefold() for name in mentioned_usernames(text)} if members else set()
    if linkable:
        # A name written in another case names the same member (`@Alice`, `@alice`).
        members = {**{name.casefold(): m for name, m in members.items()}, **members}
    paragraphs = PARAGRAPH_BREAK_RE.split(text)
    html = "".join(
        "<p>"
        + "<br>\n".join(_line_html(line, members, linkable) for line in p.split("\n"))
        + "</p>"
        for p in paragraphs
    )
    return mark_safe(html)  # every piece of the text went through escape()


def _line_html(line: str, members, linkable: set[str]) -> str:
    pieces: list[str] = []
    position = 0
    for match in URL_RE.finditer(line):
        url = _trimmed_url(match.group(0))
        link = _url_link(url)
        if link is None:
            continue  # left as text, with what surrounds it
        pieces.append(_mentions_html(line, position, match.start(), members, linkable))
        pieces.append(link)
        # What was trimmed off (a full stop, a closing bracket) is text: the next piece.
        position = match.start() + len(url)
    pieces.append(_mentions_html(line, position, len(line), members, linkable))
    return "".join(pieces)


def _trimmed_url(url: str) -> str:
    """The address without trailing punctuation and unbalanced closing brackets."""
    while url:
        last = url[-1]
        if last in TRAILING_PUNCTUATION:
            url = url[:-1]
        elif last in CLOSING_BRACKETS and url.count(last) > url.count(CLOSING_BRACKETS[last]):
            url = url[:-1]
        else:
            break
    return url


def _url_link(url: str) -> str | None:
    """An <a> for the address, or None when it is no address (nothing after the scheme)."""
    if len(url.split("://", 1)[1]) == 0:
        return None
    try:
        href = smart_urlquote(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: not an address after all
        return None
    shown = url if len(url) <= URL_DISPLAY_LENGTH else url[: URL_DISPLAY_LENGTH - 1] + "…"
    return f'<a href="{escape(href)}" rel="nofollow ugc">{escape(shown)}</a>'


def _mentions_html(line: str, start: int, end: int, members, linkable: set[str]) -> str:
    """line[start:end], escaped, with its mentions of known members linked."""
    if not linkable:
        return escape(line[start:end])
    pieces: list[str] = []
    position = start
    # Searching the whole line from `start` lets the look-behind see the character before it.
    for match in MENTION_RE.finditer(line, start, end):
        name = match.group(1).rstrip(".-")
        member = (
            members.get(name) or members.get(name.casefold())
            if name.casefold() in linkable
            else None
        )
        if member is None:
            continue
        pieces.append(escape(line[position : match.start()]))
        pieces.append(
            f'<a class="mention" href="{escape(member.get_absolute_url())}">@{escape(name)}</a>'
        )
        position = match.start(1) + len(name)
    pieces.append(escape(line[position:end]))
    return "".join(pieces)
