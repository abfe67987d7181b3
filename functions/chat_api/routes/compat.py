"""`POST /chat`: the earlier single-function API, kept byte for byte (see DESIGN.md).

The gateway has no authorizer on this route (an HTTP API JWT authorizer reads one header and
this route accepts two), so the token is verified here with `parley.auth`. Errors take the
compatible `{"error": "…"}` shape; `chat_api.app` maps them in the same place as every other.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import store
from parley.auth import Identity, TokenError, bearer_token, get_verifier
from parley.errors import BadRequest, ConversationNotFound, InvalidInput, NotFound
from parley.gate import account_gate
from parley.models import (
    MAX_CONTENT_CHARS,
    ChatError,
    ChatRecord,
    ChatRequest,
    ChatResponse,
    ChatTurnOut,
)
from parley.profiles import profile_of
from parley.services import api_pipeline, conversations
from parley.titles import title_from

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

HISTORY_LIMIT = 100
CHAT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ChatNotFound(NotFound):
    default_message = "Chat not found"


def _error_doc(description: str) -> Any:
    return {"description": description, "content": {"application/json": {"model": ChatError}}}


def caller(headers: dict[str, str]) -> Identity:
    """The id token from `id_token`, else from `Authorization: Bearer`."""
    try:
        raw = headers.get("id_token")
        token = raw if raw is not None else bearer_token(headers.get("authorization"))
        who = get_verifier().verify(token, require="id")
    except TokenError as exc:
        raise exc.as_kind("id_token") from None
    account_gate().check(who.sub)
    return who


def parse(body: str | None) -> ChatRequest:
    """The request body, with the earlier API's messages for each fault."""
    if body is None or not body.strip():
        raise BadRequest("Field 'prompt' is required")
    try:
        data = json.loads(body)
    except ValueError:
        raise BadRequest("Request body must be valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    prompt = data.get("prompt")
    if prompt is None:
        raise BadRequest("Field 'prompt' is required")
    if not isinstance(prompt, str):
        raise BadRequest("Field 'prompt' must be a string")
    if not prompt.strip():
        raise BadRequest("Field 'prompt' must not be empty")
    if len(prompt) > MAX_CONTENT_CHARS:
        raise BadRequest(f"Field 'prompt' must be at most {MAX_CONTENT_CHARS} characters")
    chat_id = data.get("chat_id")
    if chat_id is not None and not isinstance(chat_id, str):
        raise BadRequest("Field 'chat_id' must be a string")
    return ChatRequest(prompt=prompt.strip(), chat_id=chat_id or None)


@router.post(
    "/chat",
    summary="Compatible single-call chat (the earlier API)",
    description=(
        "Headers `id_token: <JWT>` or `Authorization: Bearer <JWT>`; body "
        '`{"prompt": str, "chat_id"?: str}`. Without `chat_id` a new chat is started.'
    ),
    tags=["compatible"],
    security=[{"idToken": []}, {"bearerAuth": []}],
    responses={
        200: {
            "description": "The reply and the whole chat",
            "content": {"application/json": {"model": ChatResponse}},
        },
        400: _error_doc("Missing or invalid field, or a prompt longer than the model can read"),
        401: _error_doc("Invalid id_token: <reason>"),
        404: _error_doc("Chat not found"),
        413: _error_doc("Request body too large"),
        429: _error_doc("Daily token quota exceeded"),
        500: _error_doc("Internal server error; `message` is the request id"),
        502: _error_doc("The assistant failed to answer"),
        503: _error_doc("The assistant is unavailable"),
    },
)
def chat() -> Response[ChatResponse]:
    event = router.current_event
    who = caller(event.headers)
    request = parse(event.decoded_body)
    repository = store()
    me = profile_of(repository, who.sub, who.email, who.name)
    pipeline, writer = api_pipeline()
    budget = pipeline.budget
    if budget is None and pipeline.catalog is not None:  # a new chat's model: the default
        budget = pipeline.catalog().default_model.budget
    if budget is not None:
        try:  # before a chat is started: a refused prompt leaves nothing behind
            budget.check(request.prompt)
        except InvalidInput as exc:
            raise BadRequest(exc.message) from None  # the earlier API: 400 for a bad field
    if request.chat_id is None:
        conversation = conversations().create(
            me, kind="assistant", title=title_from(request.prompt)
        )
    else:
        if not CHAT_ID.fullmatch(request.chat_id):
            raise ChatNotFound()
        try:
            conversation = conversations().get(request.chat_id, me.id)
        except ConversationNotFound:
            raise ChatNotFound() from None
    time_left = router.lambda_context.get_remaining_time_in_millis() / 1000
    exchange = pipeline.ask(
        me,
        conversation.id,
        request.prompt,
        client_message_id=None,
        run=lambda job: writer.run(job, time_left=time_left),
    )
    current = conversations().get(conversation.id, me.id)
    history = repository.messages.recent(conversation.id, HISTORY_LIMIT)
    record = ChatRecord(
        id=current.id,
        user_id=me.id,
        title=current.title,
        created_at=current.created_at,
        updated_at=current.updated_at,
        messages=[
            ChatTurnOut(role=m.role, content=m.content) for m in history if m.status == "complete"
        ],
    )
    reply = exchange.reply.content if exchange.reply is not None else ""
    return Response(200, "application/json", ChatResponse(response=reply, chat=record))
