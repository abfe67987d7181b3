"""Pydantic models of Parley's data and HTTP API (camelCase on the wire, snake_case in code).

The size limits live here so every entry point (HTTP, WebSocket, bot worker) enforces the same
ones and the OpenAPI document states them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

MAX_CONTENT_CHARS = 32_000
MAX_TITLE_CHARS = 200
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

Kind = Literal["assistant", "group"]
MemberRole = Literal["owner", "member"]
Role = Literal["user", "assistant"]
Status = Literal["complete", "streaming", "stopped", "failed"]
AttachmentKind = Literal["document", "image"]
AttachmentStatus = Literal["pending", "ready", "rejected"]
MAX_ATTACHMENTS = 10
"""Attachment ids one message may name at most (an environment may allow fewer)."""
Rating = Literal["up", "down"]
MAX_FEEDBACK_COMMENT_CHARS = 1000
"""The longest comment on a rating of a reply (after trimming)."""
MAX_ASSISTANT_NAME_CHARS = 60
MAX_INSTRUCTIONS_CHARS = 8000
"""The longest instructions (system prompt) of an assistant."""
HANDLE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,31}$"
"""An assistant's handle: what a room member types after `@` (2–32 characters)."""

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE_CHARS)
]
Content = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CONTENT_CHARS)
]
ClientMessageId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
]
# No `\s` (Python, the Rust validator and JSON Schema disagree on what it matches) and no
# stripping (a schema cannot say so): the document and the server accept the same strings.
_EMAIL_CHAR = r"[^@\x00-\x20\x7f]"
Email = Annotated[
    str,
    StringConstraints(
        max_length=254, pattern=rf"^{_EMAIL_CHAR}{{1,64}}@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}+$"
    ),
]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
# Not stripped here, like `Email`: the document states the exact limit the server checks;
# `parley.feedback` trims what it stores.
FeedbackComment = Annotated[str, StringConstraints(max_length=MAX_FEEDBACK_COMMENT_CHARS)]


class ApiModel(BaseModel):
    """Base of every wire model: camelCase aliases, snake_case attributes.

    Validators are built on first use (`defer_build`): a cold start pays only for the models
    its first request touches.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)


class InputModel(ApiModel):
    """Request bodies: unknown fields are an error, so a typo never passes silently."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )


# -- records -------------------------------------------------------------------------------
class Usage(ApiModel):
    """Tokens one model call used (also the provider interface's `Usage`)."""

    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)


class AssistantRef(ApiModel):
    """Which assistant answers: its id (it may since have been deleted), name and handle."""

    id: str
    name: str
    handle: str


class Conversation(ApiModel):
    id: str
    kind: Kind
    title: str
    owner_id: str
    role: MemberRole
    created_at: str
    updated_at: str
    model: str | None = Field(
        default=None,
        description=(
            "The catalog id of the model that writes the next reply (`GET /models`); null: "
            "the environment's default"
        ),
    )
    assistant: AssistantRef | None = Field(
        default=None,
        description=(
            "A chat started from an assistant: the assistant as it was then (its instructions "
            "answer here even if it is edited or deleted later)"
        ),
    )


class MessageAttachment(ApiModel):
    """A file sent with a message (download it with `GET …/attachments/{id}/download`)."""

    id: str
    name: str
    content_type: str
    size: int
    kind: AttachmentKind


class Message(ApiModel):
    id: str
    conversation_id: str
    author_id: str
    author_name: str | None = None
    role: Role
    content: str
    status: Status
    client_message_id: str | None = None
    reply_to: str | None = None
    parent_id: str | None = Field(
        default=None,
        description=(
            "In a chat with the assistant, the message this one follows (the conversation's id "
            "for the first); an edit is a sibling of what it edits, a reply follows `replyTo`. "
            "Absent: the message before it"
        ),
    )
    usage: Usage | None = None
    model: str | None = Field(
        default=None, description="A reply of the assistant: the catalog id of the model writing it"
    )
    cost_usd: float | None = Field(
        default=None,
        description=(
            "A reply that ended: what it cost in USD, from its tokens and the catalog's prices "
            "for its model"
        ),
    )
    assistant_id: str | None = Field(
        default=None,
        description="A reply written as one of the users' assistants: its id (`authorName` is "
        "its name); absent: the default assistant",
    )
    attachments: list[MessageAttachment] | None = None
    """The files sent with a user's message (absent when there are none)."""
    created_at: str
    updated_at: str


class Feedback(ApiModel):
    """A person's rating of one of the assistant's replies (only they ever see it)."""

    rating: Rating
    comment: str | None = None
    updated_at: str


class ListedMessage(Message):
    """A message as `GET …/messages` lists it: with the caller's own rating."""

    feedback: Feedback | None = Field(
        default=None,
        description=(
            "Your rating of this reply of the assistant, if you gave one; nobody else's "
            "rating is ever shown"
        ),
    )


class Member(ApiModel):
    user_id: str
    email: str
    name: str
    role: MemberRole
    joined_at: str


class Profile(ApiModel):
    id: str
    email: str
    name: str
    created_at: str
    disabled: bool = False
    """Set by an admin (`parley.admin`): every API refuses the user (`parley.gate`)."""
    daily_token_quota: int | None = None
    """An admin's override of the deployment's DAILY_TOKEN_QUOTA for this user (0: unlimited)."""


class UsageToday(ApiModel):
    date: str = Field(description="UTC day, YYYY-MM-DD")
    input_tokens: int
    output_tokens: int
    daily_quota: int = Field(description="Tokens per UTC day; 0 means unlimited")
    remaining: int | None = Field(description="Tokens left today; null when unlimited")
    cost_usd: float = Field(
        default=0.0, description="What today's replies cost in USD (the catalog's prices)"
    )


class Limits(ApiModel):
    message_chars: int = Field(
        description=(
            "The longest message the deployment's model can take whole (characters of plain "
            "text); a longer one is refused with `validation_error`"
        )
    )


class UsageCounts(ApiModel):
    """What a user did in a period (the change feed's rollups, `parley.rollups`)."""

    messages: int = Field(description="Messages the user sent")
    input_tokens: int = Field(description="Tokens the model read for the user's replies")
    output_tokens: int = Field(description="Tokens the model wrote in the user's replies")
    replies_stopped: int = Field(description="Replies the user asked for that were stopped")
    replies_failed: int = Field(description="Replies the user asked for that failed")
    cost_usd: float = Field(
        default=0.0, description="What the user's replies cost in USD (the catalog's prices)"
    )


class UsageDay(UsageCounts):
    date: str = Field(description="UTC day, YYYY-MM-DD")


class UsageMonth(UsageCounts):
    month: str = Field(description="UTC month, YYYY-MM")


class Activity(ApiModel):
    """Today's and this month's rollups, read as stored (kept within seconds by the change
    feed, so a message sent just now may not be counted yet)."""

    today: UsageDay
    month: UsageMonth


class UsageSeries(ApiModel):
    """One entry per UTC day of the range, oldest first; a day without activity is zeros."""

    from_: str = Field(alias="from", description="First day, YYYY-MM-DD")
    to: str = Field(description="Last day, YYYY-MM-DD")
    days: list[UsageDay]


class Me(ApiModel):
    id: str
    email: str
    name: str
    usage: UsageToday
    activity: Activity
    limits: Limits


# -- pages and results -----------------------------------------------------------------------
class ConversationPage(ApiModel):
    items: list[Conversation]
    next_cursor: str | None = Field(description="Opaque; pass as `cursor` for the next page")


class MessagePage(ApiModel):
    items: list[ListedMessage]
    next_cursor: str | None = Field(description="Opaque; pass as `cursor` for older messages")


class MemberList(ApiModel):
    items: list[Member]


class SnippetSegment(ApiModel):
    text: str
    match: bool = Field(description="True for a word the query matched (render it marked)")


class SearchHit(ApiModel):
    conversation_id: str
    conversation_title: str
    conversation_kind: Kind
    message_id: str
    author_id: str
    author_name: str | None = None
    role: Role
    created_at: str
    snippet: list[SnippetSegment] = Field(
        description="Plain-text pieces of the message around the first match, in order; never HTML"
    )


class SearchPage(ApiModel):
    items: list[SearchHit] = Field(description="Best match first")
    next_cursor: str | None = Field(description="Opaque; pass as `cursor` for the next results")


class PostMessageResult(ApiModel):
    message: Message
    reply: Message | None = Field(
        description="The assistant's reply; null when it does not answer this message"
    )


ExportFormat = Literal["md", "json"]
ExportState = Literal["running", "ready", "failed", "expired"]


ProviderKind = Literal["openai", "bedrock", "bedrock-agent", "local"]


class ModelPrice(ApiModel):
    input: float = Field(description="USD per million input tokens")
    output: float = Field(description="USD per million output tokens")


class ModelInfo(ApiModel):
    """A model of the environment's catalog, as the app shows it."""

    id: str
    label: str
    provider: ProviderKind
    context_window: int = Field(description="Tokens the model reads and writes in one call")
    max_output_tokens: int = Field(description="The longest reply, in tokens")
    message_chars: int = Field(
        description="The longest message this model takes whole (characters of plain text); "
        "a longer one is refused with `validation_error`"
    )
    vision: bool = Field(description="True when the model sees attached images")
    price: ModelPrice
    default: bool = Field(description="True for the environment's default model")


class ModelList(ApiModel):
    items: list[ModelInfo] = Field(description="The models the caller may use, catalog order")
    default: str = Field(description="The id of the environment's default model")


class ExportStatus(ApiModel):
    """An export of a conversation's history (`POST /conversations/{id}/exports`)."""

    id: str
    conversation_id: str
    format: ExportFormat
    status: ExportState = Field(
        description="`running` until the file is written; `expired` once its file was removed"
    )
    created_at: str
    finished_at: str | None = None
    message_count: int | None = None
    file_name: str | None = None
    download_url: str | None = Field(
        default=None, description="While `ready`: a link to the file, valid for a few minutes"
    )
    download_expires_at: str | None = None
    error: str | None = Field(default=None, description="While `failed`: why, in a sentence")


# -- inputs ----------------------------------------------------------------------------------
ModelId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
]
"""A catalog model's id (`parley.catalog`)."""


class CreateConversation(InputModel):
    title: Title | None = None
    kind: Kind = "assistant"
    model: ModelId | None = Field(
        default=None,
        description="The catalog id of the model that answers (`GET /models`); default: the "
        "environment's default",
    )
    assistant_id: Id | None = Field(
        default=None,
        description="A chat (kind `assistant`) started from one of your assistants: its "
        "instructions, model and temperature answer (`model`, if given too, replaces its model)",
    )


# -- assistants ------------------------------------------------------------------------------
AssistantName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ASSISTANT_NAME_CHARS)
]
Handle = Annotated[str, StringConstraints(pattern=HANDLE_PATTERN)]
Instructions = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_INSTRUCTIONS_CHARS)
]
Temperature = Annotated[
    float,
    Field(ge=0, le=2, description="0–2, kept to two decimals"),
    # Kept as DynamoDB can hold it: a float such as 2.2e-308 is no number it stores.
    AfterValidator(lambda t: round(t, 2)),
]


class Assistant(ApiModel):
    """One of a user's assistants: a name, a handle, instructions, a model, a temperature."""

    id: str
    name: str
    handle: str = Field(description="What a room member types after `@` to call it")
    instructions: str = Field(description="Its system prompt")
    model: str = Field(description="The catalog id of the model it answers with")
    temperature: float
    created_at: str
    updated_at: str


class AssistantList(ApiModel):
    items: list[Assistant] = Field(description="Oldest first")
    limit: int = Field(description="How many assistants one person may have")


class CreateAssistant(InputModel):
    name: AssistantName
    handle: Handle = Field(
        description="2–32 lowercase letters, digits and dashes, starting with a letter or "
        "digit; unique among your assistants; `assistant` is the default assistant's"
    )
    instructions: Instructions = Field(
        description=f"The system prompt, at most {MAX_INSTRUCTIONS_CHARS:,} characters"
    )
    model: ModelId | None = Field(
        default=None, description="A catalog id you may use (`GET /models`); default: the default"
    )
    temperature: Temperature = 1.0


class UpdateAssistant(InputModel):
    name: AssistantName | None = None
    handle: Handle | None = None
    instructions: Instructions | None = None
    model: ModelId | None = None
    temperature: Temperature | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateAssistant:
        if all(value is None for value in dict(self).values()):
            raise ValueError("change at least one field")
        return self


class RoomAssistant(ApiModel):
    """An assistant a room's owner added: members call it with `@handle`."""

    id: str
    name: str
    handle: str
    model: str
    added_by: str


class RoomAssistantList(ApiModel):
    items: list[RoomAssistant] = Field(description="In the order they were added")
    limit: int = Field(description="How many assistants one room may have")


class AddRoomAssistant(InputModel):
    assistant_id: Id = Field(description="One of your assistants (you own the room)")


class Persona(ApiModel):
    """The assistant a reply is written as (what a `ReplyJob` carries): its instructions are
    the system prompt."""

    id: str
    name: str
    handle: str
    instructions: str
    temperature: float


class UpdateConversation(InputModel):
    # At least one of the two: the document says so too.
    model_config = ConfigDict(
        **InputModel.model_config,
        json_schema_extra={
            "anyOf": [
                {"required": ["title"], "properties": {"title": {"type": "string"}}},
                {"required": ["model"], "properties": {"model": {"type": "string"}}},
            ]
        },
    )

    title: Title | None = None
    model: ModelId | None = Field(
        default=None,
        description="The catalog id of the model that writes the next reply (`GET /models`)",
    )

    @model_validator(mode="after")
    def _something(self) -> UpdateConversation:
        if self.title is None and self.model is None:
            raise ValueError("give a title, a model or both")
        return self


class PostMessage(InputModel):
    # `after` and `editOf` are alternatives (parley.branches): the document says so too.
    model_config = ConfigDict(
        **InputModel.model_config, json_schema_extra={"not": {"required": ["after", "editOf"]}}
    )

    content: Content
    client_message_id: ClientMessageId | None = None
    attachment_ids: Annotated[list[Id], Field(max_length=MAX_ATTACHMENTS)] | None = None
    after: Id | None = Field(
        default=None,
        description="A chat with the assistant: the message this one follows (default: the newest)",
    )
    edit_of: Id | None = Field(
        default=None,
        description="A chat with the assistant: your earlier message this one is a new version of",
    )


class RequestUpload(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    content_type: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    size: int = Field(gt=0, description="Bytes; the upload may not be larger")


class Attachment(ApiModel):
    id: str
    conversation_id: str
    owner_id: str
    name: str
    content_type: str
    size: int
    kind: AttachmentKind
    status: AttachmentStatus = Field(
        description="pending until the file is uploaded and checked, then ready or rejected"
    )
    reason: str | None = Field(
        default=None,
        description="Why it was rejected: wrong_type, too_large, encrypted, malformed, "
        "decompression_bomb or empty",
    )
    reason_message: str | None = None
    text_chars: int | None = Field(default=None, description="Characters of extracted text")
    truncated: bool = False
    pages: int | None = None
    created_at: str


class UploadGrant(ApiModel):
    attachment: Attachment
    url: str = Field(description="POST the form here: the fields, then the file as `file`")
    fields: dict[str, str]
    expires_at: str
    assistant_sees_images: bool = Field(
        description="False when the model cannot see images: it is told one was attached"
    )


class AttachmentDownload(ApiModel):
    url: str = Field(description="A presigned GET, valid for minutes")
    expires_at: str
    name: str
    after: Id | None = Field(
        default=None,
        description="A chat with the assistant: the message this one follows (default: the newest)",
    )
    edit_of: Id | None = Field(
        default=None,
        description="A chat with the assistant: your earlier message this one is a new version of",
    )


class RateReply(InputModel):
    rating: Rating
    comment: FeedbackComment | None = Field(
        default=None,
        description=(
            f"Optional, at most {MAX_FEEDBACK_COMMENT_CHARS} characters, stored trimmed; left "
            "out (or blank), the rating has no comment"
        ),
    )


class AddMember(InputModel):
    email: Email


class CreateExport(InputModel):
    format: ExportFormat = "md"


# -- errors ----------------------------------------------------------------------------------
ErrorCode = Literal[
    "bad_request",
    "validation_error",
    "unauthorized",
    "forbidden",
    "not_found",
    "gone",
    "conflict",
    "payload_too_large",
    "quota_exceeded",
    "rate_limited",
    "assistant_unavailable",
    "internal_error",
]


class ErrorDetail(ApiModel):
    code: ErrorCode
    message: str
    request_id: str


class ErrorResponse(ApiModel):
    """Every error of the API except `POST /chat`'s compatible shape."""

    error: ErrorDetail


class GatewayError(BaseModel):
    """What API Gateway answers by itself, without calling the function: its JWT authorizer's
    401 is `{"message": "Unauthorized"}`."""

    model_config = ConfigDict(defer_build=True)

    message: str


# -- the compatible `POST /chat` (snake_case, exactly as the earlier API) ---------------------
class CompatModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


class ChatRequest(CompatModel):
    prompt: str
    chat_id: str | None = None


class ChatTurnOut(CompatModel):
    role: Role
    content: str


class ChatRecord(CompatModel):
    id: str
    user_id: str
    title: str
    created_at: str
    updated_at: str
    messages: list[ChatTurnOut]


class ChatResponse(CompatModel):
    response: str
    chat: ChatRecord


class ChatError(CompatModel):
    error: str
    message: str | None = None
