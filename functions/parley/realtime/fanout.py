"""Broadcasting events to a room's connections through API Gateway's management API.

One Query reads the room's subscriptions; PostToConnection calls then run concurrently on a
bounded thread pool (boto3 clients are thread-safe, and the pool of HTTP connections is sized
to match), so a room of a thousand costs a few round trips of wall time, not a thousand. A
connection that answers 410 Gone is removed — that one only, never the sender's — and the
broadcast reports what happened for the metrics.

Only members hear a room. Removing a member ends their subscriptions at once, so the
subscriber Query (strongly consistent) is what stops them; the member set each broadcast
checks against (`RoomMembers`) is a second line: it is read again every `max_age` seconds, and
always before a subscriber it does not know is turned away — so someone added while a reply
streams is heard, never unsubscribed.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from parley.realtime.protocol import OnlineUser, Presence, encode_event

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

    from parley.realtime.protocol import _Event
    from parley.realtime.shards import ShardPoster
    from parley.store.connections import ConnectionsRepository, Subscriber
    from parley.store.conversations import ConversationRepository

logger = logging.getLogger(__name__)

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


class RoomMembers:
    """The user ids allowed to hear a room, as fresh as a broadcast needs them."""

    def __init__(
        self,
        load: Callable[[], Collection[str]],
        *,
        known: Collection[str] | None = None,
        max_age: float = math.inf,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._clock = clock
        self._max_age = max_age
        self._ids = frozenset(known) if known is not None else None
        self._read_at = clock() if known is not None else -math.inf

    @classmethod
    def of(
        cls,
        conversations: ConversationRepository,
        conversation_id: str,
        *,
        known: Collection[str] | None = None,
        max_age: float = math.inf,
        clock: Callable[[], float] = time.monotonic,
    ) -> RoomMembers:
        """The members of a conversation, read from its member items when needed."""
        return cls(
            lambda: [m.user_id for m in conversations.members(conversation_id)],
            known=known,
            max_age=max_age,
            clock=clock,
        )

    @classmethod
    def fixed(cls, ids: Collection[str]) -> RoomMembers:
        """Members known for sure (tests and tools): never read again."""
        return cls(lambda: ids, known=ids)

    def current(self) -> frozenset[str]:
        if self._ids is None or self._clock() - self._read_at >= self._max_age:
            return self.reload()
        return self._ids

    def reload(self) -> frozenset[str]:
        self._ids = frozenset(self._load())
        self._read_at = self._clock()
        return self._ids


class Broadcaster:
    """Sends events to one connection or to every subscriber of a room."""

    def __init__(
        self,
        connections: ConnectionsRepository,
        client: ApiGatewayManagementApiClient,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        shards: ShardPoster | None = None,
    ) -> None:
        self._connections = connections
        self._client = client
        self._pool_size = pool_size
        self._pool: ThreadPoolExecutor | None = None
        self._shards = shards

    def _executor(self) -> ThreadPoolExecutor:
        """One bounded pool for the container's life: its threads idle between invocations
        instead of being started for every broadcast (a reply makes a hundred)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._pool_size, thread_name_prefix="fanout")
        return self._pool

    def send(self, connection_id: str, event: _Event) -> bool:
        """Post to one connection; False if it is gone or the post failed."""
        return self._post(connection_id, encode_event(event)) == "ok"

    def close(self, connection_id: str) -> None:
        """End a connection from the server side (API Gateway then runs `$disconnect`)."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") != "GoneException":
                logger.warning("delete_connection failed", extra={"code": exc.response["Error"]})
        except BotoCoreError as exc:
            logger.warning("delete_connection failed", extra={"error": type(exc).__name__})

    def subscribers(self, conversation_id: str) -> list[Subscriber]:
        return self._connections.subscribers(conversation_id)

    def broadcast(
        self,
        conversation_id: str,
        event: _Event,
        *,
        members: RoomMembers,
        exclude_users: Iterable[str] = (),
        subscribers: list[Subscriber] | None = None,
    ) -> BroadcastResult:
        """Post ``event`` to every member's connection following the room.

        ``exclude_users`` skips every connection of those users. A subscriber who is not a
        member (checked against a fresh read) gets nothing and loses the subscription.
        Connections that answer 410 are removed; other failures are counted and logged, never
        raised: one broken client must not stop the room's broadcast.
        """
        started = time.perf_counter()
        data = encode_event(event)
        skip_users = set(exclude_users)
        room = subscribers if subscribers is not None else self.subscribers(conversation_id)
        allowed = members.current()
        if any(s.user_id not in allowed for s in room):
            allowed = members.reload()  # joined since we last looked, or really gone?
        for outsider in [s for s in room if s.user_id not in allowed]:
            self._connections.unsubscribe(outsider.connection_id, conversation_id)
        targets = [
            s.connection_id for s in room if s.user_id in allowed and s.user_id not in skip_users
        ]
        if len(targets) <= 1:
            outcomes = [self._post(c, data) for c in targets]
        elif self._shards is not None and self._shards.wanted(len(targets)):
            outcomes = self._shards.post(targets, data)  # returns when every slice is done
        else:
            outcomes = list(self._executor().map(lambda c: self._post(c, data), targets))
        stale = tuple(c for c, o in zip(targets, outcomes, strict=True) if o == "gone")
        for connection_id in stale:
            self._connections.remove_stale(conversation_id, connection_id)
        if stale and not isinstance(event, Presence):
            # someone left without a $disconnect: the room learns it now
            self.announce_presence(conversation_id, members)
        return BroadcastResult(
            recipients=len(targets),
            delivered=outcomes.count("ok"),
            stale=stale,
            failed=outcomes.count("failed"),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def tell_users(self, events: Mapping[str, _Event]) -> BroadcastResult:
        """Personal events: post each user's event to every open connection of theirs, found
        from their connection list (one read per user, `ConnectionsRepository.
        user_connections`), subscribed to any room or not. A connection that answers 410 is
        forgotten."""
        started = time.perf_counter()
        by_user = self._connections.user_connections(list(events))
        posts = [
            (connection_id, encode_event(events[user_id]))
            for user_id, connections in by_user.items()
            for connection_id in connections
        ]
        if len(posts) <= 1:
            outcomes = [self._post(c, d) for c, d in posts]
        else:
            outcomes = list(self._executor().map(lambda post: self._post(*post), posts))
        stale = tuple(c for (c, _), o in zip(posts, outcomes, strict=True) if o == "gone")
        for connection_id in stale:
            self._connections.disconnect(connection_id)
        return BroadcastResult(
            recipients=len(posts),
            delivered=outcomes.count("ok"),
            stale=stale,
            failed=outcomes.count("failed"),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def announce_presence(self, conversation_id: str, members: RoomMembers) -> BroadcastResult:
        """Tell the room who is in it; one Query serves both the list and the recipients."""
        subscribers = self.subscribers(conversation_id)
        allowed = members.current()
        seen: dict[str, OnlineUser] = {}
        for s in subscribers:
            if s.user_id in allowed:
                seen.setdefault(s.user_id, OnlineUser(user_id=s.user_id, name=s.name))
        online = sorted(seen.values(), key=lambda u: (u.name.lower(), u.user_id))
        return self.broadcast(
            conversation_id,
            Presence(conversation_id=conversation_id, online=online),
            members=members,
            subscribers=subscribers,
        )

    def _post(self, connection_id: str, data: bytes) -> str:
        return post_frame(self._client, connection_id, data)


def post_frame(client: ApiGatewayManagementApiClient, connection_id: str, data: bytes) -> str:
    """Post an encoded frame: "ok", "gone" (410) or "failed" (logged, never raised)."""
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
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
