# The scheduled jobs and the state machines (modules/workflows): an alarm when an execution
# fails or times out, one when a schedule's events pile up in its dead-letter queue, and both
# on the dashboard.

resource "aws_cloudwatch_metric_alarm" "workflow_failed" {
  for_each = var.state_machine_arns

  alarm_name          = "${var.name_prefix}-${each.key}-failed"
  alarm_description   = "The ${each.key} state machine had executions that failed, timed out or were aborted"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags

  metric_query {
    id          = "ended_badly"
    expression  = "failed + timed_out + aborted"
    label       = "Executions that did not succeed"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { failed = "ExecutionsFailed", timed_out = "ExecutionsTimedOut", aborted = "ExecutionsAborted" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/States"
        metric_name = metric_query.value
        dimensions  = { StateMachineArn = each.value }
        period      = local.period
        stat        = "Sum"
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "schedule_dlq" {
  count = var.schedule_dlq_name == null ? 0 : 1

  alarm_name          = "${var.name_prefix}-schedule-dlq-depth"
  alarm_description   = "A scheduled invocation failed for good (retries spent) and waits in ${var.schedule_dlq_name}"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.schedule_dlq_name }
  statistic           = "Maximum"
  period              = local.period
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

locals {
  workflow_widgets = concat(
    [for name, arn in var.state_machine_arns : {
      title = "Workflow ${name}: executions"
      metrics = [
        for metric in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] :
        ["AWS/States", metric, "StateMachineArn", arn]
      ]
      stat = "Sum"
    }],
    [for queue in compact([var.schedule_dlq_name]) : {
      title   = "Schedules: events in the dead-letter queue"
      metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue]]
      stat    = "Maximum"
    }],
  )
}
