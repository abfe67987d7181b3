"""Contract tests that tie Terraform to the code.

Terraform derives functions, routes, tables and grants from functions/manifest.yaml and
functions/tables.yaml; these tests check (1) that the Terraform really is wired that way, and
(2) that the manifest and tables agree with what the code in functions/ reads and calls. Every
failure names the function, variable, table, route or action that broke.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pytest

from tasks.core.manifest import ROOT, EnvRef, Manifest, Ref, load_manifest
from tasks.infra import TERRAFORM_DIR, WILDCARD_RESOURCE_ACTIONS
from tests.infra.code_scan import reach
from tests.infra.hcl import Config

MANIFEST = load_manifest()
FUNCTION_NAMES = sorted(MANIFEST.functions)
ENVS = ("dev", "prod")
# Every environment root calls this one composition module; the wiring contracts are checked there.
COMPOSITION = "modules/parley"
# Refs whose value may legitimately be empty (the feature is off): no required setting may use one.
MAY_BE_EMPTY: set[str] = set()
if "bot_worker" not in MANIFEST.functions:  # modules/functions derives the name from the manifest
    MAY_BE_EMPTY.add("bot_worker_function_name")
MAY_BE_EMPTY.add("fanout_function_name")  # empty: big rooms are posted by the worker alone

# Modules of modules/parley that were added after it replaced the root modules (no moved block).
BORN_IN_THE_COMPOSITION = {"workflows", "domains", "catalog"}

# Code paths the static reading reaches that never run for that function; each with its reason.
# Reviewed by hand: the reading matches methods by name and follows every object a factory builds.
REACHED_NOT_CALLED: dict[tuple[str, str], str] = {
    ("ws_disconnect", "dynamodb:GetItem"): (
        "repository .get methods matched by name through dict.get; $disconnect deletes and queries"
    ),
    # Attachments (parley.attachments): a function holding the uploads bucket reaches every
    # method of UploadBucket and AttachmentRepository; each calls only its own part.
    ("stream_processor", "s3:GetObject"): "the clean-ups of files and snapshots only delete",
    ("bot_worker", "dynamodb:ConditionCheckItem"): "attachments are granted by chat_api only",
    ("upload_processor", "dynamodb:BatchGetItem"): "the processor reads one attachment (GetItem)",
    ("upload_processor", "dynamodb:DeleteItem"): "the processor settles, never deletes",
}


# ── helpers ──────────────────────────────────────────────────────────────────────────────────


@cache
def iam_actions() -> dict[str, set[str]]:
    """Every IAM action AWS defines, by service (cfn-lint's copy of the service reference)."""
    spec = importlib.util.find_spec("cfnlint")  # located, not imported: importing is slow
    assert spec is not None, "cfn-lint (a dev dependency) is not installed"
    assert spec.submodule_search_locations is not None
    package = Path(next(iter(spec.submodule_search_locations)))
    path = package / "data" / "AdditionalSpecs" / "Policies.json"
    data = json.loads(path.read_text())
    return {service: {a.lower() for a in spec.get("Actions", {})} for service, spec in data.items()}


def granted(function: str) -> dict[str, set[str]]:
    """Manifest grants of a function: action => resource references."""
    actions: dict[str, set[str]] = {}
    for permission in MANIFEST.functions[function].permissions:
        for action in permission.actions:
            actions.setdefault(action, set()).add(permission.resource)
    return actions


def env_root(tf: dict[str, Config], env: str) -> Config:
    return tf[f"envs/{env}"]


def composition(tf: dict[str, Config]) -> Config:
    """The module every environment calls (its module calls, locals and data sources)."""
    assert COMPOSITION in tf, f"{COMPOSITION}: the composition module is missing"
    return tf[COMPOSITION]


def strip(expression: Any) -> str:
    """An HCL expression without the ${ } wrapper."""
    text = str(expression)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


# ── functions ───────────────────────────────────────────────────────────────────────────────


def test_functions_module_deploys_one_function_per_manifest_entry(tf: dict[str, Config]) -> None:
    functions = tf["modules/functions"]
    assert strip(functions.locals["functions"]) == "module.manifest.functions", (
        "modules/functions: local.functions must be the manifest module's functions output"
    )
    assert functions.modules["manifest"]["source"] == "../manifest"
    for kind in ("aws_lambda_function", "aws_iam_role", "aws_iam_role_policy",
                 "aws_cloudwatch_log_group"):  # fmt: skip
        for_each = functions.resource(kind)["for_each"]
        assert strip(for_each) == "local.functions", (
            f"modules/functions: {kind}.this must have one instance per manifest function "
            f"(for_each = local.functions), not {for_each!r}"
        )
    lambda_fn = functions.resource("aws_lambda_function")
    wiring = {
        "handler": "each.value.handler",
        "runtime": "each.value.runtime",
        "memory_size": "each.value.memory",
        "timeout": "each.value.timeout",
        "reserved_concurrent_executions": "local.reserved_concurrency[each.key]",
        "s3_key": 'var.release.artifacts["function:${each.key}"].s3_key',
        "source_code_hash": 'var.release.artifacts["function:${each.key}"].sha256_base64',
    }
    for attribute, expected in wiring.items():
        assert strip(lambda_fn.get(attribute)) == expected, (
            f"modules/functions: aws_lambda_function.this.{attribute} must be {expected} "
            f"(got {lambda_fn.get(attribute)!r})"
        )
    assert strip(lambda_fn["architectures"][0]) == "each.value.architecture"
    reserved = re.sub(r"\s+", " ", str(functions.locals["reserved_concurrency"]))
    assert "for name, f in local.functions" in reserved, reserved
    assert "lookup(var.reserved_concurrency, name, f.reserved_concurrency)" in reserved, (
        "modules/functions: each function's reservation is the environment's override, else the "
        f"manifest's (got {reserved})"
    )
    tracing = lambda_fn["tracing_config"][0]["mode"]
    assert tracing == '${each.value.tracing ? "Active" : "PassThrough"}', tracing


def test_composition_reads_the_repository_manifest(tf: dict[str, Config]) -> None:
    config = composition(tf)
    base = TERRAFORM_DIR / COMPOSITION
    for local, target in (("manifest_path", "functions/manifest.yaml"),
                          ("tables_path", "functions/tables.yaml")):  # fmt: skip
        expression = config.locals[local].replace("${local.repo_root}", config.locals["repo_root"])
        path = (base / expression.replace("${path.module}/", "")).resolve()
        assert path == (ROOT / target).resolve(), f"{COMPOSITION}: local.{local} points at {path}"
    for module in ("functions", "http_api", "websocket_api"):
        call = config.modules[module]
        assert strip(call["manifest_path"]) == "local.manifest_path", (
            f"{COMPOSITION}: module.{module} must read functions/manifest.yaml "
            "(local.manifest_path)"
        )
    assert strip(config.modules["data"]["tables"]) == "module.manifest.tables", (
        f"{COMPOSITION}: module.data must create the tables of functions/tables.yaml"
    )


# ── environment variables ────────────────────────────────────────────────────────────────────


def test_lambda_environment_is_the_manifests(tf: dict[str, Config]) -> None:
    variables = tf["modules/functions"].resource("aws_lambda_function")["environment"][0][
        "variables"
    ]
    text = re.sub(r"\s+", " ", str(variables))
    assert "each.value.environment" in text, "literal manifest environment is not set"
    assert "for name, ref in each.value.env_refs : name => local.refs[ref]" in text, (
        "modules/functions: manifest env refs ({ref: x}) are not resolved from local.refs"
    )


def terraform_ref_names(tf: dict[str, Config]) -> set[str]:
    """The refs the functions module can resolve: its `refs` variable plus what it derives."""
    functions = tf["modules/functions"]
    declared = set(
        re.findall(r"(\w+)\s*=\s*(?:optional\()?string", functions.variables["refs"]["type"])
    )
    derived = set(re.findall(r"(\w+)\s*=", str(functions.locals["refs"]).split("var.refs", 1)[1]))
    return declared | derived


def test_every_manifest_ref_can_be_resolved_by_terraform(tf: dict[str, Config]) -> None:
    resolvable = terraform_ref_names(tf)
    closed_list = set(get_args(EnvRef))
    missing = closed_list - resolvable
    assert not missing, (
        f"modules/functions cannot resolve env refs {sorted(missing)} "
        "(add them to variable refs or local.refs)"
    )


def test_composition_gives_every_ref_a_value(tf: dict[str, Config]) -> None:
    refs = composition(tf).modules["functions"]["refs"]
    given = set(refs) if isinstance(refs, dict) else set()
    declared = set(
        re.findall(r"(\w+)\s*=\s*string", tf["modules/functions"].variables["refs"]["type"])
    )
    missing = declared - given
    users = {
        ref: sorted(
            f"{f.name} ({name})"
            for f in MANIFEST.functions.values()
            for name, value in f.environment.items()
            if isinstance(value, Ref) and value.ref == ref
        )
        for ref in missing
    }
    assert not missing, f"{COMPOSITION}: module.functions refs lacks " + "; ".join(
        f"{ref}, used by {', '.join(users[ref]) or 'no function yet'}" for ref in sorted(missing)
    )


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_settings_the_handler_requires_are_set(function: str) -> None:
    fn = MANIFEST.functions[function]
    settings = reach(fn.handler).settings
    set_by_terraform = dict(fn.environment.items())
    problems = []
    for module_name, class_name in sorted(settings):
        if (function, class_name) in REACHED_NOT_CALLED:
            continue
        model = getattr(importlib.import_module(module_name), class_name)
        for field, info in model.model_fields.items():
            if not info.is_required():
                continue
            variable = field.upper()
            value = set_by_terraform.get(variable)
            if value is None:
                problems.append(f"{class_name} requires {variable}, which Terraform does not set")
            elif isinstance(value, Ref) and value.ref in MAY_BE_EMPTY:
                problems.append(
                    f"{class_name} requires {variable}, but ref {value.ref} may be empty"
                )
    assert settings or not fn.environment, f"{function}: no settings model found from {fn.handler}"
    assert not problems, (
        f"function {function}: "
        + "; ".join(problems)
        + (" (functions/manifest.yaml environment → Terraform sets exactly those)")
    )


# ── routes ──────────────────────────────────────────────────────────────────────────────────


def test_every_http_route_is_a_gateway_route(tf: dict[str, Config], manifest_outputs: Any) -> None:
    http = tf["modules/http_api"]
    assert strip(http.locals["routes"]) == "module.manifest.http_routes"
    route = http.resource("aws_apigatewayv2_route")
    assert strip(route["for_each"]) == "local.routes"
    assert strip(route["route_key"]) == "each.key"
    assert route["authorization_type"] == '${each.value.auth == "none" ? "NONE" : "JWT"}'
    assert "aws_apigatewayv2_authorizer.cognito.id" in route["authorizer_id"]
    expected = {r.route for r, _ in MANIFEST.http_routes()}
    assert set(manifest_outputs["http_routes"]) == expected, "manifest module lost HTTP routes"
    integration = http.resource("aws_apigatewayv2_integration")
    assert integration["payload_format_version"] == "2.0"
    assert strip(integration["integration_uri"]) == "var.functions[each.key].invoke_arn"


def test_only_post_chat_and_shared_pages_go_without_the_gateway_authorizer(
    manifest_outputs: Any,
) -> None:
    open_routes = {k for k, v in manifest_outputs["http_routes"].items() if v["auth"] == "none"}
    assert open_routes == {"POST /chat", "GET /shared/{shareId}"}, (
        f"routes without the JWT authorizer: {sorted(open_routes)}; only POST /chat (verifies "
        "its own token) and GET /shared/{shareId} (the public shared page) may"
    )


def test_the_public_shared_page_runs_alone_with_read_only_permissions() -> None:
    """`GET /shared/{shareId}` is its own function, whose role reads share items and snapshot
    objects only: the unauthenticated surface reaches nothing else."""
    functions = [n for n, f in MANIFEST.functions.items()
                 if any(r.route == "GET /shared/{shareId}" for r in f.triggers.http)]  # fmt: skip
    assert functions == ["share_api"]
    share_api = MANIFEST.functions["share_api"]
    assert [r.route for r in share_api.triggers.http] == ["GET /shared/{shareId}"]
    grants = sorted(
        (p.resource, tuple(p.actions), tuple(p.leading_keys or ())) for p in share_api.permissions
    )
    assert grants == [
        ("bucket:shares", ("s3:GetObject",), ()),
        ("table:chat", ("dynamodb:GetItem",), ("SHARE#*",)),
    ]


def test_share_snapshots_are_a_prefix_of_the_exports_bucket(tf: dict[str, Config]) -> None:
    """`bucket:shares` is `shares/*` of the exports bucket, outside the exports' lifecycle rule
    (`exports/`), so snapshots live as long as their links."""
    iam = (ROOT / "terraform" / "modules" / "functions" / "iam.tf").read_text()
    grant = r'"bucket:shares"\s*=\s*var\.exports_bucket_arn == null \? \[\] : '
    assert re.search(grant + re.escape('["${var.exports_bucket_arn}/shares/*"]'), iam)
    workflows = (ROOT / "terraform" / "modules" / "workflows" / "main.tf").read_text()
    assert 'prefix = "exports/"' in workflows


def test_local_gateway_route_throttles_match_terraform(tf: dict[str, Config]) -> None:
    from tasks.local.gateway.settings import ROUTE_THROTTLES

    throttles = composition(tf).variables["http_route_throttles"]["default"]
    for route, limit in ROUTE_THROTTLES.items():
        assert throttles[route] == {"rate_limit": limit.rate, "burst_limit": limit.burst}, route


# Routes that call the model or write for other people: each gets a limit below the stage's.
EXPENSIVE_HTTP_ROUTES = {"POST /conversations", "POST /conversations/{id}/messages",
                         "POST /conversations/{id}/members"}  # fmt: skip
EXPENSIVE_WEBSOCKET_ROUTES = {"$connect", "sendMessage"}


@pytest.mark.parametrize(
    ("module", "variable", "routes", "must_have"),
    [
        ("http_api", "http_route_throttles", {r.route for r, _ in MANIFEST.http_routes()},
         EXPENSIVE_HTTP_ROUTES | {r.route for r, _ in MANIFEST.http_routes() if r.auth == "none"}),
        ("websocket_api", "websocket_route_throttles", set(MANIFEST.websocket_routes()),
         EXPENSIVE_WEBSOCKET_ROUTES),
    ],
)  # fmt: skip
def test_open_and_expensive_routes_have_their_own_throttles(
    tf: dict[str, Config], module: str, variable: str, routes: set[str], must_have: set[str]
) -> None:
    api = tf[f"modules/{module}"]
    stage = api.resource("aws_apigatewayv2_stage")
    stage_rate = api.variables["throttling_rate_limit"]["default"]
    stage_burst = api.variables["throttling_burst_limit"]["default"]
    throttles = composition(tf).variables[variable]["default"]
    missing = sorted(must_have - set(throttles))
    assert not missing, f"{COMPOSITION}: {variable} has no throttle for {missing}"
    unknown = sorted(set(throttles) - routes)
    assert not unknown, f"{COMPOSITION}: {variable} names routes the manifest lacks: {unknown}"
    for route, limits in throttles.items():
        assert 0 < limits["rate_limit"] < stage_rate, f"{route}: {limits} is not below the stage's"
        assert 1 <= limits["burst_limit"] < stage_burst, f"{route}: {limits}"
    call = composition(tf).modules[module]
    assert strip(call["route_throttles"]) == f"var.{variable}", (
        f"{COMPOSITION}: module.{module} must get route_throttles = var.{variable}"
    )
    dynamic = next(b["route_settings"] for b in stage["dynamic"] if "route_settings" in b)
    assert strip(dynamic["for_each"]) == "var.route_throttles"
    content = dynamic["content"][0]
    assert strip(content["route_key"]) == "route_settings.key"
    assert strip(content["throttling_rate_limit"]) == "route_settings.value.rate_limit"
    assert strip(content["throttling_burst_limit"]) == "route_settings.value.burst_limit"
    assert "aws_apigatewayv2_route.this" in str(stage["depends_on"]), (
        f"modules/{module}: route settings need their routes to exist first (depends_on)"
    )


def test_deploy_doc_states_the_route_throttles(tf: dict[str, Config]) -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    for variable in ("http_route_throttles", "websocket_route_throttles"):
        for route, limits in composition(tf).variables[variable]["default"].items():
            row = re.search(rf"\| `{re.escape(route)}` \| (\d+) \| (\d+) \|", doc)
            assert row, f"docs/deploy.md: no row for {route} in the Limits table"
            assert (int(row[1]), int(row[2])) == (limits["rate_limit"], limits["burst_limit"]), (
                f"docs/deploy.md: {route} is {row[1]}/s burst {row[2]}, Terraform says {limits}"
            )


def test_every_websocket_route_is_a_gateway_route(tf: dict[str, Config]) -> None:
    ws = tf["modules/websocket_api"]
    api = ws.resource("aws_apigatewayv2_api")
    assert api["protocol_type"] == "WEBSOCKET"
    assert api["route_selection_expression"] == "$request.body.action"
    assert strip(ws.locals["routes"]) == "module.manifest.websocket_routes"
    assert strip(ws.locals["authorizer"]) == "module.manifest.authorizer_function"
    route = ws.resource("aws_apigatewayv2_route")
    assert strip(route["for_each"]) == "local.routes"
    assert route["authorization_type"] == '${each.key == "$connect" ? "CUSTOM" : "NONE"}'
    authorizer = ws.resource("aws_apigatewayv2_authorizer")
    assert authorizer["authorizer_type"] == "REQUEST"
    assert authorizer["identity_sources"] == ["route.request.header.Sec-WebSocket-Protocol"], (
        "the token travels in Sec-WebSocket-Protocol, never in the URL"
    )
    settings = ws.resource("aws_apigatewayv2_stage")["default_route_settings"][0]
    assert settings["data_trace_enabled"] is False, "WebSocket data tracing would log tokens"
    assert "throttling_rate_limit" in settings
    assert "throttling_burst_limit" in settings


def test_websocket_connect_has_an_authorizer_in_the_manifest() -> None:
    routes = MANIFEST.websocket_routes()
    authorizers = [f.name for f in MANIFEST.functions.values() if f.triggers.authorizer]
    if "$connect" in routes:
        assert len(authorizers) == 1, f"$connect needs exactly one authorizer, got {authorizers}"


# ── tables ───────────────────────────────────────────────────────────────────────────────────


def test_data_module_builds_tables_from_tables_yaml(tf: dict[str, Config]) -> None:
    table = tf["modules/data"].resource("aws_dynamodb_table")
    wiring = {
        "for_each": "var.tables",
        "hash_key": "each.value.hash_key",
        "range_key": "each.value.range_key",
        "billing_mode": "PAY_PER_REQUEST",
        "deletion_protection_enabled": "var.deletion_protection",
    }
    for attribute, expected in wiring.items():
        assert strip(table[attribute]) == expected, (
            f"modules/data: {attribute} is {table[attribute]!r}"
        )
    dynamic = {name for block in table["dynamic"] for name in block}
    assert dynamic == {"attribute", "global_secondary_index", "ttl"}, dynamic
    gsi = next(
        b["global_secondary_index"] for b in table["dynamic"] if "global_secondary_index" in b
    )
    assert strip(gsi["for_each"]) == "each.value.global_secondary_indexes"
    content = gsi["content"][0]
    assert strip(content["name"]) == "global_secondary_index.value.name", (
        "GSI names must come from functions/tables.yaml"
    )
    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["enabled"] is True


def test_indexes_the_code_queries_exist(tables: dict[str, Any]) -> None:
    indexes = {
        index: table
        for table, spec in tables.items()
        for index in (spec.get("global_secondary_indexes") or {})
    }
    for function in FUNCTION_NAMES:
        for index, where in reach(MANIFEST.functions[function].handler).indexes.items():
            assert index in indexes, (
                f"{function}: the code queries index {index} ({', '.join(sorted(where))}), "
                f"which functions/tables.yaml does not define (has {sorted(indexes)})"
            )
            resource = f"index:{indexes[index]}/{index}"
            assert "dynamodb:Query" in granted(function), f"{function} may not query"
            assert resource in granted(function)["dynamodb:Query"], (
                f"{function}: the code queries {index} but the manifest grants no dynamodb:Query "
                f"on {resource}"
            )


def test_key_attributes_the_repositories_use_exist(tables: dict[str, Any]) -> None:
    key_names = {
        name
        for spec in tables.values()
        for name in [spec["hash_key"], spec.get("range_key")]
        + [
            k
            for g in (spec.get("global_secondary_indexes") or {}).values()
            for k in (g["hash_key"], g.get("range_key"))
        ]
        if name
    }
    store = ROOT / "functions" / "parley" / "store"
    used = {
        (match, path.name)
        for path in sorted(store.glob("*.py"))
        for match in re.findall(r"[\"'](gsi\d+(?:pk|sk))[\"']", path.read_text())
    }
    assert used, "no GSI key attributes found in functions/parley/store"
    unknown = sorted(f"{name} ({where})" for name, where in used if name not in key_names)
    assert not unknown, f"the repositories write GSI keys that no index reads: {unknown}"


def test_ttl_attribute_matches_the_connections_store(tables: dict[str, Any]) -> None:
    ttl = tables["connections"].get("ttl_attribute")
    source = (ROOT / "functions" / "parley" / "store" / "connections.py").read_text()
    assert ttl, "connections table has no TTL attribute"
    assert f'"{ttl}"' in source, (
        f"functions/tables.yaml: connections TTL attribute {ttl!r} is not what "
        "parley/store/connections.py writes"
    )


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_manifest_resources_name_real_tables_and_indexes(
    function: str, tables: dict[str, Any]
) -> None:
    for permission in MANIFEST.functions[function].permissions:
        kind, _, target = permission.resource.partition(":")
        if kind == "table":
            assert target in tables, f"{function}: permission on unknown table {target!r}"
        elif kind == "index":
            table, index = target.split("/", 1)
            assert index in (tables[table].get("global_secondary_indexes") or {}), (
                f"{function}: permission on index {target!r}, which functions/tables.yaml does not "
                f"define (GSIs of {table}: {sorted(tables[table].get('global_secondary_indexes') or {})})"  # noqa: E501
            )


# ── IAM ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_manifest_actions_are_real_and_scoped(function: str) -> None:
    known = iam_actions()
    for permission in MANIFEST.functions[function].permissions:
        for action in permission.actions:
            service, _, name = action.partition(":")
            assert "*" not in action, f"{function}: wildcard action {action}"
            assert name.lower() in known.get(service, set()), (
                f"function {function}: {action} is not an IAM action AWS defines "
                f"(resource {permission.resource})"
            )
        if permission.resource == "*":
            extra = set(permission.actions) - WILDCARD_RESOURCE_ACTIONS
            assert not extra, f"{function}: {sorted(extra)} on resource '*' (AWS can scope them)"


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_role_covers_what_the_code_calls(function: str) -> None:
    needed = reach(MANIFEST.functions[function].handler).actions()
    grants = granted(function)
    missing = {
        action: where
        for action, where in needed.items()
        if action not in grants and (function, action) not in REACHED_NOT_CALLED
    }
    assert not missing, f"function {function}: the code calls actions its role lacks: " + "; ".join(
        f"{action} at {', '.join(sorted(where)[:3])}" for action, where in sorted(missing.items())
    )


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_role_grants_nothing_the_code_does_not_call(function: str) -> None:
    needed = reach(MANIFEST.functions[function].handler).actions()
    unused = sorted(set(granted(function)) - set(needed))
    assert not unused, (
        f"function {function}: functions/manifest.yaml grants {unused}, which no code reachable "
        f"from {MANIFEST.functions[function].handler} calls"
    )


def test_terraform_resolves_every_permission_resource(tf: dict[str, Config]) -> None:
    arns = str(tf["modules/functions"].locals["resource_arns"])
    keys = set(re.findall(r'"([a-z]+:[a-z_]+|\*)"\s*=', arns))
    patterns = {
        "table": '"table:${table}"',
        "function": '"function:${name}"',
        "index": "local.index_refs",
    }
    for function in FUNCTION_NAMES:
        for permission in MANIFEST.functions[function].permissions:
            kind = permission.resource.partition(":")[0]
            if kind in patterns:
                assert patterns[kind] in arns, f"modules/functions cannot resolve {kind}: resources"
            else:
                assert permission.resource in keys, (
                    f"function {function}: modules/functions/iam.tf has no ARN for resource "
                    f"{permission.resource!r} (local.resource_arns)"
                )
    assert "/index/" in arns, "index:<t>/<i> must resolve to <table arn>/index/<i>"
    assert "/@connections/*" in arns, "websocket:manage must be scoped to the stage's @connections"


def test_terraform_policies_are_the_manifests_and_nothing_wider(tf: dict[str, Config]) -> None:
    functions = tf["modules/functions"]
    text = re.sub(r"\s+", " ", functions.sources["iam.tf"])
    assert "Action = p.actions" in text, (
        "modules/functions/iam.tf: manifest statements must grant exactly the manifest's actions "
        "(Action = p.actions)"
    )
    assert "Resource = local.resource_arns[p.resource]" in text, (
        "modules/functions/iam.tf: manifest statements must be scoped to the resolved resource "
        "(Resource = local.resource_arns[p.resource])"
    )
    star_statements = re.findall(
        r'Sid = "(\w+)" Effect = "Allow" Action = (\[[^\]]*\]) Resource = \["\*"\]', text
    )
    assert star_statements == [
        ("SendTraces", '["xray:PutTraceSegments", "xray:PutTelemetryRecords"]')
    ], f"a '*' resource appears outside the X-Ray statement: {star_statements}"
    policy = functions.resource("aws_iam_role_policy")
    conditions = " ".join(p["condition"] for p in policy["lifecycle"][0]["precondition"])
    assert "wildcard_resource_actions" in conditions, "no precondition guards '*' resources"


# ── authentication ───────────────────────────────────────────────────────────────────────────


def test_authorizer_and_code_agree_on_issuer_and_client(tf: dict[str, Config]) -> None:
    from parley.config import AuthSettings

    http = tf["modules/http_api"]
    authorizer = http.resource("aws_apigatewayv2_authorizer", "cognito")
    assert authorizer["authorizer_type"] == "JWT"
    assert authorizer["identity_sources"] == ["$request.header.Authorization"]
    jwt = authorizer["jwt_configuration"][0]
    assert strip(jwt["issuer"]) == "local.issuer"
    assert [strip(a) for a in jwt["audience"]] == ["var.user_pool_client_id"], (
        "the authorizer's audience must be the app client id the functions get"
    )
    region, pool = "eu-west-1", "eu-west-1_AbCdEf123"
    issuer = (
        http.locals["issuer"]
        .replace("${data.aws_region.current.name}", region)
        .replace("${var.user_pool_id}", pool)
    )
    code = AuthSettings(cognito_user_pool_id=pool, cognito_client_id="client", aws_region=region)
    assert issuer == code.issuer, f"HTTP API authorizer issuer {issuer} ≠ parley.auth {code.issuer}"
    auth = tf["modules/auth"]
    jwks = (
        strip(auth.outputs["jwks_url"]["value"])
        .replace("${data.aws_region.current.name}", region)
        .replace("${aws_cognito_user_pool.this.id}", pool)
    )
    assert jwks == code.jwks_url, (
        f"auth module jwks_url {jwks} ≠ parley.auth default {code.jwks_url}"
    )
    config = composition(tf)
    refs, http_call = config.modules["functions"]["refs"], config.modules["http_api"]
    assert (
        strip(refs.get("user_pool_id", ""))
        == strip(http_call.get("user_pool_id", ""))
        == "module.auth.user_pool_id"
    ), f"{COMPOSITION}: functions and authorizer must trust the same pool"
    assert (
        strip(refs.get("user_pool_client_id", ""))
        == strip(http_call.get("user_pool_client_id", ""))
        == "module.auth.user_pool_client_id"
    ), f"{COMPOSITION}: functions and authorizer must accept the same client id"
    assert strip(refs.get("jwks_url", "")) == "module.auth.jwks_url", (
        f"{COMPOSITION}: functions must fetch the keys of the pool the authorizer trusts"
    )


# ── logs ─────────────────────────────────────────────────────────────────────────────────────


def test_log_retention_is_set_everywhere(tf: dict[str, Config]) -> None:
    groups = [
        (path, name, body)
        for path, config in tf.items()
        for name, body in config.resources.get("aws_cloudwatch_log_group", {}).items()
    ]
    assert len(groups) >= 3
    for path, name, body in groups:
        assert body.get("retention_in_days") not in (None, 0), (
            f"{path}: aws_cloudwatch_log_group.{name} has no retention_in_days"
        )
    lambda_fn = tf["modules/functions"].resource("aws_lambda_function")
    assert strip(lambda_fn["logging_config"][0]["log_group"]) == (
        "aws_cloudwatch_log_group.this[each.key].name"
    ), "functions must log to the log group Terraform creates with retention"
    for module in ("http_api", "websocket_api"):
        stage = tf[f"modules/{module}"].resource("aws_apigatewayv2_stage")
        assert "aws_cloudwatch_log_group.access.arn" in str(stage["access_log_settings"]), (
            f"modules/{module}: stage access logs must go to the retained log group"
        )
    assert MANIFEST.defaults.log_retention_days > 0


# ── environments and modules ─────────────────────────────────────────────────────────────────


def test_environments_share_wiring_but_not_state(tf: dict[str, Config]) -> None:
    dev, prod = (TERRAFORM_DIR / "envs" / env for env in ENVS)
    for name in ("main.tf", "variables.tf", "outputs.tf"):
        assert (dev / name).read_text() == (prod / name).read_text(), (
            f"envs/dev/{name} and envs/prod/{name} differ: put differences in terraform.tfvars"
        )
    keys, accounts = set(), []
    for env in ENVS:
        config = env_root(tf, env)
        backend = config.terraform[0]["backend"][0]["s3"]
        assert backend["use_lockfile"] is True, f"envs/{env}: backend s3 needs use_lockfile = true"
        assert backend["encrypt"] is True
        assert env in backend["key"], f"envs/{env}: state key {backend['key']} is not per env"
        keys.add((backend["bucket"], backend["key"]))
        for name in ("aws", "aws.us_east_1"):
            provider = config.providers.get(name)
            assert provider is not None, f"envs/{env}: no provider {name}"
            assert strip(provider["allowed_account_ids"]) == "var.allowed_account_ids", (
                f"envs/{env}: provider {name} may touch other accounts"
            )
            assert strip(provider["default_tags"][0]["tags"]) == "local.default_tags", (
                f"envs/{env}: provider {name} tags differently"
            )
        assert config.providers["aws.us_east_1"]["region"] == "us-east-1"
        aws = config.terraform[0]["required_providers"][0]["aws"]
        assert aws["source"] == "hashicorp/aws"
        assert aws["version"].startswith("~>"), f"envs/{env}: pin the aws provider (~>)"
        tfvars = (TERRAFORM_DIR / "envs" / env / "terraform.tfvars").read_text()
        assert re.search(rf'^environment\s*=\s*"{env}"', tfvars, re.M), f"envs/{env}: environment"
        secret = re.search(
            r"^\s*\w*(secret|password|api_key|access_key|private_key|token)\s*=",
            tfvars,
            re.M | re.I,
        )
        assert secret is None, f"envs/{env}/terraform.tfvars sets a secret: {secret.group(0)}"
        accounts.append(re.search(r"allowed_account_ids\s*=\s*\[([^\]]*)\]", tfvars).group(1))  # type: ignore[union-attr]
    assert len(keys) == 2, "dev and prod share a state location"
    assert accounts[0] != accounts[1], "dev and prod allow the same account"
    prod_vars = (prod / "terraform.tfvars").read_text()
    assert re.search(r"^deletion_protection\s*=\s*true", prod_vars, re.M), "prod must protect data"


@pytest.mark.parametrize("env", ENVS)
def test_environment_is_a_thin_root_over_the_composition(tf: dict[str, Config], env: str) -> None:
    root, parley = env_root(tf, env), composition(tf)
    where = f"envs/{env}"
    assert set(root.modules) == {"parley"}, (
        f"{where}: calls {sorted(root.modules)}; an environment calls only module.parley "
        f"({COMPOSITION}), which composes the rest"
    )
    assert not root.resources, f"{where}: declares resources {sorted(root.resources)}"
    assert not root.data, f"{where}: declares data sources {sorted(root.data)}"
    call = root.modules["parley"]
    assert call["source"] == f"../../{COMPOSITION}", f"{where}: module.parley source"
    for name, variable in parley.variables.items():
        passed = strip(call.get(name, ""))
        assert passed == f"var.{name}", (
            f"{where}: module.parley must get {name} = var.{name} (got {passed or 'nothing'})"
        )
        declared = root.variables.get(name)
        assert declared is not None, f"{where}: variable {name} (an input of {COMPOSITION})"
        assert declared["type"] == variable["type"], (
            f"{where}: variable {name} is {declared['type']}, "
            f"{COMPOSITION} takes {variable['type']}"
        )
        assert declared.get("default", "required") == variable.get("default", "required"), (
            f"{where}: variable {name} defaults differently from {COMPOSITION}"
        )
    # The composition's us-east-1 resources (the app's certificate) use the aliased provider.
    providers = {strip(k): strip(v) for k, v in call.get("providers", {}).items()}
    assert providers == {"aws": "aws", "aws.us_east_1": "aws.us_east_1"}, (
        f"{where}: module.parley must get both providers (got {providers})"
    )
    unknown = set(call) - set(parley.variables) - {"source", "providers"}
    assert not unknown, f"{where}: module.parley gets {sorted(unknown)}, which it does not take"
    unused = set(root.variables) - set(parley.variables) - {"region", "allowed_account_ids"}
    assert not unused, f"{where}: variables {sorted(unused)} reach nothing"
    assert set(root.outputs) == set(parley.outputs), (
        f"{where}: outputs differ from {COMPOSITION}'s "
        f"(missing {sorted(set(parley.outputs) - set(root.outputs))}, "
        f"extra {sorted(set(root.outputs) - set(parley.outputs))})"
    )
    for name, output in root.outputs.items():
        assert strip(output["value"]) == f"module.parley.{name}", (
            f"{where}: output {name} must re-export module.parley.{name}"
        )
    # State written before the composition existed keeps its resources: module.X moved.
    # Modules added to the composition later never lived at the root: nothing to move.
    moved = {strip(m["from"]): strip(m["to"]) for m in root.moved}
    for module in set(parley.modules) - BORN_IN_THE_COMPOSITION:
        assert moved.get(f"module.{module}") == f"module.parley.module.{module}", (
            f"{where}: no moved block from module.{module} to module.parley.module.{module}: "
            "an existing state would destroy and recreate it"
        )


# Modules that only compute values (no provider, no resources).
PROVIDERLESS = {
    "modules/manifest",
    "modules/catalog",
    "modules/deploy_policies",
    "tests/release_record",
}


def test_modules_are_typed_and_described(tf: dict[str, Config]) -> None:
    for path, config in tf.items():
        files = set(config.sources)
        assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf"} <= files, (
            f"{path}: needs main.tf, variables.tf, outputs.tf and versions.tf (has {sorted(files)})"
        )
        for name, variable in config.variables.items():
            assert variable.get("description"), f"{path}: variable {name} has no description"
            assert variable.get("type"), f"{path}: variable {name} has no type"
            assert "any" not in re.findall(r"\b\w+\b", str(variable["type"])), (
                f"{path}: variable {name} is typed 'any'"
            )
        for name, output in config.outputs.items():
            assert output.get("description"), f"{path}: output {name} has no description"
        terraform = config.terraform[0]
        assert terraform.get("required_version"), f"{path}: no required_version"
        if path not in PROVIDERLESS:
            aws = terraform["required_providers"][0]["aws"]
            assert aws["source"] == "hashicorp/aws"
            assert aws["version"], f"{path}: aws provider not pinned"
        assert "timestamp()" not in config.text(), f"{path}: rebuilds must key on content hashes"


def test_function_names_are_stable() -> None:
    # Terraform keys every function resource by manifest name; renaming one replaces it.
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in FUNCTION_NAMES)
    assert isinstance(MANIFEST, Manifest)


def test_module_readmes_list_every_input_and_output(tf: dict[str, Config]) -> None:
    for path, config in tf.items():
        if not path.startswith("modules/"):
            continue
        readme = TERRAFORM_DIR / path / "README.md"
        assert readme.exists(), f"{path}: no README.md"
        text = readme.read_text()
        missing = [f"`{n}`" for n in [*config.variables, *config.outputs] if f"`{n}`" not in text]
        assert not missing, f"{path}/README.md does not document {', '.join(missing)}"


# ── observability ────────────────────────────────────────────────────────────────────────────


def _emitted_metrics() -> set[str]:
    """Metric names the code records with Powertools (`add_metric(name=...)` or positionally)."""
    names: set[str] = set()
    for path in (ROOT / "functions").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"add_metric\(\s*(?:name=)?[\"']([A-Za-z0-9_]+)[\"']", text))
    return names


def test_dashboard_shows_metrics_the_code_emits(tf: dict[str, Config]) -> None:
    dashboard = tf["modules/observability"].locals["app_metric_names"]
    shown = {line[0] for lines in dashboard.values() for line in lines}
    emitted = _emitted_metrics()
    assert emitted, "no add_metric calls found under functions/"
    missing = sorted(shown - emitted)
    assert not missing, (
        f"modules/observability dashboard shows {missing}, which no code emits "
        f"(emitted: {sorted(emitted)})"
    )


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_metrics_namespace_reaches_functions_that_record_metrics(
    function: str, tf: dict[str, Config]
) -> None:
    package = ROOT / "functions" / MANIFEST.functions[function].package
    sources = "\n".join(p.read_text() for p in package.rglob("*.py"))
    settings = reach(MANIFEST.functions[function].handler)
    records = "Metrics()" in sources or any(
        module == "parley.realtime.metrics" for module, _ in settings.nodes
    )
    if not records:
        return
    namespace = MANIFEST.functions[function].environment.get("POWERTOOLS_METRICS_NAMESPACE")
    expected = tf["modules/observability"].variables["metrics_namespace"]["default"]
    if "Metrics()" in sources:
        assert namespace == expected, (
            f"function {function} records metrics with Metrics() but its environment sets "
            f"POWERTOOLS_METRICS_NAMESPACE={namespace!r} (the dashboard reads {expected!r})"
        )
    elif namespace is not None:
        assert namespace == expected, f"{function}: namespace {namespace!r} ≠ {expected!r}"


def test_reached_not_called_entries_are_still_needed() -> None:
    stale = []
    for (function, item), _reason in REACHED_NOT_CALLED.items():
        found = reach(MANIFEST.functions[function].handler)
        if ":" in item:  # an IAM action
            if item not in found.actions() or item in granted(function):
                stale.append(f"({function!r}, {item!r})")
        elif item not in {name for _, name in found.settings}:  # a settings model
            stale.append(f"({function!r}, {item!r})")
    assert not stale, f"remove from REACHED_NOT_CALLED in {Path(__file__).name}: {', '.join(stale)}"


# ── sign-in ──────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("env", ENVS)
def test_deployed_clients_sign_in_with_srp_only(tf: dict[str, Config], env: str) -> None:
    """USER_PASSWORD_AUTH sends the password itself to Cognito: the local stack needs it (moto
    checks no SRP proof), a deployed app does not."""
    auth = tf["modules/auth"]
    assert auth.variables["allow_user_password_auth"]["default"] is False
    flows = str(auth.resource("aws_cognito_user_pool_client", "web")["explicit_auth_flows"])
    assert "var.allow_user_password_auth" in flows, flows
    assert composition(tf).variables["allow_user_password_auth"]["default"] is False
    tfvars = (TERRAFORM_DIR / "envs" / env / "terraform.tfvars").read_text()
    assert re.search(r"^allow_user_password_auth\s*=\s*false\b", tfvars, re.M), (
        f"envs/{env}/terraform.tfvars: say allow_user_password_auth = false"
    )


@pytest.mark.parametrize(("env", "mode"), [("dev", "AUDIT"), ("prod", "ENFORCED")])
def test_threat_protection_audits_by_default_and_enforces_in_prod(
    tf: dict[str, Config], env: str, mode: str
) -> None:
    auth = tf["modules/auth"]
    pool = auth.resource("aws_cognito_user_pool")
    add_ons = pool["user_pool_add_ons"][0]
    assert strip(add_ons["advanced_security_mode"]) == "var.advanced_security_mode"
    assert "PLUS" in str(pool["user_pool_tier"]), "threat protection needs the Plus plan"
    for config in (auth, composition(tf)):
        assert config.variables["advanced_security_mode"]["default"] == "AUDIT", config.path
    tfvars = (TERRAFORM_DIR / "envs" / env / "terraform.tfvars").read_text()
    found = re.search(r'^advanced_security_mode\s*=\s*"(\w+)"', tfvars, re.M)
    assert (found.group(1) if found else "AUDIT") == mode, f"envs/{env}: {found}"


@pytest.mark.parametrize("env", ENVS)
def test_two_step_verification_is_each_environments_setting_and_the_app_is_told(
    tf: dict[str, Config], env: str
) -> None:
    """`mfa` and `remember_device` reach the pool from terraform.tfvars, and config.json says
    the pool's setting (the account menu offers, requires or hides two-step verification)."""
    pool = tf["modules/auth"].resource("aws_cognito_user_pool")
    assert strip(pool["mfa_configuration"]) == "var.mfa"
    parley = composition(tf)
    for name in ("mfa", "remember_device"):
        assert strip(parley.modules["auth"].get(name, "")) == f"var.{name}", (
            f"{COMPOSITION}: module.auth must get {name} = var.{name}"
        )
    assert "module.auth.mfa.configuration" in str(parley.modules["frontend"]["app_config"])
    tfvars = (TERRAFORM_DIR / "envs" / env / "terraform.tfvars").read_text()
    mfa = re.search(r'^mfa\s*=\s*"(\w+)"', tfvars, re.M)
    assert (mfa.group(1) if mfa else None) in ("OFF", "OPTIONAL", "ON"), (
        f'envs/{env}/terraform.tfvars: say mfa = "OFF" | "OPTIONAL" | "ON"'
    )
    assert re.search(r"^remember_device\s*=\s*(true|false)\b", tfvars, re.M), (
        f"envs/{env}/terraform.tfvars: say remember_device = true | false"
    )


# ── edge ─────────────────────────────────────────────────────────────────────────────────────

WAF_EXAMPLE = "examples/cloudfront_waf"


def test_each_environment_can_attach_a_web_acl(tf: dict[str, Config]) -> None:
    """The checkov skips on the distribution (CKV_AWS_68, CKV2_AWS_47) say the web ACL is
    optional: an environment must be able to set it, and the example must make one."""
    frontend = tf["modules/frontend"]
    assert strip(frontend.resource("aws_cloudfront_distribution")["web_acl_id"]) == (
        "var.web_acl_arn"
    )
    parley = composition(tf)
    assert parley.variables["web_acl_arn"].get("default", "required") is None
    assert strip(parley.modules["frontend"].get("web_acl_arn", "")) == "var.web_acl_arn", (
        f"{COMPOSITION}: module.frontend must get web_acl_arn = var.web_acl_arn"
    )
    example = tf[WAF_EXAMPLE]
    acl = example.resource("aws_wafv2_web_acl")
    assert acl["scope"] == "CLOUDFRONT"
    rules = {rule["name"]: rule for rule in acl["rule"]}
    rate = rules["rate-per-ip"]["statement"][0]["rate_based_statement"][0]
    assert rate["aggregate_key_type"] == "IP"
    assert "block" in rules["rate-per-ip"]["action"][0]
    assert strip(example.outputs["web_acl_arn"]["value"]) == "aws_wafv2_web_acl.this.arn"
    assert example.providers["aws"]["region"] == "us-east-1", "CloudFront web ACLs are global"
    for path, config in tf.items():
        for number, line in enumerate(config.text().splitlines(), start=1):
            if "checkov:skip" in line and "web_acl_arn" in line:
                assert WAF_EXAMPLE in line, f"{path}:{number}: name the example that makes one"


# ── federated sign-in ────────────────────────────────────────────────────────────────────────

SECRET_KEY = re.compile(r"""^\s*"?(client_secret|secret|password|api_key)"?\s*=\s*"[^"]+""", re.M)


@pytest.mark.parametrize("env", ENVS)
def test_identity_providers_reach_the_pool_and_the_app_from_each_environment(
    tf: dict[str, Config], env: str
) -> None:
    """identity_providers goes env root → modules/parley → modules/auth; the callback is the
    app's own origin; config.json's oauth is the auth module's."""
    root = tf[f"envs/{env}"]
    assert strip(root.modules["parley"]["identity_providers"]) == "var.identity_providers"
    assert root.variables["identity_providers"]["default"] == {}
    parley = composition(tf)
    auth = parley.modules["auth"]
    assert strip(auth["identity_providers"]) == "var.identity_providers"
    assert strip(auth["app_url"]) == "module.frontend.app_origin"
    assert "module.auth.oauth" in str(parley.modules["frontend"]["app_config"])


def test_identity_provider_secrets_are_named_never_given(tf: dict[str, Config]) -> None:
    """No variable can carry a provider's client secret (only the SSM parameter's name or the
    Secrets Manager ARN), and no tfvars or variable default holds one."""
    for path, config in tf.items():
        variable = config.variables.get("identity_providers")
        if variable is None:
            continue
        kind = str(variable["type"])
        assert "client_secret_parameter" in kind, path
        assert "client_secret_arn" in kind, path
        assert not re.search(r"\bclient_secret\s*=", kind), (
            f"{path}: identity_providers takes a secret"
        )
        assert variable.get("default") == {}, path
    for tfvars in TERRAFORM_DIR.glob("envs/*/*.tfvars"):
        found = SECRET_KEY.findall(tfvars.read_text())
        assert not found, f"{tfvars.relative_to(ROOT)}: a secret in tfvars ({found})"
    for variables in TERRAFORM_DIR.glob("**/variables.tf"):
        if ".terraform" in variables.parts:
            continue
        found = SECRET_KEY.findall(variables.read_text())
        assert not found, f"{variables.relative_to(ROOT)}: a secret as a default ({found})"


def test_identity_provider_secrets_are_read_from_ssm_or_secrets_manager(
    tf: dict[str, Config],
) -> None:
    auth = tf["modules/auth"]
    ssm = auth.data["aws_ssm_parameter"]["idp_client_secret"]
    assert ssm["with_decryption"] is True
    assert "aws_secretsmanager_secret_version" in auth.data
    idp = auth.resource("aws_cognito_identity_provider")
    details = str(idp["provider_details"])
    assert "data.aws_ssm_parameter.idp_client_secret" in details
    assert "data.aws_secretsmanager_secret_version.idp_client_secret" in details


def test_every_cognito_trigger_of_the_manifest_is_wired_to_the_pool(tf: dict[str, Config]) -> None:
    """Each manifest `cognito` trigger is a lambda_config entry of the pool (allowed by the auth
    module's guard), on the function's live alias, and Cognito may invoke exactly that alias from
    exactly this pool."""
    triggers = {t: n for n, f in MANIFEST.functions.items() for t in f.triggers.cognito}
    assert set(triggers) == {"PostConfirmation", "PreSignUp", "PreTokenGeneration", "CustomMessage"}
    auth = tf["modules/auth"]
    config = auth.resource("aws_cognito_user_pool")["lambda_config"][0]
    keys = {
        "PostConfirmation": "post_confirmation",
        "PreSignUp": "pre_sign_up",
        "PreTokenGeneration": "pre_token_generation",
        "CustomMessage": "custom_message",
    }
    for trigger, key in keys.items():
        assert strip(config[key]) == f'lookup(var.lambda_triggers, "{trigger}", null)', trigger
        assert f'"{trigger}"' in str(auth.variables["lambda_triggers"]["validation"]), trigger
    functions = tf["modules/functions"]
    permission = functions.resource("aws_lambda_permission", "cognito")
    assert strip(permission["for_each"]) == "module.manifest.cognito_triggers"
    assert permission["principal"] == "cognito-idp.amazonaws.com"
    assert strip(permission["source_arn"]) == "var.user_pool_arn"
    assert "aws_lambda_alias.live" in str(permission["qualifier"])
    parley = composition(tf)
    assert strip(parley.modules["functions"]["user_pool_arn"]) == "module.auth.user_pool_arn"
    assert (
        strip(parley.modules["auth"]["lambda_triggers"]) == "module.functions.cognito_trigger_arns"
    )


@pytest.mark.parametrize("env", ENVS)
def test_who_may_sign_up_is_each_environments_setting(tf: dict[str, Config], env: str) -> None:
    """`signup` goes from terraform.tfvars through modules/parley to pre_sign_up's environment
    (open by default), and the app's origin reaches custom_message's links."""
    root = env_root(tf, env)
    assert strip(root.modules["parley"]["signup"]) == "var.signup"
    assert root.variables["signup"]["default"] == {}
    parley = composition(tf)
    assert parley.variables["signup"]["default"] == {}
    refs = parley.modules["functions"]["refs"]
    assert strip(refs["signup_allowed_domains"]) == 'join(",", var.signup.allowed_domains)'
    assert strip(refs["signup_invites"]) == "tostring(var.signup.invites)"
    assert strip(refs["app_url"]) == "local.app_origin"
    assert strip(parley.locals["app_origin"]) == "module.frontend.app_origin"
    env_vars = MANIFEST.functions["pre_sign_up"].environment
    assert env_vars["SIGNUP_ALLOWED_DOMAINS"] == Ref(ref="signup_allowed_domains")
    assert env_vars["SIGNUP_INVITES"] == Ref(ref="signup_invites")
    assert MANIFEST.functions["custom_message"].environment["APP_URL"] == Ref(ref="app_url")


def test_the_cognito_triggers_reach_only_what_they_need() -> None:
    """pre_sign_up reads invitation items (`INVITE#…`) and nothing else; the token and message
    triggers read nothing at all."""
    grants = [
        (p.resource, tuple(p.actions), tuple(p.leading_keys or ()))
        for p in MANIFEST.functions["pre_sign_up"].permissions
    ]
    assert grants == [("table:chat", ("dynamodb:GetItem",), ("INVITE#*",))]
    assert MANIFEST.functions["pre_token_generation"].permissions == []
    assert MANIFEST.functions["custom_message"].permissions == []
