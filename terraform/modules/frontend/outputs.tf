output "app_url" {
  description = "The app's URL."
  value       = local.app_origin
}

output "app_origin" {
  description = "The app's origin, the only one the APIs and the uploads bucket accept from browsers."
  value       = local.app_origin
}

output "distribution_id" {
  description = "The CloudFront distribution id (invalidate after uploading a new build)."
  value       = aws_cloudfront_distribution.this.id
}

output "site_bucket" {
  description = "The private bucket the release task uploads the built app to."
  value       = aws_s3_bucket.site.id
}

output "uploads_bucket" {
  description = "The uploads bucket name."
  value       = aws_s3_bucket.uploads.id
}

output "uploads_bucket_arn" {
  description = "The uploads bucket ARN."
  value       = aws_s3_bucket.uploads.arn
}
