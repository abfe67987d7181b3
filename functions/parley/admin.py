"""The admin console's domain: users (Cognito and their profile), overrides, disabling, totals
and the audit log. Every change is one transaction with its audit entry (`store.admin`); the
role is checked before any of this runs (`parley.gate.require_admin`, in `admin_api`'s guard).

Disabling a user: their profile is marked disabled with its audit entry (from then on every API
refuses their tokens within `ACCOUNT_CHECK_SECONDS`: `parley.gate`), Cognito disables them and
signs them out everywhere (their refresh tokens stop working), and their open WebSocket
connections are closed at once. A retry of a disable (or enable) that half failed finds the
profile already so, records nothing new and redoes the Cognito and connection steps.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import Field

from parley.errors import BadRequest, Conflict, NotFound
from parley.ids import iso, new_ulid, now_iso, today
from parley.models import Activity, ApiModel, InputModel, UsageDay, UsageToday
from parley.quota import usage_today
from parley.rollups import activity, usage_range, usage_series
from parley.store.admin import AdminRepository, AuditRecord, ChangedMeanwhile

if TYPE_CHECKING:
    from parley.auth import Identity
    from parley.models import Profile
    from parley.store import Store

logger = logging.getLogger(__name__)

MAX_QUOTA_TOKENS = 100_000_000
MAX_PAGE = 60
"""Cognito's ListUsers answers at most 60 users a call."""
MAX_CURSOR_CHARS = 4096
_PREFIX = re.compile(r"^[^\s\"\\]{1,100}$")
USER_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")
"""A Cognito sub; nothing else reaches a ListUsers filter."""

Action = Literal["quota.set", "quota.cleared", "user.disabled", "user.enabled"]


# -- wire models ---------------------------------------------------------------------------------
class AdminUser(ApiModel):
    id: str = Field(description="The user's sub")
    email: str
    name: str
    status: Literal["enabled", "disabled"] = Field(
        description="disabled when an admin disabled the user (Parley refuses their tokens)"
    )
    confirmed: bool = Field(description="Cognito confirmed the account (e-mail verified)")
    cognito_status: str = Field(description="Cognito's UserStatus, e.g. CONFIRMED")
    created_at: str | None
    quota_override: int | None = Field(
        description="Daily tokens set for this user by an admin (0: unlimited); null: default"
    )
    daily_token_quota: int = Field(description="The quota that applies (0: unlimited)")
    tokens_today: int = Field(description="Tokens used today (input and output)")
    activity: Activity
    last_active_day: str | None = Field(description="Latest UTC day with activity, if any")


class AdminUserPage(ApiModel):
    items: list[AdminUser]
    next_cursor: str | None = Field(description="Opaque; pass as `cursor` for the next page")


class AdminUserDetail(AdminUser):
    usage: UsageToday
    days: list[UsageDay] = Field(description="The last 30 UTC days, oldest first")


class QuotaOverride(InputModel):
    daily_tokens: int = Field(
        ge=0, le=MAX_QUOTA_TOKENS, description="Tokens per UTC day for this user; 0 = unlimited"
    )


class AuditEntry(ApiModel):
    id: str
    at: str
    actor_id: str
    actor_email: str
    action: Action
    target_id: str
    target_email: str
    before: dict[str, int | bool | None]
    after: dict[str, int | bool | None]


class AuditPage(ApiModel):
    items: list[AuditEntry]
    next_cursor: str | None = Field(description="Opaque; pass as `cursor` for older entries")


class DayTotal(ApiModel):
    date: str = Field(description="UTC day, YYYY-MM-DD")
    messages: int = Field(description="Messages people sent")
    replies: int = Field(description="Replies of the assistant that ended")
    input_tokens: int
    output_tokens: int
    active_users: int = Field(description="People who sent a message or were answered")


class Totals(ApiModel):
    from_: str = Field(alias="from")
    to: str
    days: list[DayTotal]


# -- the user directory (Cognito) -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DirectoryUser:
    id: str
    username: str
    email: str
    name: str
    enabled: bool
    status: str
    created_at: str | None


class Directory(Protocol):
    def search(
        self, prefix: str | None, limit: int, token: str | None
    ) -> tuple[list[DirectoryUser], str | None]: ...
    def find(self, user_id: str) -> DirectoryUser | None: ...
    def disable(self, username: str) -> None: ...
    def enable(self, username: str) -> None: ...
    def sign_out(self, username: str) -> None: ...


class CognitoDirectory:
    """The user pool, through the admin APIs admin_api's role may call on it alone."""

    def __init__(self, client: Any, user_pool_id: str) -> None:
        self.client = client
        self.pool = user_pool_id

    def search(
        self, prefix: str | None, limit: int, token: str | None
    ) -> tuple[list[DirectoryUser], str | None]:
        args: dict[str, Any] = {"UserPoolId": self.pool, "Limit": limit}
        if prefix:
            args["Filter"] = f'email ^= "{prefix}"'
        if token:
            args["PaginationToken"] = token
        try:
            answer = self.client.list_users(**args)
        except self.client.exceptions.InvalidParameterException:
            raise BadRequest("Invalid cursor") from None
        return [_directory_user(u) for u in answer.get("Users", [])], answer.get("PaginationToken")

    def find(self, user_id: str) -> DirectoryUser | None:
        if not USER_ID.match(user_id):
            return None
        answer = self.client.list_users(UserPoolId=self.pool, Filter=f'sub = "{user_id}"', Limit=1)
        users = answer.get("Users", [])
        return _directory_user(users[0]) if users else None

    def disable(self, username: str) -> None:
        self.client.admin_disable_user(UserPoolId=self.pool, Username=username)

    def enable(self, username: str) -> None:
        self.client.admin_enable_user(UserPoolId=self.pool, Username=username)

    def sign_out(self, username: str) -> None:
        self.client.admin_user_global_sign_out(UserPoolId=self.pool, Username=username)


def _directory_user(user: dict[str, Any]) -> DirectoryUser:
    attributes = {a["Name"]: a.get("Value", "") for a in user.get("Attributes", [])}
    email = attributes.get("email", "")
    created: Any = user.get("UserCreateDate")
    return DirectoryUser(
        id=attributes.get("sub") or str(user["Username"]),
        username=str(user["Username"]),
        email=email,
        name=attributes.get("name") or email.split("@")[0],
        enabled=bool(user.get("Enabled", True)),
        status=str(user.get("UserStatus", "UNKNOWN")),
        created_at=iso(created) if isinstance(created, datetime) else None,
    )


# -- closing a user's sockets -----------------------------------------------------------------
class Sockets(Protocol):
    def user_connections(self, user_ids: Any) -> dict[str, list[str]]: ...


class Closer(Protocol):
    def close(self, connection_id: str) -> None: ...


# -- the console ----------------------------------------------------------------------------------
def encode_token(token: str | None) -> str | None:
    if not token:
        return None
    return base64.urlsafe_b64encode(token.encode()).rstrip(b"=").decode()


def decode_token(cursor: str | None) -> str | None:
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise BadRequest("Invalid cursor")
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("Invalid cursor") from None


class AdminConsole:
    def __init__(
        self,
        *,
        store: Store,
        records: AdminRepository,
        directory: Directory,
        sockets: Sockets,
        closer: Closer,
        default_quota: int,
    ) -> None:
        self.store = store
        self.records = records
        self.directory = directory
        self.sockets = sockets
        self.closer = closer
        self.default_quota = default_quota

    # reading ----------------------------------------------------------------------------------
    def users(self, query: str | None, limit: int, cursor: str | None) -> AdminUserPage:
        prefix = (query or "").strip().lower() or None
        if prefix is not None and not _PREFIX.match(prefix):
            raise BadRequest("Search by the start of an e-mail address (no spaces or quotes)")
        found, token = self.directory.search(prefix, limit, decode_token(cursor))
        day = today()
        with ThreadPoolExecutor(max_workers=8) as pool:
            items = list(pool.map(lambda u: self._user(u, day), found))
        return AdminUserPage(items=items, next_cursor=encode_token(token))

    def user(self, user_id: str) -> AdminUserDetail:
        found = self._find(user_id)
        summary = self._user(found, today())
        profile = self.store.profiles.get(found.id)
        quota = self._quota(profile)
        start = (usage_range(None, None)[1] - timedelta(days=29)).isoformat()
        return AdminUserDetail(
            **summary.model_dump(),
            usage=usage_today(self.store, found.id, quota),
            days=usage_series(self.store, found.id, start, None).days,
        )

    def audit(self, cursor: str | None, limit: int) -> AuditPage:
        records, next_cursor = self.records.entries(cursor, limit)
        return AuditPage(
            items=[AuditEntry.model_validate(_entry(r)) for r in records], next_cursor=next_cursor
        )

    def totals(self, first: str | None, last: str | None) -> Totals:
        start, end = usage_range(first, last)
        found = self.store.rollups.totals(start.isoformat(), end.isoformat())
        days = []
        for offset in range((end - start).days + 1):
            day = (start + timedelta(days=offset)).isoformat()
            kept = found.get(day)
            days.append(
                DayTotal(
                    date=day,
                    messages=kept.counts.messages if kept else 0,
                    replies=kept.counts.replies if kept else 0,
                    input_tokens=kept.counts.tokens_in if kept else 0,
                    output_tokens=kept.counts.tokens_out if kept else 0,
                    active_users=kept.active_users if kept else 0,
                )
            )
        return Totals.model_validate(
            {"from": start.isoformat(), "to": end.isoformat(), "days": days}
        )

    # changing ---------------------------------------------------------------------------------
    def set_quota(self, actor: Identity, user_id: str, tokens: int | None) -> AdminUserDetail:
        """Set (or, with None, clear) the user's daily token override, with its audit entry."""
        found = self._find(user_id)
        profile = self._profile(found)
        old = profile.daily_token_quota
        if old == tokens:
            return self.user(found.id)  # nothing changes: nothing to record
        action: Action = "quota.cleared" if tokens is None else "quota.set"
        record = self._record(
            actor, action, found, {"quotaOverride": old}, {"quotaOverride": tokens}
        )
        try:
            self.records.set_quota(found.id, old=old, new=tokens, audit=record)
        except ChangedMeanwhile:
            raise Conflict("The user's quota changed meanwhile; reload and try again") from None
        return self.user(found.id)

    def set_disabled(self, actor: Identity, user_id: str, disabled: bool) -> AdminUserDetail:
        """Disable (or enable) the user: profile and audit entry in one transaction, then
        Cognito, then (disabling) their sign-out and their open connections closed."""
        found = self._find(user_id)
        if disabled and found.id == actor.sub:
            raise Conflict("You cannot disable your own account")
        profile = self._profile(found)
        if profile.disabled != disabled:
            action: Action = "user.disabled" if disabled else "user.enabled"
            record = self._record(
                actor, action, found, {"disabled": profile.disabled}, {"disabled": disabled}
            )
            # ChangedMeanwhile: another admin did the same meanwhile; the steps below are
            # idempotent, so both end in the same state with one entry
            with contextlib.suppress(ChangedMeanwhile):
                self.records.set_disabled(found.id, disabled=disabled, audit=record)
        if disabled:
            self.directory.disable(found.username)
            self.directory.sign_out(found.username)
            self.close_connections(found.id)
        else:
            self.directory.enable(found.username)
        return self.user(found.id)

    def close_connections(self, user_id: str) -> int:
        """Close every open WebSocket connection of the user (`$disconnect` then forgets each)."""
        connections = self.sockets.user_connections([user_id]).get(user_id, [])
        for connection_id in connections:
            self.closer.close(connection_id)
        return len(connections)

    # helpers ----------------------------------------------------------------------------------
    def _find(self, user_id: str) -> DirectoryUser:
        found = self.directory.find(user_id)
        if found is None:
            raise NotFound("User not found")
        return found

    def _profile(self, found: DirectoryUser) -> Profile:
        """The user's profile, made from Cognito's record when they never signed in."""
        profile = self.store.profiles.get(found.id, consistent=True)
        if profile is None:
            self.store.profiles.ensure(
                found.id, found.email or f"{found.id}@users.invalid", found.name
            )
            profile = self.store.profiles.get(found.id, consistent=True)
        if profile is None:  # pragma: no cover - ensure wrote it
            raise NotFound("User not found")
        return profile

    def _quota(self, profile: Profile | None) -> int:
        override = profile.daily_token_quota if profile is not None else None
        return self.default_quota if override is None else override

    def _user(self, found: DirectoryUser, day: str) -> AdminUser:
        profile = self.store.profiles.get(found.id)
        used, _ = self.store.usage.get(found.id, day)
        disabled = (profile is not None and profile.disabled) or not found.enabled
        return AdminUser(
            id=found.id,
            email=found.email,
            name=profile.name if profile is not None else found.name,
            status="disabled" if disabled else "enabled",
            confirmed=found.status in ("CONFIRMED", "EXTERNAL_PROVIDER"),
            cognito_status=found.status,
            created_at=found.created_at,
            quota_override=profile.daily_token_quota if profile is not None else None,
            daily_token_quota=self._quota(profile),
            tokens_today=used.input_tokens + used.output_tokens,
            activity=activity(self.store, found.id, day),
            last_active_day=self.store.rollups.last_active_day(found.id),
        )

    def _record(
        self,
        actor: Identity,
        action: Action,
        target: DirectoryUser,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> AuditRecord:
        return AuditRecord(
            id=new_ulid(),
            at=now_iso(),
            actor_id=actor.sub,
            actor_email=actor.email or "",
            action=action,
            target_id=target.id,
            target_email=target.email,
            before=before,
            after=after,
        )


def _entry(record: AuditRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "at": record.at,
        "actor_id": record.actor_id,
        "actor_email": record.actor_email,
        "action": record.action,
        "target_id": record.target_id,
        "target_email": record.target_email,
        "before": record.before,
        "after": record.after,
    }


@cache
def console() -> AdminConsole:
    """`admin_api`'s console, built once per cold start."""
    import boto3
    from botocore.config import Config

    from parley.config import AdminSettings, get_settings
    from parley.services import broadcaster, connections_repository
    from parley.store import get_store
    from parley.store.table import chat_table

    settings = get_settings(AdminSettings)
    cognito = boto3.client(
        "cognito-idp",
        region_name=settings.aws_region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard"}),
    )
    return AdminConsole(
        store=get_store(),
        records=AdminRepository(chat_table()),
        directory=CognitoDirectory(cognito, settings.cognito_user_pool_id),
        sockets=connections_repository(),
        closer=broadcaster(),
        default_quota=settings.daily_token_quota,
    )
