# The WebSocket API: $connect guarded by the manifest's authorizer function (the token travels in
# Sec-WebSocket-Protocol, never in the URL), routes selected by the body's "action".

module "manifest" {
  source        = "../manifest"
  manifest_path = var.manifest_path
  tables_path   = var.tables_path
}

data "aws_region" "current" {}

locals {
  routes          = module.manifest.websocket_routes
  authorizer      = module.manifest.authorizer_function
  route_functions = toset(values(local.routes))
  # The functions an API Gateway may invoke: route targets and the authorizer.
  invoked = setunion(local.route_functions, local.authorizer == null ? [] : [local.authorizer])
}

resource "aws_apigatewayv2_api" "this" {
  name                       = "${var.name_prefix}-ws"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
  description                = "Parley WebSocket API"
  tags                       = var.tags
}

resource "aws_apigatewayv2_authorizer" "this" {
  count = local.authorizer == null ? 0 : 1

  api_id           = aws_apigatewayv2_api.this.id
  name             = "token"
  authorizer_type  = "REQUEST"
  authorizer_uri   = var.functions[local.authorizer].invoke_arn
  identity_sources = ["route.request.header.Sec-WebSocket-Protocol"]
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = local.route_functions

  api_id                    = aws_apigatewayv2_api.this.id
  integration_type          = "AWS_PROXY"
  integration_method        = "POST"
  integration_uri           = var.functions[each.key].invoke_arn
  content_handling_strategy = "CONVERT_TO_TEXT"
}

resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:Only $connect takes an authorizer on a WebSocket API; every later message rides the authorized connection
  for_each = local.routes

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.this[each.value].id}"
  authorization_type = each.key == "$connect" ? "CUSTOM" : "NONE"
  authorizer_id      = each.key == "$connect" ? aws_apigatewayv2_authorizer.this[0].id : null

  lifecycle {
    precondition {
      condition     = each.key != "$connect" || local.authorizer != null
      error_message = "The manifest routes $connect but names no function with triggers.authorizer: websocket."
    }
  }
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_338:Access logs serve operations, kept log_retention_days (30 by default); the audit trail is CloudTrail's
  name              = "/aws/apigateway/${var.name_prefix}-ws"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  #checkov:skip=CKV2_AWS_51:Browsers connect without client certificates; $connect is guarded by the token authorizer
  api_id      = aws_apigatewayv2_api.this.id
  name        = var.stage_name
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    data_trace_enabled       = false
    detailed_metrics_enabled = true
    logging_level            = "ERROR"
  }

  # $connect runs the authorizer and a write per attempt; sendMessage and retry start a reply.
  dynamic "route_settings" {
    for_each = var.route_throttles
    content {
      route_key                = route_settings.key
      throttling_burst_limit   = route_settings.value.burst_limit
      throttling_rate_limit    = route_settings.value.rate_limit
      data_trace_enabled       = false
      detailed_metrics_enabled = true
      logging_level            = "ERROR"
    }
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId        = "$context.requestId"
      ip               = "$context.identity.sourceIp"
      requestTime      = "$context.requestTime"
      eventType        = "$context.eventType"
      routeKey         = "$context.routeKey"
      status           = "$context.status"
      connectionId     = "$context.connectionId"
      integrationError = "$context.integrationErrorMessage"
      authorizerError  = "$context.authorizer.error"
    })
  }

  tags = var.tags

  # Route settings name routes that must exist first.
  depends_on = [aws_api_gateway_account.this, aws_apigatewayv2_route.this]

  lifecycle {
    precondition {
      condition     = length(setsubtract(keys(var.route_throttles), keys(local.routes))) == 0
      error_message = "route_throttles names routes the manifest does not have: ${join(", ", setsubtract(keys(var.route_throttles), keys(local.routes)))}."
    }
  }
}

resource "aws_lambda_permission" "this" {
  for_each = local.invoked

  statement_id  = "AllowWebSocketApi"
  action        = "lambda:InvokeFunction"
  function_name = var.functions[each.key].function_name
  qualifier     = var.functions[each.key].alias
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*"
}
