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

output "distribution" {
  description = "The distribution's own domain name and Route 53 hosted zone, which a custom name's alias or CNAME points at."
  value = {
    domain_name    = aws_cloudfront_distribution.this.domain_name
    hosted_zone_id = aws_cloudfront_distribution.this.hosted_zone_id
  }
}

output "app_config" {
  description = "The app's config.json (JSON): `invoke sync-frontend --config-file` writes it into the site bucket with the release's app."
  value       = local.app_config_json
}

output "content_security_policy" {
  description = "The Content-Security-Policy the edge function serves once the key value store holds it (connect-src names the APIs)."
  value       = aws_cloudfrontkeyvaluestore_key.content_security_policy.value
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
