"""A user's role from their Cognito groups: the pre-token-generation trigger's one rule.

`functions/pre_token_generation` puts it in every ID token Cognito issues as the `parley:role`
claim, which `parley.auth.role_of` reads on every call (only exactly `admin` is an admin).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from parley.auth import ROLE_CLAIM, Role

ADMIN_GROUP = "admins"
"""Members of this Cognito group (exactly this name) are admins."""


def role_for_groups(groups: Iterable[str] | None) -> Role:
    """`admin` for a member of `admins`, `member` for everyone else."""
    return "admin" if ADMIN_GROUP in set(groups or ()) else "member"


def token_claims(event: dict[str, Any]) -> dict[str, Any]:
    """The pre-token-generation (V1) event's response: the role claim added, or overridden
    where the event asked for another value, and nothing else changed."""
    request = event.get("request") or {}
    groups = (request.get("groupConfiguration") or {}).get("groupsToOverride") or []
    role = role_for_groups(g for g in groups if isinstance(g, str))
    return {"claimsOverrideDetails": {"claimsToAddOrOverride": {ROLE_CLAIM: role}}}
