"""The WebSocket protocol: every client action and server event as a pydantic model.

These models are the single source of the protocol: `ws_message` parses with them, the fan-out
encodes with them, `docs/websocket-protocol.md` and the JSON Schema the frontend generates its
TypeScript types from are produced from them (`python -m parley.realtime.docs --write` and
`invoke gen-types`). Field names
are camelCase on the wire, snake_case in Python.

API Gateway refuses frames over 32 KB, so sizes are bounded where they are born: a user's
message is at most `MAX_CONTENT_BYTES` once JSON-encoded, the worker caps a reply at
`MAX_REPLY_BYTES`, and `encode_event` replaces the content of a message that would still not
fit by `contentOmitted: true` (the client then reads it over HTTP) instead of losing the event.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

from parley.models import (
    MAX_ATTACHMENTS,
    ClientMessageId,
    Conversation,
    ErrorCode,
    Message,
    ModelId,
)

FRAME_LIMIT = 32 * 1024
"""API Gateway's WebSocket frame size limit, in bytes."""
MAX_CONTENT_BYTES = 16 * 1024
"""Largest user message, measured as its JSON-encoded UTF-8 bytes (what the frame carries)."""
MAX_REPLY_BYTES = 24 * 1024
"""Largest assistant reply, same measure; the worker ends a longer answer there."""
MAX_INCOMING_BYTES = 64 * 1024
"""Largest client frame body we parse at all; larger is refused before JSON decoding."""

Id = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
"""A ULID (conversation and message ids)."""


def encoded_size(text: str) -> int:
    """The bytes ``text`` takes inside a JSON frame (escapes included, quotes excluded)."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )


# --- client → server -------------------------------------------------------------------------
class Subscribe(_Wire):
    """Start receiving the room's events; answered by `subscribed` (with the resume point)
    and a `presence` broadcast."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"action": "subscribe", "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E"}]
        }
    )
    action: Literal["subscribe"]
    conversation_id: Id


class Unsubscribe(_Wire):
    """Stop receiving the room's events; the others get a `presence` update."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"action": "unsubscribe", "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E"}]
        }
    )
    action: Literal["unsubscribe"]
    conversation_id: Id


class SendMessage(_Wire):
    """Post a message. Sending the same `clientMessageId` again stores and broadcasts nothing
    new; the sender alone gets the stored `message.created` again. In a chat with the
    assistant, `after` is the message it follows (the last one the sender sees; default: the
    newest) and `editOf` makes it a new version of an earlier message of the sender's — a new
    branch from where that one was (rooms take neither)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action": "sendMessage",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "clientMessageId": "c-7f3a9e",
                    "content": "@assistant what is a ULID?",
                }
            ]
        }
    )
    action: Literal["sendMessage"]
    conversation_id: Id
    client_message_id: ClientMessageId
    content: Annotated[str, Field(min_length=1)]
    attachment_ids: list[Id] | None = None
    """Files uploaded to this conversation by the sender and `ready` (`POST …/uploads`), at
    most `MAX_ATTACHMENTS`."""
    after: Id | None = None
    edit_of: Id | None = None

    @field_validator("attachment_ids")
    @classmethod
    def _few(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(value) > MAX_ATTACHMENTS:
            raise ValueError(f"a message carries at most {MAX_ATTACHMENTS} attachments")
        return value

    @field_validator("content")
    @classmethod
    def _fits(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("content must not be blank")
        if encoded_size(value) > MAX_CONTENT_BYTES:
            raise ValueError(f"content is larger than {MAX_CONTENT_BYTES} bytes")
        return value


class Retry(_Wire):
    """Ask the assistant to answer this user message again (after `message.failed` or stop,
    or to regenerate a reply: a new version beside the earlier ones), optionally by another
    model."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action": "retry",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "messageId": "01JDX40A1B2C3D4E5F6G7H8J9K",
                },
                {
                    "action": "retry",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "messageId": "01JDX40A1B2C3D4E5F6G7H8J9K",
                    "model": "claude-3-haiku",
                },
            ]
        }
    )
    action: Literal["retry"]
    conversation_id: Id
    message_id: Id
    model: ModelId | None = Field(
        default=None,
        description="A catalog model the caller may use (`GET /models`) that writes this "
        "reply only (unknown: `bad_request`; not theirs to use: `forbidden`); absent: the "
        "conversation's model. The conversation's model does not change",
    )


class Typing(_Wire):
    """Tell the room you are (or stopped) typing; not stored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action": "typing",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "isTyping": True,
                }
            ]
        }
    )
    action: Literal["typing"]
    conversation_id: Id
    is_typing: bool


class Stop(_Wire):
    """Stop the assistant reply that is streaming; what was said is kept, marked `stopped`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action": "stop",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "messageId": "01JDX40C3D4E5F6G7H8J9K0M1N",
                }
            ]
        }
    )
    action: Literal["stop"]
    conversation_id: Id
    message_id: Id


ClientAction = Annotated[
    Subscribe | Unsubscribe | SendMessage | Retry | Typing | Stop, Field(discriminator="action")
]
CLIENT_ACTIONS: tuple[type[_Wire], ...] = (Subscribe, Unsubscribe, SendMessage, Retry, Typing, Stop)
ACTION_NAMES = tuple(m.model_fields["action"].annotation.__args__[0] for m in CLIENT_ACTIONS)  # type: ignore[union-attr]
_client_adapter: TypeAdapter[ClientAction] = TypeAdapter(ClientAction)


class ProtocolError(Exception):
    """A client frame we refuse; becomes an `error` event (never a stack trace)."""

    def __init__(self, code: ErrorCode, message: str, action: str | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.action = action


def parse_action(body: str | bytes | None) -> ClientAction:
    """Parse one client frame, or raise `ProtocolError` saying exactly what is wrong."""
    if body is None or body == "" or body == b"":
        raise ProtocolError("bad_request", "Empty message: send a JSON object with an 'action'")
    size = len(body.encode() if isinstance(body, str) else body)
    if size > MAX_INCOMING_BYTES:
        raise ProtocolError(
            "payload_too_large", f"Message is larger than {MAX_INCOMING_BYTES} bytes"
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("bad_request", "Message is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_request", "Message must be a JSON object with an 'action'")
    action = data.get("action")
    if not isinstance(action, str) or action not in ACTION_NAMES:
        shown = action if isinstance(action, str) else None
        raise ProtocolError(
            "bad_request",
            f"Unknown action {shown!r}; expected one of: {', '.join(ACTION_NAMES)}"
            if shown
            else f"Missing 'action'; expected one of: {', '.join(ACTION_NAMES)}",
            shown,
        )
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError("validation_error", _describe(exc), action) from None


def _describe(exc: ValidationError) -> str:
    """A short, safe summary of what failed (field and reason, never the input value)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:5]:
        field = ".".join(str(p) for p in error["loc"][1:]) or ".".join(map(str, error["loc"]))
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required"
        elif error["type"] == "extra_forbidden":
            message = "is not a known field"
        elif error["type"] == "string_pattern_mismatch":
            message = "has an invalid format"
        parts.append(f"'{field}' {message}")
    return "Invalid message: " + "; ".join(parts)


# --- server → client -------------------------------------------------------------------------
class _Event(_Wire):
    model_config = ConfigDict(extra="ignore")


class StreamingSnapshot(_Wire):
    """The text of a reply still streaming, as of delta `seq` (apply deltas with a larger seq)."""

    message_id: Id
    seq: Annotated[int, Field(ge=0)]
    content: str
    reply_to: Id | None = None


class Subscribed(_Event):
    """Answer to `subscribe`: the replies streaming right now, each with its resume point."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "subscribed",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "streaming": [
                        {
                            "messageId": "01JDX40C3D4E5F6G7H8J9K0M1N",
                            "seq": 12,
                            "content": "A ULID is a 128-bit",
                            "replyTo": "01JDX40A1B2C3D4E5F6G7H8J9K",
                        }
                    ],
                }
            ]
        }
    )
    type: Literal["subscribed"] = "subscribed"
    conversation_id: Id
    streaming: list[StreamingSnapshot] = []


class MessageCreated(_Event):
    """A message was stored: a user's message, or an assistant reply starting (`streaming`)."""

    type: Literal["message.created"] = "message.created"
    conversation_id: Id
    message: Message
    content_omitted: bool = False


class MessageDelta(_Event):
    """The next piece of a streaming reply. `seq` counts from 1 without gaps per message."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "message.delta",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "messageId": "01JDX40C3D4E5F6G7H8J9K0M1N",
                    "seq": 13,
                    "delta": " identifier that sorts by time",
                }
            ]
        }
    )
    type: Literal["message.delta"] = "message.delta"
    conversation_id: Id
    message_id: Id
    seq: Annotated[int, Field(ge=1)]
    delta: str


class MessageCompleted(_Event):
    """The reply is final: `status` is `complete` or `stopped`, with token `usage`."""

    type: Literal["message.completed"] = "message.completed"
    conversation_id: Id
    message: Message
    content_omitted: bool = False


class MessageFailed(_Event):
    """The assistant could not answer; the user's message is kept and `retry` may work."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "message.failed",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "messageId": "01JDX40C3D4E5F6G7H8J9K0M1N",
                    "replyTo": "01JDX40A1B2C3D4E5F6G7H8J9K",
                    "reason": "The assistant is unavailable right now",
                    "retryable": True,
                }
            ]
        }
    )
    type: Literal["message.failed"] = "message.failed"
    conversation_id: Id
    message_id: Id
    reply_to: Id | None
    reason: str
    retryable: bool


class TypingEvent(_Event):
    """Someone in the room started or stopped typing (never echoed to the typist)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "typing",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "userId": "7c0e5a5e-0000-4000-8000-000000000001",
                    "name": "Ada",
                    "isTyping": True,
                }
            ]
        }
    )
    type: Literal["typing"] = "typing"
    conversation_id: Id
    user_id: str
    name: str
    is_typing: bool


class OnlineUser(_Wire):
    user_id: str
    name: str


class Presence(_Event):
    """Who is in the room now (members with at least one subscribed connection)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "presence",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "online": [{"userId": "7c0e5a5e-0000-4000-8000-000000000001", "name": "Ada"}],
                }
            ]
        }
    )
    type: Literal["presence"] = "presence"
    conversation_id: Id
    online: list[OnlineUser]


class ErrorEvent(_Event):
    """A refused action: `code` is machine-readable, `action` the action that caused it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "error",
                    "code": "not_found",
                    "message": "Conversation not found",
                    "action": "subscribe",
                }
            ]
        }
    )
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    action: str | None = None


class ConversationAdded(_Event):
    """Personal: you were added to a conversation, or started one (sent to every connection of
    yours, with or without a subscription), so every device's list shows it at once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "conversation.added",
                    "conversation": {
                        "id": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                        "kind": "group",
                        "title": "Lunch",
                        "ownerId": "7c0e5a5e-0000-4000-8000-000000000001",
                        "role": "member",
                        "createdAt": "2026-11-27T08:00:00.000Z",
                        "updatedAt": "2026-11-27T08:00:00.000Z",
                    },
                }
            ]
        }
    )
    type: Literal["conversation.added"] = "conversation.added"
    conversation: Conversation


class ConversationUpdated(_Event):
    """Personal: a conversation you belong to changed (renamed); `conversation` is as you see it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "conversation.updated",
                    "conversation": {
                        "id": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                        "kind": "group",
                        "title": "Friday lunch",
                        "ownerId": "7c0e5a5e-0000-4000-8000-000000000001",
                        "role": "member",
                        "createdAt": "2026-11-27T08:00:00.000Z",
                        "updatedAt": "2026-11-27T08:05:00.000Z",
                    },
                }
            ]
        }
    )
    type: Literal["conversation.updated"] = "conversation.updated"
    conversation: Conversation


class ConversationRemoved(_Event):
    """Personal: a conversation left your list — you were removed, you left (on another
    device), or it was deleted. Its room's events stopped reaching you already."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "conversation.removed",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "reason": "removed",
                }
            ]
        }
    )
    type: Literal["conversation.removed"] = "conversation.removed"
    conversation_id: Id
    reason: Literal["removed", "left", "deleted"]


class ExportReady(_Event):
    """Personal (every connection of the user who asked): their export's file is ready. The
    link works for a few minutes; `GET /exports/{id}` gives a new one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "export.ready",
                    "exportId": "01JDX50A1B2C3D4E5F6G7H8J9K",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "format": "md",
                    "fileName": "trip-to-lisbon.md",
                    "messageCount": 42,
                    "downloadUrl": "https://parley-dev-exports.s3.amazonaws.com/exports/…",
                    "downloadExpiresAt": "2026-11-27T08:05:00.000Z",
                }
            ]
        }
    )
    type: Literal["export.ready"] = "export.ready"
    export_id: Id
    conversation_id: Id
    format: Literal["md", "json"]
    file_name: str
    message_count: Annotated[int, Field(ge=0)]
    download_url: str
    download_expires_at: str


class ExportFailed(_Event):
    """Personal: the user's export could not be made; `reason` says why in a sentence."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "export.failed",
                    "exportId": "01JDX50A1B2C3D4E5F6G7H8J9K",
                    "conversationId": "01JDX3Z8N4Q7RM2V5K6B9C1T0E",
                    "reason": "The export could not be completed; please try again",
                }
            ]
        }
    )
    type: Literal["export.failed"] = "export.failed"
    export_id: Id
    conversation_id: Id
    reason: str


ServerEvent = Annotated[
    Subscribed
    | MessageCreated
    | MessageDelta
    | MessageCompleted
    | MessageFailed
    | TypingEvent
    | Presence
    | ConversationAdded
    | ConversationUpdated
    | ConversationRemoved
    | ErrorEvent
    | ExportReady
    | ExportFailed,
    Field(discriminator="type"),
]
SERVER_EVENTS: tuple[type[_Event], ...] = (
    Subscribed,
    MessageCreated,
    MessageDelta,
    MessageCompleted,
    MessageFailed,
    TypingEvent,
    Presence,
    ConversationAdded,
    ConversationUpdated,
    ConversationRemoved,
    ErrorEvent,
    ExportReady,
    ExportFailed,
)


class ClientFrame(RootModel[ClientAction]):
    """Any frame a client sends."""


class ServerFrame(RootModel[ServerEvent]):
    """Any frame the server sends."""


class FrameTooLarge(Exception):
    """An event that cannot be made to fit a frame (a bug: sizes are bounded upstream)."""


def encode_event(event: _Event) -> bytes:
    """Serialise an event for PostToConnection, within the frame limit.

    A message whose content would overflow the frame is sent without it and flagged
    `contentOmitted`, so the client still learns of it and fetches the text over HTTP.
    """
    data = event.model_dump_json(by_alias=True, exclude_none=True).encode()
    if len(data) <= FRAME_LIMIT:
        return data
    if isinstance(event, MessageCreated | MessageCompleted):
        slim = event.model_copy(
            update={
                "message": event.message.model_copy(update={"content": ""}),
                "content_omitted": True,
            }
        )
        data = slim.model_dump_json(by_alias=True, exclude_none=True).encode()
        if len(data) <= FRAME_LIMIT:
            return data
    raise FrameTooLarge(f"{type(event).__name__} event of {len(data)} bytes exceeds {FRAME_LIMIT}")
