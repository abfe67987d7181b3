"""Who may pass once a token is verified: a disabled account never, `/admin/*` admins only.

ID tokens cannot be revoked, so disabling a user (`parley.admin`) marks their profile and every
entry point asks `AccountGate.check` before it does anything: `chat_api`'s guard and `POST
/chat`, `ws_connect` (a fresh read) and each WebSocket action, and `admin_api`. The answer is
kept per warm container for at most `max_age` seconds (`ACCOUNT_CHECK_SECONDS`, ≤ 60), so a
disabled user's tokens stop working within that time everywhere, at one read per user per
container per period. `require_admin` is the one check of the role on every admin route.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from parley.config import BaseSettings, ChatTableSettings, get_settings
from parley.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from parley.auth import Identity

MAX_AGE_SECONDS = 60.0
"""The longest a container may trust an earlier answer: the contract's bound."""
MAX_ENTRIES = 10_000
"""Users remembered per container; the least recently checked are forgotten first."""


class AccountDisabled(Unauthorized):
    default_message = "This account is disabled"


class NotAdmin(Forbidden):
    default_message = "This needs an administrator"


class GateSettings(BaseSettings):
    account_check_seconds: Annotated[float, Field(ge=0, le=MAX_AGE_SECONDS)] = 30.0
    """How long a container trusts a user's standing; 0 reads it on every call."""


class AccountGate:
    """The disabled check, remembered per user for at most `max_age` seconds."""

    def __init__(
        self,
        is_disabled: Callable[[str], bool],
        *,
        max_age: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        if not 0 <= max_age <= MAX_AGE_SECONDS:
            raise ValueError(f"max_age must be within 0..{MAX_AGE_SECONDS:g} seconds")
        self._read = is_disabled
        self.max_age = max_age
        self._clock = clock
        self._max_entries = max_entries
        self._seen: OrderedDict[str, tuple[float, bool]] = OrderedDict()

    def disabled(self, user_id: str, *, fresh: bool = False) -> bool:
        """Whether the user is disabled: read again when `fresh` or when the answer kept is
        `max_age` old or older."""
        now = self._clock()
        kept = self._seen.get(user_id)
        if not fresh and kept is not None and now - kept[0] < self.max_age:
            self._seen.move_to_end(user_id)
            return kept[1]
        answer = self._read(user_id)
        self._seen[user_id] = (now, answer)
        self._seen.move_to_end(user_id)
        while len(self._seen) > self._max_entries:
            self._seen.popitem(last=False)
        return answer

    def check(self, user_id: str, *, fresh: bool = False) -> None:
        """Raise `AccountDisabled` (401) for a disabled user."""
        if self.disabled(user_id, fresh=fresh):
            raise AccountDisabled()


def require_admin(identity: Identity) -> Identity:
    """The caller if their verified token says `admin`, else `NotAdmin` (403)."""
    if not identity.is_admin:
        raise NotAdmin()
    return identity


@cache
def account_gate() -> AccountGate:
    """This container's gate over the chat table's profiles."""
    from parley.store import get_store  # the store reads the table settings

    get_settings(ChatTableSettings)
    settings = get_settings(GateSettings)
    return AccountGate(get_store().profiles.is_disabled, max_age=settings.account_check_seconds)
