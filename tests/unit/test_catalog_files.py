"""The repository's model catalogs: every environment's and the local stack's are valid, and the
local catalog offers exactly the models the llama.cpp server runs (`tasks/local/model.py`)."""

from __future__ import annotations

from parley.catalog import load_catalog
from tasks.core.catalog import LOCAL_CATALOG, check_catalogs, environment_catalogs


def test_the_repository_catalogs_are_valid_and_the_environments_name_no_local_model() -> None:
    found = check_catalogs()
    assert set(environment_catalogs()) == {"dev", "prod"}
    assert {"dev", "prod", "local"} <= set(found)
    for name in ("dev", "prod"):
        assert all(m.provider != "local" for m in found[name].models)
    assert load_catalog(LOCAL_CATALOG).default == "smollm2-135m"


def test_the_local_catalog_offers_every_local_model_the_llama_server_runs() -> None:
    from tasks.local.model import DEFAULT_ALIAS, LOCAL_MODELS

    local = load_catalog(LOCAL_CATALOG)
    served = {m.model: m for m in local.models if m.server == "llama"}
    assert set(served) == {m.alias for m in LOCAL_MODELS}
    for model in LOCAL_MODELS:
        assert served[model.alias].context_window == model.context_window
    assert served[DEFAULT_ALIAS].id == local.default
