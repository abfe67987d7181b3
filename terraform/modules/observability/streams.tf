# The change feed (stream_processor): an alarm when the feed falls behind (IteratorAge: the age
# of the last record a batch took, so members' lists, rollups and clean-up are that late), and it
# and the stream dead-letter queue (`invoke redrive`) on the dashboard. A batch given up on and
# waiting in that queue is alarmed with the other dead-letter queues (main.tf, queue_depth).

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  for_each = var.stream_function_names

  alarm_name          = "${var.name_prefix}-${each.key}-iterator-age"
  alarm_description   = "${each.value} is more than ${var.iterator_age_threshold_seconds} s behind its stream: lists, usage and clean-up lag by that much"
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.iterator_age_threshold_seconds * 1000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

locals {
  stream_widgets = concat(
    [for name, function in var.stream_function_names : {
      title   = "Change feed ${name}: iterator age (ms)"
      metrics = [["AWS/Lambda", "IteratorAge", "FunctionName", function]]
      stat    = "Maximum"
    }],
    [for queue in compact([var.stream_dlq_name]) : {
      title   = "Change feed: batches in the dead-letter queue"
      metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue]]
      stat    = "Maximum"
    }],
  )
}
