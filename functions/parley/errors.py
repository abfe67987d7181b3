"""Domain exceptions and the one mapping from an exception to the error contract.

Every exception the core raises on purpose carries its HTTP status and error code, so the
mapping is a lookup, never a match on message text. Anything else is an internal error: it is
logged with the request id, and the client sees only that id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import ClassVar

from parley.models import ErrorCode

logger = logging.getLogger("parley")


class ParleyError(Exception):
    """Base of the errors a client may see; `message` is safe to show."""

    status: ClassVar[int] = 400
    code: ClassVar[ErrorCode] = "bad_request"
    default_message: ClassVar[str] = "Bad request"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(ParleyError):
    pass


class InvalidInput(ParleyError):
    status = 422
    code = "validation_error"
    default_message = "Invalid request"


class PayloadTooLarge(ParleyError):
    status = 413
    code = "payload_too_large"
    default_message = "Request body is too large"


class Unauthorized(ParleyError):
    status = 401
    code = "unauthorized"
    default_message = "Invalid token"


class Forbidden(ParleyError):
    status = 403
    code = "forbidden"
    default_message = "Not allowed"


class NotFound(ParleyError):
    status = 404
    code = "not_found"
    default_message = "Not found"


class ConversationNotFound(NotFound):
    """Also raised for a conversation the caller is not a member of: no existence leak."""

    default_message = "Conversation not found"


class MessageNotFound(NotFound):
    default_message = "Message not found"


class AttachmentNotFound(NotFound):
    """Also raised for another member's file not yet sent: no existence leak."""

    default_message = "Attachment not found"


class UserNotFound(NotFound):
    default_message = "No user with that e-mail address"


class MemberNotFound(NotFound):
    default_message = "Member not found"


class ExportNotFound(NotFound):
    """Also raised for another user's export: no existence leak."""

    default_message = "Export not found"


class ShareNotFound(NotFound):
    """An unknown share link, or (for the conversation's owner) one of another conversation."""

    default_message = "No such shared conversation"


class Gone(ParleyError):
    """A share link that worked once and no longer does: revoked, expired or its conversation
    deleted. `reason` says which (the public page words its answer by it)."""

    status = 410
    code = "gone"
    default_message = "This link no longer works"

    def __init__(self, message: str | None = None, *, reason: str = "revoked") -> None:
        super().__init__(message)
        self.reason = reason


class Conflict(ParleyError):
    status = 409
    code = "conflict"
    default_message = "Conflict"


class QuotaExceeded(ParleyError):
    status = 429
    code = "quota_exceeded"
    default_message = "Daily token quota exceeded"


class RateLimited(ParleyError):
    """Too many actions of one kind on one WebSocket connection; nothing was done."""

    status = 429
    code = "rate_limited"
    default_message = "Too many requests; try again in a moment"


class AssistantUnavailable(ParleyError):
    """The model provider failed; `retryable` tells a client whether to try again."""

    status = 502
    code = "assistant_unavailable"
    default_message = "The assistant could not answer"

    def __init__(
        self,
        message: str | None = None,
        *,
        retryable: bool = True,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message, headers=headers)
        self.retryable = retryable
        if status is not None:
            self.status = status  # type: ignore[misc]  # per instance: 502 or 503


class ServiceUnavailable(ParleyError):
    status = 503
    code = "internal_error"
    default_message = "Service temporarily unavailable, please retry"


@dataclass(frozen=True)
class ErrorReply:
    """What the client gets for an exception."""

    status: int
    code: ErrorCode
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def to_reply(exc: BaseException, request_id: str) -> ErrorReply:
    """Map any exception to the error contract; log unexpected ones with the request id."""
    if isinstance(exc, ParleyError):
        if exc.status >= 500:
            logger.warning("request %s failed: %s", request_id, exc.message)
        return ErrorReply(exc.status, exc.code, exc.message, dict(exc.headers))
    logger.error("request %s: unexpected error", request_id, exc_info=exc)
    return ErrorReply(500, "internal_error", "Internal server error")
