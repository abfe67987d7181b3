"""The models the caller may use: the environment's catalog (`parley.catalog`), filtered."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentUser
from chat_api.docs import errors, ok
from parley.groups import groups_of
from parley.models import ModelInfo, ModelList, ModelPrice
from parley.services import model_catalog

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get(
    "/models",
    summary="The models I may choose for a conversation",
    tags=["models"],
    responses={**ok(200, ModelList, "The models, in the catalog's order"), **errors()},
)
def list_models(me: CurrentUser) -> ModelList:
    catalog = model_catalog()()
    return ModelList(
        items=[
            ModelInfo(
                id=m.id,
                label=m.label,
                provider=m.provider,
                context_window=m.context_window,
                max_output_tokens=m.max_output_tokens,
                message_chars=m.budget.message_chars,
                vision=m.vision,
                price=ModelPrice(input=float(m.price.input), output=float(m.price.output)),
                default=m.id == catalog.default,
            )
            for m in catalog.usable(groups_of(me.claims))
        ],
        default=catalog.default,
    )
