output "bucket_name" {
  description = "The artifacts bucket name (where invoke publish uploads)."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "The artifacts bucket ARN."
  value       = aws_s3_bucket.this.arn
}

output "kms_key_arn" {
  description = "The KMS key that encrypts the objects (readers need kms:Decrypt on it)."
  value       = local.kms_key_arn
}
