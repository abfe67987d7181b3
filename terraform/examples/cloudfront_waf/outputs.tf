output "web_acl_arn" {
  description = "Set this as web_acl_arn in terraform/envs/<env>/terraform.tfvars."
  value       = aws_wafv2_web_acl.this.arn
}

output "log_group_name" {
  description = "Where WAF logs the requests it blocks."
  value       = aws_cloudwatch_log_group.waf.name
}
