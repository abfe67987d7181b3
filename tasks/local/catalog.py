"""The local stack's model catalog: `tasks/local/models.yaml`, cut to the servers this run
starts, with their URLs, stored where the functions read it (the chat table's `CONFIG / MODELS`
item, as Terraform stores an environment's).

`--model scripted` offers the scripted server's models, `--model local` the llama.cpp server's;
`--model openai` and `--model bedrock` offer one model from the caller's environment, as before.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tasks.core.catalog import LOCAL_CATALOG, load

if TYPE_CHECKING:
    from parley.catalog import Catalog


def local_catalog(
    mode: str, *, base_urls: dict[str, str], api_key_parameter: str | None = None
) -> Catalog:
    """The catalog a run of the stack offers. `base_urls`: each started server's base URL by
    `server` (`scripted`, `llama`); `api_key_parameter`: the key the local servers are sent."""
    from parley.catalog import parse_catalog

    source = load(LOCAL_CATALOG, deployed=False)
    if mode in ("scripted", "local"):
        server = "scripted" if mode == "scripted" else "llama"
        models: list[dict[str, Any]] = [
            {
                **m.model_dump(mode="json", exclude_none=True),
                "base_url": base_urls[server],
                **({"api_key_parameter": api_key_parameter} if api_key_parameter else {}),
            }
            for m in source.models
            if m.provider == "local" and m.server == server
        ]
        ids = [m["id"] for m in models]
        default = source.default if source.default in ids else ids[0]
        return parse_catalog({"version": 1, "default": default, "models": models}, "local")
    if mode == "openai":
        model = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
        entry: dict[str, Any] = {
            "id": "openai",
            "label": f"OpenAI {model}",
            "provider": "openai",
            "model": model,
            "context_window": 128_000,
            "max_output_tokens": 1024,
            "vision": True,
            "price": {"input": 0.15, "output": 0.6},
        }
        if os.environ.get("OPENAI_BASE_URL"):
            entry["base_url"] = os.environ["OPENAI_BASE_URL"]
        if api_key_parameter:
            entry["api_key_parameter"] = api_key_parameter
    elif os.environ.get("BEDROCK_AGENT_ID"):
        entry = {
            "id": "bedrock-agent",
            "label": "Amazon Bedrock agent",
            "provider": "bedrock-agent",
            "agent_id": os.environ["BEDROCK_AGENT_ID"],
            "agent_alias_id": os.environ.get("BEDROCK_AGENT_ALIAS_ID", ""),
            "context_window": 200_000,
            "max_output_tokens": 1024,
            "price": {"input": 0, "output": 0},
        }
    else:
        model = os.environ.get("BEDROCK_MODEL_ID", "anthropic.claude-3-haiku-20240307-v1:0")
        entry = {
            "id": "bedrock",
            "label": f"Amazon Bedrock {model}",
            "provider": "bedrock",
            "model": model,
            "context_window": 200_000,
            "max_output_tokens": 1024,
            "vision": True,
            "price": {"input": 0.25, "output": 1.25},
        }
    return parse_catalog({"version": 1, "default": entry["id"], "models": [entry]}, mode)


def store_catalog(session: Any, endpoint_url: str, table: str, catalog: Catalog) -> None:
    """Write the catalog where the functions read it (as Terraform does in AWS)."""
    from parley.store.catalog import CatalogRepository

    resource = session.resource("dynamodb", endpoint_url=endpoint_url)
    CatalogRepository(resource.Table(table)).put(catalog.to_json())
