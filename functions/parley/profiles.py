"""The caller's profile: where every display name Parley shows comes from."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from parley.models import Profile
    from parley.store import Store


def profile_of(store: Store, user_id: str, email: str | None, name: str | None) -> Profile:
    """The user's profile; made on first sight when the sign-up trigger did not run (from the
    token's e-mail and name, cleaned like any stored name)."""
    existing = store.profiles.get(user_id)
    if existing is not None:
        return existing
    return store.profiles.ensure(user_id, email or f"{user_id}@users.invalid", name)
