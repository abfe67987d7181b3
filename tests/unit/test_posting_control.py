"""The message pipeline's guards: who may stop a reply or ask again, and a claim that is never
held by a question that was not asked. `MessagePipeline` runs over moto in server mode with a
real `Quota`; the dispatcher and the room's broadcaster are recorders (the writer and the
WebSocket fan-out have suites of their own). These tests are what `invoke mutate` runs for
`parley.posting`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from parley.activity import MemberActivity
from parley.assistants import Assistants
from parley.bots import ProviderError, estimate_tokens
from parley.catalog import UnknownModel, parse_catalog
from parley.changes import Change
from parley.errors import (
    AssistantUnavailable,
    Conflict,
    ConversationNotFound,
    Forbidden,
    InvalidInput,
    MessageNotFound,
    QuotaExceeded,
)
from parley.ids import today
from parley.jobs import ReplyJob
from parley.models import CreateAssistant, Message, Profile, Usage
from parley.posting import MessagePipeline, Posted, assistant_answers
from parley.quota import Quota
from parley.realtime.fanout import BroadcastResult, RoomMembers
from parley.replies import ReplyOutcome
from parley.store import Store
from parley.store.assistants import AssistantRepository
from tests.unit.conftest import fresh_id

MAX_OUTPUT = 1000
_MODEL = {
    "provider": "openai",
    "model": "gpt-4o-mini",
    "context_window": 16384,
    "price": {"input": 0.15, "output": 0.6},
}
CATALOG = parse_catalog(
    {
        "version": 1,
        "default": "short",
        "models": [
            {**_MODEL, "id": "short", "label": "Short", "max_output_tokens": 1500},
            {**_MODEL, "id": "long", "label": "Long", "max_output_tokens": 4000},
            {**_MODEL, "id": "staff", "label": "Staff", "max_output_tokens": 2000,
             "groups": ["staff"]},
            {**_MODEL, "id": "tiny", "label": "Tiny", "context_window": 1200,
             "max_output_tokens": 1000},
        ],
    }
)  # fmt: skip
"""Models that answer longer than the deployment's default (`MAX_OUTPUT`), one for a group."""


@dataclass
class Room:
    """A broadcaster that records what the room was told, and who may hear it: as known to
    the pipeline, and as read again (what a broadcaster does for a subscriber it does not know).
    """

    told: list[tuple[str, Any, frozenset[str], frozenset[str]]] = field(default_factory=list)

    def broadcast(
        self, conversation_id: str, event: Any, *, members: RoomMembers, **_: Any
    ) -> BroadcastResult:
        known = frozenset(members.current())
        self.told.append((conversation_id, event, known, frozenset(members.reload())))
        return BroadcastResult(recipients=1, delivered=1, stale=(), failed=0, duration_ms=0.0)


@dataclass
class Dispatcher:
    """Records the jobs handed over and answers with `outcome`, or raises `error`."""

    outcome: ReplyOutcome | None = None
    error: Exception | None = None
    jobs: list[ReplyJob] = field(default_factory=list)

    def __call__(self, job: ReplyJob) -> ReplyOutcome | None:
        self.jobs.append(job)
        if self.error is not None:
            raise self.error
        return self.outcome


@dataclass
class Setting:
    store: Store
    room: Room
    alice: Profile  # owns the group
    bob: Profile
    carol: Profile
    group: str

    def pipeline(self, daily_tokens: int = 0) -> MessagePipeline:
        quota = Quota(self.store, daily_tokens=daily_tokens, max_output_tokens=MAX_OUTPUT)
        return MessagePipeline(store=self.store, quota=quota, broadcaster=self.room)  # type: ignore[arg-type]

    def catalogued(self, daily_tokens: int = 100_000) -> MessagePipeline:
        """A pipeline over `CATALOG`: each room answers with its model."""
        pipeline = self.pipeline(daily_tokens)
        pipeline.catalog = lambda: CATALOG
        return pipeline

    def held(self, who: Profile) -> int:
        """Tokens `who`'s replies in flight hold today."""
        return self.store.usage.get(who.id, today())[1]

    def slot(self, conversation_id: str, who: Profile) -> str | None:
        item = self.store.usage.table.get_item(
            Key={"pk": f"CONV#{conversation_id}", "sk": f"REPLYING#{who.id}"}, ConsistentRead=True
        ).get("Item")
        return None if item is None else str(item["reply_id"])

    def contents(self, conversation_id: str) -> list[str]:
        page, _ = self.store.messages.page(conversation_id, limit=50, cursor=None)
        return [m.content for m in reversed(page)]

    def said(self, who: Profile, content: str, conversation_id: str | None = None) -> Message:
        message, _ = self.store.messages.put_user_message(
            conversation_id or self.group, author_id=who.id, author_name=who.name, content=content
        )
        return message

    def streaming(self, who: Profile, to: Message) -> str:
        reply_id = fresh_id()
        self.store.messages.begin_reply(
            to.conversation_id, reply_id, reply_to=to.id, requested_by=who.id
        )
        return reply_id

    def stop_asked(self, reply_id: str, conversation_id: str | None = None) -> bool:
        state = self.store.messages.reply(conversation_id or self.group, reply_id)
        assert state is not None
        return state.stop_requested


@pytest.fixture
def s(fast_store: Store) -> Setting:
    def person(name: str) -> Profile:
        user_id = fresh_id(f"{name}-")
        return fast_store.profiles.ensure(user_id, f"{user_id}@example.com", name.title())

    alice, bob, carol = person("alice"), person("bob"), person("carol")
    group = fast_store.conversations.create(alice, kind="group", title=None).id
    for member in (bob, carol):
        fast_store.conversations.add_member(fast_store.conversations.record(group), member)
    return Setting(fast_store, Room(), alice, bob, carol, group)


# -- stop ----------------------------------------------------------------------------------------
def test_who_asked_stops_their_reply_and_the_owner_stops_anyones(s: Setting) -> None:
    question = s.said(s.bob, "@assistant go")
    mine, theirs = s.streaming(s.bob, question), s.streaming(s.bob, question)
    s.pipeline().stop(s.bob.id, s.group, mine)
    s.pipeline().stop(s.alice.id, s.group, theirs)
    assert s.stop_asked(mine)
    assert s.stop_asked(theirs)
    owners = s.streaming(s.alice, s.said(s.alice, "@assistant mine"))
    s.pipeline().stop(s.alice.id, s.group, owners)
    assert s.stop_asked(owners)


def test_nobody_else_stops_a_reply(s: Setting) -> None:
    bobs = s.streaming(s.bob, s.said(s.bob, "@assistant go"))
    alices = s.streaming(s.alice, s.said(s.alice, "@assistant go"))
    for reply_id in (bobs, alices):
        with pytest.raises(Forbidden) as refused:
            s.pipeline().stop(s.carol.id, s.group, reply_id)
        assert refused.value.message == (
            "Only who asked for this reply, or the room's owner, can stop it"
        )
    with pytest.raises(Forbidden):  # a member is not the owner of someone else's reply either
        s.pipeline().stop(s.bob.id, s.group, alices)
    outsider = fresh_id("eve-")
    with pytest.raises(ConversationNotFound):
        s.pipeline().stop(outsider, s.group, bobs)
    assert not s.stop_asked(bobs)
    assert not s.stop_asked(alices)


def test_only_a_streaming_reply_of_this_room_can_be_stopped(s: Setting) -> None:
    question = s.said(s.bob, "@assistant go")
    for not_a_reply in (fresh_id(), question.id):
        with pytest.raises(MessageNotFound) as missing:
            s.pipeline().stop(s.bob.id, s.group, not_a_reply)
        assert missing.value.message == "No such reply"
    elsewhere = s.store.conversations.create(s.bob, kind="assistant", title=None).id
    other = s.streaming(s.bob, s.said(s.bob, "hi", elsewhere))
    with pytest.raises(MessageNotFound):  # an id from another conversation is not in this one
        s.pipeline().stop(s.bob.id, s.group, other)
    assert not s.stop_asked(other, elsewhere)

    ended = s.streaming(s.bob, question)
    s.store.messages.finish_reply(s.group, ended, content="done", seq=1, status="complete")
    with pytest.raises(Conflict) as late:
        s.pipeline().stop(s.bob.id, s.group, ended)
    assert late.value.message == "The reply has already ended"


def test_a_reply_that_ends_while_its_stop_is_checked_is_a_conflict(
    s: Setting, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply_id = s.streaming(s.bob, s.said(s.bob, "@assistant go"))
    as_read = s.store.messages.reply(s.group, reply_id)
    s.store.messages.finish_reply(s.group, reply_id, content="done", seq=1, status="complete")
    monkeypatch.setattr(s.store.messages, "reply", lambda *_: as_read)  # read before it ended
    with pytest.raises(Conflict) as late:
        s.pipeline().stop(s.bob.id, s.group, reply_id)
    assert late.value.message == "The reply has already ended"


# -- answer again --------------------------------------------------------------------------------
def test_the_author_asks_again_under_a_new_claim(s: Setting) -> None:
    question = s.said(s.bob, "@assistant what is 2+2?")
    dispatch = Dispatcher(outcome=ReplyOutcome(status="complete"))
    posted = s.pipeline(daily_tokens=100_000).answer_again(
        s.bob.id, s.group, question.id, dispatch=dispatch
    )
    [job] = dispatch.jobs
    assert posted == Posted(
        question, created=False, answers=True, job=job, outcome=dispatch.outcome
    )
    tokens = estimate_tokens(question.content) + MAX_OUTPUT
    assert (job.conversation_id, job.reply_to, job.requested_by) == (s.group, question.id, s.bob.id)
    assert (job.claim_day, job.claim_tokens) == (today(), tokens)
    assert s.held(s.bob) == tokens
    assert s.slot(s.group, s.bob) == job.reply_id


def test_the_owner_asks_again_for_a_member_on_the_owners_quota(s: Setting) -> None:
    question = s.said(s.bob, "@assistant go")
    dispatch = Dispatcher()
    s.pipeline().answer_again(s.alice.id, s.group, question.id, dispatch=dispatch)
    [job] = dispatch.jobs
    assert job.requested_by == s.alice.id
    assert s.slot(s.group, s.alice) == job.reply_id
    assert s.slot(s.group, s.bob) is None


def test_nobody_else_asks_again_and_nothing_is_claimed(s: Setting) -> None:
    bobs, alices = s.said(s.bob, "@assistant go"), s.said(s.alice, "@assistant go")
    dispatch = Dispatcher()
    for who, message in ((s.carol, bobs), (s.bob, alices)):
        with pytest.raises(Forbidden) as refused:
            s.pipeline().answer_again(who.id, s.group, message.id, dispatch=dispatch)
        assert refused.value.message == "Only the author or the room's owner can ask again"
    with pytest.raises(ConversationNotFound):
        s.pipeline().answer_again(fresh_id("eve-"), s.group, bobs.id, dispatch=dispatch)
    assert dispatch.jobs == []
    assert (s.held(s.carol), s.held(s.bob)) == (0, 0)
    assert s.slot(s.group, s.carol) is None


def test_only_a_users_message_is_answered_again(s: Setting) -> None:
    question = s.said(s.bob, "@assistant go")
    reply_id = s.streaming(s.bob, question)
    s.store.messages.finish_reply(s.group, reply_id, content="no", seq=1, status="failed")
    dispatch = Dispatcher()
    with pytest.raises(MessageNotFound) as not_users:
        s.pipeline().answer_again(s.bob.id, s.group, reply_id, dispatch=dispatch)
    assert not_users.value.message == "Only a user's message can be answered again"
    with pytest.raises(MessageNotFound):
        s.pipeline().answer_again(s.bob.id, s.group, fresh_id(), dispatch=dispatch)
    assert dispatch.jobs == []
    assert s.held(s.bob) == 0


def test_a_message_whose_reply_still_streams_is_not_answered_again(s: Setting) -> None:
    question, other = s.said(s.bob, "@assistant go"), s.said(s.bob, "@assistant more")
    s.streaming(s.alice, question)  # even a reply someone else asked for
    dispatch = Dispatcher()
    with pytest.raises(Conflict) as busy:
        s.pipeline().answer_again(s.bob.id, s.group, question.id, dispatch=dispatch)
    assert busy.value.message == "A reply to this message is still streaming"
    assert (dispatch.jobs, s.held(s.bob), s.slot(s.group, s.bob)) == ([], 0, None)
    s.pipeline().answer_again(s.bob.id, s.group, other.id, dispatch=dispatch)  # another one
    assert [job.reply_to for job in dispatch.jobs] == [other.id]


def test_asking_again_counts_against_the_quota(s: Setting) -> None:
    question = s.said(s.bob, "@assistant go")
    s.store.usage.add(s.bob.id, today(), Usage(input_tokens=500, output_tokens=0))
    dispatch = Dispatcher()
    with pytest.raises(QuotaExceeded):
        s.pipeline(daily_tokens=500).answer_again(s.bob.id, s.group, question.id, dispatch=dispatch)
    assert dispatch.jobs == []
    assert s.slot(s.group, s.bob) is None


def test_a_claim_is_given_back_when_the_writer_cannot_start(s: Setting) -> None:
    question = s.said(s.bob, "@assistant go")
    dispatch = Dispatcher(error=AssistantUnavailable("worker unreachable"))
    with pytest.raises(AssistantUnavailable):
        s.pipeline().answer_again(s.bob.id, s.group, question.id, dispatch=dispatch)
    assert len(dispatch.jobs) == 1
    assert (s.held(s.bob), s.slot(s.group, s.bob)) == (0, None)
    assert s.store.usage.get(s.bob.id, today())[0] == Usage(input_tokens=0, output_tokens=0)


# -- posting: a claim is held only by a question really asked ------------------------------------
def test_a_question_claims_then_is_stored_told_and_handed_to_the_writer(s: Setting) -> None:
    dispatch = Dispatcher(outcome=ReplyOutcome(status="complete"))
    posted = s.pipeline(daily_tokens=100_000).post(
        s.bob, s.group, "@assistant hi", client_message_id="q1", dispatch=dispatch
    )
    [job] = dispatch.jobs
    assert (posted.created, posted.answers, posted.job, posted.outcome) == (
        True,
        True,
        job,
        dispatch.outcome,
    )
    assert (posted.message.content, posted.message.author_name) == ("@assistant hi", "Bob")
    assert (job.reply_to, job.requested_by, job.claim_day) == (posted.message.id, s.bob.id, today())
    assert job.reply_id > posted.message.id  # the reply sorts after its question
    assert s.held(s.bob) == estimate_tokens("@assistant hi") + MAX_OUTPUT
    [(conversation_id, event, members, read_again)] = s.room.told
    assert (conversation_id, event.message) == (s.group, posted.message)
    assert members == read_again == {s.alice.id, s.bob.id, s.carol.id}
    record = s.store.conversations.record(s.group)
    assert (record.title, record.titled) == ("@assistant hi", True)
    assert record.updated_at >= posted.message.created_at


def test_a_question_is_held_to_the_override_in_the_authors_profile_without_reading_it_again(
    s: Setting, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Bob has used 10 tokens today, far under the deployment's quota, and an admin's
    # override of his daily tokens is in the profile his message is posted as (what the room
    # read to name the author)
    s.store.usage.add(s.bob.id, today(), Usage(input_tokens=4, output_tokens=6))

    def override(tokens: int) -> Profile:
        s.store.profiles.table.update_item(
            Key={"pk": f"USER#{s.bob.id}", "sk": "PROFILE"},
            UpdateExpression="SET daily_token_quota = :q",
            ExpressionAttributeValues={":q": tokens},
        )
        author = s.store.profiles.get(s.bob.id)
        assert author is not None
        assert author.daily_token_quota == tokens
        return author

    reads: list[str] = []
    real_get = s.store.profiles.get

    def counted(user_id: str, *, consistent: bool = False) -> Profile | None:
        reads.append(user_id)
        return real_get(user_id, consistent=consistent)

    monkeypatch.setattr(s.store.profiles, "get", counted)
    pipeline, dispatch = s.pipeline(daily_tokens=1_000_000), Dispatcher()
    # WHEN he asks with an override of 10: spent
    with pytest.raises(QuotaExceeded):
        pipeline.post(
            override(10), s.group, "@assistant hi", client_message_id=None, dispatch=dispatch
        )
    # THEN the override refuses it, read from the profile he posted as: no second read
    assert reads == [s.bob.id]  # the test's own read above, nothing from the pipeline
    assert (dispatch.jobs, s.held(s.bob), s.slot(s.group, s.bob)) == ([], 0, None)
    # AND a larger override lets the question through, still without a read of its own
    reads.clear()
    posted = pipeline.post(
        override(100_000), s.group, "@assistant hi", client_message_id=None, dispatch=dispatch
    )
    assert posted.job is not None
    assert reads == [s.bob.id]
    assert s.held(s.bob) == estimate_tokens("@assistant hi") + MAX_OUTPUT


def test_a_question_reserves_its_models_own_output_limit_and_names_the_model(s: Setting) -> None:
    # GIVEN a catalog whose models write longer answers than the deployment's default, one of
    # them for a group Bob is not in, and a room that answers with the longest
    pipeline, dispatch = s.catalogued(), Dispatcher()
    room = s.store.conversations.create(s.bob, kind="assistant", title=None, model="long").id
    # WHEN Bob asks there
    posted = pipeline.post(s.bob, room, "hi", client_message_id=None, dispatch=dispatch)
    # THEN the claim holds the question and that model's longest answer, and the job names it
    [job] = dispatch.jobs
    assert (posted.job, job.model) == (job, "long")
    assert s.held(s.bob) == estimate_tokens("hi") + 4000
    # AND a room on a model Bob may not use refuses him before anything is held or stored
    staff = s.store.conversations.create(s.bob, kind="assistant", title=None, model="staff").id
    with pytest.raises(Forbidden):
        pipeline.post(s.bob, staff, "hi", client_message_id=None, dispatch=dispatch)
    assert (len(dispatch.jobs), s.held(s.bob), s.contents(staff)) == (
        1,
        estimate_tokens("hi") + 4000,
        [],
    )
    # AND in a room on that model, talk the assistant does not answer needs no group
    room = s.store.conversations.create(s.alice, kind="group", title=None, model="staff")
    s.store.conversations.add_member(s.store.conversations.record(room.id), s.bob)
    chat = pipeline.post(s.bob, room.id, "lunch?", client_message_id=None, dispatch=dispatch)
    assert (chat.created, chat.job) == (True, None)
    with pytest.raises(Forbidden):
        pipeline.post(s.bob, room.id, "@assistant hi", client_message_id=None, dispatch=dispatch)
    # AND one he is in the group of lets him through
    posted = pipeline.post(
        s.bob, staff, "hi", client_message_id=None, dispatch=dispatch, groups=["staff"]
    )
    assert posted.job is not None
    assert posted.job.model == "staff"


def test_answering_again_holds_the_model_to_the_askers_groups_and_reserves_its_answer(
    s: Setting,
) -> None:
    # GIVEN Bob's question in a room on the staff model, asked while he was in the group
    pipeline, dispatch = s.catalogued(), Dispatcher()
    staff = s.store.conversations.create(s.bob, kind="assistant", title=None, model="staff").id
    question = s.said(s.bob, "hi", staff)
    # WHEN he asks again without the group, THEN he is refused before anything is held
    with pytest.raises(Forbidden):
        pipeline.answer_again(s.bob.id, staff, question.id, dispatch=dispatch)
    assert (dispatch.jobs, s.held(s.bob)) == ([], 0)
    # AND with it, the room's model answers and its longest answer is held
    posted = pipeline.answer_again(
        s.bob.id, staff, question.id, dispatch=dispatch, groups=["staff"]
    )
    assert posted.job is not None
    assert posted.job.model == "staff"
    assert s.held(s.bob) == estimate_tokens("hi") + 2000


def test_a_model_chosen_for_one_reply_is_the_askers_to_use_and_fits_the_question(
    s: Setting,
) -> None:
    pipeline, dispatch = s.catalogued(), Dispatcher()
    room = s.store.conversations.create(s.bob, kind="assistant", title=None).id
    question = s.said(s.bob, "hi", room)
    long_question = s.said(s.bob, "word " * 200, room)
    for model_id, groups, error in (
        ("staff", [], Forbidden),
        ("nope", ["staff"], UnknownModel),
    ):
        with pytest.raises(error):
            pipeline.answer_again(
                s.bob.id, room, question.id, dispatch=dispatch, groups=groups, model_id=model_id
            )
    # a window too small for the question refuses it, though the room's model took it
    with pytest.raises(InvalidInput):
        pipeline.answer_again(s.bob.id, room, long_question.id, dispatch=dispatch, model_id="tiny")
    assert (dispatch.jobs, s.held(s.bob)) == ([], 0)
    posted = pipeline.answer_again(
        s.bob.id, room, question.id, dispatch=dispatch, groups=["staff"], model_id="staff"
    )
    assert posted.job is not None
    assert posted.job.model == "staff"
    assert s.held(s.bob) == estimate_tokens("hi") + 2000
    assert s.store.conversations.record(room).model is None  # the room's model stays


def test_ask_holds_the_model_to_the_askers_groups_on_a_resend_too(s: Setting) -> None:
    pipeline = s.catalogued()
    staff = s.store.conversations.create(s.bob, kind="assistant", title=None, model="staff").id
    with pytest.raises(Forbidden):
        pipeline.ask(s.bob, staff, "hi", client_message_id="q1", run=Dispatcher())
    assert s.contents(staff) == []
    failing = Dispatcher(error=AssistantUnavailable("down"))
    with pytest.raises(AssistantUnavailable):
        pipeline.ask(s.bob, staff, "hi", client_message_id="q1", run=failing, groups=["staff"])
    # he left the group since: the resend asks again, and is refused
    writer = Writer(s, "4")
    with pytest.raises(Forbidden):
        pipeline.ask(s.bob, staff, "hi", client_message_id="q1", run=writer)
    assert writer.jobs == []
    asked = pipeline.ask(s.bob, staff, "hi", client_message_id="q1", run=writer, groups=["staff"])
    assert asked.reply is not None
    assert [job.model for job in writer.jobs] == ["staff"]


def test_a_room_assistant_answers_with_its_model_and_persona_for_whoever_may_use_it(
    s: Setting,
) -> None:
    # GIVEN the room's owner added two of her assistants: one on the long model, one on the
    # staff model (she is in the group; Bob is not)
    pipeline, dispatch = s.catalogued(), Dispatcher()
    assistants = Assistants(s.store, AssistantRepository(s.store.messages.table), lambda: CATALOG)
    pipeline.assistants = assistants

    def added(handle: str, model: str) -> str:
        made = assistants.create(
            s.alice.id,
            CreateAssistant(
                name=handle.title(), handle=handle, instructions="Be brief", model=model
            ),
            ["staff"],
        )
        assistants.room_add(s.group, s.alice.id, made.id)
        return made.id

    helper, boss = added("helper", "long"), added("boss", "staff")
    # WHEN Bob calls the helper, THEN it answers as itself, on its model, holding its answer
    posted = pipeline.post(s.bob, s.group, "@helper hi", client_message_id=None, dispatch=dispatch)
    assert posted.job is not None
    assert posted.job.persona is not None
    assert (posted.job.persona.id, posted.job.model) == (helper, "long")
    assert s.held(s.bob) == estimate_tokens("@helper hi") + 4000
    s.store.usage.settle(posted.job.claim, Usage(input_tokens=0, output_tokens=0))  # type: ignore[arg-type]
    # AND asked again, the same assistant answers
    again = pipeline.answer_again(s.bob.id, s.group, posted.message.id, dispatch=dispatch)
    assert again.job is not None
    assert again.job.persona is not None
    assert (again.job.persona.id, again.job.model) == (helper, "long")
    s.store.usage.settle(again.job.claim, Usage(input_tokens=0, output_tokens=0))  # type: ignore[arg-type]
    # AND the first mention answers: the default assistant before the helper
    first = pipeline.post(
        s.bob, s.group, "@assistant or @helper?", client_message_id=None, dispatch=dispatch
    )
    assert first.job is not None
    assert (first.job.persona, first.job.model) == (None, "short")
    s.store.usage.settle(first.job.claim, Usage(input_tokens=0, output_tokens=0))  # type: ignore[arg-type]
    # AND the boss's model is not Bob's to use: refused before anything is held or stored
    with pytest.raises(Forbidden):
        pipeline.post(s.bob, s.group, "@boss hi", client_message_id=None, dispatch=dispatch)
    assert (len(dispatch.jobs), s.held(s.bob)) == (3, 0)
    assert "@boss hi" not in s.contents(s.group)
    called = pipeline.post(
        s.alice, s.group, "@boss hi", client_message_id=None, dispatch=dispatch, groups=["staff"]
    )
    assert called.job is not None
    assert called.job.persona is not None
    assert (called.job.persona.id, called.job.model) == (boss, "staff")


def test_a_message_the_assistant_does_not_answer_claims_nothing(s: Setting) -> None:
    dispatch = Dispatcher()
    posted = s.pipeline().post(s.bob, s.group, "lunch?", client_message_id=None, dispatch=dispatch)
    assert (posted.created, posted.answers, posted.job) == (True, False, None)
    assert (dispatch.jobs, s.held(s.bob), s.slot(s.group, s.bob)) == ([], 0, None)
    assert s.contents(s.group) == ["lunch?"]
    assert len(s.room.told) == 1
    assert assistant_answers("assistant", "anything")
    assert not assistant_answers("group", "email me at x@assistant.com")


def test_a_resend_is_not_a_new_question(s: Setting) -> None:
    pipeline, dispatch = s.pipeline(daily_tokens=100_000), Dispatcher()
    first = pipeline.post(
        s.bob, s.group, "@assistant hi", client_message_id="q1", dispatch=dispatch
    )
    assert first.job is not None
    held = s.held(s.bob)
    # the first reply still runs: the resend finds the message instead of a busy slot
    again = pipeline.post(
        s.bob, s.group, "@assistant hi", client_message_id="q1", dispatch=dispatch
    )
    assert (again.message, again.created, again.answers, again.job) == (
        first.message,
        False,
        True,
        None,
    )
    assert (len(dispatch.jobs), s.held(s.bob)) == (1, held)
    assert s.slot(s.group, s.bob) == first.job.reply_id

    s.store.usage.settle(first.job.claim, Usage(input_tokens=1, output_tokens=1))  # type: ignore[arg-type]
    third = pipeline.post(
        s.bob, s.group, "@assistant hi", client_message_id="q1", dispatch=dispatch
    )
    assert (third.message, third.created, third.job) == (first.message, False, None)
    assert (len(dispatch.jobs), s.held(s.bob), s.slot(s.group, s.bob)) == (1, 0, None)
    assert s.contents(s.group) == ["@assistant hi"]
    assert len(s.room.told) == 1


def test_a_resend_after_the_quota_is_spent_finds_its_message(s: Setting) -> None:
    pipeline, dispatch = s.pipeline(daily_tokens=2000), Dispatcher()
    first = pipeline.post(
        s.bob, s.group, "@assistant hi", client_message_id="q1", dispatch=dispatch
    )
    s.store.usage.settle(first.job.claim, Usage(input_tokens=2000, output_tokens=0))  # type: ignore[union-attr]
    again = pipeline.post(
        s.bob, s.group, "@assistant hi", client_message_id="q1", dispatch=dispatch
    )
    assert (again.message, again.created) == (first.message, False)
    with pytest.raises(QuotaExceeded):  # a new question is refused, and not stored
        pipeline.post(s.bob, s.group, "@assistant more", client_message_id="q2", dispatch=dispatch)
    with pytest.raises(QuotaExceeded):
        pipeline.post(s.bob, s.group, "@assistant more", client_message_id=None, dispatch=dispatch)
    assert s.contents(s.group) == ["@assistant hi"]
    assert len(dispatch.jobs) == 1


def test_a_new_question_while_the_last_one_is_answered_is_refused_unstored(s: Setting) -> None:
    pipeline, dispatch = s.pipeline(), Dispatcher()
    pipeline.post(s.bob, s.group, "@assistant one", client_message_id="q1", dispatch=dispatch)
    with pytest.raises(Conflict):
        pipeline.post(s.bob, s.group, "@assistant two", client_message_id="q2", dispatch=dispatch)
    assert s.contents(s.group) == ["@assistant one"]
    assert len(dispatch.jobs) == 1


def test_a_question_that_cannot_be_stored_gives_its_claim_back(s: Setting) -> None:
    pipeline, dispatch = s.pipeline(), Dispatcher()
    pipeline.post(s.bob, s.group, "lunch?", client_message_id="taken", dispatch=dispatch)
    with pytest.raises(Conflict):  # carol's id is bob's already
        pipeline.post(
            s.carol, s.group, "@assistant hi", client_message_id="taken", dispatch=dispatch
        )
    assert (s.held(s.carol), s.slot(s.group, s.carol), dispatch.jobs) == (0, None, [])


def test_a_question_whose_writer_cannot_start_is_kept_and_its_claim_given_back(
    s: Setting,
) -> None:
    dispatch = Dispatcher(error=AssistantUnavailable("worker unreachable"))
    with pytest.raises(AssistantUnavailable):
        s.pipeline().post(
            s.bob, s.group, "@assistant hi", client_message_id="q1", dispatch=dispatch
        )
    assert s.contents(s.group) == ["@assistant hi"]
    assert (s.held(s.bob), s.slot(s.group, s.bob)) == (0, None)


def test_a_question_the_room_cannot_be_told_of_is_kept_and_its_claim_given_back(
    s: Setting, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> BroadcastResult:
        raise RuntimeError("the fan-out failed")

    monkeypatch.setattr(s.room, "broadcast", broken)
    dispatch = Dispatcher()
    with pytest.raises(RuntimeError):
        s.pipeline().post(
            s.bob, s.group, "@assistant hi", client_message_id="q1", dispatch=dispatch
        )
    assert s.contents(s.group) == ["@assistant hi"]
    assert (dispatch.jobs, s.held(s.bob), s.slot(s.group, s.bob)) == ([], 0, None)


# -- ask (HTTP): the reply, or a replay of it ----------------------------------------------------
def completed(s: Setting, job: ReplyJob, text: str) -> Message:
    s.store.messages.begin_reply(
        job.conversation_id, job.reply_id, reply_to=job.reply_to, requested_by=job.requested_by
    )
    done = s.store.messages.finish_reply(
        job.conversation_id, job.reply_id, content=text, seq=1, status="complete"
    )
    s.store.usage.settle(job.claim, Usage(input_tokens=1, output_tokens=1))  # type: ignore[arg-type]
    return done.message


class Writer(Dispatcher):
    """Writes a reply that ends with `status`, as the in-process writer does."""

    def __init__(self, s: Setting, text: str, status: str = "complete") -> None:
        super().__init__()
        self.s, self.text, self.status = s, text, status

    def __call__(self, job: ReplyJob) -> ReplyOutcome | None:
        self.jobs.append(job)
        return ReplyOutcome(status=self.status, reply=completed(self.s, job, self.text))


def test_a_message_moves_its_room_to_the_top_of_every_members_list(s: Setting) -> None:
    titled = s.store.conversations.create(s.alice, kind="group", title="Plans").id
    s.store.conversations.add_member(s.store.conversations.record(titled), s.carol)
    s.store.conversations.create(s.carol, kind="assistant", title="Newer")
    posted = s.pipeline().post(
        s.alice, titled, "hello", client_message_id=None, dispatch=Dispatcher()
    )
    # The request writes nothing per member: Carol's newer chat stays on top of her list…
    listed, _ = s.store.conversations.list_for(s.carol.id, limit=1, cursor=None)
    assert [c.title for c in listed] == ["Newer"]
    # …until the change feed delivers the stored message.
    key = {"pk": f"CONV#{titled}", "sk": f"MSG#{posted.message.id}"}
    stored = s.store.messages.table.get_item(Key=key, ConsistentRead=True)["Item"]
    MemberActivity(s.store).apply(Change("INSERT", "e-1", key, None, stored))
    record = s.store.conversations.record(titled)
    assert (record.updated_at, record.title) == (posted.message.created_at, "Plans")
    for who in (s.alice, s.carol):
        listed, _ = s.store.conversations.list_for(who.id, limit=1, cursor=None)
        assert [c.id for c in listed] == [titled]


@pytest.mark.parametrize("status", ["complete", "stopped"])
def test_ask_returns_the_reply_and_a_resend_replays_it(s: Setting, status: str) -> None:
    chat = s.store.conversations.create(s.bob, kind="assistant", title=None).id
    writer = Writer(s, "4", status)
    asked = s.pipeline().ask(s.bob, chat, "2+2?", client_message_id="q1", run=writer)
    assert (asked.message.content, asked.replayed) == ("2+2?", False)
    assert asked.reply is not None
    assert asked.reply.content == "4"
    again = s.pipeline().ask(s.bob, chat, "2+2?", client_message_id="q1", run=writer)
    assert (again.message, again.reply, again.replayed) == (asked.message, asked.reply, True)
    assert len(writer.jobs) == 1


def test_ask_again_after_a_failed_reply_answers_anew(s: Setting) -> None:
    chat = s.store.conversations.create(s.bob, kind="assistant", title=None).id
    failing = Dispatcher(error=AssistantUnavailable("down"))
    with pytest.raises(AssistantUnavailable):
        s.pipeline().ask(s.bob, chat, "2+2?", client_message_id="q1", run=failing)
    writer = Writer(s, "4")
    again = s.pipeline().ask(s.bob, chat, "2+2?", client_message_id="q1", run=writer)
    assert (again.replayed, again.reply.content if again.reply else None) == (False, "4")
    assert len(writer.jobs) == 1
    assert s.contents(chat) == ["2+2?", "4"]


def test_ask_posts_on_the_branch_it_names(s: Setting) -> None:
    chat = s.store.conversations.create(s.bob, kind="assistant", title=None).id
    writer, pipeline = Writer(s, "ok"), s.pipeline()
    first = pipeline.ask(s.bob, chat, "one", client_message_id=None, run=writer)
    second = pipeline.ask(s.bob, chat, "two", client_message_id=None, run=writer)
    assert first.reply is not None
    assert second.message.parent_id == first.reply.id
    # a new version of the second question branches from where it was asked
    edited = pipeline.ask(
        s.bob, chat, "two, better", client_message_id=None, run=writer, edit_of=second.message.id
    )
    assert edited.message.parent_id == first.reply.id
    # and a question after the first question's answer, not the newest message
    after = pipeline.ask(
        s.bob, chat, "three", client_message_id=None, run=writer, after=first.message.id
    )
    assert after.message.parent_id == first.message.id


def test_ask_without_a_reply_due_and_its_resend(s: Setting) -> None:
    dispatch = Dispatcher()
    said = s.pipeline().ask(s.bob, s.group, "lunch?", client_message_id="q1", run=dispatch)
    assert (said.reply, said.replayed) == (None, False)
    again = s.pipeline().ask(s.bob, s.group, "lunch?", client_message_id="q1", run=dispatch)
    assert (again.message, again.reply, again.replayed) == (said.message, None, True)
    assert dispatch.jobs == []


@pytest.mark.parametrize("status", ["conversation_gone", "requester_left"])
def test_ask_when_the_room_went_away_is_not_found(s: Setting, status: str) -> None:
    chat = s.store.conversations.create(s.bob, kind="assistant", title=None).id
    with pytest.raises(ConversationNotFound):
        s.pipeline().ask(
            s.bob,
            chat,
            "hi",
            client_message_id=None,
            run=Dispatcher(outcome=ReplyOutcome(status=status)),
        )


@pytest.mark.parametrize(
    ("outcome", "message", "retryable", "status"),
    [
        (
            ReplyOutcome(
                status="failed", error=ProviderError("Model busy", retryable=True, unavailable=True)
            ),
            "Model busy",
            True,
            503,
        ),
        (
            ReplyOutcome(status="failed", error=ProviderError("Refused", retryable=False)),
            "Refused",
            False,
            502,
        ),
        (ReplyOutcome(status="failed"), "The assistant could not answer", True, 502),
        (ReplyOutcome(status="complete"), "The assistant could not answer", True, 502),
        (None, "The assistant could not answer", True, 502),
    ],
)
def test_ask_when_the_reply_failed_says_so_and_whether_to_retry(
    s: Setting, outcome: ReplyOutcome | None, message: str, retryable: bool, status: int
) -> None:
    chat = s.store.conversations.create(s.bob, kind="assistant", title=None).id
    with pytest.raises(AssistantUnavailable) as failed:
        s.pipeline().ask(s.bob, chat, "hi", client_message_id=None, run=Dispatcher(outcome=outcome))
    assert failed.value.message == f"{message}. Your message was saved; send it again to retry."
    assert (failed.value.retryable, failed.value.status) == (retryable, status)
    assert s.contents(chat) == ["hi"]
