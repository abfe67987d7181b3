# A whole environment — every module, the web app (CloudFront, OAC, bucket policies,
# config.json) included — planned and applied against a mocked AWS with the environment's own
# terraform.tfvars and a release record naming every manifest function. envs/dev and envs/prod
# both run this one file (each has a link to it in its tests/): their roots are the same
# configuration with different values, and the rule that depends on the environment (prod needs
# an SES sender) is run with `environment = "prod"` in both.

mock_provider "aws" {
  source = "../../tests/mocks"

  # A WebSocket API's endpoint is wss:// (the app's CSP and config.json check the scheme).
  override_resource {
    target = module.parley.module.websocket_api.aws_apigatewayv2_api.this
    values = { api_endpoint = "wss://mockws.execute-api.eu-west-1.amazonaws.com", execution_arn = "arn:aws:execute-api:eu-west-1:111111111111:mockws" }
  }

  # With custom_domain and a zone: the ACM answer the API names' certificate gets.
  override_resource {
    target = module.parley.module.domains[0].aws_acm_certificate.regional
    values = {
      arn = "arn:aws:acm:eu-west-1:111111111111:certificate/apis"
      domain_validation_options = [
        { domain_name = "api.chat.example.com", resource_record_name = "_a1.api.chat.example.com.", resource_record_type = "CNAME", resource_record_value = "_b1.acm-validations.aws." },
        { domain_name = "ws.chat.example.com", resource_record_name = "_a2.ws.chat.example.com.", resource_record_type = "CNAME", resource_record_value = "_b2.acm-validations.aws." },
      ]
    }
  }
}

# The us-east-1 provider (the app's certificate, with custom_domain): the ACM answer its
# certificate gets, one validation record for the app's name.
mock_provider "aws" {
  alias  = "us_east_1"
  source = "../../tests/mocks"

  override_resource {
    target = module.parley.module.domains[0].aws_acm_certificate.cloudfront
    values = {
      arn                       = "arn:aws:acm:us-east-1:111111111111:certificate/app"
      domain_validation_options = [{ domain_name = "chat.example.com", resource_record_name = "_a3.chat.example.com.", resource_record_type = "CNAME", resource_record_value = "_b3.acm-validations.aws." }]
    }
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

  # Without custom_domain: the generated names everywhere, and no module.domains at all (its
  # dns_records would be a list).
  assert {
    condition     = output.dns_records == null
    error_message = "Without custom_domain nothing of the domains module is planned."
  }
  assert {
    condition     = output.http_api_url == "https://mockapi.execute-api.eu-west-1.amazonaws.com" && output.ws_url == "wss://mockws.execute-api.eu-west-1.amazonaws.com/live" && output.app_url == "https://mock.cloudfront.net"
    error_message = "The APIs are at their execute-api names, the app at its CloudFront name."
  }
  assert {
    condition     = jsondecode(output.app_config).httpApiUrl == output.http_api_url && jsondecode(output.app_config).wsUrl == output.ws_url && output.web_security.cors_allow_origins == toset([output.app_url])
    error_message = "config.json names the generated URLs; CORS allows the CloudFront origin."
  }
  assert {
    condition     = strcontains(output.web_security.content_security_policy, "connect-src 'self' https://mockapi.execute-api.eu-west-1.amazonaws.com wss://mockws.execute-api.eu-west-1.amazonaws.com ")
    error_message = "The Content-Security-Policy lets the app reach the generated API names."
  }

  # Two-step verification as terraform.tfvars sets it, on the pool and in config.json.
  assert {
    condition     = output.mfa.configuration == var.mfa && output.mfa.remember_device == var.remember_device && jsondecode(output.app_config).mfa == var.mfa
    error_message = "The pool has the environment's mfa and remember_device, and config.json tells the app the pool's mfa."
  }
}

run "two_step_verification_required" {
  command = apply

  variables {
    release_record  = run.release_record.body
    mfa             = "ON"
    remember_device = true
  }

  assert {
    condition     = output.mfa.configuration == "ON" && output.mfa.remember_device && jsondecode(output.app_config).mfa == "ON"
    error_message = "mfa and remember_device reach the user pool through modules/parley, and config.json tells the app that two-step verification is required."
  }
}

run "custom_names_in_a_route53_zone" {
  command = apply

  variables {
    release_record = run.release_record.body
    custom_domain = {
      app     = "chat.example.com"
      api     = "api.chat.example.com"
      ws      = "ws.chat.example.com"
      zone_id = "Z0123456789ABCDEFGHIJ"
    }
  }

  assert {
    condition     = output.app_url == "https://chat.example.com" && output.http_api_url == "https://api.chat.example.com" && output.ws_url == "wss://ws.chat.example.com"
    error_message = "The app and both APIs are at their custom names."
  }
  assert {
    condition     = jsondecode(output.app_config).httpApiUrl == "https://api.chat.example.com" && jsondecode(output.app_config).wsUrl == "wss://ws.chat.example.com"
    error_message = "config.json sends the app to the APIs' custom names."
  }
  assert {
    condition     = strcontains(output.web_security.content_security_policy, "connect-src 'self' https://api.chat.example.com wss://ws.chat.example.com ") && !strcontains(output.web_security.content_security_policy, "execute-api")
    error_message = "The Content-Security-Policy lets the app reach the custom names, and only those of the APIs."
  }
  assert {
    condition     = output.web_security.cors_allow_origins == toset(["https://chat.example.com"])
    error_message = "The HTTP API's CORS allows the app's custom origin only."
  }
  assert {
    condition     = length(output.dns_records) == 0
    error_message = "Every record is made in the zone: nothing is left to create by hand."
  }
}

run "federated_sign_in_back_to_the_custom_name" {
  command = apply

  variables {
    release_record = run.release_record.body
    custom_domain = {
      app     = "chat.example.com"
      api     = "api.chat.example.com"
      ws      = "ws.chat.example.com"
      zone_id = "Z0123456789ABCDEFGHIJ"
    }
    identity_providers = {
      corp = { type = "OIDC", label = "Example Corp", issuer = "https://login.example.com", client_id = "parley", client_secret_parameter = "/parley/dev/idp/corp" }
      adfs = { type = "SAML", metadata_url = "https://adfs.example.com/metadata.xml" }
    }
  }

  assert {
    condition     = output.federation.app_redirect_urls == toset(["https://chat.example.com/"]) && output.federation.idp_response_url == "${output.federation.domain}/oauth2/idpresponse"
    error_message = "The code comes back to the app's own name; the providers send people to the pool's idpresponse."
  }
  assert {
    condition     = jsondecode(output.app_config).oauth.domain == output.federation.domain && jsondecode(output.app_config).oauth.providers == [{ name = "adfs", label = "adfs" }, { name = "corp", label = "Example Corp" }]
    error_message = "config.json names the hosted domain and a button per provider."
  }
  assert {
    condition     = strcontains(output.web_security.content_security_policy, " ${output.federation.domain} ")
    error_message = "The app may exchange the code at the hosted /oauth2/token."
  }
}

run "no_identity_providers_by_default" {
  command = plan

  variables {
    release_record = run.release_record.body
  }

  assert {
    condition     = output.federation == null
    error_message = "No identity provider, no hosted sign-in, unless an environment configures one."
  }
}

run "custom_names_with_the_dns_elsewhere" {
  command = apply

  variables {
    release_record = run.release_record.body
    custom_domain = {
      app                        = "chat.example.com"
      api                        = "api.chat.example.com"
      ws                         = "ws.chat.example.com"
      certificate_arn            = "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000001"
      cloudfront_certificate_arn = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000002"
    }
  }

  assert {
    condition     = jsondecode(output.app_config).httpApiUrl == "https://api.chat.example.com" && jsondecode(output.app_config).wsUrl == "wss://ws.chat.example.com" && output.web_security.cors_allow_origins == toset(["https://chat.example.com"])
    error_message = "config.json and CORS carry the custom names."
  }
  assert {
    condition     = [for record in output.dns_records : record.name] == ["chat.example.com", "api.chat.example.com", "ws.chat.example.com"] && output.dns_records[0].target == "mock.cloudfront.net"
    error_message = "The records to create at the DNS provider are listed: the app's to the distribution, each API's to its endpoint."
  }
}

run "production_refuses_the_builtin_sender" {
  command = plan

  variables {
    release_record = run.release_record.body
    environment    = "prod"
    email_sender   = null
  }

  expect_failures = [var.email_sender]
}
