output "functions" {
  description = "Manifest name => {function_name, arn, invoke_arn} of each deployed function."
  value = {
    for name, fn in aws_lambda_function.this : name => {
      function_name = fn.function_name
      arn           = fn.arn
      invoke_arn    = fn.invoke_arn
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

output "cognito_trigger_arns" {
  description = "Cognito trigger => function ARN, for the auth module's lambda_triggers."
  value       = { for trigger, name in module.manifest.cognito_triggers : trigger => local.function_arns[name] }
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
