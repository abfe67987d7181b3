"""The scheduled maintenance: what no request and no change makes happen by itself.

Run nightly by EventBridge Scheduler (`maintenance` function) and on demand by
`invoke maintenance`. Each job finds its work in the housekeeping index
(`parley.store.housekeeping`), never by scanning the chat table, and is safe to run twice or
while requests run: every change is a conditional write that does nothing when the item moved on.

* **retention** — where the deployment sets `RETENTION_DAYS`, conversations untouched for that
  many days are deleted the way an owner deletes one (marked deleted at once; the change feed
  purges what is under them). A conversation touched after the cutoff is kept, even when the
  touch lands between finding it and deleting it.
* **interrupted replies** — a reply still `streaming` long after any worker could be writing it
  (its worker crashed or timed out for good) is ended `failed` with a reason, its claim settled,
  and the room told (`message.failed`), so no app shows a spinner for ever.
* **reply slots** — a slot and token reservation still held past its expiry (a worker that died
  before settling) is settled: the reservation is given back and what the reply used counted.
* **connections** — connections API Gateway no longer knows, their subscriptions, and ended
  entries in users' connection lists are removed before DynamoDB's TTL gets to them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from parley.bots import estimate_tokens
from parley.errors import ConversationNotFound
from parley.ids import iso
from parley.models import Usage
from parley.quota import REPLY_SLOT_SECONDS
from parley.realtime.fanout import RoomMembers
from parley.realtime.protocol import MessageFailed
from parley.replies import INTERRUPTED_REASON, STALE_AFTER_SECONDS
from parley.store.messages import ReplyNotStreaming

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

    from parley.quota import Quota
    from parley.realtime.fanout import Broadcaster
    from parley.store import Store
    from parley.store.connections import ConnectionsRepository
    from parley.store.housekeeping import HousekeepingRepository
    from parley.store.messages import ReplyState

logger = logging.getLogger(__name__)

ABANDONED_AFTER_SECONDS = 15 * 60
"""A reply that started this long ago and still streams has no worker left: a worker lives at
most 120 s, and Lambda's two retries of an async invoke come within minutes."""
BATCH = 2000
"""Items each job handles per run at most; the next run goes on where this one stopped."""
DEADLINE_MARGIN = 20.0
"""Seconds kept back from the function's timeout: a job stops between items, never midway."""


@dataclass
class MaintenanceReport:
    """What one run did (logged, returned to `invoke maintenance`)."""

    conversations_deleted: int = 0
    replies_failed: int = 0
    slots_released: int = 0
    connections_removed: int = 0
    subscriptions_removed: int = 0
    conversations_indexed: int = 0
    complete: bool = True
    """False when a job stopped at its batch size or the deadline: more is due next run."""

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


class Maintenance:
    def __init__(
        self,
        *,
        store: Store,
        housekeeping: HousekeepingRepository,
        connections: ConnectionsRepository,
        broadcaster: Broadcaster,
        quota: Quota,
        alive: Callable[[str], bool],
        batch: int = BATCH,
    ) -> None:
        self.store = store
        self.housekeeping = housekeeping
        self.connections = connections
        self.broadcaster = broadcaster
        self.quota = quota
        self.alive = alive
        self.batch = batch

    def run(
        self,
        *,
        retention_days: int,
        now: float | None = None,
        time_left: Callable[[], float] | None = None,
        backfill: bool = False,
    ) -> MaintenanceReport:
        """Every job once, in the order that lets each finish what the one before began
        (a failed reply settles its slot before the slots are looked at)."""
        moment = time.time() if now is None else now
        report = MaintenanceReport()

        def out_of_time() -> bool:
            return time_left is not None and time_left() < DEADLINE_MARGIN

        if backfill:
            report.conversations_indexed = self.housekeeping.index_conversations(limit=self.batch)
        if retention_days > 0:
            report.conversations_deleted = self.retention(retention_days, moment, out_of_time)
        report.replies_failed = self.interrupted_replies(moment, out_of_time)
        report.slots_released = self.stale_slots(moment, out_of_time)
        if not out_of_time():
            removed, orphans = self.connections.sweep(self.alive, now=int(moment))
            report.connections_removed, report.subscriptions_removed = removed, orphans
        report.complete = not out_of_time() and self.batch > max(
            report.conversations_deleted, report.replies_failed, report.slots_released
        )
        logger.info("maintenance done", extra={"report": report.as_dict()})
        return report

    # -- retention --------------------------------------------------------------------------------
    def retention(self, days: int, now: float, out_of_time: Callable[[], bool]) -> int:
        """Delete conversations whose last activity is older than `days`; how many."""
        cutoff = _iso(now - days * 86_400)
        deleted = 0
        for key in self.housekeeping.older_than("CONV", cutoff, limit=self.batch):
            if out_of_time():
                break
            conversation_id = key["pk"].removeprefix("CONV#")
            try:
                record = self.store.conversations.record(conversation_id)
                # The same deletion as an owner's, on condition the activity is still old.
                self.store.conversations.mark_deleted(
                    conversation_id, owner_id=record.owner_id, untouched_before=cutoff
                )
            except ConversationNotFound:
                continue  # touched since it was found, or deleted meanwhile
            deleted += 1
        return deleted

    # -- replies whose worker died ---------------------------------------------------------------
    def interrupted_replies(self, now: float, out_of_time: Callable[[], bool]) -> int:
        """End `failed` every reply still streaming long after its worker could be alive."""
        cutoff = _iso(now - ABANDONED_AFTER_SECONDS)
        rooms = dict.fromkeys(
            key["pk"].removeprefix("CONV#")
            for key in self.housekeeping.older_than("STREAM", cutoff, limit=self.batch)
        )
        failed = 0
        for conversation_id in rooms:
            if out_of_time():
                break
            # One Query per room; it also drops markers of replies that ended.
            for state in self.store.messages.live_replies(conversation_id):
                if state.message.created_at >= cutoff:
                    continue  # a newer reply in the same room, its worker may be alive
                if state.age_seconds(now) < STALE_AFTER_SECONDS:
                    continue  # written to just now: somebody is still at it
                if self._fail_reply(state):
                    failed += 1
        return failed

    def _fail_reply(self, state: ReplyState) -> bool:
        try:
            ended = self.store.messages.finish_reply(
                state.conversation_id,
                state.message_id,
                content=state.content,
                seq=state.seq,
                status="failed",
                error=INTERRUPTED_REASON,
            )
        except ReplyNotStreaming:
            return False  # its worker (or a retry) ended it meanwhile
        self._settle(state.conversation_id, state.requested_by, ended)
        try:
            members = RoomMembers.of(self.store.conversations, state.conversation_id)
            self.broadcaster.broadcast(
                state.conversation_id,
                MessageFailed(
                    conversation_id=state.conversation_id,
                    message_id=state.message_id,
                    reply_to=state.reply_to,
                    reason=INTERRUPTED_REASON,
                    retryable=True,
                ),
                members=members,
            )
            self.store.messages.mark_announced(state.conversation_id, state.message_id)
        except ConversationNotFound:
            pass  # deleted meanwhile: nobody to tell
        return True

    def _settle(self, conversation_id: str, user_id: str, reply: ReplyState | None) -> bool:
        """Settle the user's slot in the room if this reply holds it, with what it used."""
        held = self.store.usage.held_slot(conversation_id, user_id)
        if held is None:
            return False
        claim, _ = held
        if reply is None or claim.reply_id != reply.message_id:
            return False
        said = Usage(input_tokens=0, output_tokens=estimate_tokens(reply.content))
        return self.quota.settle(claim, reply.message.usage or said)

    # -- reply slots nobody settled --------------------------------------------------------------
    def stale_slots(self, now: float, out_of_time: Callable[[], bool]) -> int:
        """Settle slots held past their expiry; how many."""
        cutoff = _iso(now - REPLY_SLOT_SECONDS)
        released = 0
        for key in self.housekeeping.older_than("SLOT", cutoff, limit=self.batch):
            if out_of_time():
                break
            conversation_id = key["pk"].removeprefix("CONV#")
            user_id = key["sk"].removeprefix("REPLYING#")
            held = self.store.usage.held_slot(conversation_id, user_id)
            if held is None or held[1] >= now:
                continue  # settled meanwhile, or taken by a newer reply
            claim = held[0]
            reply = self.store.messages.reply(conversation_id, claim.reply_id)
            if reply is not None and reply.status == "streaming":
                continue  # the interrupted-replies job ends it first
            if reply is None:
                used = Usage(input_tokens=0, output_tokens=0)  # never started
            else:
                said = Usage(input_tokens=0, output_tokens=estimate_tokens(reply.content))
                used = reply.message.usage or said
            if self.quota.settle(claim, used):
                released += 1
        return released


def _iso(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC))


def connection_alive(client: ApiGatewayManagementApiClient, connection_id: str) -> bool:
    """Whether API Gateway still has the connection (GetConnection; 410 Gone = no). Any other
    answer counts as alive: a connection is never dropped on a doubt."""
    try:
        client.get_connection(ConnectionId=connection_id)
    except ClientError as exc:
        return exc.response.get("Error", {}).get("Code", "") != "GoneException"
    except BotoCoreError:
        return True
    return True
