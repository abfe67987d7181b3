"""Posting a message and asking the assistant: one pipeline for HTTP and the WebSocket.

`chat_api` (`POST /conversations/{id}/messages`, `POST /chat`) and `ws_message`
(`sendMessage`, `retry`, `stop`) are thin callers of `MessagePipeline`. For every message it:

1. checks membership (`parley.access`) — a non-member learns nothing;
2. decides whether the assistant answers (always in an assistant chat; in a room when the
   message mentions ``@assistant``);
3. if so, claims the reply's tokens and the asker's reply slot (`parley.quota`) *before*
   storing anything, so a refused question is not half-sent;
4. stores the message idempotently on its `clientMessageId` (a resend stores nothing new and
   releases the claim), with the author's name from their profile;
5. broadcasts `message.created` to the room's live subscribers and titles the conversation from
   its first message (`parley.titles`); the members' lists move up from the change feed
   (`parley.activity`), so a message costs the same writes in a room of any size;
6. hands the `ReplyJob` to the transport's dispatcher: an async invoke of `bot_worker`, or the
   same writer run in process for HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parley import access, branches
from parley.assistants import persona
from parley.attachments import summary as attachment_summary
from parley.errors import (
    AssistantUnavailable,
    BadRequest,
    Conflict,
    ConversationNotFound,
    InvalidInput,
    MessageNotFound,
    QuotaExceeded,
)
from parley.ids import new_ulid
from parley.jobs import ReplyJob
from parley.realtime.fanout import RoomMembers
from parley.realtime.metrics import record_broadcast, record_message
from parley.realtime.protocol import MessageCreated
from parley.replies import FAILED_REASON
from parley.store.messages import ReplyNotStreaming
from parley.titles import title_from

if TYPE_CHECKING:
    from collections.abc import Sequence

    from parley.assistants import Assistants
    from parley.attachments import Attachments
    from parley.budget import Budget
    from parley.catalog import Catalog, ModelEntry
    from parley.models import Kind, Message, Profile
    from parley.quota import Quota
    from parley.realtime.fanout import Broadcaster
    from parley.replies import ReplyOutcome
    from parley.store import ConversationRecord, Store
    from parley.store.assistants import AssistantRecord
    from parley.store.attachments import AttachmentRecord
    from parley.store.usage import Claim

MENTION = re.compile(r"(?<![\w@])@assistant\b", re.IGNORECASE)
"""How a room member calls the assistant in."""

Dispatch = Callable[[ReplyJob], "ReplyOutcome | None"]
"""Hands a reply job to its writer: None when it runs elsewhere (async), else its outcome."""


def assistant_answers(kind: Kind, content: str) -> bool:
    """The one rule for when the assistant replies to a message."""
    return kind == "assistant" or MENTION.search(content) is not None


@dataclass(frozen=True)
class Posted:
    """What posting did: the message (new, or the one a resend found), and the reply asked
    for with its outcome when the dispatcher ran it in process."""

    message: Message
    created: bool
    answers: bool
    """Whether the assistant answers this message (asked now or not)."""
    job: ReplyJob | None = None
    outcome: ReplyOutcome | None = None


@dataclass(frozen=True)
class Exchange:
    """A message and its reply, as `ask` returns them."""

    message: Message
    reply: Message | None
    replayed: bool
    """True when the reply was found from an earlier attempt, not made now."""


class MessagePipeline:
    attachments: Attachments | None = None
    """Files sent with messages (`parley.attachments`); None where uploads are not set up."""
    catalog: Callable[[], Catalog] | None = None
    """The environment's models (`parley.catalog`): the conversation's model bounds a message
    and its reply, and the asker must be allowed to use it. None: `budget` alone."""
    assistants: Assistants | None = None
    """Users' assistants (`parley.assistants`): in a room, `@handle` calls one the room added.
    None: only `@assistant`."""

    def __init__(
        self,
        *,
        store: Store,
        quota: Quota,
        broadcaster: Broadcaster,
        budget: Budget | None = None,
    ) -> None:
        self.store = store
        self.quota = quota
        self.broadcaster = broadcaster
        self.budget = budget
        """The model's budget: a message that cannot fit it is refused (None: not checked)."""

    def post(
        self,
        author: Profile,
        conversation_id: str,
        content: str,
        *,
        client_message_id: str | None,
        dispatch: Dispatch,
        attachment_ids: Sequence[str] = (),
        after: str | None = None,
        edit_of: str | None = None,
        groups: Sequence[str] = (),
    ) -> Posted:
        """Store `content` as `author`'s message, tell the room, and ask for a reply if due.

        `groups` are the author's Cognito groups: the conversation's model must be one they may
        use when the assistant is to answer (`Forbidden` before anything is claimed or stored).

        In a chat with the assistant the message continues the branch that ends at `after`
        (default: the newest message), or, with `edit_of`, is a new version of that earlier
        message of the author's: a new branch from the same point (`parley.branches`).
        """
        if self.budget is not None:
            self.budget.check(content)  # before anything is read, claimed or stored
        room = access.room_for(self.store, conversation_id, author.id)
        answers, called = self._answerer(room.record, content)
        model = self._model(room.record, groups if answers else None, called)
        if model is not None:
            model.budget.check(content)
        parent_id = branches.parent_for(self.store, room, author.id, after=after, edit_of=edit_of)
        sent = self._attachments_for(conversation_id, author.id, attachment_ids)
        message_id, reply_id = new_ulid(), new_ulid()  # in this order: the reply sorts after
        claim: Claim | None = None
        if answers:
            try:
                claim = self.quota.claim(
                    author.id,
                    conversation_id,
                    reply_id,
                    content,
                    max_output_tokens=model.max_output_tokens if model is not None else None,
                    profile=author,
                )
            except (QuotaExceeded, Conflict):
                earlier = self._earlier(conversation_id, client_message_id, author.id)
                if earlier is not None:  # a resend of a stored message is not a new question
                    return Posted(earlier, created=False, answers=answers)
                raise
        try:
            if sent and self.attachments is not None:
                self.attachments.keep(sent)  # out of the pending expiry before it is referenced
            message, created = self.store.messages.put_user_message(
                conversation_id,
                author_id=author.id,
                author_name=author.name,
                content=content,
                attachments=[attachment_summary(r) for r in sent],
                attachment_guards=self.store.attachments.reference_items(
                    conversation_id, [r.id for r in sent], owner_id=author.id, message_id=message_id
                ),
                client_message_id=client_message_id,
                message_id=message_id,
                parent_id=parent_id,
            )
        except Exception:
            if claim is not None:
                self.quota.release(claim)
            raise
        if not created:
            if claim is not None:
                self.quota.release(claim)
            return Posted(message, created=False, answers=answers)
        record_message()
        try:
            self._announce(room, message, content)
        except Exception:
            if claim is not None:
                self.quota.release(claim)  # stored, but no reply will be asked: `retry` can
            raise
        if claim is None:
            return Posted(message, created=True, answers=False)
        job = ReplyJob.for_claim(
            claim,
            reply_to=message.id,
            model=model.id if model is not None else None,
            persona=persona(called) if called is not None else None,
        )
        outcome = self._dispatch(job, dispatch)
        return Posted(message, created=True, answers=True, job=job, outcome=outcome)

    def ask(
        self,
        author: Profile,
        conversation_id: str,
        content: str,
        *,
        client_message_id: str | None,
        run: Dispatch,
        attachment_ids: Sequence[str] = (),
        after: str | None = None,
        edit_of: str | None = None,
        groups: Sequence[str] = (),
    ) -> Exchange:
        """Post and wait for the reply (HTTP). Sending the same `clientMessageId` again
        returns the earlier reply, or asks again when the earlier one did not complete."""
        posted = self.post(
            author,
            conversation_id,
            content,
            client_message_id=client_message_id,
            dispatch=run,
            attachment_ids=attachment_ids,
            after=after,
            edit_of=edit_of,
            groups=groups,
        )
        if not posted.created:
            if not posted.answers:
                return Exchange(posted.message, None, replayed=True)
            earlier = self.store.messages.reply_to(conversation_id, posted.message.id)
            if earlier is not None:
                return Exchange(posted.message, earlier, replayed=True)
            posted = self.answer_again(
                author.id, conversation_id, posted.message.id, dispatch=run, groups=groups
            )
        if posted.job is None:
            return Exchange(posted.message, None, replayed=False)
        outcome = posted.outcome
        if outcome is not None and outcome.status in ("complete", "stopped") and outcome.reply:
            return Exchange(posted.message, outcome.reply, replayed=False)
        if outcome is not None and outcome.status in ("conversation_gone", "requester_left"):
            raise ConversationNotFound()
        error = outcome.error if outcome is not None else None
        reason = error.message if error is not None else FAILED_REASON
        raise AssistantUnavailable(
            f"{reason}. Your message was saved; send it again to retry.",
            retryable=error.retryable if error else True,
            status=503 if error is not None and error.unavailable else 502,
        )

    def answer_again(
        self,
        user_id: str,
        conversation_id: str,
        message_id: str,
        *,
        dispatch: Dispatch,
        groups: Sequence[str] = (),
        model_id: str | None = None,
    ) -> Posted:
        """Ask for a new reply to a user's message (regenerate, or after a failed or stopped
        one), from the conversation's model as it is now, or from `model_id` when given: a
        catalog model the caller may use (`UnknownModel` 400, `Forbidden` 403, before anything
        is claimed), for this reply only — the conversation's model stays as it is."""
        room = access.room_for(self.store, conversation_id, user_id)
        message = self.store.messages.get(conversation_id, message_id)
        if message.role != "user":
            raise MessageNotFound("Only a user's message can be answered again")
        access.require_may_retry(room, message.author_id)
        if any(r.reply_to == message.id for r in self.store.messages.live_replies(conversation_id)):
            raise Conflict("A reply to this message is still streaming")
        _, called = self._answerer(room.record, message.content)
        if model_id is None:
            model = self._model(room.record, groups, called)
        else:
            model = self._chosen(model_id, groups)
            model.budget.check(message.content)  # its window may be smaller than the first's
        claim = self.quota.claim(
            user_id,
            conversation_id,
            new_ulid(),
            message.content,
            max_output_tokens=model.max_output_tokens if model is not None else None,
        )
        job = ReplyJob.for_claim(
            claim,
            reply_to=message.id,
            model=model.id if model is not None else None,
            persona=persona(called) if called is not None else None,
        )
        outcome = self._dispatch(job, dispatch)
        return Posted(message, created=False, answers=True, job=job, outcome=outcome)

    def stop(self, user_id: str, conversation_id: str, reply_id: str) -> None:
        """Ask the reply's writer to stop; it ends within one coalescing window."""
        room = access.room_for(self.store, conversation_id, user_id)
        reply = self.store.messages.reply(conversation_id, reply_id)
        if reply is None:
            raise MessageNotFound("No such reply")
        access.require_may_stop(room, reply.requested_by)
        if reply.status != "streaming":
            raise Conflict("The reply has already ended")
        try:
            self.store.messages.request_stop(conversation_id, reply_id)
        except ReplyNotStreaming:
            raise Conflict("The reply has already ended") from None

    # helpers ---------------------------------------------------------------------------------
    def _answerer(
        self, record: ConversationRecord, content: str
    ) -> tuple[bool, AssistantRecord | None]:
        """Whether an assistant answers, and which of the users' assistants when one does: in
        a room the first mentioned of `@assistant` (the default) and the room's assistants'
        handles; a handle the room has not added calls nobody."""
        if record.kind == "assistant":
            return True, None
        default = MENTION.search(content)
        called = self.assistants.called(record.id, content) if self.assistants else None
        if called is not None and (default is None or called[0] < default.start()):
            return True, called[1]
        return default is not None, None

    def _model(
        self,
        record: ConversationRecord,
        groups: Sequence[str] | None,
        called: AssistantRecord | None = None,
    ) -> ModelEntry | None:
        """The model that answers (None without a catalog): the called assistant's, else the
        conversation's; with `groups`, the asker must be allowed to use it."""
        if self.catalog is None:
            return None
        catalog = self.catalog()
        model = catalog.for_conversation(called.model if called is not None else record.model)
        if groups is not None:
            catalog.require_usable(model, groups)
        return model

    def _chosen(self, model_id: str, groups: Sequence[str]) -> ModelEntry:
        """A model the asker names for one reply: in the catalog and theirs to use."""
        if self.catalog is None:
            raise BadRequest("This environment offers no choice of model")
        return self.catalog().require(model_id, groups)

    def _attachments_for(
        self, conversation_id: str, author_id: str, attachment_ids: Sequence[str]
    ) -> list[AttachmentRecord]:
        """The sender's ready uploads to this conversation the message names (`parley.access`
        decides; the store's transaction checks again)."""
        if not attachment_ids:
            return []
        if self.attachments is None:
            raise InvalidInput("Attachments are not available here")
        return self.attachments.for_message(conversation_id, author_id, attachment_ids)

    def _announce(self, room: access.Room, message: Message, content: str) -> None:
        """Tell the room and title the conversation from its first message."""
        conversation_id = room.record.id
        result = self.broadcaster.broadcast(
            conversation_id,
            MessageCreated(conversation_id=conversation_id, message=message),
            members=RoomMembers.of(
                self.store.conversations, conversation_id, known=room.member_ids
            ),
        )
        record_broadcast(result)
        # Every member's list moves up from the change feed (`parley.activity`): the request
        # writes nothing that grows with the room.
        if not room.record.titled:
            self.store.conversations.title_if_untitled(room.record, title_from(content))

    def _dispatch(self, job: ReplyJob, dispatch: Dispatch) -> ReplyOutcome | None:
        try:
            return dispatch(job)
        except AssistantUnavailable:
            claim = job.claim
            if claim is not None:
                self.quota.release(claim)  # the writer never started: nothing to settle
            raise

    def _earlier(
        self, conversation_id: str, client_message_id: str | None, author_id: str
    ) -> Message | None:
        if client_message_id is None:
            return None
        return self.store.messages.by_client_id(conversation_id, client_message_id, author_id)
