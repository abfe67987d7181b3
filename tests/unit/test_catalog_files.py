"""The repository's model catalogs: every environment's and the local stack's are valid, and the
local catalog offers exactly the models the llama.cpp server runs (`tasks/local/model.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

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


def test_invoke_build_fails_on_a_bad_catalog_naming_the_file_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoke.context import Context
    from invoke.exceptions import Exit

    import tasks.core.catalog as catalogs
    from tasks.build import build

    env = tmp_path / "envs" / "dev"
    env.mkdir(parents=True)
    good = yaml.safe_load((catalogs.ENVIRONMENTS_DIR / "dev" / "models.yaml").read_text())
    good["models"][0]["price"]["input"] = -1
    good["models"][1]["provider"] = "local"
    (env / "models.yaml").write_text(yaml.safe_dump(good), encoding="utf-8")
    monkeypatch.setattr(catalogs, "ENVIRONMENTS_DIR", tmp_path / "envs")
    with pytest.raises(Exit) as failed:
        build(Context(), frontend=False)
    message = str(failed.value.message)
    assert message.startswith("build failed: ")
    assert f"{env / 'models.yaml'}: models[0].price.input: must be ≥ 0" in message
    assert list((tmp_path).rglob("*.zip")) == []
