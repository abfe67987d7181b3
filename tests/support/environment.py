"""Process environment for in-process handler tests: a simulated cold start per test."""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tasks.local.bootstrap import LocalResources


def clear_parley_caches() -> None:
    """Forget every cached factory of the `parley` core, as a new Lambda container would.

    Settings, clients, JWKS and providers are cached per cold start with functools caches;
    walking the loaded modules keeps this working as the core grows.
    """
    for name, module in list(sys.modules.items()):
        if not (name == "parley" or name.startswith("parley.")) or module is None:
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if (
                callable(clear)
                and not isinstance(value, type)
                and getattr(value, "__module__", None) == name
            ):
                clear()


def store_scripted_catalog(resources: LocalResources, base_url: str, **every: Any) -> None:
    """The local stack's scripted models (tasks/local/models.yaml) as the environment's catalog,
    answered by the scripted server at `base_url`, where the functions read it; `every` sets
    fields of every model (`context_window=2048`)."""
    from parley.catalog import parse_catalog
    from tasks.local.catalog import local_catalog, store_catalog

    catalog = local_catalog(
        "scripted",
        base_urls={"scripted": base_url},
        api_key_parameter=resources.model_api_key_parameter,
    )
    if every:
        data = catalog.model_dump(mode="json", exclude_none=True)
        data["models"] = [{**m, **every} for m in data["models"]]
        catalog = parse_catalog(data, "test catalog")
    store_catalog(_session(resources.region), resources.endpoint_url, resources.chat_table, catalog)


@cache
def _session(region: str) -> Any:
    """One boto3 session per region for the tests' own writes: a new session loads botocore's
    models again (0.1 s of CPU a test)."""
    import boto3

    from tasks.local.bootstrap import FAKE_CREDENTIALS

    return boto3.Session(region_name=region, **FAKE_CREDENTIALS)


def function_env(
    resources: LocalResources,
    *,
    model_base_url: str = "",
    model_provider: str = "openai",
    model_id: str = "scripted-model",
    daily_token_quota: int = 0,
    service: str = "chat_api",
) -> dict[str, str]:
    """Every variable the manifest gives a function, pointed at the test resources."""
    env = resources.env()
    env.update(
        {
            "MODEL_PROVIDER": model_provider,
            "MODEL_ID": model_id,
            "MODEL_BASE_URL": model_base_url,
            "BEDROCK_AGENT_ID": "",
            "BEDROCK_AGENT_ALIAS_ID": "",
            "DAILY_TOKEN_QUOTA": str(daily_token_quota),
            # a closed loopback port: a function that would post there fails loudly
            "WS_MANAGEMENT_ENDPOINT": "http://127.0.0.1:9",
            "BOT_WORKER_FUNCTION_NAME": "bot_worker",
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": "Parley",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_DEV": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env
