# Alarms (function errors and throttles, HTTP 5xx, messages in a dead-letter queue) to one SNS
# topic, and one dashboard with the functions' and the app's own metrics (EMF, namespace Parley).

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name
  period = 300
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  # CloudWatch publishes an alarm to an encrypted topic with a data key of the topic's key: an
  # AWS-managed key (alias/aws/sns) cannot grant that, so alarms would reach nobody. The topic
  # gets its own customer-managed key whose policy lets CloudWatch (for this account's alarms
  # only) use it; a key passed in var.kms_key_arn must allow the same (docs/deploy.md).
  alarms_key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${local.account}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account }
          ArnLike      = { "aws:SourceArn" = "arn:${data.aws_partition.current.partition}:cloudwatch:${local.region}:${local.account}:alarm:*" }
        }
      },
    ]
  }
}

resource "aws_kms_key" "alarms" {
  #checkov:skip=CKV2_AWS_64:The policy is set (local.alarms_key_policy): the account administers, CloudWatch alarms encrypt
  count = var.kms_key_arn == null ? 1 : 0

  description             = "Encrypts ${var.name_prefix}-alarms (CloudWatch alarms may use it)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = jsonencode(local.alarms_key_policy)
  tags                    = var.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = var.kms_key_arn == null ? aws_kms_key.alarms[0].arn : var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = var.function_names

  alarm_name          = "${each.value}-errors"
  alarm_description   = "${each.value} raised errors"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  threshold           = var.error_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each = var.function_names

  alarm_name          = "${each.value}-throttles"
  alarm_description   = "${each.value} was throttled"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# Slow replies: p99 duration near the timeout. With errors and throttles it is what `invoke shift`
# watches during a canary or linear release, rolling back when one goes off.
resource "aws_cloudwatch_metric_alarm" "duration" {
  for_each = { for name, fn in var.function_names : name => fn if contains(keys(var.function_timeouts), name) }

  alarm_name          = "${each.value}-duration-p99"
  alarm_description   = "${each.value}: p99 duration above 80% of its timeout"
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = each.value }
  extended_statistic  = "p99"
  period              = local.period
  evaluation_periods  = 1
  threshold           = var.function_timeouts[each.key] * 1000 * 0.8
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "http_5xx" {
  alarm_name          = "${var.name_prefix}-http-5xx"
  alarm_description   = "The HTTP API answered 5xx"
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = { ApiId = var.http_api_id, Stage = "$default" }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = 1
  threshold           = var.http_5xx_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# Dead-letter queues: an alarm from a queue's first message. Key => the queue's name (null when
# it is not deployed: no alarm), the alarm's name after the prefix, and what a message in it means
# (%s is the queue's name).
locals {
  dead_letter_queues = {
    dlq = {
      queue       = var.dlq_name
      alarm       = "dlq-depth"
      description = "Async invocations failed for good and wait in %s"
    }
    stream_dlq = {
      queue       = var.stream_dlq_name
      alarm       = "stream-dlq-depth"
      description = "The change feed gave up on a batch (retries or record age spent); replay it with `invoke redrive` once fixed. Queue: %s"
    }
    schedule_dlq = {
      queue       = var.schedule_dlq_name
      alarm       = "schedule-dlq-depth"
      description = "A scheduled invocation failed for good (retries spent) and waits in %s"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "queue_depth" {
  for_each = { for key, q in local.dead_letter_queues : key => q if q.queue != null }

  alarm_name          = "${var.name_prefix}-${each.value.alarm}"
  alarm_description   = format(each.value.description, each.value.queue)
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value.queue }
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

# The three queue alarms were one resource each (count 0 or 1): a deployment made before keeps
# them, renamed in its state.
moved {
  from = aws_cloudwatch_metric_alarm.dlq[0]
  to   = aws_cloudwatch_metric_alarm.queue_depth["dlq"]
}

moved {
  from = aws_cloudwatch_metric_alarm.stream_dlq[0]
  to   = aws_cloudwatch_metric_alarm.queue_depth["stream_dlq"]
}

moved {
  from = aws_cloudwatch_metric_alarm.schedule_dlq[0]
  to   = aws_cloudwatch_metric_alarm.queue_depth["schedule_dlq"]
}
