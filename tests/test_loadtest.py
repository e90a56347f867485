"""The load test's own judgement of the community (scripts/loadtest.py): who should hear of a
comment, and which answers are off the API's contract. The run itself is in CI (.ci/run)."""

import importlib.util
import sys
from pathlib import Path

import pytest

from community.text import mentioned_usernames

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def loadtest():
    """scripts/loadtest.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "npu_loadtest_script", ROOT / "scripts/loadtest.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.mark.parametrize(
    "body",
    [
        "@load012 Nice part usage! [lt s1-120000 load003 c4]",
        "Thanks @Bea. and @bea, ask @hana-",
        "mail me@example.com or @x.y+z_1 @@twice",
        " ".join(f"@m{number}" for number in range(14)),
        "no mention here",
    ],
)
def test_mentions_are_read_as_the_site_reads_them(loadtest, body):
    assert loadtest.mentioned(body) == mentioned_usernames(body)


# comment_recipients: (id, creation_id, parent_id, user_id, body, deleted)
CREATIONS = {10: (1, "published"), 11: (1, "hidden")}
USERS = {1: ("owner", True), 2: ("bea", True), 3: ("chen", True), 4: ("gone", False)}
BY_NAME = {username: user_id for user_id, (username, _) in USERS.items()}


def recipients(loadtest, comment, others=()):
    comments = {row[0]: row for row in (comment, *others)}
    return loadtest.comment_recipients(comment, comments, CREATIONS, USERS, BY_NAME)


def test_a_reply_tells_the_parent_author_then_the_owner_and_those_mentioned(loadtest):
    parent = (1, 10, None, 2, "Lovely", False)
    reply = (2, 10, 1, 3, "@bea @owner @gone @nobody thanks", False)
    assert recipients(loadtest, reply, [parent]) == {2: "reply", 1: "comment"}
    # The owner answering on their own creation: the parent's author hears once, as a reply.
    own = (3, 10, 1, 1, "@bea @owner", False)
    assert recipients(loadtest, own, [parent]) == {2: "reply"}


def test_nobody_hears_of_a_deleted_comment_and_a_deleted_parent_is_skipped(loadtest):
    placeholder = (1, 10, None, None, "", True)
    assert recipients(loadtest, (2, 10, 1, 3, "Yes", False), [placeholder]) == {1: "comment"}
    assert recipients(loadtest, (4, 10, None, 3, "", True)) == {}
    assert recipients(loadtest, (5, 11, None, 3, "On a hidden one", False)) is None


def record(loadtest, action, status, method="PUT", request_id="r1", start=100.0):
    return loadtest.Record(
        kind="favourite_api",
        method=method,
        template="/api/v1/creations/{id}/favourite/",
        status=status,
        error=None,
        start_mono=0.0,
        end_mono=0.01,
        start_wall=start,
        end_wall=start + 0.01,
        request_id=request_id,
        action=action,
    )


def write(loadtest, status, *, before, request_id="r1", double=None, action="favourite_put"):
    return loadtest.Write(
        kind="favourite",
        member="load001",
        sequence=1,
        via="api",
        acknowledged=200 <= status < 300,
        uncertain=status >= 500,
        creation_id=5,
        double=double,
        status=status,
        action=action,
        before=before,
        count=1,
        request_id=request_id,
    )


def off_contract(loadtest, pairs, windows=(), parents_gone=()):
    records = [
        record(loadtest, "favourite_put", status, request_id=rid) for status, rid, _ in pairs
    ]
    writes = [write(loadtest, status, **fields, request_id=rid) for status, rid, fields in pairs]
    return loadtest.community_answers(records, writes, list(windows), parents_gone)["off_contract"]


def test_a_save_is_201_when_new_and_200_when_known(loadtest):
    assert off_contract(loadtest, [(201, "a", {"before": False})]) == []
    assert off_contract(loadtest, [(200, "a", {"before": True})]) == []
    assert off_contract(loadtest, [(200, "a", {"before": None})]) == []
    assert len(off_contract(loadtest, [(200, "a", {"before": False})])) == 1
    assert len(off_contract(loadtest, [(201, "a", {"before": True})])) == 1


def test_a_save_sent_twice_at_once_is_created_once(loadtest):
    new = {"before": False, "double": 7}
    assert off_contract(loadtest, [(201, "a", new), (200, "b", new)]) == []
    assert len(off_contract(loadtest, [(201, "a", new), (201, "b", new)])) == 1
    assert len(off_contract(loadtest, [(200, "a", new), (200, "b", new)])) == 1
    # An outage's 503 leaves the other answer unjudged.
    assert off_contract(loadtest, [(503, "a", new), (200, "b", new)]) == []


def test_answers_inside_an_outage_window_are_not_held_to_the_contract(loadtest):
    pairs = [(200, "a", {"before": False})]
    assert off_contract(loadtest, pairs, windows=[[99.0, 101.0]]) == []


def test_a_refused_reply_is_on_the_contract_only_when_its_parent_is_gone(loadtest):
    reply = record(loadtest, "reply", 400, method="POST", request_id="r9")
    assert len(loadtest.community_answers([reply], [], [], [])["off_contract"]) == 1
    assert loadtest.community_answers([reply], [], [], ["r9"])["off_contract"] == []
    unknown = record(loadtest, "comment", 404, method="POST", request_id="r8")
    assert len(loadtest.community_answers([unknown], [], [], [])["off_contract"]) == 1
