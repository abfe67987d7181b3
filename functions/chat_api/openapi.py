"""The OpenAPI document: Powertools generates it from the routes; two gaps are filled here.

Powertools' OpenAPI models are heavy to import (~20 % of the handler's cold import), and only
this document needs them, so they are loaded on its first request, not at cold start.
"""

from __future__ import annotations

import json
from functools import cache

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from parley.models import MAX_CONTENT_CHARS, ChatRequest


@cache
def _configure(app: APIGatewayHttpResolver) -> None:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

    app.configure_openapi(
        title="Parley HTTP API",
        version="1.0.0",
        summary="Conversations, messages, members, usage and the compatible POST /chat",
        security_schemes={
            "bearerAuth": HTTPBearer(bearerFormat="JWT", description="Cognito id or access token"),
            "idToken": APIKey(name="id_token", in_=APIKeyIn.header, description="Cognito id token"),
        },
        security=[{"bearerAuth": []}],
    )


def document(app: APIGatewayHttpResolver) -> str:
    _configure(app)
    schema = json.loads(app.get_openapi_json_schema())
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            # Powertools documents a body for `Response[None]`; a 204 has none.
            operation.get("responses", {}).get("204", {}).pop("content", None)
    # `POST /chat` parses its body by hand (for the compatible messages): describe it.
    operation = schema["paths"]["/chat"]["post"]
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}},
    }
    request_schema = ChatRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    request_schema["properties"]["prompt"].update({"minLength": 1, "maxLength": MAX_CONTENT_CHARS})
    schema.setdefault("components", {}).setdefault("schemas", {})["ChatRequest"] = request_schema
    return json.dumps(schema)
