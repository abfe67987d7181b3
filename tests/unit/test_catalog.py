"""The model catalog (`parley.catalog`): validation with precise messages, who may use which
model, what a reply costs, and how the functions read it."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from parley.catalog import (
    MAX_AGE_SECONDS,
    Catalog,
    CatalogError,
    CatalogSource,
    ModelEntry,
    UnknownModel,
    catalog_from_json,
    load_catalog,
    parse_catalog,
)
from parley.errors import Forbidden, ServiceUnavailable
from parley.groups import groups_of
from parley.models import Usage

OPEN = {
    "id": "open",
    "label": "Open model",
    "provider": "openai",
    "model": "gpt-4o-mini",
    "context_window": 8192,
    "max_output_tokens": 1024,
    "vision": True,
    "price": {"input": 0.15, "output": 0.6},
}
BEDROCK = {
    "id": "claude",
    "label": "Claude",
    "provider": "bedrock",
    "model": "eu.anthropic.claude-3-haiku-20240307-v1:0",
    "context_window": 200000,
    "max_output_tokens": 1024,
    "price": {"input": 0.25, "output": 1.25},
}
AGENT = {
    "id": "agent",
    "label": "Agent",
    "provider": "bedrock-agent",
    "agent_id": "ABCDEFGHIJ",
    "agent_alias_id": "KLMNOPQRST",
    "context_window": 200000,
    "max_output_tokens": 1024,
    "price": {"input": 0, "output": 0},
}
STAFF = {**BEDROCK, "id": "staff", "model": "eu.anthropic.claude-3-5-sonnet", "groups": ["staff"]}


def data(*models: dict[str, Any], default: str = "open") -> dict[str, Any]:
    return {"version": 1, "default": default, "models": [copy.deepcopy(m) for m in models]}


def catalog(*models: dict[str, Any], default: str = "open") -> Catalog:
    return parse_catalog(data(*models, default=default))


def refusal(document: Any, *, deployed: bool = False) -> str:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(document, "models.yaml", deployed=deployed)
    return str(caught.value)


# -- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"price": {"input": -1, "output": 1}},
            "models.yaml: models[2].price.input: must be ≥ 0",
        ),
        (
            {"price": {"input": 1, "output": 0.0000001}},
            "models.yaml: models[2].price.output: at most 6 decimal places",
        ),
        ({"price": {"input": 1}}, "models.yaml: models[2].price.output: required field is missing"),
        (
            {"provider": "azure"},
            "models.yaml: models[2].provider: must be one of 'openai', 'bedrock', "
            "'bedrock-agent' or 'local'",
        ),
        (
            {
                "vision": True,
                "provider": "bedrock-agent",
                "model": None,
                **{"agent_id": "ABCDEFGHIJ", "agent_alias_id": "ABCDEFGHIJ"},
            },
            "models.yaml: models[2].vision: provider 'bedrock-agent' cannot pass images to a model",
        ),
        ({"model": None}, "models.yaml: models[2].model: required for provider 'openai'"),
        (
            {"agent_id": "ABCDEFGHIJ"},
            "models.yaml: models[2].agent_id: not used by provider 'openai'",
        ),
        ({"server": "scripted"}, "models.yaml: models[2].server: not used by provider 'openai'"),
        (
            {"max_output_tokens": 8192},
            "models.yaml: models[2].max_output_tokens: must be less than context_window (8192)",
        ),
        ({"context_window": 100}, "models.yaml: models[2].context_window: must be ≥ 512"),
        ({"id": "Has Spaces"}, "models.yaml: models[2].id: must match"),
        ({"label": ""}, "models.yaml: models[2].label: String should have at least 1 character"),
        ({"colour": "red"}, "models.yaml: models[2].colour: unknown field"),
        ({"groups": []}, "models.yaml: models[2].groups: must have at least 1 item(s)"),
        ({"api_key_parameter": "no-slash"}, "models.yaml: models[2].api_key_parameter: must match"),
        ({"base_url": "ftp://x"}, "models.yaml: models[2].base_url: must match"),
    ],
)
def test_a_bad_entry_fails_with_a_message_naming_its_field(
    change: dict[str, Any], message: str
) -> None:
    bad = {k: v for k, v in {**OPEN, "id": "third", **change}.items() if v is not None}
    document = data(OPEN, BEDROCK, bad)
    assert refusal(document).startswith(message)


def test_duplicate_ids_a_missing_default_and_a_limited_default_are_refused() -> None:
    assert refusal(data(OPEN, BEDROCK, {**BEDROCK})) == (
        "models.yaml: models[2].id: 'claude' is already models[1]"
    )
    assert refusal(data(OPEN, default="gone")) == (
        "models.yaml: default: 'gone' is not the id of a model in the list"
    )
    assert refusal(data(OPEN, STAFF, default="staff")) == (
        "models.yaml: default: 'staff' is limited to groups; the default must be open to everyone"
    )
    assert refusal(data(default="open")) == "models.yaml: models: must have at least 1 item(s)"
    assert refusal({"models": [OPEN]}) == "models.yaml: default: required field is missing"
    assert refusal({**data(OPEN), "version": 2}).startswith("models.yaml: version: must be one of")


def test_every_problem_is_named_on_its_own_line() -> None:
    lines = refusal(
        data({**OPEN, "price": {"input": -1, "output": -2}}, {**BEDROCK, "provider": "x"})
    ).splitlines()
    assert lines == [
        "models.yaml: models[0].price.input: must be ≥ 0",
        "models.yaml: models[0].price.output: must be ≥ 0",
        "models.yaml: models[1].provider: must be one of 'openai', 'bedrock', 'bedrock-agent' "
        "or 'local'",
    ]


def test_a_deployed_catalog_may_not_name_a_local_model() -> None:
    local = {**OPEN, "id": "here", "provider": "local", "server": "llama", "model": "x"}
    del local["vision"]
    assert catalog(OPEN, local).get("here") is not None  # the local stack's catalog may
    assert refusal(data(OPEN, local), deployed=True) == (
        "models.yaml: models[1].provider: 'local' runs only on the local stack"
    )
    assert refusal(data(OPEN, {**local, "server": None}))  # a local model names its server


def test_a_file_that_is_not_yaml_is_named(tmp_path: Any) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("models: [", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^models.yaml: cannot be read as YAML"):
        load_catalog(path)


# -- who may use a model ------------------------------------------------------------------------
def test_a_model_without_groups_is_everyones_and_one_with_groups_only_theirs() -> None:
    models = catalog(OPEN, STAFF, {**STAFF, "id": "two", "groups": ["a", "b"]})
    assert [m.id for m in models.usable([])] == ["open"]
    assert [m.id for m in models.usable(["staff"])] == ["open", "staff"]
    assert [m.id for m in models.usable(["b", "other"])] == ["open", "two"]
    assert [m.id for m in models.usable(["staff", "a"])] == ["open", "staff", "two"]
    assert [m.id for m in models.usable(["Staff", "staf"])] == ["open"]  # exact names only


def test_require_refuses_an_unknown_model_with_400_and_a_forbidden_one_with_403() -> None:
    models = catalog(OPEN, STAFF)
    assert models.require("open", []).id == "open"
    assert models.require("staff", ["staff"]).id == "staff"
    with pytest.raises(UnknownModel) as unknown:
        models.require("gpt-9", ["staff"])
    assert unknown.value.status == 400
    assert unknown.value.message == (
        "Unknown model 'gpt-9': GET /models lists the models you may use"
    )
    with pytest.raises(Forbidden) as forbidden:
        models.require("staff", ["other"])
    assert forbidden.value.status == 403
    assert forbidden.value.message == "You may not use the model 'staff'"
    with pytest.raises(UnknownModel) as long_id:
        models.require("x" * 100, [])
    assert long_id.value.message.startswith(f"Unknown model '{'x' * 64}…'")


def test_a_conversation_uses_its_model_else_the_default_and_the_asker_must_be_allowed() -> None:
    models = catalog(OPEN, STAFF)
    staff = models.for_conversation("staff")
    assert staff.id == "staff"
    assert models.for_conversation(None).id == "open"
    assert models.for_conversation("removed-since").id == "open"
    models.require_usable(staff, ["staff"])
    models.require_usable(models.default_model, [])
    with pytest.raises(Forbidden, match="You may not use the model 'staff' that answers here"):
        models.require_usable(staff, ["others"])


def test_the_groups_of_a_token() -> None:
    assert groups_of({"cognito:groups": ["staff", "admins"]}) == ["staff", "admins"]
    assert groups_of({"cognito:groups": "[staff, admins]"}) == ["staff", "admins"]
    assert groups_of({"cognito:groups": "staff admins"}) == ["staff", "admins"]
    assert groups_of({"cognito:groups": ["staff", 3, ""]}) == ["staff"]
    assert groups_of({"cognito:groups": 7}) == []
    assert groups_of({}) == []


# -- what a reply costs -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prices", "tokens", "cost"),
    [
        ((0.15, 0.6), (1_000, 500), Decimal("0.00045")),
        ((0.25, 1.25), (1_234_567, 89), Decimal("0.30875300")),
        ((3, 15), (0, 1), Decimal("0.000015")),
        ((3, 15), (1, 0), Decimal("0.000003")),
        ((0, 0), (10_000, 10_000), Decimal(0)),
        ((0.000001, 0), (1, 0), Decimal("1E-12")),
    ],
)
def test_the_cost_is_tokens_times_the_price_per_million_exactly(
    prices: tuple[float, float], tokens: tuple[int, int], cost: Decimal
) -> None:
    entry = catalog({**OPEN, "price": {"input": prices[0], "output": prices[1]}}).models[0]
    usage = Usage(input_tokens=tokens[0], output_tokens=tokens[1])
    assert entry.cost(usage) == cost


def test_a_model_budget_is_its_window_and_output_limit() -> None:
    entry: ModelEntry = catalog({**OPEN, "context_window": 4096, "max_output_tokens": 512}).models[
        0
    ]
    assert (entry.budget.window, entry.budget.max_output) == (4096, 512)


# -- the carrier --------------------------------------------------------------------------------
def test_the_json_carrier_round_trips_and_is_compact() -> None:
    models = catalog(OPEN, BEDROCK, AGENT, STAFF)
    text = models.to_json()
    assert " " not in text.replace("Open model", "").replace("Claude 3", "")
    assert catalog_from_json(text) == models
    assert models.bedrock_models() == [
        "eu.anthropic.claude-3-5-sonnet",
        "eu.anthropic.claude-3-haiku-20240307-v1:0",
    ]
    with pytest.raises(CatalogError, match=r"^CONFIG/MODELS: not JSON"):
        catalog_from_json("{")


def test_the_source_reads_once_per_max_age_and_keeps_the_last_good_catalog() -> None:
    stored: list[str | None] = [catalog(OPEN).to_json()]
    reads: list[int] = []
    now = [1000.0]

    def read() -> str | None:
        reads.append(1)
        return stored[0]

    source = CatalogSource(read, clock=lambda: now[0])
    first = source()
    assert first.default == "open"
    assert source() is first
    assert len(reads) == 1
    now[0] += MAX_AGE_SECONDS
    assert source() is first  # read again, the same text: not parsed again
    assert len(reads) == 2
    stored[0] = catalog(OPEN, BEDROCK, default="claude").to_json()
    now[0] += MAX_AGE_SECONDS - 1
    assert source().default == "open"  # not yet read again
    now[0] += 1
    assert source().default == "claude"
    assert len(reads) == 3
    stored[0] = "{broken"
    now[0] += MAX_AGE_SECONDS
    assert source().default == "claude"  # a bad item never replaces a good catalog
    stored[0] = None
    now[0] += MAX_AGE_SECONDS
    assert source().default == "claude"


def test_without_a_catalog_the_assistant_is_unavailable() -> None:
    with pytest.raises(ServiceUnavailable, match="no model catalog"):
        CatalogSource(lambda: None)()
    with pytest.raises(ServiceUnavailable, match="not configured correctly"):
        CatalogSource(lambda: "[]")()


# -- the exact words people and operators read ---------------------------------------------------
def test_the_refusals_and_the_operator_messages_are_exact(tmp_path: Any) -> None:
    models = catalog(OPEN, STAFF)
    with pytest.raises(Forbidden) as refused:
        models.require_usable(models.for_conversation("staff"), [])
    assert refused.value.message == (
        "You may not use the model 'staff' that answers here; ask the owner to choose another"
    )
    with pytest.raises(ServiceUnavailable) as missing:
        CatalogSource(lambda: None)()
    assert missing.value.message == "The assistant is not configured: no model catalog"
    with pytest.raises(ServiceUnavailable) as broken:
        CatalogSource(lambda: "{}")()
    assert broken.value.message == "The assistant is not configured correctly"
    with pytest.raises(CatalogError) as stored:
        catalog_from_json('{"models": []}')
    assert str(stored.value).splitlines()[0] == "CONFIG/MODELS: default: required field is missing"

    local = {**OPEN, "provider": "local", "server": "llama", "model": "x"}
    del local["vision"]
    two = data({**local, "id": "open"}, {**local, "id": "other"})
    assert refusal(two, deployed=True).splitlines() == [
        "models.yaml: models[0].provider: 'local' runs only on the local stack",
        "models.yaml: models[1].provider: 'local' runs only on the local stack",
    ]
    path = tmp_path / "models.yaml"
    path.write_text(json.dumps(two), encoding="utf-8")  # JSON is YAML too
    assert load_catalog(path).get("other") is not None
    with pytest.raises(CatalogError) as named:
        load_catalog(path, deployed=True, shown="terraform/envs/dev/models.yaml")
    assert str(named.value).startswith(
        "terraform/envs/dev/models.yaml: models[0].provider: 'local' runs only on the local stack"
    )
    with pytest.raises(CatalogError, match=r"^models.yaml: models\[0\].provider"):
        load_catalog(path, deployed=True)
    with pytest.raises(CatalogError, match=r"^elsewhere.yaml: cannot be read as YAML"):
        load_catalog(tmp_path / "missing.yaml", shown="elsewhere.yaml")


def test_the_stored_json_leaves_out_what_is_unset() -> None:
    text = catalog(OPEN, AGENT).to_json()
    assert "null" not in text
    assert json.loads(text)["models"][1] == {
        "agent_alias_id": "KLMNOPQRST",
        "agent_id": "ABCDEFGHIJ",
        "context_window": 200000,
        "id": "agent",
        "label": "Agent",
        "max_output_tokens": 1024,
        "price": {"input": "0", "output": "0"},
        "provider": "bedrock-agent",
        "vision": False,
    }
    assert text.startswith('{"default":"open","models":[{"context_window":8192,')


def test_a_document_that_is_no_catalog_at_all_and_the_longest_shown_id() -> None:
    assert refusal("just text") == (
        "models.yaml: Input should be a valid dictionary or instance of Catalog"
    )
    with pytest.raises(UnknownModel) as exact:
        catalog(OPEN).require("y" * 64, [])
    assert exact.value.message == (
        f"Unknown model '{'y' * 64}': GET /models lists the models you may use"
    )
