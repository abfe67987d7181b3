"""Broadcasting events to a room's connections through API Gateway's management API.

One Query reads the room's subscriptions; PostToConnection calls then run concurrently on a
bounded thread pool (boto3 clients are thread-safe, and the pool of HTTP connections is sized
to match), so a room of a thousand costs a few round trips of wall time, not a thousand. A
connection that answers 410 Gone is removed — that one only, never the sender's — and the
broadcast reports what happened for the metrics.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from parley.realtime.protocol import encode_event

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

    from parley.realtime.protocol import _Event
    from parley.store.connections import ConnectionsRepository, Subscriber

logger = Logger(child=True)

DEFAULT_POOL_SIZE = 32
"""Concurrent PostToConnection calls per broadcast (also the HTTP connection pool size)."""


@dataclass(frozen=True, slots=True)
class BroadcastResult:
    """What one broadcast did: for metrics and for tests."""

    recipients: int
    delivered: int
    stale: tuple[str, ...]
    failed: int
    duration_ms: float


class Broadcaster:
    """Sends events to one connection or to every subscriber of a room."""

    def __init__(
        self,
        connections: ConnectionsRepository,
        client: ApiGatewayManagementApiClient,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        self._connections = connections
        self._client = client
        self._pool_size = pool_size
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        """One bounded pool for the container's life: its threads idle between invocations
        instead of being started for every broadcast (a reply makes a hundred)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._pool_size, thread_name_prefix="fanout")
        return self._pool

    def send(self, connection_id: str, event: _Event) -> bool:
        """Post to one connection; False if it is gone or the post failed."""
        return self._post(connection_id, encode_event(event)) == "ok"

    def subscribers(self, conversation_id: str) -> list[Subscriber]:
        return self._connections.subscribers(conversation_id)

    def broadcast(
        self,
        conversation_id: str,
        event: _Event,
        *,
        exclude: Iterable[str] = (),
        exclude_users: Iterable[str] = (),
        members: Collection[str] | None = None,
        subscribers: list[Subscriber] | None = None,
    ) -> BroadcastResult:
        """Post ``event`` to every connection following the room.

        ``exclude`` skips connections, ``exclude_users`` every connection of those users.
        With ``members`` given, a subscriber who is no longer a member (removed from the
        group, or left) gets nothing and loses the subscription. Connections that answer 410
        are removed; other failures are counted and logged, never raised: one broken client
        must not stop the room's broadcast.
        """
        started = time.perf_counter()
        data = encode_event(event)
        skip = set(exclude)
        skip_users = set(exclude_users)
        room = subscribers if subscribers is not None else self.subscribers(conversation_id)
        if members is not None:
            for outsider in [s for s in room if s.user_id not in members]:
                self._connections.unsubscribe(outsider.connection_id, conversation_id)
            room = [s for s in room if s.user_id in members]
        targets = [
            s.connection_id
            for s in room
            if s.connection_id not in skip and s.user_id not in skip_users
        ]
        if len(targets) <= 1:
            outcomes = [self._post(c, data) for c in targets]
        else:
            outcomes = list(self._executor().map(lambda c: self._post(c, data), targets))
        stale = tuple(c for c, o in zip(targets, outcomes, strict=True) if o == "gone")
        for connection_id in stale:
            self._connections.remove_stale(conversation_id, connection_id)
        return BroadcastResult(
            recipients=len(targets),
            delivered=outcomes.count("ok"),
            stale=stale,
            failed=outcomes.count("failed"),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def _post(self, connection_id: str, data: bytes) -> str:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "GoneException":
                return "gone"
            logger.warning("post_to_connection failed", extra={"code": code})
            return "failed"
        except BotoCoreError as exc:
            logger.warning("post_to_connection failed", extra={"error": type(exc).__name__})
            return "failed"
        return "ok"
