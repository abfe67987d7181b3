# Custom names for the app (CloudFront) and both APIs (API Gateway regional custom domains, each
# API's stage mapped at the root, so https://<api>/conversations and wss://<ws> are the URLs).
#
# With a Route 53 zone (custom_domain.zone_id), a certificate that is not given is issued here and
# validated through DNS records in the zone, and the three names get alias A and AAAA records.
# Without one, both certificates are given and the dns_records output lists the records to make
# at whoever serves the domain. The WebSocket management endpoint (postToConnection) stays the
# execute-api URL: the @connections API is not served on a custom domain.

data "aws_region" "current" {}

locals {
  zone_id = var.custom_domain.zone_id

  # The APIs by key: the name each is served at, the API and the stage mapped at its root.
  apis = {
    api = { name = var.custom_domain.api, id = var.http_api.id, stage = var.http_api.stage }
    ws  = { name = var.custom_domain.ws, id = var.websocket_api.id, stage = var.websocket_api.stage }
  }

  issue_regional   = var.custom_domain.certificate_arn == null
  issue_cloudfront = var.custom_domain.cloudfront_certificate_arn == null

  # The names an issued certificate must prove, keyed by what is known at plan time (the
  # certificates' validation options are known only once ACM has answered).
  validated_names = merge(
    local.issue_regional ? { api = var.custom_domain.api, ws = var.custom_domain.ws } : {},
    local.issue_cloudfront ? { app = var.custom_domain.app } : {},
  )
  validation_options = {
    for option in flatten([
      for certificate in concat(aws_acm_certificate.regional, aws_acm_certificate.cloudfront) :
      tolist(certificate.domain_validation_options)
    ]) : option.domain_name => option
  }

  # Certificates API Gateway and CloudFront may use: issued ones only once they are validated.
  regional_certificate_arn   = local.issue_regional ? aws_acm_certificate_validation.regional[0].certificate_arn : var.custom_domain.certificate_arn
  cloudfront_certificate_arn = local.issue_cloudfront ? aws_acm_certificate_validation.cloudfront[0].certificate_arn : var.custom_domain.cloudfront_certificate_arn

  # Every name answers over IPv4 and IPv6 (CloudFront and the dual-stack API domains both do).
  address_types = ["A", "AAAA"]
  api_aliases = local.zone_id == null ? {} : {
    for pair in setproduct(keys(local.apis), local.address_types) :
    "${pair[0]}-${pair[1]}" => { api = pair[0], type = pair[1] }
  }
}

# ── certificates (only those not given; validated in the zone) ──────────────────────────────

resource "aws_acm_certificate" "regional" {
  count = local.issue_regional ? 1 : 0

  domain_name               = var.custom_domain.api
  subject_alternative_names = [var.custom_domain.ws]
  validation_method         = "DNS"

  options {
    certificate_transparency_logging_preference = "ENABLED"
  }

  tags = var.tags

  # The API domains hold the certificate: a replacement is made before the old one goes.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_acm_certificate" "cloudfront" {
  provider = aws.us_east_1
  count    = local.issue_cloudfront ? 1 : 0

  domain_name       = var.custom_domain.app
  validation_method = "DNS"

  options {
    certificate_transparency_logging_preference = "ENABLED"
  }

  tags = var.tags

  # The distribution holds the certificate: a replacement is made before the old one goes.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = local.validated_names

  zone_id = local.zone_id
  name    = local.validation_options[each.value].resource_record_name
  type    = local.validation_options[each.value].resource_record_type
  records = [local.validation_options[each.value].resource_record_value]
  ttl     = 300
  # ACM asks for the same record for a name every time: one left by an earlier certificate is
  # taken over rather than refused.
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "regional" {
  count = local.issue_regional ? 1 : 0

  certificate_arn         = aws_acm_certificate.regional[0].arn
  validation_record_fqdns = [for key in keys(local.apis) : aws_route53_record.validation[key].fqdn]
}

resource "aws_acm_certificate_validation" "cloudfront" {
  provider = aws.us_east_1
  count    = local.issue_cloudfront ? 1 : 0

  certificate_arn         = aws_acm_certificate.cloudfront[0].arn
  validation_record_fqdns = [aws_route53_record.validation["app"].fqdn]
}

# ── the APIs' names ──────────────────────────────────────────────────────────────────────────

resource "aws_apigatewayv2_domain_name" "this" {
  for_each = local.apis

  domain_name = each.value.name

  domain_name_configuration {
    certificate_arn = local.regional_certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
    ip_address_type = "dualstack"
  }

  tags = var.tags
}

# Each API's stage at the root of its name (no mapping key): the app's URLs have no path.
resource "aws_apigatewayv2_api_mapping" "this" {
  for_each = local.apis

  api_id      = each.value.id
  domain_name = aws_apigatewayv2_domain_name.this[each.key].domain_name
  stage       = each.value.stage
}

# ── DNS (with a zone; otherwise the dns_records output) ──────────────────────────────────────

resource "aws_route53_record" "api" {
  for_each = local.api_aliases

  zone_id = local.zone_id
  name    = local.apis[each.value.api].name
  type    = each.value.type

  alias {
    name                   = aws_apigatewayv2_domain_name.this[each.value.api].domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.this[each.value.api].domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}

resource "aws_route53_record" "app" {
  for_each = toset(local.zone_id == null ? [] : local.address_types)

  zone_id = local.zone_id
  name    = var.custom_domain.app
  type    = each.key

  alias {
    name                   = var.cloudfront.domain_name
    zone_id                = var.cloudfront.hosted_zone_id
    evaluate_target_health = false
  }
}
