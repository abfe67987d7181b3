"""Ratings of the assistant's replies (`parley.feedback`): thumbs up or down with an optional
comment, one per person per reply, changeable and removable, seen by the rater only; only a
member may rate, only a finished reply of the assistant can be rated, and each rating is
counted per model in the metrics."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from boto3.dynamodb.conditions import Key
from pydantic import ValidationError

from parley import access
from parley.errors import Conflict, ConversationNotFound, MessageNotFound, ParleyError
from parley.feedback import ReplyFeedback, with_my_ratings
from parley.models import MAX_FEEDBACK_COMMENT_CHARS, Message, RateReply, Status
from parley.store import Store
from tests.unit.conftest import fresh_id

MODEL = "gpt-test-model"

STREAMING = "This reply is still being written; rate it once it has finished"
FAILED = "This reply failed; there is nothing to rate"
NOT_A_REPLY = "Only the assistant's replies can be rated"


@dataclass(frozen=True)
class Chat:
    """A room with an owner and a member, a question of the owner's and the reply to it."""

    id: str
    owner: str
    member: str
    question: str
    reply: str


def people(store: Store, *names: str) -> list[str]:
    ids = []
    for name in names:
        user_id = fresh_id(f"{name}-")
        store.profiles.ensure(user_id, f"{user_id}@example.com", name)
        ids.append(user_id)
    return ids


def ask(store: Store, conversation_id: str, author: str, *, status: Status = "complete") -> str:
    """A question by `author` and the assistant's reply to it, ended as `status`."""
    question, _ = store.messages.put_user_message(
        conversation_id, author_id=author, author_name=author, content="What is 2 + 2?"
    )
    reply = fresh_id()
    store.messages.begin_reply(conversation_id, reply, reply_to=question.id, requested_by=author)
    if status != "streaming":
        store.messages.finish_reply(conversation_id, reply, content="4", seq=1, status=status)
    return reply


@pytest.fixture
def chat(fast_store: Store) -> Chat:
    owner, member = people(fast_store, "owner", "member")
    profile = fast_store.profiles.get(owner)
    assert profile is not None
    conversation = fast_store.conversations.create(profile, kind="group", title="Room")
    added = fast_store.profiles.get(member)
    assert added is not None
    fast_store.conversations.add_member(fast_store.conversations.record(conversation.id), added)
    reply = ask(fast_store, conversation.id, owner)
    [question] = [m.id for m in fast_store.messages.recent(conversation.id) if m.role == "user"]
    return Chat(conversation.id, owner, member, question, reply)


@pytest.fixture
def feedback(fast_store: Store) -> ReplyFeedback:
    return ReplyFeedback(fast_store, model_id=MODEL)


def stored(store: Store, conversation_id: str) -> list[dict[str, object]]:
    """Every rating item under the conversation, as stored."""
    table = store.messages.table
    return table.query(
        KeyConditionExpression=Key("pk").eq(f"CONV#{conversation_id}")
        & Key("sk").begins_with("FEEDBACK#"),
        ConsistentRead=True,
    )["Items"]


def refused(error: type[ParleyError], message: str, attempt: Callable[[], object]) -> None:
    with pytest.raises(error) as raised:
        attempt()
    assert type(raised.value) is error
    assert raised.value.message == message


def mine(store: Store, chat: Chat, user_id: str) -> dict[str, tuple[str, str | None]]:
    """What `user_id` reads on the conversation's messages: their own ratings, by message id."""
    items, _ = store.messages.page(chat.id, limit=50, cursor=None)
    return {
        m.id: (m.feedback.rating, m.feedback.comment)
        for m in with_my_ratings(store, user_id, chat.id, items)
        if m.feedback is not None
    }


# -- one per person per reply ------------------------------------------------------------------
def test_a_member_rates_a_reply_changes_it_and_only_they_see_it(
    fast_store: Store, feedback: ReplyFeedback, chat: Chat
) -> None:
    given = feedback.rate(chat.member, chat.id, chat.reply, "up")
    assert (given.rating, given.comment) == ("up", None)
    assert mine(fast_store, chat, chat.member) == {chat.reply: ("up", None)}
    assert mine(fast_store, chat, chat.owner) == {}  # another member never sees it

    changed = feedback.rate(chat.member, chat.id, chat.reply, "down", "  Wrong sum.  ")
    assert (changed.rating, changed.comment) == ("down", "Wrong sum.")
    feedback.rate(chat.owner, chat.id, chat.reply, "up")

    assert mine(fast_store, chat, chat.member) == {chat.reply: ("down", "Wrong sum.")}
    assert mine(fast_store, chat, chat.owner) == {chat.reply: ("up", None)}
    items = stored(fast_store, chat.id)
    assert len(items) == 2  # one per person per reply
    by_user = {i["user_id"]: i for i in items}
    assert by_user[chat.member]["rating"] == "down"
    assert by_user[chat.member]["model"] == MODEL


def test_a_new_rating_replaces_the_comment_left_out(
    fast_store: Store, feedback: ReplyFeedback, chat: Chat
) -> None:
    feedback.rate(chat.member, chat.id, chat.reply, "down", "Too long")
    feedback.rate(chat.member, chat.id, chat.reply, "up")
    assert mine(fast_store, chat, chat.member) == {chat.reply: ("up", None)}
    feedback.rate(chat.member, chat.id, chat.reply, "up", "   ")  # only spaces: no comment
    assert mine(fast_store, chat, chat.member) == {chat.reply: ("up", None)}


def test_concurrent_ratings_by_one_person_leave_one_item(
    fast_store: Store, feedback: ReplyFeedback, chat: Chat
) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def rate(rating: str) -> None:
        try:
            start.wait()
            for _ in range(3):
                feedback.rate(chat.member, chat.id, chat.reply, rating, f"{rating}!")  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=rate, args=(r,)) for r in ("up", "down", "up", "down")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    [item] = stored(fast_store, chat.id)
    assert item["user_id"] == chat.member
    assert (item["rating"], item["comment"]) in {("up", "up!"), ("down", "down!")}


def test_removing_a_rating_and_removing_it_again(
    fast_store: Store, feedback: ReplyFeedback, chat: Chat
) -> None:
    feedback.rate(chat.member, chat.id, chat.reply, "up")
    feedback.rate(chat.owner, chat.id, chat.reply, "down")
    feedback.remove(chat.member, chat.id, chat.reply)
    assert mine(fast_store, chat, chat.member) == {}
    assert mine(fast_store, chat, chat.owner) == {chat.reply: ("down", None)}  # not theirs
    feedback.remove(chat.member, chat.id, chat.reply)  # nothing left to remove: still fine
    with pytest.raises(MessageNotFound):
        feedback.remove(chat.member, chat.id, fresh_id())


# -- who may rate what ------------------------------------------------------------------------
def test_a_non_member_learns_nothing_whether_the_reply_exists(
    fast_store: Store, feedback: ReplyFeedback, chat: Chat
) -> None:
    [eve] = people(fast_store, "eve")
    answers = []
    for conversation_id, message_id in (
        (chat.id, chat.reply),  # a reply that exists
        (chat.id, fresh_id()),  # no such reply
        (fresh_id(), chat.reply),  # no such conversation
    ):
        for attempt in (
            lambda c=conversation_id, m=message_id: feedback.rate(eve, c, m, "down", "hm"),
            lambda c=conversation_id, m=message_id: feedback.remove(eve, c, m),
        ):
            with pytest.raises(ConversationNotFound) as raised:
                attempt()
            answers.append((type(raised.value), raised.value.status, raised.value.message))
    assert len(set(answers)) == 1
    assert stored(fast_store, chat.id) == []


def test_a_member_removed_or_a_conversation_deleted_rates_nothing(
    fast_store: Store, feedback: ReplyFeedback, chat: Chat
) -> None:
    fast_store.conversations.remove_member(chat.id, chat.member)
    with pytest.raises(ConversationNotFound):
        feedback.rate(chat.member, chat.id, chat.reply, "up")
    fast_store.conversations.mark_deleted(chat.id, chat.owner)
    with pytest.raises(ConversationNotFound):
        feedback.rate(chat.owner, chat.id, chat.reply, "up")
    assert stored(fast_store, chat.id) == []


def test_the_write_itself_refuses_a_rating_from_a_former_member_or_into_a_deleted_room(
    fast_store: Store, chat: Chat
) -> None:
    """What the request checked first may change before the write: the write checks again."""

    def write(user_id: str) -> object:
        return fast_store.feedback.save(
            chat.id, chat.reply, user_id, rating="up", comment=None, model=MODEL
        )

    fast_store.conversations.remove_member(chat.id, chat.member)
    with pytest.raises(ConversationNotFound):
        write(chat.member)
    write(chat.owner)
    fast_store.conversations.mark_deleted(chat.id, chat.owner)
    with pytest.raises(ConversationNotFound):
        write(chat.owner)
    assert [i["user_id"] for i in stored(fast_store, chat.id)] == [chat.owner]


def test_an_unknown_message_is_not_found_for_a_member(feedback: ReplyFeedback, chat: Chat) -> None:
    with pytest.raises(MessageNotFound):
        feedback.rate(chat.member, chat.id, fresh_id(), "up")


def test_only_a_finished_reply_of_the_assistant_can_be_rated(
    fast_store: Store, feedback: ReplyFeedback, chat: Chat
) -> None:
    # a person's message: one's own, or someone else's
    refused(Conflict, NOT_A_REPLY, lambda: feedback.rate(chat.owner, chat.id, chat.question, "up"))
    refused(Conflict, NOT_A_REPLY, lambda: feedback.rate(chat.member, chat.id, chat.question, "up"))
    streaming = ask(fast_store, chat.id, chat.owner, status="streaming")
    refused(Conflict, STREAMING, lambda: feedback.rate(chat.member, chat.id, streaming, "up"))
    failed = ask(fast_store, chat.id, chat.owner, status="failed")
    refused(Conflict, FAILED, lambda: feedback.rate(chat.member, chat.id, failed, "down"))
    assert stored(fast_store, chat.id) == []
    stopped = ask(fast_store, chat.id, chat.owner, status="stopped")  # ended: it can be rated
    assert feedback.rate(chat.member, chat.id, stopped, "down").rating == "down"
    assert [i["message_id"] for i in stored(fast_store, chat.id)] == [stopped]


def message(role: str, status: Status) -> Message:
    at = "2026-11-27T08:00:00.000Z"
    return Message.model_validate(
        {
            "id": "m1",
            "conversationId": "c1",
            "authorId": "assistant" if role == "assistant" else "u1",
            "role": role,
            "content": "4",
            "status": status,
            "createdAt": at,
            "updatedAt": at,
        }
    )


def test_the_rule_on_plain_messages() -> None:
    access.require_may_rate(message("assistant", "complete"))
    access.require_may_rate(message("assistant", "stopped"))
    refused(Conflict, STREAMING, lambda: access.require_may_rate(message("assistant", "streaming")))
    refused(Conflict, FAILED, lambda: access.require_may_rate(message("assistant", "failed")))
    for status in ("complete", "stopped", "streaming", "failed"):
        refused(Conflict, NOT_A_REPLY, lambda s=status: access.require_may_rate(message("user", s)))  # type: ignore[misc]


# -- the comment ------------------------------------------------------------------------------
def test_a_comment_is_at_most_a_thousand_characters() -> None:
    assert MAX_FEEDBACK_COMMENT_CHARS == 1000
    longest = "x" * MAX_FEEDBACK_COMMENT_CHARS
    assert RateReply.model_validate({"rating": "up", "comment": longest}).comment == longest
    assert RateReply.model_validate({"rating": "up"}).comment is None
    for body in (
        {"rating": "up", "comment": longest + "x"},
        {"rating": "meh"},
        {"comment": "no rating"},
        {"rating": "up", "stars": 5},
    ):
        with pytest.raises(ValidationError):
            RateReply.model_validate(body)


def test_the_comment_is_stored_trimmed_and_a_longer_one_refused_whoever_calls(
    fast_store: Store, feedback: ReplyFeedback, chat: Chat
) -> None:
    with pytest.raises(ParleyError) as raised:
        feedback.rate(chat.member, chat.id, chat.reply, "down", "x" * 1001)
    assert raised.value.status == 422
    assert raised.value.message == "comment: at most 1000 characters"
    assert stored(fast_store, chat.id) == []
    feedback.rate(chat.member, chat.id, chat.reply, "down", " \n Off by one. \t")
    assert mine(fast_store, chat, chat.member) == {chat.reply: ("down", "Off by one.")}
    feedback.rate(chat.member, chat.id, chat.reply, "down", "y" * 1000)  # the longest allowed
    assert mine(fast_store, chat, chat.member) == {chat.reply: ("down", "y" * 1000)}


# -- the metric -------------------------------------------------------------------------------
def published(out: str) -> list[tuple[str, float, dict[str, str]]]:
    """The EMF documents printed: (metric, value, dimensions)."""
    found = []
    for line in out.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Parley"
        assert {m.get("Unit") for m in directive["Metrics"]} == {"Count"}
        [names] = directive["Dimensions"]
        dimensions = {name: document[name] for name in names}
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            for one in value if isinstance(value, list) else [value]:
                found.append((metric["Name"], float(one), dimensions))
    return found


def test_each_rating_given_is_counted_per_model(
    feedback: ReplyFeedback, chat: Chat, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    feedback.rate(chat.member, chat.id, chat.reply, "up")
    feedback.rate(chat.member, chat.id, chat.reply, "up", "Nice")  # the comment only: not again
    feedback.rate(chat.member, chat.id, chat.reply, "down")
    feedback.remove(chat.member, chat.id, chat.reply)
    feedback.remove(chat.member, chat.id, chat.reply)  # nothing removed: not counted
    counted = [
        (name, value, dims["model"]) for name, value, dims in published(capsys.readouterr().out)
    ]
    assert counted == [
        ("FeedbackUp", 1.0, MODEL),
        ("FeedbackDown", 1.0, MODEL),
        ("FeedbackRemoved", 1.0, MODEL),
    ]


def test_a_reply_of_a_users_assistant_is_counted_per_assistant_too(
    feedback: ReplyFeedback, chat: Chat, fast_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = fresh_id()
    fast_store.messages.begin_reply(
        chat.id, reply, reply_to=chat.question, requested_by=chat.owner, assistant=("a1", "Poet")
    )
    fast_store.messages.finish_reply(chat.id, reply, content="A verse", seq=1, status="complete")
    capsys.readouterr()
    feedback.rate(chat.member, chat.id, reply, "up")
    feedback.remove(chat.member, chat.id, reply)
    feedback.rate(chat.member, chat.id, chat.reply, "down")  # the default assistant's: model only
    counted = [(name, dims) for name, _, dims in published(capsys.readouterr().out)]
    assert counted == [
        ("FeedbackUp", {"model": MODEL}),
        ("FeedbackUp", {"assistant": "a1"}),
        ("FeedbackRemoved", {"model": MODEL}),
        ("FeedbackRemoved", {"assistant": "a1"}),
        ("FeedbackDown", {"model": MODEL}),
    ]
