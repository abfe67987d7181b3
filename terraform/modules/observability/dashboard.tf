locals {
  lambda_metric = {
    for metric in ["Invocations", "Errors", "Duration", "Throttles", "ConcurrentExecutions"] : metric => [
      for name in values(var.function_names) : ["AWS/Lambda", metric, "FunctionName", name]
    ]
  }

  # The app's own EMF metrics (Powertools Metrics: namespace var.metrics_namespace, dimension
  # service = POWERTOOLS_SERVICE_NAME). SEARCH sums over every function that emits one, so a
  # metric shows wherever it is recorded (fan-out runs in ws_message, bot_worker, ws_disconnect).
  app_metric_names = {
    "Fan-out: recipients and time (ms)"   = [["FanoutSize", "Average"], ["FanoutDuration", "p95"]]
    "Fan-out: stale and failed posts"     = [["StaleConnectionsRemoved", "Sum"], ["FanoutFailures", "Sum"]]
    "Assistant: time to first token (ms)" = [["BotTimeToFirstToken", "p50"], ["BotTimeToFirstToken", "p95"]]
    "Assistant: tokens"                   = [["BotInputTokens", "Sum"], ["BotOutputTokens", "Sum"]]
    "Messages and replies"                = [["MessagesSent", "Sum"], ["Replies", "Sum"], ["RepliesStopped", "Sum"], ["RepliesFailed", "Sum"]]
  }
  app_metrics = {
    for title, lines in local.app_metric_names : title => [
      for index, line in lines : [{
        id         = "m${index}"
        label      = "${line[0]} ${line[1]}"
        expression = "SEARCH('{${var.metrics_namespace},service} MetricName=\"${line[0]}\"', '${line[1]}', 60)"
      }]
    ]
  }

  # Ratings of replies (parley/feedback.py), per model: dimensions model and service.
  feedback_metrics = {
    "Feedback per model" = [
      for index, name in ["FeedbackUp", "FeedbackDown", "FeedbackRemoved"] : [{
        id         = "f${index}"
        label      = name
        expression = "SEARCH('{${var.metrics_namespace},model,service} MetricName=\"${name}\"', 'Sum', 300)"
      }]
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
    [for title, lines in local.feedback_metrics : { title = title, metrics = lines, stat = "Sum" }],
    local.workflow_widgets,
    local.stream_widgets,
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
