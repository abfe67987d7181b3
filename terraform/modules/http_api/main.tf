# The HTTP API: one integration per function, one route per manifest route. Every route has the
# Cognito JWT authorizer except those the manifest marks auth: none (POST /chat verifies its own
# token because it accepts the id_token header).

module "manifest" {
  source        = "../manifest"
  manifest_path = var.manifest_path
  tables_path   = var.tables_path
}

data "aws_region" "current" {}

locals {
  routes          = module.manifest.http_routes
  route_functions = toset([for route in local.routes : route.function])
  issuer          = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${var.user_pool_id}"
}

resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name_prefix}-http"
  protocol_type = "HTTP"
  description   = "Parley HTTP API"

  cors_configuration {
    allow_origins     = var.cors_allow_origins
    allow_methods     = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    allow_headers     = ["authorization", "content-type", "id_token"]
    expose_headers    = ["retry-after"]
    allow_credentials = false
    max_age           = 600
  }

  tags = var.tags
}

resource "aws_apigatewayv2_authorizer" "cognito" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "cognito"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = local.issuer
    audience = [var.user_pool_client_id]
  }
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = local.route_functions

  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = var.functions[each.key].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 29000
}

resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:Routes marked auth none in the manifest (POST /chat) verify the token in the function; tests/infra checks every other route has the JWT authorizer
  for_each = local.routes

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.this[each.value.function].id}"
  authorization_type = each.value.auth == "none" ? "NONE" : "JWT"
  authorizer_id      = each.value.auth == "none" ? null : aws_apigatewayv2_authorizer.cognito.id
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_338:Access logs serve operations, kept log_retention_days (30 by default); the audit trail is CloudTrail's
  name              = "/aws/apigateway/${var.name_prefix}-http"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    detailed_metrics_enabled = true
  }

  # Routes that cost more than the stage default allows for (a model call, a fan-out) or that
  # anyone can reach without the gateway authorizer get their own, lower limits.
  dynamic "route_settings" {
    for_each = var.route_throttles
    content {
      route_key                = route_settings.key
      throttling_burst_limit   = route_settings.value.burst_limit
      throttling_rate_limit    = route_settings.value.rate_limit
      detailed_metrics_enabled = true
    }
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      authorizerError    = "$context.authorizer.error"
      userId             = "$context.authorizer.claims.sub"
    })
  }

  tags = var.tags

  # Route settings name routes that must exist first.
  depends_on = [aws_apigatewayv2_route.this]

  lifecycle {
    precondition {
      condition     = length(setsubtract(keys(var.route_throttles), keys(local.routes))) == 0
      error_message = "route_throttles names routes the manifest does not have: ${join(", ", setsubtract(keys(var.route_throttles), keys(local.routes)))}."
    }
    precondition {
      condition     = length(setsubtract([for key, route in local.routes : key if route.auth == "none"], keys(var.route_throttles))) == 0
      error_message = "Every route without the JWT authorizer needs its own throttle in route_throttles (anyone can call it): ${join(", ", setsubtract([for key, route in local.routes : key if route.auth == "none"], keys(var.route_throttles)))}."
    }
  }
}

resource "aws_lambda_permission" "this" {
  for_each = local.route_functions

  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.functions[each.key].function_name
  qualifier     = var.functions[each.key].alias
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
