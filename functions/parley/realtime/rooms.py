"""What `ws_message` does for each client action: the WebSocket face of the domain.

Posting, asking again and stopping go through `parley.posting.MessagePipeline`, exactly as over
HTTP; what is only real-time lives here: subscriptions with their resume snapshot, presence and
typing. Every action is refused to a non-member with `not_found`, exactly as for a room that
does not exist, and broadcasts reach members only. Refusals become an `error` event to the
sender; nothing is stored for a refused frame.

Before any of that, each action passes the connection's guard (one conditional write): over its
rate it is refused with `rate_limited` and the socket stays open; once the token the connection
was opened with has expired, it is refused with `unauthorized` and the connection is closed (the
app refreshes its token and reconnects); so is every action of a disabled user (`parley.gate`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from parley import access
from parley.errors import AssistantUnavailable, ParleyError
from parley.errors import RateLimited as TooFast
from parley.gate import AccountDisabled
from parley.profiles import profile_of
from parley.realtime.metrics import record_broadcast
from parley.realtime.protocol import (
    ClientAction,
    ErrorEvent,
    FrameTooLarge,
    MessageCreated,
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
from parley.store.connections import (
    ConnectionGone,
    Rate,
    RateLimited,
    TokenExpired,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from parley.gate import AccountGate
    from parley.jobs import ReplyJob
    from parley.posting import Dispatch, MessagePipeline
    from parley.realtime.events import Caller
    from parley.realtime.fanout import Broadcaster
    from parley.realtime.presence import LivePresence
    from parley.realtime.protocol import _Event
    from parley.replies import ReplyOutcome
    from parley.store import Store
    from parley.store.connections import ConnectionsRepository

logger = logging.getLogger(__name__)


RATES: dict[str, Rate] = {
    "ask": Rate(burst=5, every=2.0),  # sendMessage and retry: each may start a model call
    "follow": Rate(burst=20, every=0.5),  # subscribe and unsubscribe: a reconnect re-subscribes
    "stop": Rate(burst=5, every=1.0),
    "typing": Rate(burst=1, every=2.0),  # per room: one broadcast per 2 s at most
}
"""Per-connection rates by bucket (API Gateway's stage and route throttles bound the sum)."""


def rate_bucket(action: ClientAction) -> tuple[str, Rate]:
    match action:
        case SendMessage() | Retry():
            return "ask", RATES["ask"]
        case Subscribe() | Unsubscribe():
            return "follow", RATES["follow"]
        case Stop():
            return "stop", RATES["stop"]
        case Typing():
            return f"typing_{action.conversation_id}", RATES["typing"]


class Rooms:
    """The real-time actions over the domain, the connections table and the fan-out."""

    def __init__(
        self,
        *,
        store: Store,
        connections: ConnectionsRepository,
        broadcaster: Broadcaster,
        presence: LivePresence,
        pipeline: MessagePipeline,
        dispatch: Dispatch,
        gate: AccountGate | None = None,
    ) -> None:
        self.gate = gate
        """The disabled check of every action (`parley.gate`); None: not checked (tests)."""
        self.store = store
        self.connections = connections
        self.broadcaster = broadcaster
        self.presence = presence
        self.pipeline = pipeline
        self.dispatch_job = dispatch

    # entry point ----------------------------------------------------------------------------
    def handle(self, who: Caller, frame: str | None, request_id: str) -> None:
        """Parse and run one client frame; any refusal is answered with an `error` event."""
        action_name: str | None = None
        try:
            action = parse_action(frame)
            action_name = action.action
            if not self._admit(who, action):
                return
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
                self.pipeline.answer_again(
                    who.user_id,
                    action.conversation_id,
                    action.message_id,
                    dispatch=self.dispatch_job,
                    groups=who.groups,
                    model_id=action.model,
                )
            case Typing():
                self.typing(who, action)
            case Stop():
                self.pipeline.stop(who.user_id, action.conversation_id, action.message_id)

    # actions --------------------------------------------------------------------------------
    def subscribe(self, who: Caller, action: Subscribe) -> None:
        room = access.room_for(self.store, action.conversation_id, who.user_id)
        try:
            self.connections.subscribe(who.connection_id, action.conversation_id)
        except ConnectionGone:
            return  # the client left while we worked: nobody to answer
        # Subscribed first, snapshot second, then the streaming replies are told their
        # listeners changed: each writer reads its subscribers again before its next chunk and
        # sends us every chunk after the oldest snapshot we can have read, so nothing falls
        # between the snapshot and the live deltas.
        live = self.store.messages.live_replies(action.conversation_id)
        snapshot = [
            StreamingSnapshot(
                message_id=s.message_id, seq=s.seq, content=s.content, reply_to=s.reply_to
            )
            for s in live
        ]
        self.store.messages.listeners_changed(action.conversation_id, [s.message_id for s in live])
        answer = Subscribed(conversation_id=action.conversation_id, streaming=snapshot)
        try:
            self.broadcaster.send(who.connection_id, answer)
        except FrameTooLarge:  # several long replies at once: one frame per reply
            for part in snapshot:
                self.broadcaster.send(
                    who.connection_id,
                    Subscribed(conversation_id=action.conversation_id, streaming=[part]),
                )
        self.presence.announce(action.conversation_id, room.member_ids)

    def unsubscribe(self, who: Caller, action: Unsubscribe) -> None:
        if not self.connections.unsubscribe(who.connection_id, action.conversation_id):
            return  # not subscribed: nothing changed, nobody to tell
        self.store.messages.listeners_changed(action.conversation_id)
        self.presence.announce(action.conversation_id)

    def send_message(self, who: Caller, action: SendMessage) -> None:
        author = profile_of(self.store, who.user_id, who.email, who.name)
        posted = self.pipeline.post(
            author,
            action.conversation_id,
            action.content,
            client_message_id=action.client_message_id,
            dispatch=self.dispatch_job,
            attachment_ids=action.attachment_ids or (),
            after=action.after,
            edit_of=action.edit_of,
            groups=who.groups,
        )
        if not posted.created:  # a resend: confirm to the sender alone, store nothing
            self.broadcaster.send(
                who.connection_id,
                MessageCreated(conversation_id=action.conversation_id, message=posted.message),
            )

    def typing(self, who: Caller, action: Typing) -> None:
        room = access.room_for(self.store, action.conversation_id, who.user_id)
        event = TypingEvent(
            conversation_id=action.conversation_id,
            user_id=who.user_id,
            name=room.caller.name,
            is_typing=action.is_typing,
        )
        self._broadcast(
            action.conversation_id, event, room.member_ids, exclude_users=(who.user_id,)
        )

    # helpers --------------------------------------------------------------------------------
    def _admit(self, who: Caller, action: ClientAction) -> bool:
        """The connection's guard; False when the action must not run (nor be answered)."""
        bucket, rate = rate_bucket(action)
        try:
            self.connections.admit(who.connection_id, bucket, rate)
        except ConnectionGone:
            return False  # the client left while its frame travelled: nobody to answer
        except TokenExpired:
            self._error(
                who,
                "unauthorized",
                "Your sign-in has expired; reconnect with a fresh token",
                action.action,
            )
            self.broadcaster.close(who.connection_id)
            return False
        except RateLimited as limited:
            wait = max(1, round(limited.retry_after))
            raise TooFast(f"Too many {action.action} actions; try again in {wait} s") from None
        if self.gate is not None and self.gate.disabled(who.user_id):
            self._error(who, "unauthorized", AccountDisabled.default_message, action.action)
            self.broadcaster.close(who.connection_id)
            return False
        return True

    def _broadcast(
        self,
        conversation_id: str,
        event: _Event,
        members: Collection[str],
        *,
        exclude_users: tuple[str, ...] = (),
    ) -> None:
        result = self.broadcaster.broadcast(
            conversation_id,
            event,
            members=self.presence.members(conversation_id, members),
            exclude_users=exclude_users,
        )
        record_broadcast(result)

    def _error(self, who: Caller, code: str, message: str, action: str | None) -> None:
        self.broadcaster.send(
            who.connection_id,
            ErrorEvent.model_validate({"code": code, "message": message, "action": action}),
        )


def lambda_invoker(client: LambdaClient, function_name: str) -> Dispatch:
    """Invoke the worker asynchronously (InvocationType=Event): Lambda queues the job, retries
    it on failure and sends it to the DLQ at last; `ws_message` returns at once."""

    def invoke(job: ReplyJob) -> ReplyOutcome | None:
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
        return None

    return invoke
