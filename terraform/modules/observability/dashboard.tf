locals {
  lambda_metric = {
    for metric in ["Invocations", "Errors", "Duration", "Throttles", "ConcurrentExecutions"] : metric => [
      for name in values(var.function_names) : ["AWS/Lambda", metric, "FunctionName", name]
    ]
  }

  # The app's own EMF metrics (Powertools Metrics, namespace var.metrics_namespace, dimension
  # service = POWERTOOLS_SERVICE_NAME).
  app_metrics = {
    "Fan-out" = [
      [var.metrics_namespace, "FanOutSize", "service", "ws_message", { stat = "Average" }],
      [var.metrics_namespace, "FanOutTime", "service", "ws_message", { stat = "p95", yAxis = "right" }],
      [var.metrics_namespace, "StaleConnections", "service", "ws_message", { stat = "Sum" }],
    ]
    "Assistant: time to first token (ms)" = [
      [var.metrics_namespace, "BotTimeToFirstToken", "service", "bot_worker", { stat = "p50" }],
      [var.metrics_namespace, "BotTimeToFirstToken", "service", "bot_worker", { stat = "p95" }],
    ]
    "Assistant: tokens" = [
      [var.metrics_namespace, "InputTokens", "service", "bot_worker", { stat = "Sum" }],
      [var.metrics_namespace, "OutputTokens", "service", "bot_worker", { stat = "Sum" }],
    ]
    "Messages" = [
      [var.metrics_namespace, "MessagesSent", "service", "ws_message", { stat = "Sum" }],
    ]
  }

  api_metrics = {
    "HTTP API" = [
      ["AWS/ApiGateway", "Count", "ApiId", var.http_api_id],
      ["AWS/ApiGateway", "4xx", "ApiId", var.http_api_id],
      ["AWS/ApiGateway", "5xx", "ApiId", var.http_api_id],
    ]
    "WebSocket API" = [
      ["AWS/ApiGateway", "ConnectCount", "ApiId", var.websocket_api_id],
      ["AWS/ApiGateway", "MessageCount", "ApiId", var.websocket_api_id],
      ["AWS/ApiGateway", "IntegrationError", "ApiId", var.websocket_api_id],
    ]
  }

  widgets = concat(
    [for metric, lines in local.lambda_metric : { title = "Lambda ${metric}", metrics = lines, stat = metric == "Duration" ? "p95" : "Sum" }],
    [for title, lines in local.api_metrics : { title = title, metrics = lines, stat = "Sum" }],
    [for title, lines in local.app_metrics : { title = title, metrics = lines, stat = "Sum" }],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.widgets : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          region  = local.region
          metrics = widget.metrics
          stat    = widget.stat
          period  = 60
          view    = "timeSeries"
        }
      }
    ]
  })
}
