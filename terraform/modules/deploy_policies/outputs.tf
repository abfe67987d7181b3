output "role_names" {
  description = "Role key (an environment, or plan) => IAM role name."
  value       = local.role_names
}

output "trust_policies" {
  description = "Role key => its trust policy (GitHub OIDC: audience, repository, context and ref)."
  value       = { for role, doc in local.trust : role => jsonencode(doc) }
}

output "role_policies" {
  description = "Role key => its inline permissions policy."
  value       = { for role, doc in local.role_policies : role => jsonencode(doc) }
}

output "bucket_statements" {
  description = "Statements the artifacts bucket policy adds for environments of other accounts."
  value       = local.bucket_statements
}

output "key_statements" {
  description = "Statements the artifacts key policy adds for environments of other accounts."
  value       = local.key_statements
}

output "artifacts_bucket_policy" {
  description = "The artifacts bucket's policy: TLS only, and exactly what other accounts' deploy roles need."
  value       = jsonencode(local.artifacts_bucket_policy)
}

output "artifacts_key_policy" {
  description = "The artifacts key's policy: the account administers; other accounts' deploy roles use it through S3."
  value       = jsonencode(local.artifacts_key_policy)
}
