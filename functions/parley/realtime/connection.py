"""`$connect` and `$disconnect`: record the connection, and forget it with its subscriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.realtime.authorizer import SUBPROTOCOL
from parley.realtime.events import caller

if TYPE_CHECKING:
    from parley.realtime.rooms import Rooms
    from parley.store.connections import ConnectionsRepository


def connect(event: dict[str, Any], connections: ConnectionsRepository) -> dict[str, Any]:
    """Record who is on this connection; answer with the `parley` subprotocol the client
    offered (a browser drops a connection whose server picks no offered subprotocol)."""
    who = caller(event)
    connections.connect(who.connection_id, who.user_id, who.name)
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": SUBPROTOCOL}}


def disconnect(event: dict[str, Any], rooms: Rooms) -> dict[str, Any]:
    """Remove the connection and its subscriptions; tell each room it followed who is left."""
    connection_id = str((event.get("requestContext") or {}).get("connectionId") or "")
    if connection_id:
        gone = rooms.connections.disconnect(connection_id)
        for conversation_id in sorted(gone.subscriptions if gone else ()):
            members = {m.user_id for m in rooms.store.conversations.members(conversation_id)}
            if members:
                rooms.announce_presence(conversation_id, members)
    return {"statusCode": 200}
