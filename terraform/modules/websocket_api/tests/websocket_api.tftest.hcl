# The WebSocket API against a mocked AWS: routes from the real manifest, the alias as every
# target, and the account logging setting made after its policy is attached.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix   = "parley-test"
  manifest_path = "../../../functions/manifest.yaml"
  tables_path   = "../../../functions/tables.yaml"
  functions = { for name in keys(yamldecode(file("../../../functions/manifest.yaml")).functions) : name => {
    function_name = "parley-test-${name}"
    alias         = "live"
    arn           = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-${name}:live"
    invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111111111111:function:parley-test-${name}:live/invocations"
  } }
  manage_account_logging_role = true
}

run "routes_call_the_alias" {
  command = apply

  assert {
    condition     = alltrue([for i in aws_apigatewayv2_integration.this : endswith(i.integration_uri, ":live/invocations")]) && endswith(aws_apigatewayv2_authorizer.this[0].authorizer_uri, ":live/invocations")
    error_message = "Every route and the $connect authorizer invoke the alias."
  }
  assert {
    condition     = alltrue([for p in aws_lambda_permission.this : p.qualifier == "live"])
    error_message = "API Gateway may invoke the alias only."
  }
  assert {
    condition     = output.deployed_stage_name == "live" && output.deployed_stage_name == output.stage_name
    error_message = "A custom domain maps the stage the management endpoint names."
  }
  assert {
    condition     = aws_api_gateway_account.this[0].reset_on_delete == true
    error_message = "Destroying the stack clears the account's logging role instead of leaving it dangling."
  }
}

run "unqualified_functions_are_refused" {
  command = plan

  variables {
    functions = { ws_connect = {
      function_name = "parley-test-ws_connect"
      alias         = "live"
      arn           = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-ws_connect"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111111111111:function:parley-test-ws_connect/invocations"
    } }
  }

  expect_failures = [var.functions]
}
