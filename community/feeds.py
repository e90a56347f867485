"""Atom feeds of published creations: the newest, a tag's, a member's and a part's.

Each feed holds the FEED_SIZE newest published creations (hidden ones never), read in a fixed
number of queries whatever the site's size: the subject's row, then one page of creations
with their owners and one query for their tags. Unknown subjects are a 404, and so is a tag
that only hidden creations carry, as on the tag page. Anonymous fetches are cached like the
pages they mirror (npu_site.caching), and dropped with them on any change to listings.

An entry's summary shows the creation's thumbnail and its description (escaped); its
categories are the tags. With media on S3 behind signed URLs the picture's link expires
(AWS_QUERYSTRING_EXPIRE); a public bucket or AWS_S3_CUSTOM_DOMAIN gives lasting ones.
"""

from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, linebreaks
from taggit.models import Tag

from accounts.models import User
from creations.models import Creation
from npu_site import converters  # noqa: F401  registers <text:…> when imported first
from npu_site.caching import cache_anonymous_page
from parts.models import Part

# The newest this many creations make a feed: enough for a reader polling hourly.
FEED_SIZE = 50


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One creation with the absolute URLs its entry shows, built with the request."""

    creation: Creation
    url: str
    picture_url: str
    author_url: str


@dataclass(frozen=True, slots=True)
class FeedSubject:
    """What a feed is about: its title, the page it mirrors, and its entries."""

    title: str
    subtitle: str
    link: str
    entries: list[FeedEntry]


def feed_entries(request, creations) -> list[FeedEntry]:
    """The FEED_SIZE newest of `creations` (published ones, read for cards), as entries."""
    newest = creations.published().for_cards().sorted_by(None)[:FEED_SIZE]
    return [
        FeedEntry(
            creation=creation,
            url=request.build_absolute_uri(creation.get_absolute_url()),
            # A file's `url` is a path for local media, absolute on S3: absolute either way.
            picture_url=request.build_absolute_uri(creation.thumbnail.url),
            author_url=request.build_absolute_uri(creation.owner.get_absolute_url()),
        )
        for creation in newest
    ]


class CreationFeed(Feed):
    """An Atom feed of creations. Each subclass says what it is about in its
    `subject(request, **url_kwargs) -> FeedSubject`."""

    feed_type = Atom1Feed

    def get_object(self, request, *args, **kwargs) -> FeedSubject:
        return self.subject(request, **kwargs)

    def title(self, subject: FeedSubject) -> str:
        return subject.title

    def subtitle(self, subject: FeedSubject) -> str:
        return subject.subtitle

    def link(self, subject: FeedSubject) -> str:
        return subject.link

    def items(self, subject: FeedSubject) -> list[FeedEntry]:
        return subject.entries

    def item_title(self, entry: FeedEntry) -> str:
        # Atom's <title> is text: the XML writer escapes it once, and readers show it as is.
        return entry.creation.title

    def item_link(self, entry: FeedEntry) -> str:
        return entry.creation.get_absolute_url()

    def item_description(self, entry: FeedEntry) -> str:
        creation = entry.creation
        picture = format_html(
            '<p><a href="{}"><img src="{}" alt="{}"></a></p>',
            entry.url,
            entry.picture_url,
            creation.image_alt,
        )
        if not creation.description:
            return picture
        # linebreaks() escapes the text first: a description is plain text, never HTML.
        return picture + linebreaks(creation.description, autoescape=True)

    def item_author_name(self, entry: FeedEntry) -> str:
        return entry.creation.owner.public_name

    def item_author_link(self, entry: FeedEntry) -> str:
        return entry.author_url

    def item_pubdate(self, entry: FeedEntry):
        return entry.creation.created_at

    def item_updateddate(self, entry: FeedEntry):
        return entry.creation.updated_at

    def item_categories(self, entry: FeedEntry) -> list[str]:
        return [tag.name for tag in entry.creation.tag_list]


class NewestFeed(CreationFeed):
    def subject(self, request, **kwargs) -> FeedSubject:
        return FeedSubject(
            title="NPU: newest creations",
            subtitle="The newest creations shared on NPU, Nice Part Usage.",
            link=reverse("creations:gallery"),
            entries=feed_entries(request, Creation.objects.all()),
        )


class TagFeed(CreationFeed):
    def subject(self, request, *, slug: str) -> FeedSubject:
        tag = get_object_or_404(Tag, slug=slug)
        entries = feed_entries(request, Creation.objects.with_tags([tag.name]))
        if not entries:
            # No published creation carries it: a tag only hidden creations carry does not
            # exist for the public (creations.selectors.tag_is_public), nor does an unused one.
            raise Http404("No such tag.")
        return FeedSubject(
            title=f"NPU: creations tagged “{tag.name}”",
            subtitle=f"The newest creations tagged “{tag.name}” on NPU.",
            link=reverse("creations:tag", kwargs={"slug": tag.slug}),
            entries=entries,
        )


class MemberFeed(CreationFeed):
    def subject(self, request, *, username: str) -> FeedSubject:
        member = get_object_or_404(User, username=username, is_active=True)
        return FeedSubject(
            title=f"NPU: creations by {member.public_name}",
            subtitle=f"The newest creations {member.public_name} shared on NPU.",
            link=member.get_absolute_url(),
            entries=feed_entries(request, Creation.objects.filter(owner=member)),
        )


class PartFeed(CreationFeed):
    def subject(self, request, *, part_num: str) -> FeedSubject:
        part = get_object_or_404(Part, part_num=part_num)
        return FeedSubject(
            title=f"NPU: creations featuring {part.part_num} {part.name}",
            subtitle=f"The newest creations on NPU featuring {part.part_num} {part.name}.",
            link=part.get_absolute_url(),
            entries=feed_entries(request, Creation.objects.with_parts([part.part_num])),
        )


urlpatterns = [
    path("feeds/newest/", cache_anonymous_page(NewestFeed()), name="feed_newest"),
    path("feeds/tags/<text:slug>/", cache_anonymous_page(TagFeed()), name="feed_tag"),
    path("feeds/u/<text:username>/", cache_anonymous_page(MemberFeed()), name="feed_member"),
    path("feeds/parts/<text:part_num>/", cache_anonymous_page(PartFeed()), name="feed_part"),
]
