"""Ratings of the assistant's replies: give, change or take back your own (`parley.feedback`)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentUser
from chat_api.docs import errors, ok
from chat_api.routes.conversations import ConversationId, PathId
from parley.models import Feedback, RateReply
from parley.services import reply_feedback

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

MessageId = PathId


@router.put(
    "/conversations/<id>/messages/<messageId>/feedback",
    summary="Rate a reply of the assistant: thumbs up or down, with an optional comment",
    description=(
        "Members only (anyone else: 404, whether or not the message exists). One rating per "
        "person per reply: this replaces yours, comment included (left out, it is removed). "
        "Only you ever see it: it comes back on the reply when you list the messages. A "
        "person's message, a reply still being written and a failed reply cannot be rated "
        "(409); a stopped reply can."
    ),
    tags=["messages"],
    responses={**ok(200, Feedback, "Your rating, as stored"), **errors(404, 409)},
)
def rate_reply(
    id: ConversationId, messageId: MessageId, body: RateReply, me: CurrentUser
) -> Feedback:
    return reply_feedback().rate(me.sub, id, messageId, body.rating, body.comment)


@router.delete(
    "/conversations/<id>/messages/<messageId>/feedback",
    summary="Take back your rating of a reply",
    description="Members only; 204 also when there was no rating to take back.",
    tags=["messages"],
    responses={204: {"description": "Your rating is gone"}, **errors(404)},
)
def remove_rating(id: ConversationId, messageId: MessageId, me: CurrentUser) -> Response[None]:
    reply_feedback().remove(me.sub, id, messageId)
    return Response(204)
