# One EventBridge Scheduler schedule per manifest `schedule` trigger. A failed invoke is retried
# by the scheduler (max_retries, within max_event_age_seconds), then the event goes to the
# schedules' dead-letter queue, whose depth is alarmed (modules/observability).

resource "aws_sqs_queue" "schedule_dlq" {
  count = length(local.schedules) > 0 ? 1 : 0

  name                              = "${var.name_prefix}-schedule-dlq"
  message_retention_seconds         = 1209600
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 300
  tags                              = var.tags
}

resource "aws_iam_role" "schedule" {
  for_each = local.schedules

  name               = "${var.name_prefix}-${each.key}-schedule"
  description        = "Lets EventBridge Scheduler invoke ${each.key} and dead-letter its failed events"
  assume_role_policy = data.aws_iam_policy_document.assume["scheduler"].json
  tags               = var.tags
}

data "aws_iam_policy_document" "schedule" {
  for_each = local.schedules

  statement {
    sid       = "InvokeTheFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = local.invoke_arns[each.key]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.schedule_dlq[0].arn]
  }

  dynamic "statement" {
    for_each = compact([var.kms_key_arn])
    content {
      sid       = "UseKmsKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "schedule" {
  for_each = local.schedules

  name   = "invoke-${each.key}"
  role   = aws_iam_role.schedule[each.key].id
  policy = data.aws_iam_policy_document.schedule[each.key].json
}

resource "aws_scheduler_schedule" "this" {
  for_each = local.schedules

  name                         = "${var.name_prefix}-${each.key}"
  description                  = "Invokes ${each.key} (functions/manifest.yaml schedule trigger)"
  schedule_expression          = each.value.expression
  schedule_expression_timezone = each.value.timezone
  state                        = "ENABLED"
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.function_arns[each.key]
    role_arn = aws_iam_role.schedule[each.key].arn
    input    = jsonencode(each.value.input)

    retry_policy {
      maximum_retry_attempts       = each.value.max_retries
      maximum_event_age_in_seconds = each.value.max_event_age_seconds
    }

    dead_letter_config {
      arn = aws_sqs_queue.schedule_dlq[0].arn
    }
  }

  depends_on = [aws_iam_role_policy.schedule]
}
