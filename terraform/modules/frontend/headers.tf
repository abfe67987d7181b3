# The app's Content-Security-Policy. It lets the app connect to exactly its own origin
# (config.json), its two APIs and Cognito, and load images only from itself (a reply's markdown
# cannot fetch https://attacker.example/?d=…).
#
# The API hosts are known only once the APIs exist, and the HTTP API's CORS origin is this
# distribution's domain: a response headers policy naming them would be a dependency cycle. So a
# CloudFront Function sets the header on every response, reading the policy from a key value
# store that Terraform writes after the APIs; until then (the first apply) it falls back to a
# policy that reaches only the app itself and Cognito, both known at plan time. With custom names
# (modules/domains) the APIs' URLs are the custom ones, and the policy names those.

locals {
  cognito_origin = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com"
  connect_src = [
    "'self'",
    regex("^https://[^/]+", var.app_config.httpApiUrl),
    regex("^wss://[^/]+", var.app_config.wsUrl),
    local.cognito_origin,
    # Federated sign-in: the code is exchanged at the pool's hosted /oauth2/token.
    var.app_config.oauth == null ? null : var.app_config.oauth.domain,
    # Attachments: the presigned POST and GET go to the uploads bucket (thumbnails are blobs).
    "https://${aws_s3_bucket.uploads.bucket_regional_domain_name}",
    "https://${aws_s3_bucket.uploads.bucket_domain_name}",
  ]
  csp_directives = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src %s",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ]
  content_security_policy          = format(join("; ", local.csp_directives), join(" ", compact(local.connect_src)))
  fallback_content_security_policy = format(join("; ", local.csp_directives), "'self' ${local.cognito_origin}")
}

resource "aws_cloudfront_key_value_store" "headers" {
  name    = "${var.name_prefix}-headers"
  comment = "Response headers that name the APIs, set by the security-headers function"
}

resource "aws_cloudfrontkeyvaluestore_key" "content_security_policy" {
  key_value_store_arn = aws_cloudfront_key_value_store.headers.arn
  key                 = "content-security-policy"
  value               = local.content_security_policy

  lifecycle {
    precondition {
      condition     = length(local.content_security_policy) <= 1024
      error_message = "A key value store value holds at most 1 KB; the policy is ${length(local.content_security_policy)} bytes."
    }
  }
}

resource "aws_cloudfront_function" "security_headers" {
  name                         = "${var.name_prefix}-security-headers"
  runtime                      = "cloudfront-js-2.0"
  comment                      = "Content-Security-Policy from the headers key value store"
  publish                      = true
  key_value_store_associations = [aws_cloudfront_key_value_store.headers.arn]
  code = templatefile("${path.module}/security_headers.js.tftpl", {
    fallback_policy = jsonencode(local.fallback_content_security_policy)
  })
}
