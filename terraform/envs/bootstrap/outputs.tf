output "artifacts_bucket" {
  description = "Pass to invoke publish and to each environment's artifacts_bucket."
  value       = one(module.artifacts[*].bucket_name)
}

output "artifacts_kms_key_arn" {
  description = "The key that encrypts artifacts (the deploy role needs kms:Decrypt on it)."
  value       = one(module.artifacts[*].kms_key_arn)
}

output "state_bucket" {
  description = "The envs' backend bucket."
  value       = module.state.bucket_name
}

output "deploy_role_arns" {
  description = "Environment (or plan) => deploy role ARN: set it as the GitHub environment's AWS_DEPLOY_ROLE_ARN."
  value       = one(module.deploy[*].role_arns)
}
