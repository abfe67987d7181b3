# The web app against a mocked AWS — never applied anywhere else (moto has no CloudFront
# response-headers policies): private bucket read through OAC only, HTTPS, config.json.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix = "parley-test"
  app_config = {
    cognito    = { userPoolId = "eu-west-1_abc", clientId = "client" }
    httpApiUrl = "https://abc.execute-api.eu-west-1.amazonaws.com"
    wsUrl      = "wss://def.execute-api.eu-west-1.amazonaws.com/live"
  }
}

run "the_site_is_private_behind_cloudfront" {
  command = apply

  assert {
    condition     = aws_s3_bucket_public_access_block.site.block_public_policy && aws_s3_bucket_public_access_block.site.restrict_public_buckets
    error_message = "The site bucket is private."
  }
  assert {
    condition     = alltrue([for o in aws_cloudfront_distribution.this.origin : o.origin_access_control_id == aws_cloudfront_origin_access_control.site.id])
    error_message = "CloudFront reads the bucket through Origin Access Control."
  }
  assert {
    condition     = aws_cloudfront_distribution.this.default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https"
    error_message = "Browsers are sent to HTTPS."
  }
  assert {
    condition     = jsondecode(output.app_config).httpApiUrl == var.app_config.httpApiUrl && jsondecode(output.app_config).cognito.authFlow == "USER_SRP_AUTH"
    error_message = "config.json carries the APIs and the pool."
  }
}

run "the_cloudfront_name_without_a_custom_domain" {
  command = apply

  assert {
    condition     = length(aws_cloudfront_distribution.this.aliases) == 0 && aws_cloudfront_distribution.this.viewer_certificate[0].cloudfront_default_certificate
    error_message = "Without custom_domain the app is served at the distribution's own name and certificate."
  }
  assert {
    condition     = output.app_origin == "https://mock.cloudfront.net" && output.distribution == { domain_name = "mock.cloudfront.net", hosted_zone_id = "Z2FDTNDATAQYW2" }
    error_message = "The app's origin is the distribution's name."
  }
}

run "a_custom_domain_names_the_app_everywhere" {
  command = apply

  variables {
    custom_domain = {
      name            = "chat.example.com"
      certificate_arn = "arn:aws:acm:us-east-1:111111111111:certificate/app"
    }
    app_config = {
      cognito    = { userPoolId = "eu-west-1_abc", clientId = "client" }
      httpApiUrl = "https://api.chat.example.com"
      wsUrl      = "wss://ws.chat.example.com"
    }
  }

  assert {
    condition     = aws_cloudfront_distribution.this.aliases == toset(["chat.example.com"])
    error_message = "The distribution answers to the custom name."
  }
  assert {
    condition = (
      !aws_cloudfront_distribution.this.viewer_certificate[0].cloudfront_default_certificate &&
      aws_cloudfront_distribution.this.viewer_certificate[0].acm_certificate_arn == "arn:aws:acm:us-east-1:111111111111:certificate/app" &&
      aws_cloudfront_distribution.this.viewer_certificate[0].ssl_support_method == "sni-only" &&
      aws_cloudfront_distribution.this.viewer_certificate[0].minimum_protocol_version == "TLSv1.2_2021"
    )
    error_message = "The custom name is served with its certificate, SNI only, TLS 1.2 or later."
  }
  assert {
    condition     = output.app_origin == "https://chat.example.com" && output.app_url == "https://chat.example.com" && one(aws_s3_bucket_cors_configuration.uploads.cors_rule).allowed_origins == toset(["https://chat.example.com"])
    error_message = "The app's origin, which the uploads bucket's CORS allows, is the custom name."
  }
  assert {
    condition     = strcontains(aws_cloudfrontkeyvaluestore_key.content_security_policy.value, "connect-src 'self' https://api.chat.example.com wss://ws.chat.example.com ") && jsondecode(output.app_config).httpApiUrl == "https://api.chat.example.com" && jsondecode(output.app_config).wsUrl == "wss://ws.chat.example.com"
    error_message = "config.json and the Content-Security-Policy name the APIs' custom names."
  }
}

run "a_certificate_outside_us_east_1_is_refused" {
  command = plan

  variables {
    custom_domain = {
      name            = "chat.example.com"
      certificate_arn = "arn:aws:acm:eu-west-1:111111111111:certificate/app"
    }
  }

  expect_failures = [var.custom_domain]
}

run "federated_sign_in_reaches_config_json_and_the_content_security_policy" {
  command = apply

  variables {
    app_config = {
      cognito    = { userPoolId = "eu-west-1_abc", clientId = "client" }
      httpApiUrl = "https://abc.execute-api.eu-west-1.amazonaws.com"
      wsUrl      = "wss://def.execute-api.eu-west-1.amazonaws.com/live"
      oauth = {
        domain    = "https://parley-test-111111111111.auth.eu-west-1.amazoncognito.com"
        providers = [{ name = "corp", label = "Example Corp" }]
      }
    }
  }

  assert {
    condition     = jsondecode(output.app_config).oauth.domain == "https://parley-test-111111111111.auth.eu-west-1.amazoncognito.com" && jsondecode(output.app_config).oauth.providers == [{ name = "corp", label = "Example Corp" }]
    error_message = "config.json carries the hosted domain and the providers' buttons."
  }
  assert {
    condition     = strcontains(aws_cloudfrontkeyvaluestore_key.content_security_policy.value, " https://parley-test-111111111111.auth.eu-west-1.amazoncognito.com ")
    error_message = "The app may reach the hosted /oauth2/token (connect-src)."
  }
}

run "no_federation_no_hosted_domain_in_the_policy" {
  command = apply

  assert {
    condition     = jsondecode(output.app_config).oauth == null && !strcontains(aws_cloudfrontkeyvaluestore_key.content_security_policy.value, "amazoncognito.com")
    error_message = "Without identity providers config.json has no oauth and the policy no hosted domain."
  }
}
