"""What `ws_message` does for each client action: membership first, then store, then fan out.

Every action starts with the room's member list (one Query): a non-member gets `not_found`,
exactly as for a room that does not exist, and broadcasts reach members only. Refusals become
an `error` event to the sender; nothing is stored for a refused frame.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from parley.errors import (
    AssistantUnavailable,
    Conflict,
    ConversationNotFound,
    Forbidden,
    MessageNotFound,
    ParleyError,
    QuotaExceeded,
)
from parley.ids import new_ulid, seconds_to_utc_midnight, today
from parley.realtime.metrics import record_broadcast, record_message
from parley.realtime.protocol import (
    ClientAction,
    ErrorEvent,
    FrameTooLarge,
    MessageCreated,
    OnlineUser,
    Presence,
    ProtocolError,
    Retry,
    SendMessage,
    Stop,
    StreamingSnapshot,
    Subscribe,
    Subscribed,
    Typing,
    TypingEvent,
    Unsubscribe,
    parse_action,
)
from parley.store.connections import ConnectionGone
from parley.store.streaming import ReplyNotFound, ReplyNotStreaming, StopNotAllowed

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from parley.models import Member
    from parley.realtime.events import Caller
    from parley.realtime.fanout import Broadcaster
    from parley.realtime.protocol import _Event
    from parley.store import Store
    from parley.store.connections import ConnectionsRepository, Subscriber
    from parley.store.conversations import ConversationRecord
    from parley.store.streaming import StreamingRepository

logger = Logger(child=True)

MENTION = re.compile(r"(?<![\w@])@assistant\b", re.IGNORECASE)
"""How a group member calls the assistant in."""
TITLE_CHARS = 60


class ReplyJob(BaseModel):
    """The async payload `ws_message` sends `bot_worker`: which reply to write, to what.

    The reply id is chosen here, before the invoke, so a retried invoke finds the same reply.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    conversation_id: str
    reply_id: str
    reply_to: str
    requested_by: str


Invoker = Callable[[ReplyJob], None]


def mentions_assistant(content: str) -> bool:
    return MENTION.search(content) is not None


@dataclass
class Room:
    """A conversation as the caller may act in it."""

    record: ConversationRecord
    members: dict[str, Member]

    @property
    def member_ids(self) -> frozenset[str]:
        return frozenset(self.members)


class Rooms:
    """The real-time actions over the core store, the connections table and the fan-out."""

    def __init__(
        self,
        *,
        store: Store,
        connections: ConnectionsRepository,
        streaming: StreamingRepository,
        broadcaster: Broadcaster,
        invoke_worker: Invoker,
        daily_token_quota: int = 0,
    ) -> None:
        self.store = store
        self.connections = connections
        self.streaming = streaming
        self.broadcaster = broadcaster
        self.invoke_worker = invoke_worker
        self.daily_token_quota = daily_token_quota

    # entry point ----------------------------------------------------------------------------
    def handle(self, who: Caller, frame: str | bytes | None, request_id: str) -> None:
        """Parse and run one client frame; any refusal is answered with an `error` event."""
        action_name: str | None = None
        try:
            action = parse_action(frame)
            action_name = action.action
            self.dispatch(who, action)
        except ProtocolError as exc:
            self._error(who, exc.code, exc.message, exc.action)
        except ParleyError as exc:
            self._error(who, exc.code, exc.message, action_name)
        except Exception:
            logger.exception("action failed", extra={"action": action_name})
            self._error(
                who, "internal_error", f"Internal error (request {request_id})", action_name
            )

    def dispatch(self, who: Caller, action: ClientAction) -> None:
        match action:
            case Subscribe():
                self.subscribe(who, action)
            case Unsubscribe():
                self.unsubscribe(who, action)
            case SendMessage():
                self.send_message(who, action)
            case Retry():
                self.retry(who, action)
            case Typing():
                self.typing(who, action)
            case Stop():
                self.stop(who, action)

    # actions --------------------------------------------------------------------------------
    def subscribe(self, who: Caller, action: Subscribe) -> None:
        room = self.room(action.conversation_id, who.user_id)
        try:
            self.connections.subscribe(who.connection_id, action.conversation_id)
        except ConnectionGone:
            return  # the client left while we worked: nobody to answer
        # Subscribed first, snapshot second: a delta the worker persists after this read is
        # posted to us too, so nothing falls between the snapshot and the live deltas.
        snapshot = [
            StreamingSnapshot(
                message_id=s.message_id, seq=s.seq, content=s.content, reply_to=s.reply_to
            )
            for s in self.streaming.streaming(action.conversation_id)
        ]
        answer = Subscribed(conversation_id=action.conversation_id, streaming=snapshot)
        try:
            self.broadcaster.send(who.connection_id, answer)
        except FrameTooLarge:  # several long replies at once: one frame per reply
            for part in snapshot:
                self.broadcaster.send(
                    who.connection_id,
                    Subscribed(conversation_id=action.conversation_id, streaming=[part]),
                )
        self.announce_presence(action.conversation_id, room.member_ids)

    def unsubscribe(self, who: Caller, action: Unsubscribe) -> None:
        if not self.connections.unsubscribe(who.connection_id, action.conversation_id):
            return  # not subscribed: nothing changed, nobody to tell
        members = {m.user_id for m in self.store.conversations.members(action.conversation_id)}
        if members:
            self.announce_presence(action.conversation_id, members)

    def send_message(self, who: Caller, action: SendMessage) -> None:
        room = self.room(action.conversation_id, who.user_id)
        wants_reply = room.record.kind == "assistant" or mentions_assistant(action.content)
        if wants_reply:
            self._check_quota(who)  # before storing: an over-quota question is not half-sent
        message, created = self.store.messages.put_user_message(
            action.conversation_id,
            author_id=who.user_id,
            author_name=who.name,
            content=action.content,
            client_message_id=action.client_message_id,
        )
        event = MessageCreated(conversation_id=action.conversation_id, message=message)
        if not created:  # a resend: confirm to the sender alone, store and broadcast nothing
            self.broadcaster.send(who.connection_id, event)
            return
        record_message()
        self._broadcast(action.conversation_id, event, room.member_ids)
        self.store.conversations.touch(
            action.conversation_id, message.created_at, member_ids=room.member_ids
        )
        if not room.record.titled:
            self.store.conversations.title_from_first_message(
                action.conversation_id, _title(action.content)
            )
        if wants_reply:
            self._ask_assistant(who, action.conversation_id, message.id)

    def retry(self, who: Caller, action: Retry) -> None:
        room = self.room(action.conversation_id, who.user_id)
        message = self.store.messages.get(action.conversation_id, action.message_id)
        if message.role != "user":
            raise MessageNotFound("Only a user's message can be answered again")
        if message.author_id != who.user_id and room.record.owner_id != who.user_id:
            raise Forbidden("Only the author or the room's owner can ask again")
        if any(s.reply_to == message.id for s in self.streaming.streaming(action.conversation_id)):
            raise Conflict("A reply to this message is still streaming")
        self._check_quota(who)
        self._ask_assistant(who, action.conversation_id, message.id)

    def typing(self, who: Caller, action: Typing) -> None:
        room = self.room(action.conversation_id, who.user_id)
        event = TypingEvent(
            conversation_id=action.conversation_id,
            user_id=who.user_id,
            name=who.name,
            is_typing=action.is_typing,
        )
        self._broadcast(
            action.conversation_id, event, room.member_ids, exclude_users=(who.user_id,)
        )

    def stop(self, who: Caller, action: Stop) -> None:
        room = self.room(action.conversation_id, who.user_id)
        try:
            self.streaming.request_stop(
                action.conversation_id,
                action.message_id,
                user_id=who.user_id,
                is_owner=room.record.owner_id == who.user_id,
            )
        except ReplyNotFound:
            raise MessageNotFound("No such reply") from None
        except StopNotAllowed:
            raise Forbidden(
                "Only who asked for this reply, or the room's owner, can stop it"
            ) from None
        except ReplyNotStreaming:
            raise Conflict("The reply has already ended") from None

    # helpers --------------------------------------------------------------------------------
    def room(self, conversation_id: str, user_id: str) -> Room:
        """The room if the user is a member; `ConversationNotFound` otherwise (no leak)."""
        members = {m.user_id: m for m in self.store.conversations.members(conversation_id)}
        if user_id not in members:
            raise ConversationNotFound()
        return Room(self.store.conversations.record(conversation_id), members)

    def announce_presence(self, conversation_id: str, members: frozenset[str] | set[str]) -> None:
        """Tell the room who is in it; one Query serves both the list and the recipients."""
        subscribers = self.connections.subscribers(conversation_id)
        present = [s for s in subscribers if s.user_id in members]
        self._broadcast(
            conversation_id,
            Presence(conversation_id=conversation_id, online=_online(present)),
            members,
            subscribers=subscribers,
        )

    def _check_quota(self, who: Caller) -> None:
        if self.daily_token_quota:
            used = self.store.usage.get(who.user_id, today())
            if used.input_tokens + used.output_tokens >= self.daily_token_quota:
                raise QuotaExceeded(
                    f"Daily token quota reached; try again in {seconds_to_utc_midnight()} s"
                )

    def _ask_assistant(self, who: Caller, conversation_id: str, message_id: str) -> None:
        self.invoke_worker(
            ReplyJob(
                conversation_id=conversation_id,
                reply_id=new_ulid(),
                reply_to=message_id,
                requested_by=who.user_id,
            )
        )

    def _broadcast(
        self,
        conversation_id: str,
        event: _Event,
        members: frozenset[str] | set[str],
        *,
        exclude_users: tuple[str, ...] = (),
        subscribers: list[Subscriber] | None = None,
    ) -> None:
        result = self.broadcaster.broadcast(
            conversation_id,
            event,
            members=members,
            exclude_users=exclude_users,
            subscribers=subscribers,
        )
        record_broadcast(result)
        if result.stale and not isinstance(event, Presence):
            # someone left without a $disconnect: the room learns it now
            self.announce_presence(conversation_id, members)

    def _error(self, who: Caller, code: str, message: str, action: str | None) -> None:
        self.broadcaster.send(
            who.connection_id,
            ErrorEvent.model_validate({"code": code, "message": message, "action": action}),
        )


def _online(subscribers: list[Subscriber]) -> list[OnlineUser]:
    seen: dict[str, OnlineUser] = {}
    for s in subscribers:
        seen.setdefault(s.user_id, OnlineUser(user_id=s.user_id, name=s.name))
    return sorted(seen.values(), key=lambda u: (u.name.lower(), u.user_id))


def _title(content: str) -> str:
    line = " ".join(content.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def lambda_invoker(client: LambdaClient, function_name: str) -> Invoker:
    """Invoke the worker asynchronously (InvocationType=Event): Lambda queues the job, retries
    it on failure and sends it to the DLQ at last; `ws_message` returns at once."""

    def invoke(job: ReplyJob) -> None:
        try:
            client.invoke(
                FunctionName=function_name,
                InvocationType="Event",
                Payload=json.dumps(job.model_dump(by_alias=True)).encode(),
            )
        except (ClientError, BotoCoreError):
            logger.exception("bot worker invoke failed")
            raise AssistantUnavailable(
                "The assistant could not be reached; your message is saved, retry later"
            ) from None

    return invoke
