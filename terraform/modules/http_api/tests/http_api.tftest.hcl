# The HTTP API against a mocked AWS: one route per manifest route, each integration on the alias.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix         = "parley-test"
  manifest_path       = "../../../functions/manifest.yaml"
  tables_path         = "../../../functions/tables.yaml"
  user_pool_id        = "eu-west-1_abc"
  user_pool_client_id = "client"
  cors_allow_origins  = ["https://app.example.com"]
  functions = { for name in keys(yamldecode(file("../../../functions/manifest.yaml")).functions) : name => {
    function_name = "parley-test-${name}"
    alias         = "live"
    arn           = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-${name}:live"
    invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111111111111:function:parley-test-${name}:live/invocations"
  } }
}

run "manifest" {
  module {
    source = "../manifest"
  }
}

run "routes_call_the_alias" {
  command = plan

  variables {
    # Routes anyone may call need their own throttle (a precondition of the stage).
    route_throttles = { for key, r in run.manifest.http_routes : key => { rate_limit = 5, burst_limit = 10 } if r.auth == "none" }
  }

  assert {
    condition     = alltrue([for i in aws_apigatewayv2_integration.this : endswith(i.integration_uri, ":live/invocations")])
    error_message = "Every HTTP integration invokes the alias."
  }
  assert {
    condition     = alltrue([for p in aws_lambda_permission.this : p.qualifier == "live"])
    error_message = "API Gateway may invoke the alias only."
  }
  assert {
    condition     = output.stage_name == "$default" && output.cors_allow_origins == toset(var.cors_allow_origins)
    error_message = "A custom domain maps the $default stage; CORS allows the app's origin only."
  }
  assert {
    condition     = length(aws_apigatewayv2_route.this) == length(module.manifest.http_routes)
    error_message = "One gateway route per manifest route."
  }
}
