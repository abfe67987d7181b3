# One state machine per functions/workflows/<name>.asl.json. STANDARD, not EXPRESS: an export
# runs once per request (exactly-once execution, no duplicate file or message), can outlast
# Express's 5 minutes for a long history, and its execution history is kept for 90 days for
# support at no extra cost; at ~15 state transitions an export costs about $0.0004, and an idle
# state machine costs nothing (docs/contracts.md, "Export workflow").

resource "aws_cloudwatch_log_group" "workflows" {
  #checkov:skip=CKV_AWS_338:Workflow errors serve operations, kept log_retention_days (30 by default); the audit trail is CloudTrail's
  for_each = local.workflow_functions

  name              = "/aws/vendedlogs/states/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "workflow" {
  for_each = local.workflow_functions

  name               = "${var.name_prefix}-${each.key}-workflow"
  description        = "Runs the ${each.key} state machine: invokes only its functions"
  assume_role_policy = data.aws_iam_policy_document.assume["states"].json
  tags               = var.tags
}

data "aws_iam_policy_document" "workflow" {
  for_each = local.workflow_functions

  statement {
    sid       = "InvokeItsFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = flatten([for name in each.value : local.invoke_arns[name]])
  }

  # Vended log delivery and X-Ray cannot be scoped to a resource (AWS's documented policy).
  statement {
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "SendTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
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

resource "aws_iam_role_policy" "workflow" {
  for_each = local.workflow_functions

  name   = "invoke-its-functions"
  role   = aws_iam_role.workflow[each.key].id
  policy = data.aws_iam_policy_document.workflow[each.key].json
}

resource "aws_sfn_state_machine" "this" {
  #checkov:skip=CKV_AWS_285:Execution history is logged at ERROR without execution data: inputs and outputs name users and conversations
  for_each = local.workflow_functions

  name     = "${var.name_prefix}-${each.key}"
  type     = "STANDARD"
  role_arn = aws_iam_role.workflow[each.key].arn
  # The one definition, filled in as tasks/workflows.py:render fills it for the local stack.
  definition = templatefile("${var.workflows_dir}/${each.key}.asl.json", {
    for name in each.value : "${name}_arn" => var.function_arns[name]
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.workflows[each.key].arn}:*"
    include_execution_data = false # inputs and outputs name users and conversations
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  dynamic "encryption_configuration" {
    for_each = compact([var.kms_key_arn])
    content {
      type                              = "CUSTOMER_MANAGED_KMS_KEY"
      kms_key_id                        = encryption_configuration.value
      kms_data_key_reuse_period_seconds = 300
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.workflow]
}
