"""The moderation log: every moderator action writes one row per target, from the service that
acts (pages, API and admin alike), and /about/moderation/ counts them with no personal data."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from community.models import Comment, CommentReport
from community.services.comments import (
    comment_create,
    comment_delete,
    comment_report_create,
    comment_reports_resolve,
)
from creations.models import Creation
from creations.services import creation_set_status, creation_update, tag_merge
from moderation.models import ModerationAction, Report
from moderation.services import report_reopen, report_resolve
from scoring.services import scores_restore, scores_void
from tests.conftest import client_for, run_action, session_queries
from tests.factories import CreationFactory, ReportFactory, ScoreFactory, UserFactory

pytestmark = pytest.mark.django_db

Action = ModerationAction.Action


def logged(*fields):
    return list(ModerationAction.objects.order_by("id").values_list(*fields))


# Creations ------------------------------------------------------------------------------------


def test_a_moderators_hide_through_the_service_is_logged_with_the_reason(creation, moderator):
    creation_update(creation=creation, actor=moderator, status="hidden", hidden_reason="Not LEGO")
    [row] = ModerationAction.objects.all()
    assert (row.actor, row.actor_name, row.action, row.category) == (
        moderator,
        "moderator",
        Action.HIDE,
        "other",
    )
    assert (row.target_type, row.target_id, row.target_repr, row.reason) == (
        "creations.creation",
        creation.pk,
        "Cheese slope roof",
        "Not LEGO",
    )


def test_a_hide_is_counted_under_the_reason_its_creation_was_reported_for(
    moderator_client, moderator, owner
):
    spammed, stolen, unreported, mixed = CreationFactory.create_batch(4, owner=owner)
    ReportFactory.create_batch(2, creation=spammed, reason=Report.Reason.SPAM)
    ReportFactory(creation=spammed, reason=Report.Reason.OFFENSIVE)
    ReportFactory(creation=stolen, reason=Report.Reason.STOLEN)
    # Open reports outweigh resolved ones, and a tie goes to the reason listed first.
    resolved = ReportFactory.create_batch(3, creation=mixed, reason=Report.Reason.OTHER)
    Report.objects.filter(pk__in=[r.pk for r in resolved]).update(
        status=Report.Status.RESOLVED, resolved_at=timezone.now()
    )
    ReportFactory(creation=mixed, reason=Report.Reason.STOLEN)
    ReportFactory(creation=mixed, reason=Report.Reason.OFFENSIVE)

    run_action(
        moderator_client,
        "admin:creations_creation_changelist",
        "hide_selected",
        [spammed, stolen, unreported, mixed],
        reason="Against the rules",
    )

    assert sorted(logged("target_id", "action", "category", "reason")) == sorted(
        [
            (spammed.pk, Action.HIDE, "spam", "Against the rules"),
            (stolen.pk, Action.HIDE, "stolen", "Against the rules"),
            (unreported.pk, Action.HIDE, "other", "Against the rules"),
            (mixed.pk, Action.HIDE, "offensive", "Against the rules"),
        ]
    )


def test_the_hide_action_bar_names_the_category_or_leaves_it_to_the_reports(
    moderator_client, owner
):
    reported, chosen = CreationFactory.create_batch(2, owner=owner)
    ReportFactory(creation=reported, reason=Report.Reason.STOLEN)
    ReportFactory(creation=chosen, reason=Report.Reason.STOLEN)
    changelist = "admin:creations_creation_changelist"
    page = moderator_client.get(reverse(changelist)).content.decode()
    assert 'name="category"' in page and "Why it was reported" in page

    refused = run_action(
        moderator_client, changelist, "hide_selected", [chosen], reason="x", category="gossip"
    )
    assert refused.status_code == 302
    chosen.refresh_from_db()
    assert chosen.status == Creation.Status.PUBLISHED and not ModerationAction.objects.exists()

    hide = "hide_selected"
    run_action(moderator_client, changelist, hide, [reported], reason="Copy", category="")
    run_action(
        moderator_client, changelist, "hide_selected", [chosen], reason="Ads", category="spam"
    )
    assert logged("target_id", "category", "reason") == [
        (reported.pk, "stolen", "Copy"),
        (chosen.pk, "spam", "Ads"),
    ]


def test_a_hide_through_the_api_is_counted_under_the_report_reason(creation, moderator):
    ReportFactory(creation=creation, reason=Report.Reason.OFFENSIVE)
    response = client_for(moderator).patch(
        f"/api/v1/creations/{creation.pk}/",
        {"status": "hidden", "hidden_reason": "Rude words"},
        format="json",
    )
    assert response.status_code == 200
    assert logged("action", "category", "reason") == [(Action.HIDE, "offensive", "Rude words")]


def test_publishing_again_is_logged_without_a_reason(creation, moderator):
    creation_update(creation=creation, actor=moderator, status="hidden", hidden_reason="Spam")
    creation_update(creation=creation, actor=moderator, status="published")
    assert logged("action", "target_id", "reason") == [
        (Action.HIDE, creation.pk, "Spam"),
        (Action.PUBLISH, creation.pk, ""),
    ]


def test_an_owner_hiding_their_own_creation_is_not_a_moderator_action(creation, owner):
    creation_update(creation=creation, actor=owner, status="hidden")
    creation_update(creation=creation, actor=owner, status="published")
    assert not ModerationAction.objects.exists()


def test_a_moderator_hiding_their_own_creation_is_not_logged(moderator):
    own = CreationFactory(owner=moderator)
    creation_update(creation=own, actor=moderator, status="hidden")
    assert not ModerationAction.objects.exists()


def test_editing_text_only_is_not_logged(creation, moderator):
    creation_update(creation=creation, actor=moderator, title="Better title")
    assert not ModerationAction.objects.exists()


def test_bulk_hide_in_the_admin_logs_one_row_per_creation(moderator_client, moderator, owner):
    creations = CreationFactory.create_batch(3, owner=owner)
    already_hidden = CreationFactory(owner=owner)
    creation_set_status(creations=[already_hidden], status="hidden", actor=owner)
    run_action(
        moderator_client,
        "admin:creations_creation_changelist",
        "hide_selected",
        [*creations, already_hidden],
        reason="Duplicate uploads",
    )
    assert sorted(logged("actor_id", "action", "target_id", "reason")) == sorted(
        (moderator.pk, Action.HIDE, creation.pk, "Duplicate uploads") for creation in creations
    )


def test_bulk_publish_in_the_admin_logs_one_row_per_creation(moderator_client, moderator, owner):
    creations = CreationFactory.create_batch(2, owner=owner)
    creation_set_status(creations=creations, status="hidden", actor=moderator, reason="Check")
    ModerationAction.objects.all().delete()
    run_action(
        moderator_client, "admin:creations_creation_changelist", "publish_selected", creations
    )
    assert sorted(logged("action", "target_id")) == sorted(
        (Action.PUBLISH, creation.pk) for creation in creations
    )


def test_a_hide_in_the_admin_change_form_is_logged(moderator_client, moderator, creation):
    url = reverse("admin:creations_creation_change", args=[creation.pk])
    response = moderator_client.post(
        url,
        {
            "title": creation.title,
            "description": creation.description,
            "alt_text": "",
            "tags": "technic pin",
            "status": "hidden",
            "hidden_reason": "Blurry",
            "reports-TOTAL_FORMS": 0,
            "reports-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert logged("action", "target_id", "reason") == [(Action.HIDE, creation.pk, "Blurry")]


# Deletions by moderators -------------------------------------------------------------------


def test_a_moderator_deleting_someones_creation_is_logged_on_page_api_and_admin(
    client, moderator, superuser, owner
):
    on_page, through_api, in_admin, in_bulk = CreationFactory.create_batch(4, owner=owner)
    client.force_login(moderator)
    assert client.post(f"/creations/{on_page.pk}/delete/").status_code == 302
    assert client_for(moderator).delete(f"/api/v1/creations/{through_api.pk}/").status_code == 204
    # The admin's delete view and action are the superusers'.
    client.force_login(superuser)
    delete_url = reverse("admin:creations_creation_delete", args=[in_admin.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    changelist = "admin:creations_creation_changelist"
    run_action(client, changelist, "delete_selected", [in_bulk], post="yes")
    ids = [on_page.pk, through_api.pk, in_admin.pk, in_bulk.pk]
    assert not Creation.objects.filter(pk__in=ids).exists()
    rows = logged("actor_id", "action", "target_type", "target_id")
    assert sorted(rows) == sorted(
        [
            (moderator.pk, Action.DELETE_CREATION, "creations.creation", on_page.pk),
            (moderator.pk, Action.DELETE_CREATION, "creations.creation", through_api.pk),
            (superuser.pk, Action.DELETE_CREATION, "creations.creation", in_admin.pk),
            (superuser.pk, Action.DELETE_CREATION, "creations.creation", in_bulk.pk),
        ]
    )


def test_an_owner_deleting_their_own_creation_is_not_logged(client, owner, creation):
    client.force_login(owner)
    assert client.post(f"/creations/{creation.pk}/delete/").status_code == 302
    assert client_for(owner).delete("/api/v1/creations/999999/").status_code == 404
    assert not ModerationAction.objects.exists()


def test_a_moderator_deleting_scores_and_tags_in_the_admin_is_logged(
    moderator_client, moderator, creation, member
):
    score = ScoreFactory(user=member, creation=creation, creativity=5, uniqueness=5)
    tag = Tag.objects.get(name="technic pin")
    delete_score = reverse("admin:scoring_score_delete", args=[score.pk])
    assert moderator_client.post(delete_score, {"post": "yes"}).status_code == 302
    tags = "admin:taggit_tag_changelist"
    run_action(moderator_client, tags, "delete_selected", [tag], post="yes")
    assert logged("action", "category", "target_type", "target_id") == [
        (Action.DELETE_SCORE, "manipulation", "scoring.score", score.pk),
        (Action.DELETE_TAG, "other", "taggit.tag", tag.pk),
    ]
    creation.refresh_from_db()
    assert creation.score_count == 0 and not creation.tags.exists()


def test_a_failed_hide_leaves_no_row(creation, moderator):
    with pytest.raises(Exception):  # noqa: B017 (any refusal: nothing may be left)
        creation_update(creation=creation, actor=moderator, status="nonsense")
    assert not ModerationAction.objects.exists()


# Tags -----------------------------------------------------------------------------------------


def test_a_tag_merge_is_logged_on_the_target_with_the_sources_names(moderator, owner):
    CreationFactory(owner=owner, tags="castles")
    CreationFactory(owner=owner, tags="castle, fortress")
    sources = Tag.objects.filter(name__in=["castles", "fortress"]).order_by("name")
    target = tag_merge(sources=sources, target_name="castle", actor=moderator)
    [row] = ModerationAction.objects.all()
    assert (row.actor, row.action, row.target_type, row.target_id) == (
        moderator,
        Action.TAG_MERGE,
        "taggit.tag",
        target.pk,
    )
    assert row.reason == "Merged into it: castles, fortress."


def test_a_tag_merge_without_an_actor_is_not_logged(owner):
    CreationFactory(owner=owner, tags="castles")
    tag_merge(sources=Tag.objects.filter(name="castles"), target_name="castle")
    assert not ModerationAction.objects.exists()


def test_the_tag_admins_merge_is_logged(moderator_client, moderator, owner):
    CreationFactory(owner=owner, tags="castles, keep")
    tags = list(Tag.objects.filter(name__in=["castles", "keep"]))
    response = run_action(
        moderator_client, "admin:taggit_tag_changelist", "merge_selected", tags,
        apply="1", target_name="castle",
    )  # fmt: skip
    assert response.status_code == 302
    assert logged("actor_id", "action", "target_repr", "reason") == [
        (moderator.pk, Action.TAG_MERGE, "castle", "Merged into it: castles, keep.")
    ]


# Scores ---------------------------------------------------------------------------------------


def test_voiding_and_restoring_scores_log_one_row_per_score(creation, moderator):
    scores = [ScoreFactory(creation=creation) for _ in range(2)]
    assert scores_void(scores=scores, actor=moderator, reason="Vote ring") == 2
    assert scores_void(scores=scores, actor=moderator, reason="Again") == 0  # nothing changed
    assert scores_restore(scores=scores[:1], actor=moderator, reason="False alarm") == 1
    assert sorted(logged("action", "category", "target_type", "target_id", "reason")) == sorted(
        [
            *(
                (Action.VOID_SCORE, "manipulation", "scoring.score", score.pk, "Vote ring")
                for score in scores
            ),
            (Action.RESTORE_SCORE, "manipulation", "scoring.score", scores[0].pk, "False alarm"),
        ]
    )
    assert {row.actor_id for row in ModerationAction.objects.all()} == {moderator.pk}


def test_the_score_admins_void_action_logs_each_score(moderator_client, moderator, creation):
    scores = [ScoreFactory(creation=creation) for _ in range(3)]
    run_action(
        moderator_client, "admin:scoring_score_changelist", "void_selected", scores,
        apply="1", reason="Throwaway accounts",
    )  # fmt: skip
    assert sorted(logged("action", "target_id", "reason")) == sorted(
        (Action.VOID_SCORE, score.pk, "Throwaway accounts") for score in scores
    )


# Reports --------------------------------------------------------------------------------------


def test_resolving_and_reopening_reports_log_each_with_its_reason(creation, moderator):
    spam = ReportFactory(creation=creation, reason=Report.Reason.SPAM)
    stolen = ReportFactory(creation=creation, reason=Report.Reason.STOLEN)
    assert report_resolve(reports=[spam, stolen], moderator=moderator) == 2
    assert report_resolve(reports=[spam], moderator=moderator) == 0  # resolved already
    assert report_reopen(reports=[stolen], moderator=moderator) == 1
    assert sorted(logged("action", "category", "target_type", "target_id")) == sorted(
        [
            (Action.RESOLVE_REPORT, "spam", "moderation.report", spam.pk),
            (Action.RESOLVE_REPORT, "stolen", "moderation.report", stolen.pk),
            (Action.REOPEN_REPORT, "stolen", "moderation.report", stolen.pk),
        ]
    )


def test_the_report_admins_bulk_actions_log_one_row_per_report(
    moderator_client, moderator, creation
):
    reports = ReportFactory.create_batch(3, creation=creation)
    page = "admin:moderation_report_changelist"
    run_action(moderator_client, page, "resolve_selected", reports)
    run_action(moderator_client, page, "reopen_selected", reports[:2])
    assert sorted(logged("actor_id", "action", "target_id")) == sorted(
        [
            *((moderator.pk, Action.RESOLVE_REPORT, report.pk) for report in reports),
            *((moderator.pk, Action.REOPEN_REPORT, report.pk) for report in reports[:2]),
        ]
    )


# Comments -------------------------------------------------------------------------------------


def test_a_moderator_deleting_someones_comment_is_logged_with_its_report_reason(
    creation, member, moderator, other_member
):
    comment = comment_create(user=member, creation=creation, body="Buy cheap bricks here")
    comment_report_create(reporter=other_member, comment=comment, reason="spam")
    comment_delete(comment=comment, actor=moderator)
    assert not Comment.objects.filter(pk=comment.pk).exists()
    assert logged("actor_id", "action", "category", "target_type", "target_id") == [
        (moderator.pk, Action.DELETE_COMMENT, "spam", "community.comment", comment.pk)
    ]


def test_an_author_deleting_their_own_comment_is_not_logged(creation, member):
    comment = comment_create(user=member, creation=creation, body="Oops")
    comment_delete(comment=comment, actor=member)
    assert not ModerationAction.objects.exists()


def test_the_comment_queues_bulk_delete_logs_each_comment(
    moderator_client, moderator, creation, member
):
    comments = [
        comment_create(user=member, creation=creation, body=f"Comment {n}") for n in range(3)
    ]
    run_action(moderator_client, "admin:community_comment_changelist", "delete_comments", comments)
    assert sorted(logged("action", "target_id")) == sorted(
        (Action.DELETE_COMMENT, comment.pk) for comment in comments
    )


def test_resolving_comment_reports_logs_each_report(
    moderator_client, moderator, creation, member, other_member
):
    comment = comment_create(user=member, creation=creation, body="Rude words")
    first = comment_report_create(reporter=other_member, comment=comment, reason="offensive")
    second = comment_report_create(reporter=moderator, comment=comment, reason="other")
    run_action(moderator_client, "admin:community_comment_changelist", "resolve_reports", [comment])
    assert comment_reports_resolve(reports=[first], moderator=moderator) == 0  # done already
    assert sorted(logged("actor_id", "action", "category", "target_type", "target_id")) == sorted(
        [
            (moderator.pk, Action.RESOLVE_REPORT, "offensive", "community.commentreport", first.pk),
            (moderator.pk, Action.RESOLVE_REPORT, "other", "community.commentreport", second.pk),
        ]
    )
    assert not CommentReport.objects.filter(status="open").exists()


# The log in the admin -------------------------------------------------------------------------


def test_moderators_read_the_log_with_links_to_targets_that_still_exist(
    moderator_client, moderator, owner
):
    kept, gone = CreationFactory.create_batch(2, owner=owner)
    creation_set_status(creations=[kept, gone], status="hidden", actor=moderator, reason="Spam")
    gone_pk = gone.pk
    gone.delete()
    response = moderator_client.get(reverse("admin:moderation_moderationaction_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("admin:creations_creation_change", args=[kept.pk]) in body
    assert reverse("admin:creations_creation_change", args=[gone_pk]) not in body
    assert body.count("Spam") >= 2 and "moderator" in body


def test_the_log_cannot_be_added_to_changed_or_deleted(moderator_client, superuser, creation):
    creation_update(creation=creation, actor=superuser, status="hidden", hidden_reason="x")
    row = ModerationAction.objects.get()
    assert moderator_client.get(reverse("admin:moderation_moderationaction_add")).status_code == 403
    change_url = reverse("admin:moderation_moderationaction_change", args=[row.pk])
    assert moderator_client.get(change_url).status_code == 200  # read-only view
    assert moderator_client.post(change_url, {"reason": "edited"}).status_code == 403
    delete_url = reverse("admin:moderation_moderationaction_delete", args=[row.pk])
    assert moderator_client.post(delete_url, {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.reason == "x"


def test_the_log_is_searched_and_filtered(moderator_client, moderator, owner):
    wanted = CreationFactory(owner=owner, title="Spaceship")
    other = CreationFactory(owner=owner, title="Castle")
    creation_set_status(creations=[wanted, other], status="hidden", actor=moderator)
    ReportFactory(creation=other)
    report_resolve(reports=Report.objects.all(), moderator=moderator)
    url = reverse("admin:moderation_moderationaction_changelist")
    found = moderator_client.get(url, {"q": "spaceship"}).context["cl"].result_list
    assert [row.target_id for row in found] == [wanted.pk]
    resolved = moderator_client.get(url, {"action__exact": "resolve_report"}).context["cl"]
    assert [row.action for row in resolved.result_list] == [Action.RESOLVE_REPORT]


def test_members_cannot_read_the_log(client, member):
    client.force_login(member)
    response = client.get(reverse("admin:moderation_moderationaction_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# /about/moderation/ ---------------------------------------------------------------------------


def _row(action, category, when, *, actor=None, reason="Secret reason text"):
    return ModerationAction(
        actor=actor,
        actor_name=actor.username if actor else "",
        action=action,
        category=category,
        target_type="creations.creation",
        target_id=1,
        target_repr="Target title",
        reason=reason,
        created_at=when,
    )


def test_about_moderation_counts_by_month_action_and_reason_without_personal_data(client):
    moderator = UserFactory(username="zelda_keeper")
    now = timezone.now()
    this_month = now.replace(day=1, hour=12)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=2)
    long_ago = now - datetime.timedelta(days=400)
    ModerationAction.objects.bulk_create(
        [
            _row(Action.HIDE, "spam", this_month, actor=moderator),
            _row(Action.HIDE, "spam", this_month, actor=moderator),
            _row(Action.VOID_SCORE, "manipulation", this_month, actor=moderator),
            _row(Action.RESOLVE_REPORT, "offensive", last_month, actor=moderator),
            _row(Action.BAN, "spam", long_ago, actor=moderator),  # too old to count
        ]
    )
    response = client.get("/about/moderation/")
    assert response.status_code == 200
    body = response.content.decode()
    for private in ("zelda_keeper", "Secret reason text", "Target title"):
        assert private not in body
    tables = {table["id"]: table["data"] for table in response.context["tables"]}
    by_action, by_reason = tables["actions"], tables["reasons"]
    assert by_action["columns"] == ["Hide creation", "Resolve report", "Void score"]
    assert len(by_action["rows"]) == 12
    assert by_action["rows"][0]["counts"] == [2, 0, 1] and by_action["rows"][0]["total"] == 3
    assert by_action["rows"][1]["counts"] == [0, 1, 0]
    assert by_action["total"] == 4 and by_action["totals"] == [2, 1, 1]
    assert by_reason["columns"] == ["Spam", "Offensive", "Score manipulation"]
    assert by_reason["rows"][0]["counts"] == [2, 0, 1]
    assert "Ban member" not in body
    assert "Hide creation" in body and "Score manipulation" in body


def test_about_moderation_answers_with_an_empty_log(client):
    response = client.get("/about/moderation/")
    assert response.status_code == 200
    assert "No moderator action in these months." in response.content.decode()


def test_about_moderation_reads_the_counts_in_one_query(
    client, moderator, django_assert_num_queries
):
    now = timezone.now()
    ModerationAction.objects.bulk_create(
        [_row(action, "other", now, actor=moderator) for action in Action.values]
    )
    with django_assert_num_queries(1):  # the same for one row or thousands
        response = client.get("/about/moderation/")
    assert response.context["tables"][0]["data"]["total"] == len(Action.values)


def test_about_moderation_is_linked_from_every_page(client):
    assert 'href="/about/moderation/"' in client.get("/about/ranking/").content.decode()


def test_a_deleted_actor_leaves_their_name_in_the_log(creation):
    temporary = UserFactory(username="tempmod", is_staff=True, is_superuser=True)
    creation_update(creation=creation, actor=temporary, status="hidden", hidden_reason="x")
    temporary.delete()
    row = ModerationAction.objects.get()
    assert row.actor is None and row.actor_name == "tempmod"
    assert Creation.objects.get(pk=creation.pk).status == "hidden"


def test_the_log_page_reads_a_fixed_number_of_queries(
    moderator_client, moderator, owner, django_assert_num_queries
):
    def hide_and_resolve(count):
        creations = CreationFactory.create_batch(count, owner=owner)
        creation_set_status(creations=creations, status="hidden", actor=moderator, reason="x")
        reports = [ReportFactory(creation=creation) for creation in creations]
        report_resolve(reports=reports, moderator=moderator)

    # The user, their own and their groups' permissions, two counts, the page, one look-up per
    # kind of target (creations, reports), the date hierarchy's two; and the session unless it
    # is cached: the same for 2 rows or 20.
    queries = 10 + session_queries()
    url = reverse("admin:moderation_moderationaction_changelist")
    hide_and_resolve(1)
    with django_assert_num_queries(queries):
        moderator_client.get(url)
    hide_and_resolve(9)
    with django_assert_num_queries(queries):
        response = moderator_client.get(url)
    assert len(response.context["cl"].result_list) == 20
