"""The admin console's routes (the guard in `admin_api.app` has checked the caller)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from parley.admin import (
    MAX_PAGE,
    AdminUserDetail,
    AdminUserPage,
    AuditPage,
    QuotaOverride,
    Totals,
)
from parley.admin import console as console
from parley.auth import Identity
from parley.errors import Unauthorized
from parley.models import ErrorResponse, GatewayError

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


def current_admin(request: Request) -> Identity:
    admin = request.context.get("admin")
    if not isinstance(admin, Identity):  # the guard runs first on every route
        raise Unauthorized()
    return admin


Admin = Annotated[Identity, Depends(current_admin)]
UserId = Annotated[
    str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9-]+$", description="sub")
]
Cursor = Annotated[str | None, Query(max_length=4096, description="From the last page")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Day = Annotated[str | None, Query(max_length=10, json_schema_extra={"format": "date"})]


def _errors(*statuses: int) -> dict[int, Any]:
    described = {
        400: "Malformed request",
        401: "Missing or invalid token, or a disabled account",
        403: "The caller is not an admin",
        404: "No such user",
        409: "Conflicts with the current state",
        413: "Request body too large",
        422: "Request failed validation",
        500: "Internal error; `requestId` identifies it in the logs",
    }
    # Behind the gateway's JWT authorizer, a refused token never reaches the function.
    return {
        status: {
            "description": described[status],
            "content": {
                "application/json": {
                    "model": ErrorResponse | GatewayError if status == 401 else ErrorResponse
                }
            },
        }
        for status in sorted({400, 401, 403, 413, 422, 500, *statuses})
    }


def _ok(model: Any, description: str) -> dict[int, Any]:
    return {200: {"description": description, "content": {"application/json": {"model": model}}}}


@router.get(
    "/admin/users",
    summary="Users, found by the start of their e-mail address",
    tags=["admin"],
    responses={**_ok(AdminUserPage, "A page of users"), **_errors()},
)
def list_users(
    who: Admin,
    q: Annotated[str | None, Query(max_length=100, description="E-mail prefix")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> AdminUserPage:
    return console().users(q, limit, cursor)


@router.get(
    "/admin/users/<id>",
    summary="One user: status, quota, usage today and the last 30 days",
    tags=["admin"],
    responses={**_ok(AdminUserDetail, "The user"), **_errors(404)},
)
def get_user(id: UserId, who: Admin) -> AdminUserDetail:
    return console().user(id)


@router.put(
    "/admin/users/<id>/quota",
    summary="Set the user's daily token quota (replaces the deployment's for them)",
    tags=["admin"],
    responses={**_ok(AdminUserDetail, "The user"), **_errors(404, 409)},
)
def set_quota(id: UserId, body: QuotaOverride, who: Admin) -> AdminUserDetail:
    return console().set_quota(who, id, body.daily_tokens)


@router.delete(
    "/admin/users/<id>/quota",
    summary="Clear the user's quota override (the deployment's applies again)",
    tags=["admin"],
    responses={**_ok(AdminUserDetail, "The user"), **_errors(404, 409)},
)
def clear_quota(id: UserId, who: Admin) -> AdminUserDetail:
    return console().set_quota(who, id, None)


@router.post(
    "/admin/users/<id>/disable",
    summary="Disable the user: sign-in refused, tokens refused within a minute, sockets closed",
    tags=["admin"],
    responses={**_ok(AdminUserDetail, "The user"), **_errors(404, 409)},
)
def disable_user(id: UserId, who: Admin) -> AdminUserDetail:
    return console().set_disabled(who, id, True)


@router.post(
    "/admin/users/<id>/enable",
    summary="Enable a disabled user again",
    tags=["admin"],
    responses={**_ok(AdminUserDetail, "The user"), **_errors(404, 409)},
)
def enable_user(id: UserId, who: Admin) -> AdminUserDetail:
    return console().set_disabled(who, id, False)


@router.get(
    "/admin/totals",
    summary="The deployment's totals per UTC day (messages, replies, tokens, active users)",
    tags=["admin"],
    responses={**_ok(Totals, "One entry per day, oldest first"), **_errors()},
)
def totals(
    who: Admin,
    from_: Annotated[
        str | None, Query(alias="from", max_length=10, json_schema_extra={"format": "date"})
    ] = None,
    to: Day = None,
) -> Totals:
    return console().totals(from_, to)


@router.get(
    "/admin/audit",
    summary="The audit log of admin actions, newest first (read only)",
    tags=["admin"],
    responses={**_ok(AuditPage, "A page of entries"), **_errors()},
)
def audit(who: Admin, limit: Limit = 50, cursor: Cursor = None) -> AuditPage:
    return console().audit(cursor, limit)
