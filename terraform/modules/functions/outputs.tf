output "functions" {
  description = "Manifest name => {function_name, alias, arn, invoke_arn, qualified_name, unqualified_arn} of each deployed function. arn and invoke_arn are the live alias's: a trigger wired to them calls the alias, never $LATEST; a lambda permission takes function_name with qualifier = alias."
  value = {
    for name, fn in aws_lambda_function.this : name => {
      function_name   = fn.function_name
      alias           = aws_lambda_alias.live[name].name
      arn             = aws_lambda_alias.live[name].arn
      invoke_arn      = aws_lambda_alias.live[name].invoke_arn
      qualified_name  = "${fn.function_name}:${aws_lambda_alias.live[name].name}"
      unqualified_arn = fn.arn
    }
  }
}

output "function_names" {
  description = "Manifest name => function name, known before the functions exist (breaks dependency cycles)."
  value       = local.function_names
}

output "function_arns" {
  description = "Manifest name => function ARN, known before the functions exist (Cognito triggers)."
  value       = local.function_arns
}

output "alias_arns" {
  description = "Manifest name => the live alias ARN, known before the functions exist."
  value       = local.alias_arns
}

output "cognito_trigger_arns" {
  description = "Cognito trigger => the function's live alias ARN, for the auth module's lambda_triggers."
  value       = { for trigger, name in module.manifest.cognito_triggers : trigger => local.alias_arns[name] }
}

output "role_arns" {
  description = "Manifest name => execution role ARN."
  value       = { for name, role in aws_iam_role.this : name => role.arn }
}

output "log_group_names" {
  description = "Manifest name => log group name."
  value       = { for name, group in aws_cloudwatch_log_group.this : name => group.name }
}

output "layer_arns" {
  description = "Architecture => the shared dependency layer version ARN."
  value       = { for arch, layer in aws_lambda_layer_version.deps : arch => layer.arn }
}

output "dlq_arn" {
  description = "The async failure destination queue ARN, or null when no function is async."
  value       = local.has_dlq ? aws_sqs_queue.dlq[0].arn : null
}

output "dlq_name" {
  description = "The async failure destination queue name, or null when no function is async."
  value       = local.has_dlq ? aws_sqs_queue.dlq[0].name : null
}

output "release_id" {
  description = "The release deployed."
  value       = var.release.release_id
}

output "timeouts" {
  description = "Manifest name => timeout in seconds (the duration alarms' threshold)."
  value       = { for name, f in local.functions : name => f.timeout }
}

output "stream_dlq_name" {
  description = "The change feed's dead-letter queue name (batches the stream processor gave up on), or null when no function reads a stream."
  value       = local.has_stream_dlq ? aws_sqs_queue.stream_dlq[0].name : null
}

output "stream_dlq_url" {
  description = "The change feed's dead-letter queue URL (`invoke redrive --env <env>`), or null."
  value       = local.has_stream_dlq ? aws_sqs_queue.stream_dlq[0].url : null
}

output "stream_function_names" {
  description = "Manifest name => deployed function name, for the functions fed by a stream (iterator age alarms)."
  value       = { for name in keys(local.streams) : name => local.function_names[name] }
}
