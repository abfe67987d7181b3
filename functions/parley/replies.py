"""Writing one assistant reply, streamed to the room as it is generated — for every transport.

`bot_worker` runs a `ReplyJob` from `ws_message`; `chat_api` runs the same job in process and
answers the HTTP request with the result. The provider's token deltas go through the coalescer
(first text at once, then windows doubling up to 2 s: each frame is a billed WebSocket message
per subscriber) and each chunk is broadcast to the room's subscribers. The text so far is
persisted with its ``seq`` every `PERSIST_EVERY` seconds (each write costs the whole text).
Between chunks the writer reads the reply's small marker (one read unit): it says whether a
stop was asked and the version of the room's subscriber list, so the subscribers are read
again only when someone subscribed, unsubscribed or was removed (`listeners_changed`), not per
chunk. A client that subscribes mid-reply gets the persisted snapshot from `subscribe`; the
writer then reads the subscribers again and sends each new one the chunks after the oldest
snapshot it can have read — so resume stays exact: no loss, and duplicates are recognisable by
``seq``. A stop closes the provider's stream (closing the generator cancels the HTTP
request) and stores what was said, marked ``stopped``; a provider failure stores the partial
text marked ``failed`` and tells the room with `message.failed` — the user's message is
untouched, so it can be asked again. Whatever the ending, the reply's quota claim is settled
once with what was really used.

Idempotency: the asker picks the reply id before the job leaves, and `begin_reply` creates the
reply only once. A retried invoke therefore never calls the model twice: it re-announces a
reply that was stored but not announced, or closes a reply whose first worker died mid-stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from parley.bots import ChatTurn, Delta, Done, ProviderError, estimate_tokens
from parley.errors import ConversationNotFound, MessageNotFound
from parley.history import messages_before, model_history
from parley.ids import today
from parley.models import Message, Usage
from parley.realtime.coalescer import (
    DEFAULT_GROWTH,
    DEFAULT_INTERVAL,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_INTERVAL,
    DEFAULT_RAMP_UNTIL,
    Chunk,
    DeltaCoalescer,
)
from parley.realtime.fanout import RoomMembers
from parley.realtime.metrics import record_broadcast, record_reply
from parley.realtime.protocol import (
    MAX_REPLY_BYTES,
    MessageCompleted,
    MessageCreated,
    MessageDelta,
    MessageFailed,
    encoded_size,
)
from parley.store.messages import ReplyNotStreaming

if TYPE_CHECKING:
    from decimal import Decimal

    from parley.attachments import Attachments
    from parley.bots import Provider
    from parley.catalog import Catalog, ModelEntry
    from parley.jobs import ReplyJob
    from parley.quota import Quota
    from parley.realtime.fanout import Broadcaster, BroadcastResult
    from parley.realtime.protocol import _Event
    from parley.store import Store
    from parley.store.connections import Subscriber
    from parley.store.conversations import ConversationRecord
    from parley.store.messages import ReplyState

logger = logging.getLogger(__name__)

DEADLINE_MARGIN = 5.0
"""Seconds kept back from the function's timeout to store and announce the reply."""
STALE_AFTER_SECONDS = 30.0
"""A streaming reply not written for this long has lost its worker (it writes every ~75 ms)."""
PERSIST_EVERY = 3.0
"""Seconds between writes of the text so far (a crash loses at most this much of what was
shown, and the retry stores the reply as failed with the rest; the final text is always
written). Each write costs the whole text: at 1 s a 4 KB reply's writes cost 25 write units,
at 3 s about 8."""
FAILED_REASON = "The assistant could not answer"
INTERRUPTED_REASON = "The reply was interrupted"


class ReplyBusy(Exception):
    """Another worker is writing this reply right now; Lambda retries the invoke later."""


@dataclass(frozen=True)
class ReplyOutcome:
    """How a job ended: `status` for logs and tests, the reply as stored when there is one,
    and the provider's error when it failed (the HTTP transport maps it to 502/503)."""

    status: str
    reply: Message | None = None
    error: ProviderError | None = None


@dataclass
class _Progress:
    """What has been streamed so far, and what the room's readers may hold of it."""

    sent: list[str] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    frames: int = 0
    output_bytes: int = 0
    persisted_seq: int = 0
    persisted_at: float = float("-inf")
    listeners: set[str] | None = None
    """Connections that got the last chunk (None before the first)."""
    subscribers: list[Subscriber] = field(default_factory=list)
    """The room's subscribers as last read: the chunks go to them."""
    version: int = 0
    """The marker's listener version when `subscribers` was read."""
    floor: int = 0
    """The persisted seq when `subscribers` was read: a newcomer's snapshot is at least this."""

    @property
    def text(self) -> str:
        return "".join(self.sent)


class ReplyWriter:
    """Streams one reply from the provider to the room and the table."""

    attachments: Attachments | None = None
    """The files sent with messages, for the model's history; None where uploads are off."""

    def __init__(
        self,
        *,
        store: Store,
        quota: Quota,
        broadcaster: Broadcaster,
        provider: Callable[[], Provider],
        max_output_tokens: int,
        history_token_budget: int,
        interval: float = DEFAULT_INTERVAL,
        max_interval: float = DEFAULT_MAX_INTERVAL,
        max_bytes: int = DEFAULT_MAX_BYTES,
        persist_every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        catalog: Callable[[], Catalog] | None = None,
        provider_for: Callable[[ModelEntry], Provider] | None = None,
        history_token_cap: int | None = None,
    ) -> None:
        self.store = store
        self.quota = quota
        self.broadcaster = broadcaster
        self.provider = provider
        self.max_output_tokens = max_output_tokens
        self.history_token_budget = history_token_budget
        self.catalog = catalog
        """The environment's models: each reply is written by its job's (or conversation's)
        model, sized by its window and priced by it. None: `provider` and the sizes above."""
        self.provider_for = provider_for
        self.history_token_cap = history_token_cap
        """A cost limit on the history a model reads, below its window (`parley.budget`)."""
        self.interval = interval
        self.max_interval = max_interval
        self.max_bytes = max_bytes
        self.persist_every = PERSIST_EVERY if persist_every is None else persist_every
        self.clock = clock
        self._deadline: float | None = None

    def run(self, job: ReplyJob, *, time_left: float | None = None) -> ReplyOutcome:
        """Write the reply.

        ``time_left`` (seconds, from the Lambda context) ends a reply that would outlive the
        function: it is stored as said so far, before Lambda's timeout could cut it anywhere.
        """
        started = self.clock()
        self._deadline = None if time_left is None else started + time_left - DEADLINE_MARGIN
        conversations = self.store.conversations
        try:
            record = conversations.record(job.conversation_id)
        except ConversationNotFound:
            self._settle(job, None)
            return ReplyOutcome("conversation_gone")
        # Read now, and again whenever the room's subscriptions change (a removal ends the
        # removed member's subscriptions and moves the listener version).
        members = RoomMembers.of(conversations, job.conversation_id)
        if job.requested_by not in members.current():
            self._settle(job, None)
            return ReplyOutcome("requester_left")
        model = self._model(job.model, record.model)
        persona = job.persona or record.persona
        try:
            state, created = self.store.messages.begin_reply(
                job.conversation_id,
                job.reply_id,
                reply_to=job.reply_to,
                requested_by=job.requested_by,
                model=model.id if model is not None else None,
                assistant=(persona.id, persona.name) if persona is not None else None,
            )
        except MessageNotFound:
            self._settle(job, None)
            return ReplyOutcome("conversation_gone")
        if not created:
            return self._after_retry(job, state, members)
        try:
            return self._stream(job, record, members, state.message, started, model)
        except ReplyNotStreaming:
            return ReplyOutcome("taken_over")
        except Exception:
            # A reply must end whatever broke: mark it failed and tell the room. If it had
            # already ended (the fault came after the store), re-raise so Lambda retries and
            # the retry announces the stored reply.
            logger.exception("reply failed unexpectedly", extra={"reply_id": job.reply_id})
            if not self._fail(job, members, None, INTERRUPTED_REASON, retryable=True):
                raise
            self._settle(job, None)
            return ReplyOutcome("failed")

    # the stream ------------------------------------------------------------------------------
    def _stream(
        self,
        job: ReplyJob,
        record: ConversationRecord,
        members: RoomMembers,
        reply: Message,
        started: float,
        model: ModelEntry | None = None,
    ) -> ReplyOutcome:
        self._broadcast(
            job.conversation_id,
            MessageCreated(conversation_id=job.conversation_id, message=reply),
            members,
        )
        progress = _Progress()
        try:
            turns = self._context(job, record, model)
        except ProviderError as exc:  # the question cannot fit: refused before any model call
            return self._provider_failed(job, members, progress, exc, [], None, model)
        coalescer = DeltaCoalescer(
            interval=self.interval,
            max_interval=self.max_interval,
            growth=DEFAULT_GROWTH,
            ramp_until=DEFAULT_RAMP_UNTIL,
            max_bytes=self.max_bytes,
            clock=self.clock,
        )
        usage: Usage | None = None
        ttft_ms: float | None = None
        status = "complete"
        provider = (
            self.provider_for(model)
            if model is not None and self.provider_for is not None
            else self.provider()
        )
        max_tokens = model.max_output_tokens if model is not None else self.max_output_tokens
        persona = job.persona or record.persona
        stream: Iterator[Delta | Done] = (
            provider.stream(turns, max_tokens=max_tokens, session_id=job.conversation_id)
            if persona is None
            else provider.stream(
                turns,
                max_tokens=max_tokens,
                session_id=job.conversation_id,
                temperature=persona.temperature,
            )
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
            return self._provider_failed(job, members, progress, exc, turns, ttft_ms, model)
        finally:
            stream_close(stream)
        if self._publish(job, members, coalescer.flush(), progress):
            status = "stopped"
        if usage is None:  # stopped or cut: the provider never reported usage
            usage = _estimate(turns, progress.text)
        cost = model.cost(usage) if model is not None else None
        final = self.store.messages.finish_reply(
            job.conversation_id,
            job.reply_id,
            content=progress.text,
            seq=coalescer.seq,
            status="stopped" if status == "stopped" else "complete",
            usage=usage,
            cost=cost,
        )
        self._settle(job, usage, cost)
        self._announce(final.message, members)
        record_reply(
            status=status,
            ttft_ms=ttft_ms,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            frames=progress.frames,
        )
        return ReplyOutcome(status, final.message)

    def _provider_failed(
        self,
        job: ReplyJob,
        members: RoomMembers,
        progress: _Progress,
        exc: ProviderError,
        turns: list[ChatTurn],
        ttft_ms: float | None,
        model: ModelEntry | None = None,
    ) -> ReplyOutcome:
        """End the reply as failed with the provider's reason, and settle what it used."""
        self._fail(job, members, progress, exc.message or FAILED_REASON, exc.retryable)
        # What the model read and said counts once it has said something; a call the
        # provider refused outright used nothing.
        spent = _estimate(turns, progress.text) if progress.text else _nothing()
        self._settle(job, spent, model.cost(spent) if model is not None else None)
        record_reply(
            status="failed",
            ttft_ms=ttft_ms,
            input_tokens=spent.input_tokens,
            output_tokens=spent.output_tokens,
            frames=progress.frames,
        )
        failed = self.store.messages.reply(job.conversation_id, job.reply_id)
        return ReplyOutcome("failed", failed.message if failed else None, exc)

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
        self, job: ReplyJob, members: RoomMembers, chunks: list[Chunk], progress: _Progress
    ) -> bool:
        """Broadcast each chunk (persisting the text about once a second); True when a stop
        was asked."""
        stop = False
        for chunk in chunks:
            progress.sent.append(chunk.text)
            progress.chunks.append(chunk)
            signal = self.store.messages.stream_signal(job.conversation_id, job.reply_id)
            stop = signal.stop or stop
            if self.clock() - progress.persisted_at >= self.persist_every:
                stop = self._persist(job, progress, chunk.seq) or stop
            self._send_chunk(job, members, chunk, progress, signal.listeners)
            progress.frames += 1
        return stop

    def _persist(self, job: ReplyJob, progress: _Progress, seq: int) -> bool:
        stop = self.store.messages.progress(job.conversation_id, job.reply_id, progress.text, seq)
        progress.persisted_seq = seq
        progress.persisted_at = self.clock()
        return stop

    def _send_chunk(
        self, job: ReplyJob, members: RoomMembers, chunk: Chunk, progress: _Progress, version: int
    ) -> None:
        """Post a chunk to the room's subscribers. When their list changed (`version`), read
        it and the members again, and first catch up connections that subscribed since the
        last read: their snapshot is at least `progress.floor`, so they get every later chunk."""
        if progress.listeners is None or version != progress.version:
            subscribers = self.broadcaster.subscribers(job.conversation_id)
            if progress.listeners is not None:
                members.reload()
                newcomers = [s for s in subscribers if s.connection_id not in progress.listeners]
                for missed in progress.chunks:
                    if newcomers and progress.floor < missed.seq < chunk.seq:
                        self._broadcast(
                            job.conversation_id,
                            _delta(job, missed),
                            members,
                            subscribers=newcomers,
                        )
            progress.subscribers = subscribers
            progress.listeners = {s.connection_id for s in subscribers}
            progress.version = version
            progress.floor = progress.persisted_seq
        result = self._broadcast(
            job.conversation_id, _delta(job, chunk), members, subscribers=progress.subscribers
        )
        allowed = members.current()
        progress.subscribers = [  # the broadcast removed the gone and the outsiders
            s
            for s in progress.subscribers
            if s.connection_id not in result.stale and s.user_id in allowed
        ]

    def _context(
        self, job: ReplyJob, record: ConversationRecord, model: ModelEntry | None = None
    ) -> list[ChatTurn]:
        """The room's recent history up to the question, within the model's token budget;
        images only for a model that sees them."""
        history = messages_before(
            self.store.messages, job.conversation_id, kind=record.kind, question_id=job.reply_to
        )
        files = self.attachments
        budget = self.history_token_budget
        sees_images = files.sees_images if files is not None else False
        if model is not None:
            budget = model.budget.history_tokens(self.history_token_cap)
            sees_images = files is not None and model.vision
        return model_history(
            history,
            kind=record.kind,
            persona=job.persona or record.persona,
            budget=budget,
            attachments=files.contents(history, images=sees_images) if files is not None else None,
            sees_images=sees_images,
        )

    def _model(self, job_model: str | None, conversation_model: str | None) -> ModelEntry | None:
        """The model that writes this reply: the job's (checked when it was asked for), else
        the conversation's, else the default; None without a catalog."""
        if self.catalog is None:
            return None
        catalog = self.catalog()
        return catalog.get(job_model) or catalog.for_conversation(conversation_model)

    # endings ---------------------------------------------------------------------------------
    def _settle(self, job: ReplyJob, used: Usage | None, cost: Decimal | None = None) -> None:
        """Release the job's claim and count what was used and what it cost (once, however
        often retried)."""
        spent = used or _nothing()
        claim = job.claim
        if claim is not None:
            self.quota.settle(claim, spent, cost=cost)
        elif spent.input_tokens or spent.output_tokens:  # a job queued before claims existed
            self.store.usage.add(job.requested_by, today(), spent)

    def _fail(
        self,
        job: ReplyJob,
        members: RoomMembers,
        progress: _Progress | None,
        reason: str,
        retryable: bool,
    ) -> bool:
        """End a streaming reply as failed and tell the room; False if it had already ended."""
        state = self.store.messages.reply(job.conversation_id, job.reply_id)
        content = progress.text if progress is not None else (state.content if state else "")
        try:
            self.store.messages.finish_reply(
                job.conversation_id,
                job.reply_id,
                content=content,
                seq=progress.chunks[-1].seq
                if progress and progress.chunks
                else (state.seq if state else 0),
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
        self.store.messages.mark_announced(job.conversation_id, job.reply_id)
        return True

    def _announce(self, message: Message, members: RoomMembers) -> None:
        self._broadcast(
            message.conversation_id,
            MessageCompleted(conversation_id=message.conversation_id, message=message),
            members,
        )
        self.store.messages.mark_announced(message.conversation_id, message.id)

    def _after_retry(self, job: ReplyJob, state: ReplyState, members: RoomMembers) -> ReplyOutcome:
        """A repeated invoke: finish the job of a worker that died, never answer twice."""
        interrupted = False
        if state.status == "streaming":
            if state.age_seconds() < STALE_AFTER_SECONDS:
                raise ReplyBusy(state.message_id)
            try:
                state = self.store.messages.finish_reply(
                    state.conversation_id,
                    state.message_id,
                    content=state.content,
                    seq=state.seq,
                    status="failed",
                    error=INTERRUPTED_REASON,
                )
            except ReplyNotStreaming:
                return ReplyOutcome("duplicate")
            interrupted = True
        # Settling is idempotent (the claim's slot names this reply): a worker that died between
        # storing the reply and settling its claim is settled now, any other is left alone.
        claim = job.claim
        if claim is not None:
            said = Usage(input_tokens=0, output_tokens=estimate_tokens(state.content))
            used = state.message.usage or said
            model = self._model(state.message.model, None) if state.message.model else None
            self.quota.settle(claim, used, cost=model.cost(used) if model is not None else None)
        if state.announced:
            return ReplyOutcome("duplicate", state.message)
        if state.status == "failed":
            self._broadcast(
                state.conversation_id,
                MessageFailed(
                    conversation_id=state.conversation_id,
                    message_id=state.message_id,
                    reply_to=state.reply_to,
                    reason=state.error or INTERRUPTED_REASON,
                    retryable=True,
                ),
                members,
            )
            self.store.messages.mark_announced(state.conversation_id, state.message_id)
            return ReplyOutcome(
                "failed_interrupted" if interrupted else "reannounced_failure", state.message
            )
        self._announce(state.message, members)
        return ReplyOutcome("reannounced", state.message)

    def _broadcast(
        self,
        conversation_id: str,
        event: _Event,
        members: RoomMembers,
        *,
        subscribers: list[Subscriber] | None = None,
    ) -> BroadcastResult:
        result = self.broadcaster.broadcast(
            conversation_id, event, members=members, subscribers=subscribers
        )
        if not isinstance(event, MessageDelta) or result.stale or result.failed:
            record_broadcast(result)  # deltas are counted per reply (DeltaFramesPerReply)
        return result


def _delta(job: ReplyJob, chunk: Chunk) -> MessageDelta:
    return MessageDelta(
        conversation_id=job.conversation_id,
        message_id=job.reply_id,
        seq=chunk.seq,
        delta=chunk.text,
    )


def _nothing() -> Usage:
    return Usage(input_tokens=0, output_tokens=0)


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
