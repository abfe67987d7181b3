# The schedules and state machines of functions/manifest.yaml and functions/workflows against a
# mocked AWS: each invokes the functions' `live` alias and nothing else, the exports bucket is
# private and expiring, and an execution's data never reaches its logs.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix   = "parley-test"
  manifest_path = "../../../functions/manifest.yaml"
  tables_path   = "../../../functions/tables.yaml"
  workflows_dir = "../../../functions/workflows"
  function_arns = {
    export_worker = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-export_worker:live"
    maintenance   = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-maintenance:live"
  }
}

run "state_machines_call_the_alias_and_log_no_execution_data" {
  command = plan

  assert {
    condition     = keys(aws_sfn_state_machine.this) == ["export"]
    error_message = "One state machine per functions/workflows file a manifest function serves."
  }
  assert {
    condition     = aws_sfn_state_machine.this["export"].type == "STANDARD"
    error_message = "An export runs exactly once: a STANDARD state machine."
  }
  assert {
    condition     = strcontains(aws_sfn_state_machine.this["export"].definition, var.function_arns["export_worker"])
    error_message = "The definition invokes export_worker through its live alias."
  }
  assert {
    condition     = length(regexall("[$](LATEST|[{])", aws_sfn_state_machine.this["export"].definition)) == 0
    error_message = "Every placeholder is filled, and nothing calls $LATEST."
  }
  assert {
    condition     = one(aws_sfn_state_machine.this["export"].logging_configuration).include_execution_data == false && one(aws_sfn_state_machine.this["export"].logging_configuration).level == "ERROR"
    error_message = "Execution logs hold errors only, never an execution's input or output."
  }
  assert {
    condition     = one(aws_sfn_state_machine.this["export"].tracing_configuration).enabled
    error_message = "Executions are traced."
  }
  assert {
    condition     = one(one(data.aws_iam_policy_document.assume["states"].statement).principals).identifiers == toset(["states.amazonaws.com"]) && one(one(data.aws_iam_policy_document.assume["states"].statement).condition).values == tolist(["111111111111"])
    error_message = "Only Step Functions assumes the workflow role, and only for this account."
  }
  assert {
    condition     = toset(data.aws_iam_policy_document.workflow["export"].statement[0].resources) == toset([var.function_arns["export_worker"], "${var.function_arns["export_worker"]}:*"])
    error_message = "The workflow's role invokes its own function and nothing else."
  }
}

run "schedules_retry_then_dead_letter" {
  command = plan

  assert {
    condition     = keys(aws_scheduler_schedule.this) == ["maintenance"]
    error_message = "One schedule per manifest schedule trigger."
  }
  assert {
    condition     = one(aws_scheduler_schedule.this["maintenance"].target).arn == var.function_arns["maintenance"]
    error_message = "The schedule invokes the live alias."
  }
  assert {
    condition     = one(one(aws_scheduler_schedule.this["maintenance"].target).retry_policy).maximum_retry_attempts == 3
    error_message = "The manifest's retries are the schedule's."
  }
  assert {
    condition     = length(one(aws_scheduler_schedule.this["maintenance"].target).dead_letter_config) == 1 && length(aws_sqs_queue.schedule_dlq) == 1
    error_message = "A failed scheduled event goes to the schedules' dead-letter queue."
  }
  assert {
    condition     = toset(data.aws_iam_policy_document.schedule["maintenance"].statement[0].resources) == toset([var.function_arns["maintenance"], "${var.function_arns["maintenance"]}:*"])
    error_message = "The schedule's role invokes its own function and nothing else."
  }
}

run "exports_are_private_and_expire" {
  command = plan

  variables {
    export_retention_days = 2
    kms_key_arn           = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
  }

  assert {
    condition     = aws_s3_bucket_public_access_block.exports.block_public_acls && aws_s3_bucket_public_access_block.exports.block_public_policy && aws_s3_bucket_public_access_block.exports.ignore_public_acls && aws_s3_bucket_public_access_block.exports.restrict_public_buckets
    error_message = "The exports bucket is never public."
  }
  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.exports.rule : one(r.expiration).days if r.id == "expire-exports"]) == 2
    error_message = "An export's file expires after export_retention_days."
  }
  assert {
    condition     = one(aws_sfn_state_machine.this["export"].encryption_configuration).kms_key_id == var.kms_key_arn
    error_message = "With a customer-managed key, the state machine encrypts with it."
  }
}

run "a_retention_of_zero_days_is_refused" {
  command = plan

  variables {
    export_retention_days = 0
  }

  expect_failures = [var.export_retention_days]
}
