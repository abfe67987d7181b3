# All of this environment — every module, the web app (CloudFront, OAC, bucket policies,
# config.json) included — planned and applied against a mocked AWS with this directory's
# terraform.tfvars and a release record naming every manifest function. envs/prod has the same
# file; the environment-specific expectations are the last assertions.

mock_provider "aws" {
  source = "../../tests/mocks"

  # A WebSocket API's endpoint is wss:// (the app's CSP and config.json check the scheme).
  override_resource {
    target = module.parley.module.websocket_api.aws_apigatewayv2_api.this
    values = { api_endpoint = "wss://mockws.execute-api.eu-west-1.amazonaws.com", execution_arn = "arn:aws:execute-api:eu-west-1:111111111111:mockws" }
  }
}

run "release_record" {
  module {
    source = "../../tests/release_record"
  }

  variables {
    manifest_path = "../../../functions/manifest.yaml"
  }
}

run "the_whole_environment_applies" {
  command = apply

  variables {
    release_record = run.release_record.body
  }

  # Assertions see the root's outputs; the modules' own tests check their resources (aliases,
  # policies). That this run applies at all is the point: every module, with the web app.
  assert {
    condition     = output.release_id == "20260101T000000Z-000000000000"
    error_message = "The environment deploys the release record it is given."
  }
  assert {
    condition     = startswith(output.ws_url, "wss://") && startswith(output.http_api_url, "https://") && startswith(output.app_url, "https://")
    error_message = "The app, the HTTP API and the WebSocket API have their URLs."
  }
  assert {
    condition     = output.site_bucket != null && output.distribution_id != null
    error_message = "The web app's bucket and distribution exist (the frontend deploy writes to them)."
  }
}

run "production_refuses_the_builtin_sender" {
  command = plan

  variables {
    release_record = run.release_record.body
    email_sender   = null
  }

  expect_failures = [var.email_sender]
}
