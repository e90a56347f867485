import json
import random
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from taggit.models import Tag

from accounts.services import user_set_moderator
from community.models import Comment, Favourite, Follow
from community.services.comments import comment_create
from community.services.favourites import favourite_add
from community.services.follows import follow_add
from creations.models import Creation
from creations.services import creation_create
from demo.pictures import draw_creation
from moderation.services import report_create
from parts.models import Part
from scoring.models import Score
from scoring.services import creation_refresh_all_aggregates, score_upsert

DEMO_PASSWORD = "brick-by-brick"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PARTS_FIXTURES = Path(__file__).resolve().parents[3] / "parts" / "fixtures"
# Which catalog parts each part-like demo tag stands for.
TAG_PARTS = json.loads((FIXTURES / "demo_tag_parts.json").read_text())

# (username, display name, bio); the first one moderates.
MEMBERS = [
    ("maria", "Maria the Moderator", "Keeps the gallery tidy. Collects 1x1 round tiles."),
    ("axel", "Axel Studs", "Technic at heart, castle by night."),
    ("bea", "Bea Bricks", "Micro-scale cities and too many cheese slopes."),
    ("chen", "Chen Li", "Space MOCs. Everything is a greeble if you squint."),
    ("dara", "Dara O.", ""),
    ("emeka", "Emeka", "Trains, bridges and anything with hinges."),
    ("freya", "Freya Plate", "I build furniture out of minifig accessories."),
    ("gus", "Gus", "Returning AFOL after a thirty-year dark age."),
    ("hana", "Hana Tiles", "Mosaics and SNOT techniques."),
    ("ivo", "Ivo Hinge", "Mechs, mostly."),
    ("jules", "Jules Vernebrick", "Steampunk airships with questionable physics."),
    ("kai", "Kai", "Brick-built animals."),
]

PARTS = [
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
    "headlight brick",
    "lever base",
]
THEMES = ["castle", "space", "city", "technic", "train", "pirates", "botanical", "microscale"]
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
]

# A few conversations: (creation index, [(author, body, replies to the n-th top-level comment or
# None)]). "{owner}" is the creation's owner's username.
CONVERSATIONS = [
    (
        0,
        [
            ("bea", "How is that hand attached? Is it clipped onto a bar holder?", None),
            ("{owner}", "@bea it sits on a 1x1 round plate with a bar, then the hand clips on.", 0),
            ("chen", "Great trick. Stealing it for my next space base!", 0),
            ("dara", "The light makes it look like a real lamp.\nWhich bulb did you use?", None),
        ],
    ),
    (
        1,
        [
            ("axel", "Never thought of using those as shutters. Nice part usage!", None),
            ("{owner}", "Thanks! @hana suggested it when we built the market street.", 0),
            ("hana", "Happy to help :) More photos on https://example.com/market-street", 0),
        ],
    ),
    (
        2,
        [
            ("ivo", "Is this sturdy enough to swoosh?", None),
            ("{owner}", "Mostly. The tail falls off if you look at it wrong.", 0),
        ],
    ),
    (
        4,
        [("gus", "Back from my dark age and this is the first thing I saw. Wow.", None)],
    ),
]
# (member, creation indexes they saved)
FAVOURITES = [("bea", [0, 1, 4, 7]), ("chen", [0, 2]), ("axel", [1, 3, 5]), ("gus", [4])]
# (member, members they follow, tags they follow)
FOLLOWS = [
    ("bea", ["axel", "hana"], ["castle"]),
    ("chen", ["bea"], ["space", "technic pin"]),
    ("axel", ["chen", "freya"], []),
    ("gus", [], ["train", "microscale"]),
]

CREATION_COUNT = 60
HIDDEN_EVERY = 17  # a few creations start hidden, as moderation leaves them


def creation_plan(index: int) -> dict:
    """The title, text and tags of demo creation `index`; the same on every run."""
    rng = random.Random(f"npu-demo-{index}")
    part = PARTS[index % len(PARTS)]
    use = USES[(index * 7) % len(USES)]
    theme = rng.choice(THEMES)
    extra_parts = rng.sample([p for p in PARTS if p != part], k=rng.randint(0, 3))
    return {
        "title": f"{part.capitalize()} as {use} ({theme})"[:120],
        "description": (
            f"A {theme} build where the {part} becomes the {use}.\n\n"
            f"Also uses: {', '.join(extra_parts) or 'nothing else unusual'}. "
            "Parts from my loose-bricks bin; no pieces were cut or glued."
        ),
        "alt_text": f"A {theme} model in which a {part} is used as the {use}.",
        "tags": [part, theme, *extra_parts],
        "parts": [number for tag in [part, *extra_parts] for number in TAG_PARTS.get(tag, [])[:1]],
        "owner": MEMBERS[(index * 5 + 1) % len(MEMBERS)][0],
        "hidden": index % HIDDEN_EVERY == HIDDEN_EVERY - 1,
        "days_ago": rng.uniform(0, 120),
        "quality": rng.uniform(1.5, 4.8),
        "scorer_count": rng.randint(0, len(MEMBERS) - 1),
    }


class Command(BaseCommand):
    help = (
        "Load demo members, creations with drawn pictures, tags, scores and a report. "
        "Safe to run again: nothing is created twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DJANGO_DEBUG off (the demo passwords are public).",
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Demo accounts have a public password; refusing with DJANGO_DEBUG off. "
                "Use --force to load them anyway."
            )
        self.seed_parts()
        members = self.seed_members()
        created = 0
        for index in range(CREATION_COUNT):
            created += self.seed_creation(index, members)
            if (index + 1) % 10 == 0:
                self.stdout.write(f"  creations: {index + 1}/{CREATION_COUNT}")
        self.seed_report(members)
        self.seed_community(members)
        # The scores were dated back after they were made: rebuild the rankings from them (and
        # the priors, every rater's calibration and the calibrated order with them).
        creation_refresh_all_aggregates()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(members)} members, {created} new creation(s), "
                f"{Creation.objects.count()} in all, {Score.objects.count()} scores, "
                f"{Comment.objects.count()} comments, {Favourite.objects.count()} saves, "
                f"{Follow.objects.count()} follows."
            )
        )
        self.stdout.write(f"Demo log-ins (password for all: {DEMO_PASSWORD}):")
        moderator = MEMBERS[0][0]
        self.stdout.write(f"  {moderator:<8} moderator: can open /admin/")
        self.stdout.write("  " + ", ".join(username for username, _, _ in MEMBERS[1:]))

    def seed_parts(self) -> None:
        if Part.objects.filter(part_num__in=[n for ns in TAG_PARTS.values() for n in ns]).count():
            self.stdout.write(f"  parts: {Part.objects.count()} in the catalog already")
            return
        call_command(
            "import_parts",
            str(PARTS_FIXTURES / "parts.csv"),
            categories=str(PARTS_FIXTURES / "part_categories.csv"),
            stdout=self.stdout,
            stderr=self.stderr,
        )

    def seed_members(self) -> dict:
        User = get_user_model()
        members = {}
        for position, (username, display_name, bio) in enumerate(MEMBERS):
            user, was_created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@demo.npu.invalid",
                    "display_name": display_name,
                    "bio": bio,
                    # Demo members' uploads go straight to the gallery, not to review.
                    "trusted": True,
                },
            )
            if was_created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                if position == 0:
                    user_set_moderator(user=user, is_moderator=True)
            members[username] = user
        self.stdout.write(f"  members: {len(members)}")
        return members

    def seed_creation(self, index: int, members: dict) -> int:
        plan = creation_plan(index)
        owner = members[plan["owner"]]
        creation = Creation.objects.filter(owner=owner, title=plan["title"]).first()
        was_created = creation is None
        if was_created:
            picture = SimpleUploadedFile(
                f"demo-{index}.jpg", draw_creation(index), content_type="image/jpeg"
            )
            with transaction.atomic():
                creation = creation_create(
                    owner=owner,
                    title=plan["title"],
                    description=plan["description"],
                    alt_text=plan["alt_text"],
                    tags=plan["tags"],
                    parts=plan["parts"],
                    image=picture,
                    status=Creation.Status.HIDDEN if plan["hidden"] else Creation.Status.PUBLISHED,
                )
                # Spread the demo over the past months so "newest" and "trending" differ.
                created_at = timezone.now() - timedelta(days=plan["days_ago"])
                Creation.objects.filter(pk=creation.pk).update(
                    created_at=created_at, updated_at=created_at
                )
        self.seed_scores(index, creation, plan, members)
        return int(was_created)

    def seed_scores(self, index: int, creation: Creation, plan: dict, members: dict) -> None:
        rng = random.Random(f"npu-demo-scores-{index}")
        scorers = [user for user in members.values() if user.pk != creation.owner_id]
        already = set(Score.objects.filter(creation=creation).values_list("user_id", flat=True))
        created_at = timezone.now() - timedelta(days=plan["days_ago"])
        for user in rng.sample(scorers, k=plan["scorer_count"]):
            creativity = max(1, min(5, round(rng.gauss(plan["quality"], 0.8))))
            uniqueness = max(1, min(5, round(rng.gauss(plan["quality"], 1.0))))
            scored_at = created_at + (timezone.now() - created_at) * rng.random()
            if user.pk in already:
                continue
            score, _ = score_upsert(
                user=user, creation=creation, creativity=creativity, uniqueness=uniqueness
            )
            Score.objects.filter(pk=score.pk).update(created_at=scored_at, updated_at=scored_at)

    def seed_report(self, members: dict) -> None:
        target = Creation.objects.filter(title=creation_plan(0)["title"]).first()
        reporter = members[MEMBERS[-1][0]]
        if target and target.owner_id != reporter.pk and not target.reports.exists():
            report_create(
                reporter=reporter,
                creation=target,
                reason="stolen",
                note="I think I saw this exact build on a forum last year.",
            )

    def seed_community(self, members: dict) -> None:
        """Conversations, favourites and follows, through the community's services (which
        notify the members concerned); nothing is made twice."""
        by_index = {
            index: Creation.objects.filter(title=creation_plan(index)["title"]).first()
            for index in {index for index, _ in CONVERSATIONS}
            | {index for _, indexes in FAVOURITES for index in indexes}
        }
        for index, lines in CONVERSATIONS:
            creation = by_index[index]
            if creation is None or creation.comments.exists():
                continue
            owner = creation.owner.username
            top_level: list[Comment] = []
            for author, body, reply_to in lines:
                author = owner if author == "{owner}" else author
                comment = comment_create(
                    user=members[author],
                    creation=creation,
                    body=body,
                    parent=top_level[reply_to] if reply_to is not None else None,
                )
                if reply_to is None:
                    top_level.append(comment)
        for username, indexes in FAVOURITES:
            for index in indexes:
                creation = by_index[index]
                if creation is not None and creation.is_published:
                    favourite_add(user=members[username], creation=creation)
        for username, followed, tags in FOLLOWS:
            for other in followed:
                follow_add(follower=members[username], user=members[other])
            for tag in Tag.objects.filter(name__in=tags):
                follow_add(follower=members[username], tag=tag)
        self.stdout.write(
            f"  community: {Comment.objects.count()} comments, "
            f"{Favourite.objects.count()} saves, {Follow.objects.count()} follows"
        )
