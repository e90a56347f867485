"""One authorization matrix: every page URL and API route × anonymous, member, owner, moderator
and superuser, with the answer each must get, including attempts on other members' objects.

`owner` owns the creations below (one published, one hidden by the owner, one hidden by a
moderator); `member` has scored and reported the published one. A coverage test checks that
every route of the site appears here, so a new route cannot skip the matrix.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.authtoken.models import Token

from community.models import Notification
from community.notifications import unsubscribe_token
from community.services.comments import comment_create
from creations.models import Creation
from creations.services import creation_update
from moderation.models import ModerationAction, Report
from scoring.models import Score
from tests.conftest import client_for
from tests.factories import CreationFactory, ReportFactory, ScoreFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "member", "owner", "moderator", "superuser")
LOGIN = "login"  # a page that needs a member redirects anonymous visitors to the log-in page


def everyone(status):
    return dict.fromkeys(ROLES, status)


def members(status, anonymous=LOGIN):
    return {"anonymous": anonymous, **dict.fromkeys(ROLES[1:], status)}


def owner_and_moderators(allowed, others, anonymous=LOGIN):
    return {
        "anonymous": anonymous,
        "member": others,
        "owner": allowed,
        "moderator": allowed,
        "superuser": allowed,
    }


@dataclass
class Case:
    name: str
    method: str
    url: str  # formatted with the world's ids and names
    expected: dict
    data: dict = field(default_factory=dict)
    api: bool = False


PUB, HID, MOD = "{published}", "{hidden}", "{moderator_hidden}"
admin_access = {
    "anonymous": "admin-login",
    "member": "admin-login",
    "owner": "admin-login",
    "moderator": 200,
    "superuser": 200,
}
CASES = [
    # Pages ---------------------------------------------------------------------------------
    Case("gallery", "GET", "/", everyone(200)),
    Case("tag cloud", "GET", "/tags/", everyone(200)),
    Case("tag page", "GET", "/tags/castle/", everyone(200)),
    Case("tag only a hidden creation carries", "GET", "/tags/secret/", everyone(404)),
    Case("parts catalog", "GET", "/parts/", everyone(200)),
    Case("part page", "GET", "/parts/3001/", everyone(200)),
    Case("profile", "GET", "/u/owner/", everyone(200)),
    Case("creation page", "GET", f"/creations/{PUB}/", everyone(200)),
    Case(
        "hidden creation page",
        "GET",
        f"/creations/{HID}/",
        owner_and_moderators(200, 404, anonymous=404),
    ),
    Case("picture of a published creation", "GET", "{published_image}", everyone(200)),
    Case(
        "picture of a hidden creation",
        "GET",
        "{hidden_image}",
        owner_and_moderators(200, 404, anonymous=404),
    ),
    Case("upload page", "GET", "/creations/new/", members(200)),
    Case("edit page", "GET", f"/creations/{PUB}/edit/", owner_and_moderators(200, 403)),
    Case(
        "edit a hidden creation", "GET", f"/creations/{HID}/edit/", owner_and_moderators(200, 404)
    ),
    Case(
        "edit post",
        "POST",
        f"/creations/{PUB}/edit/",
        owner_and_moderators(302, 403),
        data={"title": "Changed by someone", "description": "", "alt_text": "", "tags": ""},
    ),
    Case("delete page", "GET", f"/creations/{PUB}/delete/", owner_and_moderators(200, 403)),
    Case("delete post", "POST", f"/creations/{PUB}/delete/", owner_and_moderators(302, 403)),
    Case(
        "delete a hidden creation",
        "POST",
        f"/creations/{HID}/delete/",
        owner_and_moderators(302, 404),
    ),
    Case(
        "score post",
        "POST",
        f"/creations/{PUB}/score/",
        members(302),
        data={"creativity": 4, "uniqueness": 4},
    ),
    Case(
        "score a hidden creation",
        "POST",
        f"/creations/{HID}/score/",
        {**owner_and_moderators(302, 404), "owner": 302},
        data={"creativity": 4, "uniqueness": 4},
    ),
    Case("withdraw score", "POST", f"/creations/{PUB}/score/withdraw/", members(302)),
    Case("reveal the scores on the page", "POST", f"/creations/{PUB}/reveal/", members(302)),
    Case(
        "reveal the scores of a hidden creation on the page",
        "POST",
        f"/creations/{HID}/reveal/",
        owner_and_moderators(302, 404),
    ),
    Case("how ranking works", "GET", "/about/ranking/", everyone(200)),
    Case(
        "my scores page",
        "GET",
        "/u/member/scores/",
        {**owner_and_moderators(200, 404), "member": 200, "owner": 404},
    ),
    Case(
        "another member's scores page",
        "GET",
        "/u/owner/scores/",
        owner_and_moderators(200, 404),
    ),
    # The member has reported it already, and nobody reports their own: both sent back.
    Case(
        "report page",
        "GET",
        f"/creations/{PUB}/report/",
        {**members(200), "member": 302, "owner": 302},
    ),
    Case(
        "report a hidden creation",
        "GET",
        f"/creations/{HID}/report/",
        {**owner_and_moderators(200, 404), "owner": 302},
    ),
    # Community pages -------------------------------------------------------------------------
    Case("saved", "GET", "/saved/", members(200)),
    Case("following", "GET", "/following/", members(200)),
    Case("save", "POST", f"/creations/{PUB}/favourite/", members(302), data={"action": "save"}),
    Case(
        "save a hidden creation",
        "POST",
        f"/creations/{HID}/favourite/",
        owner_and_moderators(302, 404),
        data={"action": "save"},
    ),
    Case("follow a member", "POST", "/u/owner/follow/", members(302), data={"action": "follow"}),
    Case("follow a tag", "POST", "/tags/castle/follow/", members(302), data={"action": "follow"}),
    Case("comment", "POST", f"/creations/{PUB}/comments/", members(302), data={"body": "Hi"}),
    Case(
        "comment on a hidden creation",
        "POST",
        f"/creations/{HID}/comments/",
        owner_and_moderators(302, 404),
        data={"body": "Hi"},
    ),
    # {comment} is the member's; refusals go back to the creation page with the reason.
    Case(
        "edit a comment page",
        "GET",
        "/comments/{comment}/edit/",
        {**owner_and_moderators(200, 200), "owner": 302},
    ),
    Case(
        "edit another's comment",
        "POST",
        "/comments/{comment}/edit/",
        {**owner_and_moderators(302, 302), "owner": 302},
        data={"body": "Changed by someone"},
    ),
    Case(
        "delete a comment page",
        "GET",
        "/comments/{comment}/delete/",
        {**owner_and_moderators(200, 200), "owner": 302},
    ),
    Case(
        "report a comment page",
        "GET",
        "/comments/{comment}/report/",
        {**members(200), "member": 302},
    ),
    Case(
        "edit a comment of a hidden creation",
        "GET",
        "/comments/{hidden_comment}/edit/",
        owner_and_moderators(200, 404),
    ),
    Case("notifications", "GET", "/notifications/", members(200)),
    Case("mark notifications read", "POST", "/notifications/read/", members(302)),
    Case(
        "open a notification",
        "POST",
        "/notifications/{notification}/open/",
        {**owner_and_moderators(302, 404), "moderator": 404, "superuser": 404},
    ),
    Case("notification settings", "GET", "/notifications/settings/", members(200)),
    Case("unsubscribe link", "GET", "/notifications/unsubscribe/{unsubscribe}/", everyone(200)),
    Case("newest feed", "GET", "/feeds/newest/", everyone(200)),
    Case("tag feed", "GET", "/feeds/tags/castle/", everyone(200)),
    Case(
        "feed of a tag only a hidden creation carries", "GET", "/feeds/tags/secret/", everyone(404)
    ),
    Case("member feed", "GET", "/feeds/u/owner/", everyone(200)),
    Case("part feed", "GET", "/feeds/parts/3001/", everyone(200)),
    # Account pages ---------------------------------------------------------------------------
    Case("log-in page", "GET", "/accounts/login/", {**members(302), "anonymous": 200}),
    Case("log-out by GET", "GET", "/accounts/logout/", everyone(405)),
    Case("log out", "POST", "/accounts/logout/", everyone(302)),
    Case("sign-up page", "GET", "/accounts/signup/", {**members(302), "anonymous": 200}),
    Case("sign-up mail sent", "GET", "/accounts/signup/sent/", everyone(200)),
    Case("sign-up link, forged", "GET", "/accounts/signup/confirm/forged/", everyone(200)),
    Case("address link, forged", "GET", "/accounts/email/confirm/forged/", everyone(200)),
    Case("settings", "GET", "/accounts/settings/", members(200)),
    Case("token page", "GET", "/accounts/token/", members(200)),
    Case("new token", "POST", "/accounts/token/reset/", members(302)),
    Case("password change", "GET", "/accounts/password/change/", members(200)),
    Case("password reset", "GET", "/accounts/password/reset/", everyone(200)),
    Case("password reset sent", "GET", "/accounts/password/reset/sent/", everyone(200)),
    Case(
        "password reset link, forged",
        "GET",
        "/accounts/password/reset/MQ/forged-token/",
        everyone(200),
    ),
    # API -----------------------------------------------------------------------------------
    Case("api root", "GET", "/api/v1/", everyone(200), api=True),
    Case("schema", "GET", "/api/v1/schema/", everyone(200), api=True),
    Case("swagger ui", "GET", "/api/v1/docs/", everyone(200), api=True),
    Case("creation list", "GET", "/api/v1/creations/", everyone(200), api=True),
    Case("creation detail", "GET", f"/api/v1/creations/{PUB}/", everyone(200), api=True),
    Case(
        "hidden creation detail",
        "GET",
        f"/api/v1/creations/{HID}/",
        owner_and_moderators(200, 404, anonymous=404),
        api=True,
    ),
    Case(
        "upload",
        "POST",
        "/api/v1/creations/",
        members(400, anonymous=401),  # no picture: the member is let in, the body refused
        data={"title": "No picture"},
        api=True,
    ),
    Case(
        "change a creation",
        "PATCH",
        f"/api/v1/creations/{PUB}/",
        owner_and_moderators(200, 403, anonymous=401),
        data={"title": "Changed"},
        api=True,
    ),
    Case(
        "change another's hidden creation",
        "PATCH",
        f"/api/v1/creations/{HID}/",
        owner_and_moderators(200, 404, anonymous=401),
        data={"title": "Changed"},
        api=True,
    ),
    Case(
        "publish what a moderator hid",
        "PATCH",
        f"/api/v1/creations/{MOD}/",
        {**owner_and_moderators(200, 404, anonymous=401), "owner": 403},
        data={"status": "published"},
        api=True,
    ),
    Case(
        "replace a creation",
        "PUT",
        f"/api/v1/creations/{PUB}/",
        owner_and_moderators(200, 403, anonymous=401),
        data={"title": "Replaced", "description": "", "alt_text": ""},
        api=True,
    ),
    Case(
        "delete a creation",
        "DELETE",
        f"/api/v1/creations/{PUB}/",
        owner_and_moderators(204, 403, anonymous=401),
        api=True,
    ),
    Case(
        "scores of a creation", "GET", f"/api/v1/creations/{PUB}/scores/", everyone(200), api=True
    ),
    Case(
        "scores of a hidden creation",
        "GET",
        f"/api/v1/creations/{HID}/scores/",
        owner_and_moderators(200, 404, anonymous=404),
        api=True,
    ),
    Case(
        "my score",
        "GET",
        f"/api/v1/creations/{PUB}/my-score/",
        {"anonymous": 401, "member": 200, "owner": 403, "moderator": 404, "superuser": 404},
        api=True,
    ),
    Case(
        "put my score",
        "PUT",
        f"/api/v1/creations/{PUB}/my-score/",
        {"anonymous": 401, "member": 200, "owner": 403, "moderator": 201, "superuser": 201},
        data={"creativity": 2, "uniqueness": 2},
        api=True,
    ),
    Case(
        "score a hidden creation through the api",
        "PUT",
        f"/api/v1/creations/{HID}/my-score/",
        {"anonymous": 401, "member": 404, "owner": 403, "moderator": 201, "superuser": 201},
        data={"creativity": 2, "uniqueness": 2},
        api=True,
    ),
    Case(
        "withdraw my score",
        "DELETE",
        f"/api/v1/creations/{PUB}/my-score/",
        {"anonymous": 401, "member": 204, "owner": 403, "moderator": 404, "superuser": 404},
        api=True,
    ),
    Case(
        "report",
        "POST",
        f"/api/v1/creations/{PUB}/reports/",
        {"anonymous": 401, "member": 400, "owner": 403, "moderator": 201, "superuser": 201},
        data={"reason": "spam"},
        api=True,
    ),
    Case(
        "report a hidden creation through the api",
        "POST",
        f"/api/v1/creations/{HID}/reports/",
        {"anonymous": 401, "member": 404, "owner": 403, "moderator": 201, "superuser": 201},
        data={"reason": "spam"},
        api=True,
    ),
    Case("comments", "GET", f"/api/v1/creations/{PUB}/comments/", everyone(200), api=True),
    Case(
        "comments of a hidden creation",
        "GET",
        f"/api/v1/creations/{HID}/comments/",
        owner_and_moderators(200, 404, anonymous=404),
        api=True,
    ),
    Case(
        "post a comment",
        "POST",
        f"/api/v1/creations/{PUB}/comments/",
        members(201, anonymous=401),
        data={"body": "How is the hand attached?"},
        api=True,
    ),
    Case(
        "comment on a hidden creation through the api",
        "POST",
        f"/api/v1/creations/{HID}/comments/",
        owner_and_moderators(201, 404, anonymous=401),
        data={"body": "Hi"},
        api=True,
    ),
    Case(
        "edit a comment",
        "PATCH",
        "/api/v1/comments/{comment}/",
        {**owner_and_moderators(200, 200, anonymous=401), "owner": 403},
        data={"body": "Edited"},
        api=True,
    ),
    Case(
        "delete a comment",
        "DELETE",
        "/api/v1/comments/{comment}/",
        {**owner_and_moderators(204, 204, anonymous=401), "owner": 403},
        api=True,
    ),
    Case(
        "edit a comment of a hidden creation through the api",
        "PATCH",
        "/api/v1/comments/{hidden_comment}/",
        owner_and_moderators(200, 404, anonymous=401),
        data={"body": "Edited"},
        api=True,
    ),
    Case(
        "report a comment",
        "POST",
        "/api/v1/comments/{comment}/reports/",
        {**members(201, anonymous=401), "member": 403},
        data={"reason": "spam"},
        api=True,
    ),
    Case(
        "save through the api",
        "PUT",
        f"/api/v1/creations/{PUB}/favourite/",
        members(201, anonymous=401),
        api=True,
    ),
    Case(
        "unsave through the api",
        "DELETE",
        f"/api/v1/creations/{PUB}/favourite/",
        members(204, anonymous=401),
        api=True,
    ),
    Case(
        "save a hidden creation through the api",
        "PUT",
        f"/api/v1/creations/{HID}/favourite/",
        owner_and_moderators(201, 404, anonymous=401),
        api=True,
    ),
    Case("my favourites", "GET", "/api/v1/users/me/favourites/", members(200, 401), api=True),
    Case(
        "follow a member through the api",
        "PUT",
        "/api/v1/users/owner/follow/",
        {**members(201, anonymous=401), "owner": 400},
        api=True,
    ),
    Case(
        "follow a tag through the api",
        "PUT",
        "/api/v1/tags/castle/follow/",
        members(201, anonymous=401),
        api=True,
    ),
    Case("feed", "GET", "/api/v1/feed/", members(200, anonymous=401), api=True),
    Case("my notifications", "GET", "/api/v1/notifications/", members(200, 401), api=True),
    Case(
        "mark my notifications read",
        "POST",
        "/api/v1/notifications/read/",
        members(200, anonymous=401),
        api=True,
    ),
    Case(
        "my notification preferences",
        "GET",
        "/api/v1/notifications/preferences/",
        members(200, anonymous=401),
        api=True,
    ),
    Case("tags", "GET", "/api/v1/tags/", everyone(200), api=True),
    Case("parts", "GET", "/api/v1/parts/", everyone(200), api=True),
    Case("one part", "GET", "/api/v1/parts/3001/", everyone(200), api=True),
    Case("public profile", "GET", "/api/v1/users/owner/", everyone(200), api=True),
    Case("my profile", "GET", "/api/v1/users/me/", members(200, anonymous=401), api=True),
    Case(
        "change my profile",
        "PATCH",
        "/api/v1/users/me/",
        members(200, anonymous=401),
        data={"bio": "Mine"},
        api=True,
    ),
    Case(
        "token with a wrong password",
        "POST",
        "/api/v1/auth/token/",
        everyone(400),
        data={"username": "owner", "password": "wrong"},
        api=True,
    ),
    Case(
        "reveal the scores",
        "POST",
        f"/api/v1/creations/{PUB}/reveal/",
        members(200, anonymous=401),
        api=True,
    ),
    Case(
        "reveal the scores of a hidden creation",
        "POST",
        f"/api/v1/creations/{HID}/reveal/",
        owner_and_moderators(200, 404, anonymous=401),
        api=True,
    ),
    Case("my scores", "GET", "/api/v1/users/me/scores/", members(200, anonymous=401), api=True),
    Case(
        "my score distribution",
        "GET",
        "/api/v1/users/me/score-distribution/",
        members(200, anonymous=401),
        api=True,
    ),
    Case("unknown api path", "GET", "/api/v1/nowhere/", everyone(404), api=True),
    # Members' accounts: e-mail verification -------------------------------------------------
    Case("verification link, forged", "GET", "/accounts/verify/forged/", everyone(400)),
    # Every member of the world is verified: the link is not sent again.
    Case("verification link again", "POST", "/accounts/verify/resend/", members(302)),
    Case("verification link again by GET", "GET", "/accounts/verify/resend/", members(405)),
    Case(
        "verification link again (API)",
        "POST",
        "/api/v1/users/me/verify-email/",
        members(400, anonymous=401),
        api=True,
    ),
    # Members' accounts: deletion and export --------------------------------------------------
    Case("delete your account", "GET", "/accounts/delete/", members(200)),
    # A wrong password: the form again, nothing deleted (the right one is tests/accounts).
    Case(
        "delete your account, wrong password",
        "POST",
        "/accounts/delete/",
        members(400),
        data={"password": "wrong"},
    ),
    Case(
        "delete your account (API), wrong password",
        "DELETE",
        "/api/v1/users/me/",
        members(400, anonymous=401),
        data={"password": "wrong"},
        api=True,
    ),
    Case("export your data", "POST", "/accounts/export/", members(302)),
    Case("export your data by GET", "GET", "/accounts/export/", members(405)),
    Case(
        "export your data (API)",
        "POST",
        "/api/v1/users/me/export/",
        members(202, anonymous=401),
        api=True,
    ),
    # Only the export's member may download it: a link that names no export of theirs is a 404.
    Case("download an export, forged link", "GET", "/accounts/export/forged/", everyone(404)),
    Case(
        "admin: delete a member",
        "GET",
        "/admin/accounts/user/{owner_user}/delete/",
        {**admin_access, "moderator": 403},
    ),
    # Moderation: suspensions, bans and trust -------------------------------------------------
    Case("admin members for moderators", "GET", "/admin/moderation/member/", admin_access),
    Case(
        "admin a member (read-only)",
        "GET",
        "/admin/moderation/member/{owner_user}/change/",
        admin_access,
    ),
    Case(
        "admin: add a member here",
        "GET",
        "/admin/moderation/member/add/",
        {**admin_access, "moderator": 403, "superuser": 403},
    ),
    Case(
        "admin: delete a member here",
        "GET",
        "/admin/moderation/member/{owner_user}/delete/",
        {**admin_access, "moderator": 403, "superuser": 403},
    ),
    # The actions run on the members the list's search finds (select_across): the owner.
    *(
        Case(
            f"admin: {action} members",
            "POST",
            "/admin/moderation/member/?q=owner",
            {**admin_access, "moderator": answer, "superuser": answer},
            data={"action": action, "select_across": "1", "index": "0", "_selected_action": "0"},
        )
        for action, answer in (
            ("suspend_selected", 200),  # the page asking why
            ("ban_selected", 200),
            ("lift_selected", 200),
            ("trust_selected", 302),  # done at once
            ("untrust", 302),
        )
    ),
    # The moderators' API: restrict, lift and trust members, read the log.
    *(
        Case(
            f"api: {method} a member's restriction {data.get('restriction', '')}".strip(),
            method,
            "/api/v1/users/owner/restriction/",
            {**owner_and_moderators(200, 403, anonymous=401), "owner": 403},
            data=data,
            api=True,
        )
        for method, data in (
            ("GET", {}),
            ("PUT", {"restriction": "suspended", "reason": "Spam links", "category": "spam"}),
            ("PUT", {"restriction": "banned", "reason": "Spam links", "category": "spam"}),
            ("DELETE", {"reason": "Appeal accepted"}),
        )
    ),
    Case(
        "api: suspend a moderator",
        "PUT",
        "/api/v1/users/moderator/restriction/",
        {**owner_and_moderators(403, 403, anonymous=401), "superuser": 200},
        data={"restriction": "suspended", "reason": "Abuse", "category": "other"},
        api=True,
    ),
    Case(
        "api: suspend a superuser",
        "PUT",
        "/api/v1/users/root/restriction/",
        {**owner_and_moderators(403, 403, anonymous=401)},  # themselves, for the superuser
        data={"restriction": "suspended", "reason": "Abuse", "category": "other"},
        api=True,
    ),
    *(
        Case(
            f"api: {method} trust",
            method,
            "/api/v1/users/owner/trust/",
            {**owner_and_moderators(200, 403, anonymous=401), "owner": 403},
            api=True,
        )
        for method in ("PUT", "DELETE")
    ),
    Case(
        "api: the moderation log",
        "GET",
        "/api/v1/moderation/actions/",
        {**owner_and_moderators(200, 403, anonymous=401), "owner": 403},
        api=True,
    ),
    # Moderation: the log and /about/moderation/ ----------------------------------------------
    Case("how moderation works", "GET", "/about/moderation/", everyone(200)),
    Case("admin moderation log", "GET", "/admin/moderation/moderationaction/", admin_access),
    Case(
        "admin a moderation log entry (read-only)",
        "GET",
        "/admin/moderation/moderationaction/{log_entry}/change/",
        admin_access,
    ),
    Case(
        "admin: add to the moderation log",
        "GET",
        "/admin/moderation/moderationaction/add/",
        {**admin_access, "moderator": 403, "superuser": 403},
    ),
    Case(
        "admin: delete from the moderation log",
        "POST",
        "/admin/moderation/moderationaction/{log_entry}/delete/",
        {**admin_access, "moderator": 403, "superuser": 403},
        data={"post": "yes"},
    ),
    Case(
        "admin: approve selected uploads",
        "POST",
        "/admin/creations/creation/",
        {**admin_access, "moderator": 302, "superuser": 302},
        data={"action": "approve_selected", "_selected_action": ["1"]},
    ),
    # Moderation: appeals, the queue and the review of first uploads --------------------------
    # Only the owner appeals a moderator's hide: others who cannot see it 404, who can 403.
    Case(
        "appeal a moderator's hide",
        "POST",
        f"/creations/{MOD}/appeal/",
        {**owner_and_moderators(302, 404), "moderator": 403, "superuser": 403},
        data={"note": "All the parts are LEGO."},
    ),
    Case(
        "appeal a creation nobody hid",
        "POST",
        f"/creations/{PUB}/appeal/",
        {**owner_and_moderators(400, 403), "moderator": 403, "superuser": 403},
        data={"note": "Nothing to appeal."},
    ),
    Case(
        "appeal through the api",
        "POST",
        f"/api/v1/creations/{MOD}/appeal/",
        {**owner_and_moderators(201, 404, anonymous=401), "moderator": 403, "superuser": 403},
        data={"note": "All the parts are LEGO."},
        api=True,
    ),
    Case(
        "read one's appeal through the api (none yet)",
        "GET",
        f"/api/v1/creations/{MOD}/appeal/",
        {**owner_and_moderators(404, 404, anonymous=401), "moderator": 403, "superuser": 403},
        api=True,
    ),
    Case("admin appeals", "GET", "/admin/moderation/appeal/", admin_access),
    Case("admin moderators' queue", "GET", "/admin/moderation/queue/", admin_access),
    # Admin ---------------------------------------------------------------------------------
    Case("admin index", "GET", "/admin/", admin_access),
    Case("admin creations", "GET", "/admin/creations/creation/", admin_access),
    Case(
        "admin a hidden creation", "GET", f"/admin/creations/creation/{HID}/change/", admin_access
    ),
    Case("admin reports", "GET", "/admin/moderation/report/", admin_access),
    Case("admin scores", "GET", "/admin/scoring/score/", admin_access),
    Case("admin comment queue", "GET", "/admin/community/comment/", admin_access),
    Case("admin comment reports", "GET", "/admin/community/commentreport/", admin_access),
    Case("admin tags", "GET", "/admin/taggit/tag/", admin_access),
    Case("admin parts", "GET", "/admin/parts/part/", {**admin_access, "moderator": 403}),
    Case("admin members", "GET", "/admin/accounts/user/", {**admin_access, "moderator": 403}),
    Case("admin groups", "GET", "/admin/auth/group/", {**admin_access, "moderator": 403}),
    Case("admin tokens", "GET", "/admin/authtoken/tokenproxy/", {**admin_access, "moderator": 403}),
    Case(
        "admin: add a creation",
        "GET",
        "/admin/creations/creation/add/",
        {**admin_access, "moderator": 403, "superuser": 403},
    ),
    Case(
        "admin: change a score",
        "GET",
        "/admin/scoring/score/{score}/change/",
        {**admin_access, "moderator": 200},  # read-only for moderators: they may only delete
    ),
]


@pytest.fixture
def world(owner, member, moderator, superuser, catalog):
    published = CreationFactory(owner=owner, title="Published", tags="castle", parts="3001")
    hidden = CreationFactory(owner=owner, title="Hidden", tags="secret")
    creation_update(creation=hidden, actor=owner, status="hidden")
    moderator_hidden = CreationFactory(owner=owner, title="Moderated")
    creation_update(creation=moderator_hidden, actor=moderator, status="hidden", hidden_reason="x")
    score = ScoreFactory(user=member, creation=published, creativity=5, uniqueness=5)
    ReportFactory(reporter=member, creation=published)
    comment = comment_create(user=member, creation=published, body="How is it attached?")
    hidden_comment = comment_create(user=owner, creation=hidden, body="Work in progress")
    notification = Notification.objects.get(recipient=owner, kind=Notification.Kind.SCORE)
    return {
        "users": {
            "anonymous": None,
            "member": member,
            "owner": owner,
            "moderator": moderator,
            "superuser": superuser,
        },
        "ids": {
            "published": published.pk,
            "hidden": hidden.pk,
            "moderator_hidden": moderator_hidden.pk,
            "score": score.pk,
            "comment": comment.pk,
            "hidden_comment": hidden_comment.pk,
            "notification": notification.pk,
            "owner_user": owner.pk,
            "log_entry": ModerationAction.objects.get(target_id=moderator_hidden.pk).pk,
            "unsubscribe": unsubscribe_token(owner),
            "published_image": published.image.url,
            "hidden_image": hidden.image.url,
        },
    }


def answer(client, case: Case, url: str):
    method = getattr(client, case.method.lower())
    if case.api:
        return method(url, case.data, format="json") if case.data else method(url)
    return method(url, case.data) if case.method == "POST" else method(url)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_authorization_matrix(client, world, case, role):
    user = world["users"][role]
    url = case.url.format(**world["ids"])
    if case.api:
        client = client_for(user)
    elif user is not None:
        client.force_login(user)
    response = answer(client, case, url)
    expected = case.expected[role]
    if expected == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], (
            response.status_code
        )
    elif expected == "admin-login":
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    else:
        assert response.status_code == expected, (case.name, role, response.status_code)


# What must not happen, beyond status codes ----------------------------------------------------


def test_nobody_but_the_owner_and_moderators_changed_anything(client, world):
    for role in ("anonymous", "member"):
        user = world["users"][role]
        api = client_for(user)
        for case in CASES:
            if case.method != "GET":
                answer(api if case.api else client, case, case.url.format(**world["ids"]))
    titles = set(Creation.objects.values_list("title", flat=True))
    assert titles == {"Published", "Hidden", "Moderated"}
    assert Creation.objects.get(title="Moderated").status == "hidden"


def test_me_and_the_token_page_show_only_the_callers_own_data(client, world):
    owner, member = world["users"]["owner"], world["users"]["member"]
    for user, other in ((owner, member), (member, owner)):
        me = client_for(user).get("/api/v1/users/me/").json()
        assert me["username"] == user.username and me["email"] == user.email
        client.force_login(user)
        page = client.get("/accounts/token/").content.decode()
        assert Token.objects.get(user=user).key in page
        Token.objects.get_or_create(user=other)
        assert Token.objects.get(user=other).key not in page


def test_no_public_answer_names_an_email_address_or_a_token(client, world):
    tokens = [
        Token.objects.get_or_create(user=user)[0].key for user in world["users"].values() if user
    ]
    emails = [user.email for user in world["users"].values() if user]
    for case in CASES:
        if case.method == "GET" and case.expected["anonymous"] == 200:
            body = answer(
                client_for(None) if case.api else client, case, case.url.format(**world["ids"])
            )
            text = body.content.decode(errors="replace") if hasattr(body, "content") else ""
            for secret in (*tokens, *emails):
                assert secret not in text, case.name


def test_scores_list_names_raters_but_nothing_private(world):
    data = client_for(None).get(f"/api/v1/creations/{world['ids']['published']}/scores/").json()
    assert [score["user"] for score in data["results"]] == ["member"]
    assert set(data["results"][0]) == {
        "id",
        "user",
        "creativity",
        "uniqueness",
        "created_at",
        "updated_at",
    }


def test_a_member_cannot_touch_another_members_score_or_report(world):
    member, moderator = world["users"]["member"], world["users"]["moderator"]
    published = world["ids"]["published"]
    # The moderator's "my score" is their own: the member's stays as it was.
    client_for(moderator).put(
        f"/api/v1/creations/{published}/my-score/", {"creativity": 1, "uniqueness": 1}
    )
    client_for(moderator).delete(f"/api/v1/creations/{published}/my-score/")
    assert Score.objects.get(user=member).creativity == 5
    assert Report.objects.filter(reporter=member).count() == 1


# Every route is in the matrix -------------------------------------------------------------------

# Format-suffix twins (`/api/v1/creations.json`) resolve to the same names as their plain
# routes; the admin's many routes are Django's own (the cases above sample what moderators may
# and may not open there).
NOT_IN_THE_MATRIX: set[str] = set()


def route_names(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            yield from route_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_route_of_the_site_is_in_the_matrix(world):
    covered = set()
    for case in CASES:
        path = case.url.format(**world["ids"]).split("?")[0]
        match = resolve(path)
        covered.add(match.view_name)
    routes = set(route_names(get_resolver().url_patterns)) - NOT_IN_THE_MATRIX
    missing = routes - covered
    assert not missing, f"routes with no row in the matrix: {sorted(missing)}"
