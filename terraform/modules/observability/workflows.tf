# The scheduled jobs and the state machines (modules/workflows): an alarm when an execution
# fails or times out, and it and the schedules' dead-letter queue on the dashboard. Events piling
# up in that queue are alarmed with the other dead-letter queues (main.tf, queue_depth).

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
