"""`$connect` and `$disconnect`: record the connection, and forget it with its subscriptions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from parley.names import display_name
from parley.realtime.events import SUBPROTOCOL, caller
from parley.store.connections import TooManyConnections

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from parley.realtime.presence import LivePresence
    from parley.store import Store
    from parley.store.connections import ConnectionsRepository


def connect(
    event: dict[str, Any], connections: ConnectionsRepository, store: Store
) -> dict[str, Any]:
    """Record who is on this connection, with the name of their profile (typing and presence
    show it; a token's name is user-writable) and when their token expires; answer with the
    `parley` subprotocol the client offered (a browser drops a connection whose server picks no
    offered subprotocol). A user with too many connections open is refused with 429, a disabled
    one (`parley.gate`; the profile is read strongly) with 403."""
    who = caller(event)
    profile = store.profiles.get(who.user_id, consistent=True)
    if profile is not None and profile.disabled:
        logger.info("connect refused", extra={"reason": "account disabled"})
        return {"statusCode": 403}
    name = profile.name if profile is not None else display_name(who.name)
    try:
        connections.connect(
            who.connection_id, who.user_id, name, token_expires_at=who.token_expires_at
        )
    except TooManyConnections:
        logger.info("connect refused", extra={"reason": "too many open connections"})
        return {"statusCode": 429}
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": SUBPROTOCOL}}


def disconnect(event: dict[str, Any], presence: LivePresence) -> dict[str, Any]:
    """Remove the connection and its subscriptions; tell each room it followed who is left."""
    connection_id = str((event.get("requestContext") or {}).get("connectionId") or "")
    if connection_id:
        gone = presence.connections.disconnect(connection_id)
        for conversation_id in sorted(gone.subscriptions if gone else ()):
            presence.announce(conversation_id)
    return {"statusCode": 200}
