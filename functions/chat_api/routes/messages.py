"""Messages of a conversation: history pages and non-streaming assistant replies."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from chat_api.deps import CurrentProfile, CurrentUser, provider, settings, store
from chat_api.docs import errors, ok
from chat_api.routes.conversations import ConversationId, Cursor, Limit
from parley import assistant
from parley.models import DEFAULT_PAGE_SIZE, MessagePage, PostMessage, PostMessageResult

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
metrics = Metrics()


@router.get(
    "/conversations/<id>/messages",
    summary="Messages, newest first",
    tags=["messages"],
    responses={**ok(200, MessagePage, "A page of messages"), **errors(404)},
)
def list_messages(
    id: ConversationId,
    me: CurrentUser,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> MessagePage:
    repository = store()
    repository.conversations.membership(id, me.sub)
    items, next_cursor = repository.messages.page(id, limit=limit, cursor=cursor)
    return MessagePage(items=items, next_cursor=next_cursor)


@router.post(
    "/conversations/<id>/messages",
    summary="Send a message and get the assistant's reply (non-streaming)",
    description=(
        "The message is stored before the assistant is asked, so a 502/503 never loses it. "
        "Sending again with the same `clientMessageId` stores nothing new and returns the "
        "earlier reply when there is one."
    ),
    tags=["messages"],
    responses={
        **ok(201, PostMessageResult, "The message and the reply"),
        **errors(404, 409, 429, 502, 503),
    },
)
def post_message(
    id: ConversationId,
    body: PostMessage,
    me: CurrentProfile,
) -> Response[PostMessageResult]:
    exchange = assistant.ask(
        store(),
        provider(),
        settings(),
        conversation_id=id,
        author=me,
        content=body.content,
        client_message_id=body.client_message_id,
    )
    if not exchange.replayed and exchange.reply.usage is not None:
        metrics.add_metric("AssistantReplies", MetricUnit.Count, 1)
        metrics.add_metric("TokensIn", MetricUnit.Count, exchange.reply.usage.input_tokens)
        metrics.add_metric("TokensOut", MetricUnit.Count, exchange.reply.usage.output_tokens)
    result = PostMessageResult(message=exchange.message, reply=exchange.reply)
    return Response(201, "application/json", result)
