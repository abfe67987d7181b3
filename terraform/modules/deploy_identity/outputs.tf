output "role_arns" {
  description = "Role key (environment, or plan) => role ARN: each GitHub environment's AWS_DEPLOY_ROLE_ARN."
  value       = { for key, role in aws_iam_role.deploy : key => role.arn }
}

output "oidc_provider_arn" {
  description = "The account's GitHub OIDC provider."
  value       = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}
