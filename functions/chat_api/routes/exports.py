"""Exports of a conversation's history: ask for one (members), read its status (its owner)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentUser
from chat_api.docs import errors, ok
from chat_api.routes.conversations import ConversationId
from parley.models import CreateExport, ExportStatus
from parley.services import exports

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

ExportId = Annotated[
    str, Path(min_length=26, max_length=26, pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="Id")
]


@router.post(
    "/conversations/<id>/exports",
    summary="Export a conversation's history as Markdown or JSON (members)",
    description=(
        "Answers at once with the export's id; the file is made in the background. Its end is "
        "sent to the caller's open apps over the WebSocket (`export.ready` with a download "
        "link, or `export.failed`) and can be read with `GET /exports/{id}`."
    ),
    tags=["exports"],
    responses={**ok(202, ExportStatus, "The export, `running`"), **errors(404, 503)},
)
def create_export(
    id: ConversationId, body: CreateExport, me: CurrentUser
) -> Response[ExportStatus]:
    export = exports().request(id, me.sub, body.format)
    return Response(202, "application/json", export)


@router.get(
    "/exports/<id>",
    summary="One of my exports: its status, and a fresh download link while it is ready",
    tags=["exports"],
    responses={**ok(200, ExportStatus, "The export"), **errors(404)},
)
def get_export(id: ExportId, me: CurrentUser) -> ExportStatus:
    return exports().status(id, me.sub)
