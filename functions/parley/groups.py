"""The Cognito groups a verified token names: who may use which catalog model
(`parley.catalog`). Kept apart so the WebSocket authorizer reads them without the catalog."""

from __future__ import annotations

import re
from typing import Any

GROUPS_CLAIM = "cognito:groups"
"""The token claim listing the caller's Cognito groups."""


def groups_of(claims: dict[str, Any]) -> list[str]:
    """The groups a verified token's claims name (none when absent or malformed)."""
    value = claims.get(GROUPS_CLAIM)
    if isinstance(value, str):  # some token paths flatten the list: "[a, b]" or "a b"
        return [g for g in re.split(r"[\s,\[\]]+", value) if g]
    if isinstance(value, list):
        return [g for g in value if isinstance(g, str) and g]
    return []
