# One role per function. It may write its own log group, send traces, reach its failure
# destination, and do exactly the manifest's permissions on the resources they name. A resource
# reference that cannot be resolved fails the plan instead of widening the grant.

locals {
  index_refs = distinct([for p in module.manifest.permissions : p.resource if p.kind == "index"])

  # Exactly the catalog's Bedrock models (modules/catalog). A cross-region inference profile
  # (eu.…, us.…) routes to its base model in any of the profile's regions, so that model's ARN
  # takes every region and the profile is this account's; a plain model id is this region's.
  bedrock_profile = "^(us|eu|apac|us-gov|global)\\."
  bedrock_model_arns = flatten([
    for id in var.models.bedrock_models : can(regex(local.bedrock_profile, id)) ? [
      "arn:${local.partition}:bedrock:*::foundation-model/${replace(id, "/${local.bedrock_profile}/", "")}",
      "arn:${local.partition}:bedrock:${local.region}:${local.account}:inference-profile/${id}",
    ] : ["arn:${local.partition}:bedrock:${local.region}::foundation-model/${id}"]
  ])
  bedrock_agent_arns = [
    for a in var.models.bedrock_agents : "arn:${local.partition}:bedrock:${local.region}:${local.account}:agent-alias/${a.agent_id}/${a.alias_id}"
  ]
  model_api_key_arns = [
    for p in var.models.api_key_parameters : "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${p}"
  ]

  # Manifest resource reference => ARNs. An empty list drops the statement: the deployment does
  # not use that resource (no API key parameter, no model of that provider in the catalog).
  resource_arns = merge(
    { for table, arn in var.table_arns : "table:${table}" => [arn] },
    {
      for ref in local.index_refs : ref => [
        "${var.table_arns[split("/", split(":", ref)[1])[0]]}/index/${split("/", split(":", ref)[1])[1]}"
      ]
    },
    # Functions invoke each other through the alias, as every trigger does.
    { for name, arn in local.alias_arns : "function:${name}" => [arn] },
    {
      "websocket:manage"  = ["${var.websocket_execution_arn}/${var.websocket_stage}/*/@connections/*"]
      "ssm:model_api_key" = local.model_api_key_arns
      "bedrock:model"     = local.bedrock_model_arns
      "bedrock:agent"     = local.bedrock_agent_arns
      "sqs:dlq"           = local.has_dlq ? [aws_sqs_queue.dlq[0].arn] : []
      # The exports bucket (objects, and the bucket itself for s3:ListBucket) and the export
      # state machine, both made by modules/workflows.
      # Objects only, under the prefix the code writes (uploads/<conversation>/<user>/<id>).
      "bucket:uploads" = var.uploads_bucket == null ? [] : ["${var.uploads_bucket.arn}/uploads/*"]
      "bucket:exports" = var.exports_bucket_arn == null ? [] : [var.exports_bucket_arn, "${var.exports_bucket_arn}/*"]
      # Share links' snapshots: objects under shares/ in the exports bucket, nothing else.
      "bucket:shares"       = var.exports_bucket_arn == null ? [] : ["${var.exports_bucket_arn}/shares/*"]
      "statemachine:export" = var.export_state_machine_arn == null ? [] : [var.export_state_machine_arn]
      # The user pool admin_api manages (its users' status and sign-out), nothing else.
      "userpool:main" = var.refs.user_pool_id == "" ? [] : ["arn:${local.partition}:cognito-idp:${local.region}:${local.account}:userpool/${var.refs.user_pool_id}"]
      "*"             = ["*"]
    },
  )

  # Actions AWS cannot scope to a resource: the only ones a "*" resource may carry.
  wildcard_resource_actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"]

  policies = {
    for name, f in local.functions : name => {
      Version = "2012-10-17"
      Statement = concat(
        [{
          Sid      = "WriteOwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${aws_cloudwatch_log_group.this[name].arn}:*"]
        }],
        [for enabled in [f.tracing] : {
          Sid      = "SendTraces"
          Effect   = "Allow"
          Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
          Resource = ["*"]
        } if enabled],
        [for a in [f.async] : {
          Sid      = "FailureDestination"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage"]
          Resource = [aws_sqs_queue.dlq[0].arn]
        } if a != null && try(a.on_failure, null) == "dlq"],
        [for s in [f.stream] : {
          Sid      = "ReadChangeFeed"
          Effect   = "Allow"
          Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
          Resource = [var.table_stream_arns[s.table]]
        } if s != null],
        [for s in [f.stream] : {
          Sid      = "ChangeFeedFailureDestination"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage"]
          Resource = [aws_sqs_queue.stream_dlq[0].arn]
        } if s != null && try(s.on_failure, null) == "dlq"],
        [for key in compact([var.kms_key_arn]) : {
          Sid      = "UseKmsKey"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource = [key]
        }],
        [for key in compact([var.model_api_key_kms_key_arn]) : {
          Sid      = "DecryptModelApiKey"
          Effect   = "Allow"
          Action   = ["kms:Decrypt"]
          Resource = [key]
          Condition = {
            StringEquals = { "kms:ViaService" = "ssm.${local.region}.amazonaws.com" }
          }
        } if contains([for p in f.permissions : p.resource], "ssm:model_api_key") && length(local.model_api_key_arns) > 0],
        # leading_keys: the items' partition keys the actions are limited to (a table's
        # dynamodb:LeadingKeys), e.g. admin_api may put audit entries and never change one.
        [for index, p in f.permissions : merge(
          {
            Sid      = "Manifest${index}"
            Effect   = "Allow"
            Action   = p.actions
            Resource = local.resource_arns[p.resource]
          },
          p.leading_keys == null ? {} : {
            Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = p.leading_keys } }
          },
        ) if length(local.resource_arns[p.resource]) > 0],
      )
    }
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.functions

  name               = local.function_names[each.key]
  description        = "Runs ${local.function_names[each.key]}: only the manifest's permissions"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.functions

  name   = "manifest-permissions"
  role   = aws_iam_role.this[each.key].id
  policy = jsonencode(local.policies[each.key])

  lifecycle {
    precondition {
      condition = alltrue([
        for p in each.value.permissions : alltrue([for action in p.actions : action != "*" && !can(regex(":\\*$", action))])
      ])
      error_message = "Function ${each.key}: wildcard IAM actions are not allowed."
    }
    precondition {
      condition = alltrue([
        for p in each.value.permissions : p.resource != "*" || length(setsubtract(p.actions, local.wildcard_resource_actions)) == 0
      ])
      error_message = "Function ${each.key}: a \"*\" resource may only carry actions AWS cannot scope (${join(", ", local.wildcard_resource_actions)})."
    }
  }
}
