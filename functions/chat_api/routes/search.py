"""Search: the caller's messages that match a query, in every conversation they belong to."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentUser, store
from chat_api.docs import errors, ok
from chat_api.routes.conversations import Cursor
from parley.models import DEFAULT_PAGE_SIZE, SearchPage
from parley.search import MAX_QUERY_CHARS, MAX_SEARCH_PAGE, Search

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

# The length is stated in the document and checked by `parley.search.parse_query`, so an empty or
# too long query gets one clear 400 from the one place that decides what a query is.
Q = Annotated[
    str | None,
    Query(
        description=(
            "Words to find (case and accents ignored; the last word also matches as the start "
            f"of longer words); 1–{MAX_QUERY_CHARS} characters"
        ),
        json_schema_extra={"minLength": 1, "maxLength": MAX_QUERY_CHARS},
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_SEARCH_PAGE, description="Results per page")]


@router.get(
    "/search",
    summary="Search my messages",
    description=(
        "Messages the caller can read — in every conversation they are a member of, rooms "
        "included — best match first, each with its conversation and a snippet whose matched "
        "words are flagged. Common words (`the`, `and`…) are not searched."
    ),
    tags=["search"],
    responses={**ok(200, SearchPage, "A page of results"), **errors()},
)
def search(
    me: CurrentUser, q: Q = None, limit: Limit = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> SearchPage:
    items, next_cursor = Search(store()).search(me.sub, q, limit=limit, cursor=cursor)
    return SearchPage(items=items, next_cursor=next_cursor)
