# The change feed (functions/parley/changes.py): each function with a `triggers.stream` in the
# manifest reads its table's DynamoDB stream through an event source mapping with the manifest's
# batching, retries and record age, partial batch responses (ReportBatchItemFailures), bisect on
# error, a key-prefix filter, and an SQS queue for the batches it gives up on (`invoke redrive`
# replays them). The role's stream and queue grants are in iam.tf.

locals {
  streams        = module.manifest.stream_functions
  has_stream_dlq = length([for name, s in local.streams : name if s.on_failure == "dlq"]) > 0
}

resource "aws_sqs_queue" "stream_dlq" {
  count = local.has_stream_dlq ? 1 : 0

  name                              = "${var.name_prefix}-stream-dlq"
  message_retention_seconds         = 1209600 # 14 days; the records themselves stay in the stream 24 h
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 300
  tags                              = var.tags
}

resource "aws_lambda_event_source_mapping" "stream" {
  for_each = local.streams

  event_source_arn                   = var.table_stream_arns[each.value.table]
  function_name                      = aws_lambda_alias.live[each.key].arn # the alias, as every trigger
  starting_position                  = each.value.starting_position
  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = each.value.batching_window_seconds
  maximum_retry_attempts             = each.value.max_retries
  maximum_record_age_in_seconds      = each.value.max_record_age_seconds
  bisect_batch_on_function_error     = each.value.bisect_on_error
  parallelization_factor             = 1 # one batch per shard at a time: each item's changes in order
  function_response_types            = ["ReportBatchItemFailures"]

  dynamic "filter_criteria" {
    for_each = each.value.key_prefix == null ? [] : [each.value.key_prefix]
    content {
      filter {
        pattern = jsonencode({
          dynamodb = { Keys = { (module.manifest.tables[each.value.table].hash_key) = { S = [{ prefix = filter_criteria.value }] } } }
        })
      }
    }
  }

  dynamic "destination_config" {
    for_each = each.value.on_failure == "dlq" ? [aws_sqs_queue.stream_dlq[0].arn] : []
    content {
      on_failure {
        destination_arn = destination_config.value
      }
    }
  }

  # The role must be able to read the stream and send to the queue before the mapping starts.
  depends_on = [aws_iam_role_policy.this]
}
