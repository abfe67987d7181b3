output "exports_bucket_name" {
  description = "The private exports bucket (EXPORTS_BUCKET_NAME)."
  value       = aws_s3_bucket.exports.bucket
}

output "exports_bucket_arn" {
  description = "The exports bucket ARN (manifest resource bucket:exports)."
  value       = aws_s3_bucket.exports.arn
}

output "state_machine_arns" {
  description = "Workflow name => state machine ARN (export: EXPORT_STATE_MACHINE_ARN, statemachine:export)."
  value       = { for name, machine in aws_sfn_state_machine.this : name => machine.arn }
}

output "schedule_names" {
  description = "Manifest function name => its EventBridge Scheduler schedule name."
  value       = { for name, schedule in aws_scheduler_schedule.this : name => schedule.name }
}

output "schedule_dlq_name" {
  description = "The schedules' dead-letter queue name, or null when nothing is scheduled."
  value       = length(aws_sqs_queue.schedule_dlq) > 0 ? aws_sqs_queue.schedule_dlq[0].name : null
}
