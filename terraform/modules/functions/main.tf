# One function per entry of functions/manifest.yaml and one shared dependency layer. The code is
# never built here: every zip comes from the release record, by content hash.

module "manifest" {
  source        = "../manifest"
  manifest_path = var.manifest_path
  tables_path   = var.tables_path
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition

  functions      = module.manifest.functions
  function_names = { for name in keys(local.functions) : name => "${var.name_prefix}-${name}" }
  # Known before any function exists, so the WebSocket API, Cognito and the functions themselves
  # can refer to a function without a dependency cycle.
  function_arns = {
    for name, fn in local.function_names : name => "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${fn}"
  }
  # What every caller invokes: the `live` alias, never the unqualified function ($LATEST). The
  # pipeline moves the alias between published versions (`invoke shift`, docs/release.md).
  alias_arns = { for name, arn in local.function_arns : name => "${arn}:${var.alias_name}" }

  # The manifest's reservation unless this environment overrides it; -1 = the shared pool.
  reserved_concurrency = {
    for name, f in local.functions : name => lookup(var.reserved_concurrency, name, f.reserved_concurrency)
  }

  refs = merge(var.refs, {
    bot_worker_function_name = contains(keys(local.function_names), "bot_worker") ? "${local.function_names["bot_worker"]}:${var.alias_name}" : ""
    fanout_function_name     = contains(keys(local.function_names), "fanout") ? "${local.function_names["fanout"]}:${var.alias_name}" : ""
  })

  # One layer per architecture, keyed as `invoke build` keys it (arm64 carries no suffix).
  layer_keys = {
    for arch in module.manifest.architectures : arch => arch == "arm64" ? "layer:${module.manifest.layer.name}" : "layer:${module.manifest.layer.name}-${arch}"
  }
  async   = module.manifest.async_functions
  has_dlq = length([for name, a in local.async : name if a.on_failure == "dlq"]) > 0
}

resource "aws_lambda_layer_version" "deps" {
  for_each = local.layer_keys

  layer_name               = "${var.name_prefix}-${module.manifest.layer.name}-${each.key}"
  description              = module.manifest.layer.description
  s3_bucket                = var.artifacts_bucket
  s3_key                   = var.release.artifacts[each.value].s3_key
  source_code_hash         = var.release.artifacts[each.value].sha256_base64
  compatible_runtimes      = distinct([for f in local.functions : f.runtime])
  compatible_architectures = [each.key]
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions reach only AWS APIs (DynamoDB, SSM, API Gateway, Bedrock); a VPC adds NAT cost and cold-start time, no isolation
  #checkov:skip=CKV_AWS_272:Code integrity comes from content addressing: s3_key and source_code_hash are the sha256 recorded at build time
  #checkov:skip=CKV_AWS_116:Synchronous functions answer their caller; the async worker has an on-failure SQS destination (event invoke config), which supersedes a DLQ
  #checkov:skip=CKV_AWS_50:Tracing follows the manifest (defaults.tracing, on); tests/infra checks the manifest value reaches tracing_config
  #checkov:skip=CKV_AWS_115:Reserved concurrency comes from the manifest (bot_worker, chat_api; overridable per environment with reserved_concurrency); the other functions, ws_authorizer among them, share the unreserved pool those reservations protect
  for_each = local.functions

  function_name                  = local.function_names[each.key]
  description                    = each.value.description
  role                           = aws_iam_role.this[each.key].arn
  handler                        = each.value.handler
  runtime                        = each.value.runtime
  architectures                  = [each.value.architecture]
  memory_size                    = each.value.memory
  timeout                        = each.value.timeout
  reserved_concurrent_executions = local.reserved_concurrency[each.key]
  s3_bucket                      = var.artifacts_bucket
  s3_key                         = var.release.artifacts["function:${each.key}"].s3_key
  source_code_hash               = var.release.artifacts["function:${each.key}"].sha256_base64
  layers                         = [aws_lambda_layer_version.deps[each.value.architecture].arn]
  kms_key_arn                    = var.kms_key_arn
  # Every change of code (the artifact's hash) or configuration publishes a version; callers
  # reach it only once the pipeline points the `live` alias at it.
  publish = true

  environment {
    variables = merge(
      each.value.environment,
      { for name, ref in each.value.env_refs : name => local.refs[ref] },
    )
  }

  tracing_config {
    mode = each.value.tracing ? "Active" : "PassThrough"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this[each.key].name
  }

  tags = merge(var.tags, { Name = local.function_names[each.key] })

  # The role must be able to write logs and reach its resources before the first invocation.
  depends_on = [aws_iam_role_policy.this]
}

# The name every trigger calls. Terraform creates it on the first published version; after
# that the release pipeline owns which version(s) it routes to (all at once, canary or linear,
# rolled back on an alarm), so a plan never undoes a traffic shift in progress.
resource "aws_lambda_alias" "live" {
  for_each = local.functions

  name             = var.alias_name
  description      = "What callers invoke; moved between versions by the release pipeline"
  function_name    = aws_lambda_function.this[each.key].function_name
  function_version = aws_lambda_function.this[each.key].version

  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}

# Pre-initialised execution environments on the alias, per environment (var.provisioned_concurrency).
resource "aws_lambda_provisioned_concurrency_config" "live" {
  for_each = var.provisioned_concurrency

  function_name                     = aws_lambda_alias.live[each.key].function_name
  qualifier                         = aws_lambda_alias.live[each.key].name
  provisioned_concurrent_executions = each.value
}

resource "aws_sqs_queue" "dlq" {
  count = local.has_dlq ? 1 : 0

  name                              = "${var.name_prefix}-async-dlq"
  message_retention_seconds         = 1209600
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 300
  tags                              = var.tags
}

resource "aws_lambda_function_event_invoke_config" "this" {
  for_each = local.async

  function_name                = aws_lambda_function.this[each.key].function_name
  qualifier                    = aws_lambda_alias.live[each.key].name
  maximum_retry_attempts       = each.value.max_retries
  maximum_event_age_in_seconds = each.value.max_event_age_seconds

  dynamic "destination_config" {
    for_each = each.value.on_failure == "dlq" ? [aws_sqs_queue.dlq[0].arn] : []
    content {
      on_failure {
        destination = destination_config.value
      }
    }
  }

  # The role must be allowed to send to the queue before Lambda accepts the destination.
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_lambda_permission" "cognito" {
  for_each = module.manifest.cognito_triggers

  statement_id  = "AllowCognito${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value].function_name
  qualifier     = aws_lambda_alias.live[each.value].name
  principal     = "cognito-idp.amazonaws.com"
  source_arn    = var.user_pool_arn
}

# S3 notifies the functions whose manifest `s3` trigger names the uploads bucket (asynchronous
# invokes of the live alias: the async settings and the DLQ above apply).
locals {
  s3_functions = var.uploads_bucket == null ? {} : {
    for name, t in module.manifest.s3_functions : name => t if t.bucket == "uploads"
  }
}

resource "aws_lambda_permission" "s3" {
  for_each = local.s3_functions

  statement_id   = "AllowS3Uploads"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this[each.key].function_name
  qualifier      = aws_lambda_alias.live[each.key].name
  principal      = "s3.amazonaws.com"
  source_arn     = var.uploads_bucket.arn
  source_account = local.account
}

resource "aws_s3_bucket_notification" "uploads" {
  count  = length(local.s3_functions) > 0 ? 1 : 0
  bucket = var.uploads_bucket.name

  dynamic "lambda_function" {
    for_each = local.s3_functions
    content {
      id                  = lambda_function.key
      lambda_function_arn = aws_lambda_alias.live[lambda_function.key].arn
      events              = lambda_function.value.events
      filter_prefix       = lambda_function.value.prefix
    }
  }

  depends_on = [aws_lambda_permission.s3]
}
