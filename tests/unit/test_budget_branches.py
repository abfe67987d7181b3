"""Long input and branches: the one message limit, history cut to the model's context window,
a provider's context-length refusal, and edits and reply versions as branches of a chat.

The pipeline runs over moto in server mode (`fast_store`) with a real `Quota`; the dispatcher
and the broadcaster are recorders, as in `test_posting_control`. These tests are what
`invoke mutate` runs for `parley.budget` and `parley.branches`.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from parley.bots import (
    CONTEXT_TOO_LONG,
    SYSTEM_PROMPT,
    ChatTurn,
    ContextTooLong,
    estimate_tokens,
    trim_history,
)
from parley.budget import MAX_MESSAGE_CHARS, Budget, context_window, too_long
from parley.errors import Conflict, InvalidInput, MessageNotFound
from parley.history import messages_before, model_history
from parley.ids import today
from parley.models import Message, Profile
from parley.posting import MessagePipeline
from parley.quota import Quota
from parley.store import Store
from tests.unit.conftest import fresh_id
from tests.unit.test_posting_control import Dispatcher, Room

SMALL = Budget(window=2048, max_output=1024)


# -- the budget -----------------------------------------------------------------------------------
def test_the_budget_is_the_window_less_the_output_and_a_margin() -> None:
    assert SMALL.prompt_tokens == 2048 - 1024 - 102
    assert SMALL.history_tokens() == SMALL.prompt_tokens
    assert SMALL.history_tokens(500) == 500
    assert SMALL.history_tokens(50_000) == SMALL.prompt_tokens
    assert Budget(window=1000, max_output=2000).prompt_tokens == 0
    # the longest message leaves room for the system prompt, a room's prompt and a name
    assert SMALL.message_tokens == SMALL.prompt_tokens - estimate_tokens(SYSTEM_PROMPT) - 64 - 24
    assert SMALL.message_chars == (SMALL.message_tokens - 4) * 4
    assert Budget(window=128_000, max_output=1024).message_chars == MAX_MESSAGE_CHARS


def test_the_context_window_comes_from_the_setting_else_the_model() -> None:
    assert context_window("smollm2-135m-instruct") == 2048
    assert context_window("smollm2-135m-instruct", 4096) == 4096
    assert context_window("gpt-4o-mini") == 128_000
    assert context_window("someone-elses-model") == 8192


def test_a_message_at_the_limit_passes_and_one_over_is_refused_with_the_app_s_sentence() -> None:
    limit = SMALL.message_chars
    SMALL.check("x" * limit)
    with pytest.raises(InvalidInput) as refused:
        SMALL.check("x" * (limit + 1))
    assert refused.value.message == too_long(limit + 1, limit)
    assert refused.value.message == (
        f"Message is too long: {limit + 1:,} characters; the limit is {limit:,}."
    )
    assert refused.value.code == "validation_error"


def test_dense_text_under_the_character_limit_is_refused_by_its_tokens() -> None:
    dense = "語" * (SMALL.message_chars // 2)  # a token or more a character
    assert len(dense) <= SMALL.message_chars
    with pytest.raises(InvalidInput, match=r"about .* tokens; the limit is"):
        SMALL.check(dense)
    SMALL.check("語" * (SMALL.message_tokens - 4))


def test_the_estimate_counts_ascii_by_fours_and_other_characters_one_each() -> None:
    assert estimate_tokens("") == 4
    assert estimate_tokens("abcd") == 5
    assert estimate_tokens("abcde") == 6
    assert estimate_tokens("語語") == 6
    assert estimate_tokens("ab語") == 6


# -- history within the budget --------------------------------------------------------------------
def turns(n: int, size: int = 40) -> list[ChatTurn]:
    return [ChatTurn(role="system", content="sys")] + [
        ChatTurn(role="user" if i % 2 == 0 else "assistant", content=f"t{i} " + "x" * size)
        for i in range(n)
    ]


def test_history_drops_the_oldest_turns_first() -> None:
    history = turns(21)
    cost = estimate_tokens(history[1].content)
    kept = trim_history(history, budget=estimate_tokens("sys") + 5 * cost)
    assert kept[0].content == "sys"
    assert [t.content for t in kept[1:]] == [t.content for t in history[-5:]]
    assert kept[1].role == "user"  # four would start on the assistant's turn: five fit


def test_history_starts_with_a_user_turn() -> None:
    history = turns(21)
    cost = estimate_tokens(history[1].content)
    kept = trim_history(history, budget=estimate_tokens("sys") + 4 * cost)
    assert [t.content for t in kept[1:]] == [t.content for t in history[-3:]]


def test_the_question_is_never_cut() -> None:
    with pytest.raises(ContextTooLong) as refused:
        trim_history([ChatTurn(role="user", content="y" * 10_000)], budget=100)
    assert refused.value.retryable is False
    assert refused.value.message == CONTEXT_TOO_LONG
    exact = [ChatTurn(role="user", content="y" * 96)]
    assert trim_history(exact, budget=estimate_tokens("y" * 96)) == exact


# -- posting refuses before anything is claimed ---------------------------------------------------
@pytest.fixture
def alice(fast_store: Store) -> Profile:
    user_id = fresh_id("alice-")
    return fast_store.profiles.ensure(user_id, f"{user_id}@example.com", "Alice")


def pipeline(store: Store, room: Room, budget: Budget | None = SMALL) -> MessagePipeline:
    quota = Quota(store, daily_tokens=0, max_output_tokens=1000)
    return MessagePipeline(store=store, quota=quota, broadcaster=room, budget=budget)  # type: ignore[arg-type]


def test_a_message_too_long_is_refused_before_any_claim_store_or_model_call(
    fast_store: Store, alice: Profile
) -> None:
    chat = fast_store.conversations.create(alice, kind="assistant", title=None).id
    room, dispatch = Room(), Dispatcher()
    with pytest.raises(InvalidInput, match="Message is too long"):
        pipeline(fast_store, room).post(
            alice, chat, "x" * (SMALL.message_chars + 1), client_message_id="c1", dispatch=dispatch
        )
    assert dispatch.jobs == []
    assert room.told == []
    assert fast_store.usage.get(alice.id, today())[1] == 0  # nothing held
    assert fast_store.messages.page(chat, limit=5, cursor=None)[0] == []
    posted = pipeline(fast_store, room).post(
        alice, chat, "x" * SMALL.message_chars, client_message_id="c2", dispatch=dispatch
    )
    assert posted.created
    assert len(dispatch.jobs) == 1


# -- branches ------------------------------------------------------------------------------------
class Chat:
    """An assistant chat driven through the pipeline, its replies written by hand."""

    def __init__(self, store: Store, alice: Profile) -> None:
        self.store, self.alice = store, alice
        self.id = store.conversations.create(alice, kind="assistant", title=None).id
        self.pipeline = pipeline(store, Room())
        self.dispatch = Dispatcher()

    def ask(self, content: str, **where: str) -> Message:
        posted = self.pipeline.post(
            self.alice, self.id, content, client_message_id=fresh_id(), dispatch=self.dispatch,
            **where,
        )  # fmt: skip
        return posted.message

    def answer(self, question: Message, text: str) -> Message:
        job = self.dispatch.jobs[-1]
        assert job.reply_to == question.id
        messages = self.store.messages
        messages.begin_reply(
            self.id, job.reply_id, reply_to=question.id, requested_by=self.alice.id
        )
        state = messages.finish_reply(self.id, job.reply_id, content=text, seq=1, status="complete")
        claim = job.claim
        assert claim is not None
        self.pipeline.quota.release(claim)
        return state.message

    def again(self, question: Message) -> None:
        self.pipeline.answer_again(self.alice.id, self.id, question.id, dispatch=self.dispatch)

    def model_reads(self, question: Message) -> list[tuple[str, str]]:
        history = messages_before(
            self.store.messages, self.id, kind="assistant", question_id=question.id
        )
        return [
            (t.role, t.content) for t in model_history(history, kind="assistant", budget=900)[1:]
        ]


@pytest.fixture
def chat(fast_store: Store, alice: Profile) -> Chat:
    return Chat(fast_store, alice)


def test_messages_follow_the_newest_message_by_default(chat: Chat) -> None:
    q1 = chat.ask("one")
    a1 = chat.answer(q1, "uno")
    q2 = chat.ask("two")
    assert q1.parent_id == chat.id
    assert q2.parent_id == a1.id


def test_an_edit_branches_and_the_model_reads_only_the_current_branch(chat: Chat) -> None:
    q1 = chat.ask("one")
    a1 = chat.answer(q1, "uno")
    q2 = chat.ask("two, badly put")
    chat.answer(q2, "dos?")
    edited = chat.ask("two", edit_of=q2.id)
    assert edited.parent_id == a1.id  # a sibling of what it edits
    assert chat.model_reads(edited) == [("user", "one"), ("assistant", "uno"), ("user", "two")]
    # the earlier branch is kept, and asking on it reads that branch only
    chat.answer(edited, "dos")
    chat.again(q2)
    on_the_old_branch = chat.answer(q2, "dos, again")
    more = chat.ask("and three?", after=on_the_old_branch.id)
    assert chat.model_reads(more) == [
        ("user", "one"), ("assistant", "uno"), ("user", "two, badly put"),
        ("assistant", "dos, again"), ("user", "and three?"),
    ]  # fmt: skip


def test_editing_the_first_message_starts_a_branch_at_the_beginning(chat: Chat) -> None:
    q1 = chat.ask("hello")
    chat.answer(q1, "hi")
    edited = chat.ask("hello there", edit_of=q1.id)
    assert edited.parent_id == chat.id
    assert chat.model_reads(edited) == [("user", "hello there")]


def test_a_new_version_of_a_reply_answers_the_same_question_and_replaces_it_for_the_model(
    chat: Chat,
) -> None:
    q1 = chat.ask("one")
    chat.answer(q1, "first version")
    chat.again(q1)
    second = chat.answer(q1, "second version")
    assert second.reply_to == q1.id
    q2 = chat.ask("next", after=second.id)
    assert chat.model_reads(q2) == [
        ("user", "one"), ("assistant", "second version"), ("user", "next")
    ]  # fmt: skip
    versions = [
        m.content for m in chat.store.messages.page(chat.id, limit=10, cursor=None)[0]
        if m.reply_to == q1.id
    ]  # fmt: skip
    assert sorted(versions) == ["first version", "second version"]


def test_messages_stored_before_branches_read_as_one_branch(chat: Chat, alice: Profile) -> None:
    older, _ = chat.store.messages.put_user_message(
        chat.id, author_id=alice.id, author_name="Alice", content="legacy one"
    )
    chat.store.messages.put_user_message(
        chat.id, author_id=alice.id, author_name="Alice", content="legacy two"
    )
    q = chat.ask("now")
    assert chat.model_reads(q) == [("user", "legacy one"), ("user", "legacy two"), ("user", "now")]
    chat.answer(q, "ok")
    edited = chat.ask("legacy 1", edit_of=older.id)
    assert edited.parent_id == chat.id


def test_only_your_own_message_in_an_assistant_chat_can_be_edited(
    chat: Chat, fast_store: Store, alice: Profile
) -> None:
    q1 = chat.ask("one")
    reply = chat.answer(q1, "uno")
    with pytest.raises(InvalidInput, match="Only your own"):
        chat.ask("x", edit_of=reply.id)
    with pytest.raises(MessageNotFound):
        chat.ask("x", edit_of=fresh_id())
    with pytest.raises(MessageNotFound):
        chat.ask("x", after=fresh_id())
    with pytest.raises(InvalidInput, match="not both"):
        chat.ask("x", edit_of=q1.id, after=reply.id)
    group = fast_store.conversations.create(alice, kind="group", title=None).id
    said = pipeline(fast_store, Room()).post(
        alice, group, "hi", client_message_id=None, dispatch=Dispatcher()
    )
    assert said.message.parent_id is None  # rooms stay linear
    with pytest.raises(InvalidInput, match="cannot be edited"):
        pipeline(fast_store, Room()).post(
            alice, group, "hi!", client_message_id=None, dispatch=Dispatcher(),
            edit_of=said.message.id,
        )  # fmt: skip


def test_an_edit_while_the_reply_streams_is_refused_and_stores_nothing(chat: Chat) -> None:
    q1 = chat.ask("one")
    job = chat.dispatch.jobs[-1]
    chat.store.messages.begin_reply(
        chat.id, job.reply_id, reply_to=q1.id, requested_by=chat.alice.id
    )
    with pytest.raises(Conflict):
        chat.ask("one, better", edit_of=q1.id)
    assert [m.content for m in chat.store.messages.page(chat.id, limit=5, cursor=None)[0]] == [
        "",
        "one",
    ]


# -- a provider's context-length refusal ---------------------------------------------------------
def test_bedrock_context_refusals_are_not_retryable_and_say_why() -> None:
    from parley.bots.bedrock import _error

    def refused(code: str, message: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, "ConverseStream")

    too_long = _error(refused("ValidationException", "Input is too long for requested model."))
    assert isinstance(too_long, ContextTooLong)
    assert too_long.retryable is False
    other = _error(refused("ValidationException", "Malformed input request"))
    assert not isinstance(other, ContextTooLong)
    assert other.message == "The assistant rejected the request"
    throttled = _error(refused("ThrottlingException", "too many tokens, slow down"))
    assert not isinstance(throttled, ContextTooLong)
