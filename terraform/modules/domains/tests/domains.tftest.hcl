# Custom names against a mocked AWS: the names are checked before anything is planned; with a
# Route 53 zone the certificates are issued, validated and pointed at; with certificates given
# and no zone nothing is made in ACM or Route 53 and the records to create are listed; each API
# name is mapped to its own API's stage.

# ACM's answer, one validation record per name (the mock would give none), given by the provider
# each certificate must be issued through: the regional one here, the app's in us-east-1.
mock_provider "aws" {
  source = "../../tests/mocks"

  override_resource {
    target = aws_acm_certificate.regional
    values = {
      arn = "arn:aws:acm:eu-west-1:111111111111:certificate/regional"
      domain_validation_options = [
        { domain_name = "api.chat.example.com", resource_record_name = "_a1.api.chat.example.com.", resource_record_type = "CNAME", resource_record_value = "_b1.acm-validations.aws." },
        { domain_name = "ws.chat.example.com", resource_record_name = "_a2.ws.chat.example.com.", resource_record_type = "CNAME", resource_record_value = "_b2.acm-validations.aws." },
      ]
    }
  }
}

mock_provider "aws" {
  alias  = "us_east_1"
  source = "../../tests/mocks"

  override_resource {
    target = aws_acm_certificate.cloudfront
    values = {
      arn = "arn:aws:acm:us-east-1:111111111111:certificate/cloudfront"
      domain_validation_options = [
        { domain_name = "chat.example.com", resource_record_name = "_a3.chat.example.com.", resource_record_type = "CNAME", resource_record_value = "_b3.acm-validations.aws." },
      ]
    }
  }
}

variables {
  custom_domain = {
    app     = "chat.example.com"
    api     = "api.chat.example.com"
    ws      = "ws.chat.example.com"
    zone_id = "Z0123456789ABCDEFGHIJ"
  }
  http_api      = { id = "httpapi1", stage = "$default" }
  websocket_api = { id = "wsapi1", stage = "live" }
  cloudfront    = { domain_name = "d111111abcdef8.cloudfront.net", hosted_zone_id = "Z2FDTNDATAQYW2" }
}

run "a_zone_gets_certificates_validation_and_alias_records" {
  command = apply

  assert {
    condition     = length(aws_acm_certificate.regional) == 1 && aws_acm_certificate.regional[0].domain_name == "api.chat.example.com" && toset(aws_acm_certificate.regional[0].subject_alternative_names) == toset(["ws.chat.example.com"]) && aws_acm_certificate.regional[0].validation_method == "DNS" && aws_acm_certificate.regional[0].arn == "arn:aws:acm:eu-west-1:111111111111:certificate/regional"
    error_message = "One regional certificate, validated through DNS, covers the two API names."
  }
  assert {
    condition     = length(aws_acm_certificate.cloudfront) == 1 && aws_acm_certificate.cloudfront[0].domain_name == "chat.example.com" && aws_acm_certificate.cloudfront[0].arn == "arn:aws:acm:us-east-1:111111111111:certificate/cloudfront"
    error_message = "The app's certificate is issued in us-east-1 (through that provider) for the app's name."
  }
  assert {
    condition = (
      toset(keys(aws_route53_record.validation)) == toset(["api", "ws", "app"]) &&
      aws_route53_record.validation["api"].name == "_a1.api.chat.example.com." &&
      aws_route53_record.validation["app"].records == toset(["_b3.acm-validations.aws."]) &&
      alltrue([for record in aws_route53_record.validation : record.zone_id == "Z0123456789ABCDEFGHIJ" && record.type == "CNAME"])
    )
    error_message = "Each name's ACM validation record is made in the zone."
  }
  assert {
    condition     = length(aws_acm_certificate_validation.regional[0].validation_record_fqdns) == 2 && length(aws_acm_certificate_validation.cloudfront[0].validation_record_fqdns) == 1 && aws_acm_certificate_validation.cloudfront[0].certificate_arn == "arn:aws:acm:us-east-1:111111111111:certificate/cloudfront"
    error_message = "Each issued certificate waits for its validation records."
  }
  assert {
    condition = alltrue([
      for domain in aws_apigatewayv2_domain_name.this :
      domain.domain_name_configuration[0].endpoint_type == "REGIONAL" &&
      domain.domain_name_configuration[0].security_policy == "TLS_1_2" &&
      domain.domain_name_configuration[0].ip_address_type == "dualstack" &&
      domain.domain_name_configuration[0].certificate_arn == aws_acm_certificate_validation.regional[0].certificate_arn
    ]) && aws_apigatewayv2_domain_name.this["api"].domain_name == "api.chat.example.com" && aws_apigatewayv2_domain_name.this["ws"].domain_name == "ws.chat.example.com"
    error_message = "Both API names are regional, TLS 1.2, dual-stack, on the validated certificate."
  }
  assert {
    condition = (
      aws_apigatewayv2_api_mapping.this["api"].api_id == "httpapi1" && aws_apigatewayv2_api_mapping.this["api"].stage == "$default" &&
      aws_apigatewayv2_api_mapping.this["api"].domain_name == "api.chat.example.com" &&
      aws_apigatewayv2_api_mapping.this["ws"].api_id == "wsapi1" && aws_apigatewayv2_api_mapping.this["ws"].stage == "live" &&
      aws_apigatewayv2_api_mapping.this["ws"].domain_name == "ws.chat.example.com" &&
      alltrue([for mapping in aws_apigatewayv2_api_mapping.this : mapping.api_mapping_key == null || mapping.api_mapping_key == ""])
    )
    error_message = "Each name serves its own API's stage at the root (no mapping key)."
  }
  assert {
    condition = (
      toset(keys(aws_route53_record.api)) == toset(["api-A", "api-AAAA", "ws-A", "ws-AAAA"]) &&
      alltrue([
        for key, record in aws_route53_record.api :
        record.zone_id == "Z0123456789ABCDEFGHIJ" &&
        record.name == aws_apigatewayv2_domain_name.this[split("-", key)[0]].domain_name &&
        record.alias[0].name == aws_apigatewayv2_domain_name.this[split("-", key)[0]].domain_name_configuration[0].target_domain_name &&
        record.alias[0].zone_id == aws_apigatewayv2_domain_name.this[split("-", key)[0]].domain_name_configuration[0].hosted_zone_id
      ])
    )
    error_message = "api and ws have alias A and AAAA records to their API Gateway domain names."
  }
  assert {
    condition = (
      toset(keys(aws_route53_record.app)) == toset(["A", "AAAA"]) &&
      alltrue([
        for record in aws_route53_record.app :
        record.name == "chat.example.com" && record.alias[0].name == "d111111abcdef8.cloudfront.net" && record.alias[0].zone_id == "Z2FDTNDATAQYW2"
      ])
    )
    error_message = "The app's name has alias A and AAAA records to the distribution."
  }
  assert {
    condition     = output.http_api_url == "https://api.chat.example.com" && output.ws_url == "wss://ws.chat.example.com"
    error_message = "The APIs' URLs are their custom names, without a stage path."
  }
  assert {
    condition     = output.cloudfront_certificate_arn == "arn:aws:acm:us-east-1:111111111111:certificate/cloudfront" && length(output.dns_records) == 0
    error_message = "The distribution gets the validated certificate; nothing is left to create by hand."
  }
}

run "own_certificates_without_a_zone_make_nothing_in_acm_or_route53" {
  command = apply

  variables {
    custom_domain = {
      app                        = "chat.example.com"
      api                        = "api.chat.example.com"
      ws                         = "ws.chat.example.com"
      certificate_arn            = "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000001"
      cloudfront_certificate_arn = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000002"
    }
  }

  assert {
    condition     = length(aws_acm_certificate.regional) + length(aws_acm_certificate.cloudfront) + length(aws_acm_certificate_validation.regional) + length(aws_acm_certificate_validation.cloudfront) == 0
    error_message = "Given certificates are used as they are: nothing is issued or validated."
  }
  assert {
    condition     = length(aws_route53_record.validation) + length(aws_route53_record.api) + length(aws_route53_record.app) == 0
    error_message = "Without a zone no record is made in Route 53."
  }
  assert {
    condition     = alltrue([for domain in aws_apigatewayv2_domain_name.this : domain.domain_name_configuration[0].certificate_arn == var.custom_domain.certificate_arn])
    error_message = "The API names use the given regional certificate."
  }
  assert {
    condition     = output.cloudfront_certificate_arn == var.custom_domain.cloudfront_certificate_arn
    error_message = "The distribution gets the given us-east-1 certificate."
  }
  assert {
    condition = (
      length(output.dns_records) == 3 &&
      output.dns_records[0] == { name = "chat.example.com", type = "CNAME", target = "d111111abcdef8.cloudfront.net" } &&
      output.dns_records[1] == { name = "api.chat.example.com", type = "CNAME", target = aws_apigatewayv2_domain_name.this["api"].domain_name_configuration[0].target_domain_name } &&
      output.dns_records[2] == { name = "ws.chat.example.com", type = "CNAME", target = aws_apigatewayv2_domain_name.this["ws"].domain_name_configuration[0].target_domain_name }
    )
    error_message = "The records to create elsewhere point each name at its endpoint."
  }
  assert {
    condition     = aws_apigatewayv2_api_mapping.this["api"].stage == "$default" && aws_apigatewayv2_api_mapping.this["ws"].stage == "live"
    error_message = "The mappings do not depend on where the DNS is."
  }
}

run "a_zone_with_given_certificates_makes_only_the_records" {
  command = apply

  variables {
    custom_domain = {
      app                        = "chat.example.com"
      api                        = "api.chat.example.com"
      ws                         = "ws.chat.example.com"
      zone_id                    = "Z0123456789ABCDEFGHIJ"
      certificate_arn            = "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000001"
      cloudfront_certificate_arn = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000002"
    }
  }

  assert {
    condition     = length(aws_acm_certificate.regional) + length(aws_acm_certificate.cloudfront) + length(aws_route53_record.validation) == 0
    error_message = "Given certificates are not issued again."
  }
  assert {
    condition     = length(aws_route53_record.api) == 4 && length(aws_route53_record.app) == 2 && length(output.dns_records) == 0
    error_message = "The zone still gets the alias records."
  }
}

run "a_name_that_is_not_a_host_name_is_refused" {
  command = plan

  variables {
    custom_domain = {
      app     = "https://chat.example.com"
      api     = "api.chat.example.com"
      ws      = "ws.chat.example.com"
      zone_id = "Z0123456789ABCDEFGHIJ"
    }
  }

  expect_failures = [var.custom_domain]
}

run "an_upper_case_or_wildcard_name_is_refused" {
  command = plan

  variables {
    custom_domain = {
      app     = "Chat.example.com"
      api     = "*.chat.example.com"
      ws      = "ws.chat.example.com"
      zone_id = "Z0123456789ABCDEFGHIJ"
    }
  }

  expect_failures = [var.custom_domain]
}

run "one_name_for_two_endpoints_is_refused" {
  command = plan

  variables {
    custom_domain = {
      app     = "chat.example.com"
      api     = "api.chat.example.com"
      ws      = "api.chat.example.com"
      zone_id = "Z0123456789ABCDEFGHIJ"
    }
  }

  expect_failures = [var.custom_domain]
}

run "neither_a_zone_nor_both_certificates_is_refused" {
  command = plan

  variables {
    custom_domain = {
      app             = "chat.example.com"
      api             = "api.chat.example.com"
      ws              = "ws.chat.example.com"
      certificate_arn = "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000001"
    }
  }

  expect_failures = [var.custom_domain]
}

run "a_cloudfront_certificate_outside_us_east_1_is_refused" {
  command = plan

  variables {
    custom_domain = {
      app                        = "chat.example.com"
      api                        = "api.chat.example.com"
      ws                         = "ws.chat.example.com"
      certificate_arn            = "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000001"
      cloudfront_certificate_arn = "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000002"
    }
  }

  expect_failures = [var.custom_domain]
}

run "an_api_certificate_from_another_region_is_refused" {
  command = plan

  variables {
    custom_domain = {
      app                        = "chat.example.com"
      api                        = "api.chat.example.com"
      ws                         = "ws.chat.example.com"
      certificate_arn            = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000001"
      cloudfront_certificate_arn = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000002"
    }
  }

  expect_failures = [var.custom_domain]
}

run "a_zone_id_with_its_path_is_refused" {
  command = plan

  variables {
    custom_domain = {
      app     = "chat.example.com"
      api     = "api.chat.example.com"
      ws      = "ws.chat.example.com"
      zone_id = "/hostedzone/Z0123456789ABCDEFGHIJ"
    }
  }

  expect_failures = [var.custom_domain]
}
