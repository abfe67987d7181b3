# The functions module over the real manifest, with a mocked AWS: one version-publishing
# function and one `live` alias per manifest function, every caller wired to the alias, and the
# roles' statements as rendered. Run by `invoke test` (tests/infra/test_terraform_modules.py).

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  manifest_path    = "../../../functions/manifest.yaml"
  tables_path      = "../../../functions/tables.yaml"
  name_prefix      = "parley-test"
  artifacts_bucket = "parley-artifacts-111111111111"
  release = {
    release_id   = "20260101T000000Z-000000000000"
    runtime      = "python3.12"
    architecture = "arm64"
    artifacts = merge(
      { for arch in ["arm64", "x86_64"] : (arch == "arm64" ? "layer:deps" : "layer:deps-${arch}") => { kind = "layer", s3_key = "sha256/${sha256(arch)}.zip", sha256_base64 = "bA==" } },
      { for name in keys(yamldecode(file("../../../functions/manifest.yaml")).functions) : "function:${name}" => { kind = "function", s3_key = "sha256/${sha256(name)}.zip", sha256_base64 = "Zg==" } },
    )
  }
  table_arns              = { for name in keys(yamldecode(file("../../../functions/tables.yaml")).tables) : name => "arn:aws:dynamodb:eu-west-1:111111111111:table/parley-test-${name}" }
  table_stream_arns       = { for name in keys(yamldecode(file("../../../functions/tables.yaml")).tables) : name => "arn:aws:dynamodb:eu-west-1:111111111111:table/parley-test-${name}/stream/2026-01-01T00:00:00.000" }
  websocket_execution_arn = "arn:aws:execute-api:eu-west-1:111111111111:abc123"
  websocket_stage         = "live"
  user_pool_arn           = "arn:aws:cognito-idp:eu-west-1:111111111111:userpool/eu-west-1_x"
  refs = {
    chat_table_name          = "parley-test-chat"
    connections_table_name   = "parley-test-connections"
    user_pool_id             = "eu-west-1_x"
    user_pool_client_id      = "client"
    jwks_url                 = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x/.well-known/jwks.json"
    daily_token_quota        = "1000"
    ws_management_endpoint   = "https://abc123.execute-api.eu-west-1.amazonaws.com/live"
    retention_days           = "30"
    exports_bucket_name      = "parley-test-exports"
    export_state_machine_arn = "arn:aws:states:eu-west-1:111111111111:stateMachine:parley-test-export"
  }
  # An OpenAI-compatible model with a key: no Bedrock model or agent to grant.
  models = {
    bedrock_models     = []
    bedrock_agents     = []
    api_key_parameters = ["/parley/test/model-api-key"]
  }
}

run "every_function_is_called_through_its_live_alias" {
  command = apply

  assert {
    condition     = keys(aws_lambda_alias.live) == keys(module.manifest.functions)
    error_message = "Every manifest function needs a live alias."
  }
  assert {
    condition     = alltrue([for fn in aws_lambda_function.this : fn.publish])
    error_message = "Every function publishes a version when its code (artifact hash) or configuration changes."
  }
  assert {
    condition     = alltrue([for a in aws_lambda_alias.live : a.name == "live"])
    error_message = "The alias is called live."
  }
  assert {
    condition     = alltrue([for name, f in output.functions : f.arn == aws_lambda_alias.live[name].arn && f.invoke_arn == aws_lambda_alias.live[name].invoke_arn && f.alias == "live"])
    error_message = "The functions output hands callers the alias's ARN and invoke ARN, never the function's."
  }
  assert {
    condition     = alltrue([for arn in values(output.cognito_trigger_arns) : endswith(arn, ":live")])
    error_message = "Cognito triggers invoke the alias."
  }
  assert {
    condition     = alltrue([for c in aws_lambda_function_event_invoke_config.this : c.qualifier == "live"])
    error_message = "Async retries and the failure destination are configured on the alias that async callers invoke."
  }
  assert {
    condition     = alltrue([for p in aws_lambda_permission.cognito : p.qualifier == "live"])
    error_message = "Cognito may invoke the alias only."
  }
  assert {
    condition     = !contains(keys(module.manifest.functions), "bot_worker") || aws_lambda_function.this["ws_message"].environment[0].variables["BOT_WORKER_FUNCTION_NAME"] == "parley-test-bot_worker:live"
    error_message = "Functions invoke bot_worker through its alias."
  }
  assert {
    # Every lambda:InvokeFunction a role may make names an alias.
    condition = alltrue(flatten([
      for name, p in aws_iam_role_policy.this : [
        for s in jsondecode(p.policy).Statement : [for r in s.Resource : endswith(r, ":live")] if contains(s.Action, "lambda:InvokeFunction")
      ]
    ]))
    error_message = "A role may invoke other functions only through their alias."
  }
}

run "invalid_options_are_refused" {
  command = plan

  variables {
    provisioned_concurrency = { no_such_function = 1 }
    alias_name              = "$LATEST"
  }

  expect_failures = [var.provisioned_concurrency, var.alias_name]
}

run "per_environment_options" {
  command = apply

  variables {
    model_api_key_kms_key_arn = "arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555"
    provisioned_concurrency   = { chat_api = 2, ws_authorizer = 1 }
  }

  assert {
    condition     = aws_lambda_provisioned_concurrency_config.live["chat_api"].provisioned_concurrent_executions == 2 && aws_lambda_provisioned_concurrency_config.live["ws_authorizer"].provisioned_concurrent_executions == 1 && length(aws_lambda_provisioned_concurrency_config.live) == 2
    error_message = "Provisioned concurrency follows the environment's map."
  }
  assert {
    condition     = alltrue([for c in aws_lambda_provisioned_concurrency_config.live : c.qualifier == "live"])
    error_message = "Provisioned concurrency is configured on the alias (a version would go stale on the next release)."
  }

  assert {
    # Exactly the functions that read the parameter may decrypt it, and only via SSM.
    condition = alltrue([
      for name, f in module.manifest.functions : (
        length([for s in jsondecode(aws_iam_role_policy.this[name].policy).Statement : s if s.Sid == "DecryptModelApiKey" && s.Action == ["kms:Decrypt"] && s.Resource == ["arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555"] && try(s.Condition.StringEquals["kms:ViaService"], "") == "ssm.eu-west-1.amazonaws.com"])
        == (contains([for p in f.permissions : p.resource], "ssm:model_api_key") ? 1 : 0)
      )
    ])
    error_message = "Functions reading the model API key get kms:Decrypt on its key through SSM; no other function does."
  }
}

run "iam_grants_exactly_the_catalogs_models" {
  command = apply

  variables {
    models = {
      bedrock_models     = ["amazon.nova-micro-v1:0", "eu.anthropic.claude-3-haiku-20240307-v1:0"]
      bedrock_agents     = [{ agent_id = "AGENT00001", alias_id = "ALIAS00001" }]
      api_key_parameters = ["/parley/test/key-a", "/parley/test/key-b"]
    }
  }

  assert {
    # A profile (eu.…) routes to its base model in any of its regions; a plain id is this region's.
    condition = alltrue([
      for name, f in module.manifest.functions : jsonencode(sort(flatten([
        for s in jsondecode(aws_iam_role_policy.this[name].policy).Statement : s.Resource if contains(s.Action, "bedrock:InvokeModelWithResponseStream")
        ]))) == jsonencode(contains([for p in f.permissions : p.resource], "bedrock:model") ? sort([
        "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-micro-v1:0",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:eu-west-1:111111111111:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0",
      ]) : [])
    ])
    error_message = "The functions that call models may invoke exactly the catalog's Bedrock models; no other function any."
  }
  assert {
    condition = alltrue([
      for name, f in module.manifest.functions : jsonencode(flatten([
        for s in jsondecode(aws_iam_role_policy.this[name].policy).Statement : s.Resource if contains(s.Action, "bedrock:InvokeAgent")
        ])) == jsonencode(contains([for p in f.permissions : p.resource], "bedrock:agent") ? [
        "arn:aws:bedrock:eu-west-1:111111111111:agent-alias/AGENT00001/ALIAS00001",
      ] : [])
    ])
    error_message = "The functions that call models may invoke exactly the catalog's agent aliases."
  }
  assert {
    condition = alltrue([
      for name, f in module.manifest.functions : jsonencode(flatten([
        for s in jsondecode(aws_iam_role_policy.this[name].policy).Statement : s.Resource if contains(s.Action, "ssm:GetParameter")
        ])) == jsonencode(contains([for p in f.permissions : p.resource], "ssm:model_api_key") ? [
        "arn:aws:ssm:eu-west-1:111111111111:parameter/parley/test/key-a",
        "arn:aws:ssm:eu-west-1:111111111111:parameter/parley/test/key-b",
      ] : [])
    ])
    error_message = "The functions that call models may read exactly the catalog's API key parameters."
  }
}

run "a_catalog_without_bedrock_grants_no_bedrock" {
  command = apply

  assert {
    condition = alltrue([
      for name, f in module.manifest.functions : length([
        for s in jsondecode(aws_iam_role_policy.this[name].policy).Statement : s if anytrue([for a in s.Action : startswith(a, "bedrock:")])
      ]) == 0
    ])
    error_message = "Without a Bedrock model or agent in the catalog, no function may call Bedrock."
  }
}
