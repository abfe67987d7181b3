"""`bot_worker`'s logic: write one assistant reply, streamed to the room as it is generated.

The provider's token deltas go through the coalescer, and each coalesced chunk is first
persisted (text so far + ``seq``; the write also tells whether a stop was asked) and then
broadcast, in that order, so a client that subscribes at any moment gets a snapshot and every
later delta: no loss, and duplicates are recognisable by ``seq``. A stop closes the provider's
stream (closing the generator cancels the HTTP request) and stores what was said, marked
``stopped``; a provider failure stores the partial text marked ``failed`` and tells the room
with `message.failed` — the user's message is untouched, so `retry` can ask again.

Idempotency: `ws_message` picks the reply id before the async invoke, and `begin` creates the
reply only once. A retried invoke therefore never calls the model twice: it re-announces a reply
that was stored but not announced, or closes a reply whose first worker died mid-stream.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from parley.bots import (
    SYSTEM_PROMPT,
    ChatTurn,
    Delta,
    Done,
    ProviderError,
    estimate_tokens,
    trim_history,
)
from parley.errors import ConversationNotFound, MessageNotFound
from parley.ids import today
from parley.models import Usage
from parley.realtime.coalescer import DEFAULT_INTERVAL, DEFAULT_MAX_BYTES, Chunk, DeltaCoalescer
from parley.realtime.metrics import record_broadcast, record_reply
from parley.realtime.protocol import (
    MAX_REPLY_BYTES,
    MessageCompleted,
    MessageCreated,
    MessageDelta,
    MessageFailed,
    encoded_size,
)
from parley.store.messages import to_message
from parley.store.streaming import ReplyNotStreaming

if TYPE_CHECKING:
    from parley.bots import Provider
    from parley.models import Message
    from parley.realtime.fanout import Broadcaster
    from parley.realtime.protocol import _Event
    from parley.realtime.rooms import ReplyJob
    from parley.store import Store
    from parley.store.conversations import ConversationRecord
    from parley.store.streaming import ReplyState, StreamingRepository

logger = Logger(child=True)

DEADLINE_MARGIN = 5.0
"""Seconds kept back from the function's timeout to store and announce the reply."""
STALE_AFTER_SECONDS = 30.0
"""A streaming reply not written for this long has lost its worker (it writes every ~75 ms)."""
HISTORY_MESSAGES = 50
GROUP_PROMPT = (
    " This is a group conversation: each user message starts with its author's name. "
    "Answer the latest message that mentions @assistant."
)
FAILED_REASON = "The assistant could not answer"
INTERRUPTED_REASON = "The reply was interrupted"


class ReplyBusy(Exception):
    """Another worker is writing this reply right now; Lambda retries the invoke later."""


@dataclass
class _Progress:
    """What has been streamed so far."""

    sent: list[str] = field(default_factory=list)
    frames: int = 0
    output_bytes: int = 0

    @property
    def text(self) -> str:
        return "".join(self.sent)


class ReplyWriter:
    """Streams one reply from the provider to the room and the table."""

    def __init__(
        self,
        *,
        store: Store,
        streaming: StreamingRepository,
        broadcaster: Broadcaster,
        provider: Callable[[], Provider],
        max_output_tokens: int,
        history_token_budget: int,
        interval: float = DEFAULT_INTERVAL,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.streaming = streaming
        self.broadcaster = broadcaster
        self.provider = provider
        self.max_output_tokens = max_output_tokens
        self.history_token_budget = history_token_budget
        self.interval = interval
        self.max_bytes = max_bytes
        self.clock = clock
        self._deadline: float | None = None

    def run(self, job: ReplyJob, *, time_left: float | None = None) -> str:
        """Write the reply; returns the outcome (for logs and tests).

        ``time_left`` (seconds, from the Lambda context) ends a reply that would outlive the
        function: it is stored as said so far, before Lambda's timeout could cut it anywhere.
        """
        started = self.clock()
        self._deadline = None if time_left is None else started + time_left - DEADLINE_MARGIN
        try:
            record = self.store.conversations.record(job.conversation_id)
            members = frozenset(
                m.user_id for m in self.store.conversations.members(job.conversation_id)
            )
        except ConversationNotFound:
            return "conversation_gone"
        if job.requested_by not in members:
            return "requester_left"
        state, created = self.streaming.begin(
            job.conversation_id, job.reply_id, reply_to=job.reply_to, requested_by=job.requested_by
        )
        if not created:
            return self._after_retry(state, members)
        try:
            return self._stream(job, record, members, to_message(state.item), started)
        except ReplyNotStreaming:
            return "taken_over"
        except Exception:
            # A reply must end whatever broke: mark it failed and tell the room. If it had
            # already ended (the fault came after the store), re-raise so Lambda retries and
            # the retry announces the stored reply.
            logger.exception("reply failed unexpectedly", extra={"reply_id": job.reply_id})
            if not self._fail(job, members, None, INTERRUPTED_REASON, retryable=True):
                raise
            return "failed"

    # the stream ------------------------------------------------------------------------------
    def _stream(
        self,
        job: ReplyJob,
        record: ConversationRecord,
        members: frozenset[str],
        reply: Message,
        started: float,
    ) -> str:
        self._broadcast(
            job.conversation_id,
            MessageCreated(conversation_id=job.conversation_id, message=reply),
            members,
        )
        turns = self._context(job, record)
        coalescer = DeltaCoalescer(
            interval=self.interval, max_bytes=self.max_bytes, clock=self.clock
        )
        progress = _Progress()
        usage: Usage | None = None
        ttft_ms: float | None = None
        status = "complete"
        stream: Iterator[Delta | Done] = self.provider().stream(
            turns, max_tokens=self.max_output_tokens
        )
        try:
            for item in stream:
                if isinstance(item, Done):
                    usage = item.usage
                    continue
                text, full = self._fit(item.text, progress)
                if text and ttft_ms is None:
                    ttft_ms = (self.clock() - started) * 1000
                if self._publish(job, members, coalescer.add(text), progress):
                    status = "stopped"
                    break
                if full or (self._deadline is not None and self.clock() >= self._deadline):
                    break
        except ProviderError as exc:
            stream_close(stream)
            self._publish(job, members, coalescer.flush(), progress)
            self._fail(job, members, progress, exc.message or FAILED_REASON, exc.retryable)
            spent = _estimate(turns, progress.text)  # what the model read and said still counts
            self.store.usage.add(job.requested_by, today(), spent)
            record_reply(
                status="failed",
                ttft_ms=ttft_ms,
                input_tokens=spent.input_tokens,
                output_tokens=spent.output_tokens,
                frames=progress.frames,
            )
            return "failed"
        finally:
            stream_close(stream)
        if self._publish(job, members, coalescer.flush(), progress):
            status = "stopped"
        if usage is None:  # stopped or cut: the provider never reported usage
            usage = _estimate(turns, progress.text)
        final = self.streaming.finish(
            job.conversation_id,
            job.reply_id,
            content=progress.text,
            seq=coalescer.seq,
            status="stopped" if status == "stopped" else "complete",
            usage=usage.model_dump(),
        )
        self.store.usage.add(job.requested_by, today(), usage)
        self._announce(job.conversation_id, to_message(final), members)
        record_reply(
            status=status,
            ttft_ms=ttft_ms,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            frames=progress.frames,
        )
        return status

    def _fit(self, text: str, progress: _Progress) -> tuple[str, bool]:
        """Cut the reply at `MAX_REPLY_BYTES` so every frame carrying it fits (True = full)."""
        size = encoded_size(text)
        if progress.output_bytes + size <= MAX_REPLY_BYTES:
            progress.output_bytes += size
            return text, False
        room = MAX_REPLY_BYTES - progress.output_bytes
        while text and encoded_size(text) > room:
            text = text[: max(0, min(len(text) - 1, room))]
        progress.output_bytes += encoded_size(text)
        return text, True

    def _publish(
        self, job: ReplyJob, members: frozenset[str], chunks: list[Chunk], progress: _Progress
    ) -> bool:
        """Persist then broadcast each chunk; True when a stop was asked."""
        stop = False
        for chunk in chunks:
            progress.sent.append(chunk.text)
            stop = (
                self.streaming.progress(job.conversation_id, job.reply_id, progress.text, chunk.seq)
                or stop
            )
            self._broadcast(
                job.conversation_id,
                MessageDelta(
                    conversation_id=job.conversation_id,
                    message_id=job.reply_id,
                    seq=chunk.seq,
                    delta=chunk.text,
                ),
                members,
            )
            progress.frames += 1
        return stop

    def _context(self, job: ReplyJob, record: ConversationRecord) -> list[ChatTurn]:
        """The room's recent history up to the question, within the token budget."""
        history = [
            m
            for m in self.store.messages.recent(job.conversation_id, limit=HISTORY_MESSAGES)
            if m.id <= job.reply_to
        ]
        if not any(m.id == job.reply_to for m in history):
            with contextlib.suppress(MessageNotFound):
                history.append(self.store.messages.get(job.conversation_id, job.reply_to))
        group = record.kind == "group"
        turns = [ChatTurn(role="system", content=SYSTEM_PROMPT + (GROUP_PROMPT if group else ""))]
        for message in history:
            if message.role == "assistant":
                if message.status in ("complete", "stopped") and message.content:
                    turns.append(ChatTurn(role="assistant", content=message.content))
            else:
                author = message.author_name or "Someone"
                content = f"{author}: {message.content}" if group else message.content
                turns.append(ChatTurn(role="user", content=content))
        return trim_history(turns, self.history_token_budget)

    # endings ---------------------------------------------------------------------------------
    def _fail(
        self,
        job: ReplyJob,
        members: frozenset[str],
        progress: _Progress | None,
        reason: str,
        retryable: bool,
    ) -> bool:
        """End a streaming reply as failed and tell the room; False if it had already ended."""
        state = self.streaming.get(job.conversation_id, job.reply_id)
        content = progress.text if progress is not None else (state.content if state else "")
        seq = state.seq if state else 0
        try:
            self.streaming.finish(
                job.conversation_id,
                job.reply_id,
                content=content,
                seq=seq,
                status="failed",
                error=reason,
            )
        except ReplyNotStreaming:
            return False
        self._broadcast(
            job.conversation_id,
            MessageFailed(
                conversation_id=job.conversation_id,
                message_id=job.reply_id,
                reply_to=job.reply_to,
                reason=reason,
                retryable=retryable,
            ),
            members,
        )
        self.streaming.mark_announced(job.conversation_id, job.reply_id)
        return True

    def _announce(self, conversation_id: str, message: Message, members: frozenset[str]) -> None:
        self._broadcast(
            conversation_id,
            MessageCompleted(conversation_id=conversation_id, message=message),
            members,
        )
        self.streaming.mark_announced(conversation_id, message.id)

    def _after_retry(self, state: ReplyState, members: frozenset[str]) -> str:
        """A repeated invoke: finish the job of a worker that died, never answer twice."""
        if state.status == "streaming":
            if state.age_seconds() < STALE_AFTER_SECONDS:
                raise ReplyBusy(state.message_id)
            try:
                self.streaming.finish(
                    state.conversation_id,
                    state.message_id,
                    content=state.content,
                    seq=state.seq,
                    status="failed",
                    error=INTERRUPTED_REASON,
                )
            except ReplyNotStreaming:
                return "duplicate"
            state = self.streaming.get(state.conversation_id, state.message_id) or state
            interrupted = True
        else:
            interrupted = False
        if state.item.get("announced"):
            return "duplicate"
        if state.status == "failed":
            self._broadcast(
                state.conversation_id,
                MessageFailed(
                    conversation_id=state.conversation_id,
                    message_id=state.message_id,
                    reply_to=state.reply_to,
                    reason=str(state.item.get("error") or INTERRUPTED_REASON),
                    retryable=True,
                ),
                members,
            )
            self.streaming.mark_announced(state.conversation_id, state.message_id)
            return "failed_interrupted" if interrupted else "reannounced_failure"
        self._announce(state.conversation_id, to_message(state.item), members)
        return "reannounced"

    def _broadcast(self, conversation_id: str, event: _Event, members: frozenset[str]) -> None:
        result = self.broadcaster.broadcast(conversation_id, event, members=members)
        if not isinstance(event, MessageDelta) or result.stale or result.failed:
            record_broadcast(result)  # deltas are counted per reply (DeltaFramesPerReply)


def _estimate(turns: list[ChatTurn], said: str) -> Usage:
    """Token usage when the provider could not report it (stopped, cut or failed)."""
    return Usage(
        input_tokens=sum(estimate_tokens(t.content) for t in turns),
        output_tokens=estimate_tokens(said) if said else 0,
    )


def stream_close(stream: Iterator[Delta | Done]) -> None:
    """Close a provider stream (cancels its HTTP request); safe to call twice."""
    close = getattr(stream, "close", None)
    if callable(close):
        close()
