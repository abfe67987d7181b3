# The web app: a private bucket read by CloudFront through Origin Access Control. The release
# task uploads the built files and config.json, which Terraform computes (the app_config output).

data "aws_region" "current" {}

locals {
  origin_id = "site"
  # AWS's managed CachingOptimized policy: its id is the same in every account (a constant saves
  # a ListCachePolicies call at plan time).
  caching_optimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  app_domain        = var.custom_domain == null ? aws_cloudfront_distribution.this.domain_name : var.custom_domain.name
  app_origin        = "https://${local.app_domain}"
  certificate_arn   = var.custom_domain == null ? null : var.custom_domain.certificate_arn
}

resource "aws_s3_bucket" "site" {
  #checkov:skip=CKV_AWS_144:The site is rebuilt from git by the release task; a replica adds cost, not recovery
  #checkov:skip=CKV_AWS_18:CloudFront is the only reader; its standard logs are the access record
  #checkov:skip=CKV2_AWS_62:Nothing reacts to site uploads
  #checkov:skip=CKV_AWS_145:SSE-S3 is used because CloudFront OAC reads SSE-KMS objects only with an extra key policy per distribution; the content is public web assets
  bucket_prefix = "${var.name_prefix}-site-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "site" {
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "site" {
  bucket = aws_s3_bucket.site.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    id     = "expire-old-builds"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.site]
}

resource "aws_cloudfront_origin_access_control" "site" {
  name                              = "${var.name_prefix}-site"
  description                       = "CloudFront reads the private site bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

data "aws_iam_policy_document" "site" {
  statement {
    sid       = "CloudFrontReadsThroughOac"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = data.aws_iam_policy_document.site.json

  depends_on = [aws_s3_bucket_public_access_block.site]
}

resource "aws_cloudfront_response_headers_policy" "security" {
  name    = "${var.name_prefix}-security-headers"
  comment = "Security headers for the Parley app"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }

    # Content-Security-Policy names the API hosts, which do not exist before this distribution
    # does: the edge function in headers.tf sets it.
  }
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_86:Standard logs need a log bucket with ACLs enabled; CloudFront metrics and the API access logs cover operations
  #checkov:skip=CKV_AWS_310:A single S3 origin: there is no second origin to fail over to
  #checkov:skip=CKV_AWS_374:Parley serves users worldwide; no geo restriction by design
  #checkov:skip=CKV2_AWS_47:The WAF web ACL is optional per environment (web_acl_arn in terraform.tfvars; examples/cloudfront_waf makes one with a per-IP rate rule and AWS's known-bad-inputs rules); the distribution serves only the static app, and the APIs, which WAF cannot front, carry route throttles
  #checkov:skip=CKV_AWS_68:The WAF web ACL is optional per environment (web_acl_arn in terraform.tfvars; examples/cloudfront_waf makes one with a per-IP rate rule and AWS's known-bad-inputs rules); the distribution serves only the static app, and the APIs, which WAF cannot front, carry route throttles
  #checkov:skip=CKV2_AWS_42:The CloudFront domain is the default; a custom domain with an ACM certificate is set with custom_domain
  #checkov:skip=CKV_AWS_174:TLS 1.2 is enforced whenever a certificate is given; the default CloudFront certificate cannot raise its minimum
  enabled             = true
  is_ipv6_enabled     = true
  comment             = "${var.name_prefix} web app"
  default_root_object = "index.html"
  price_class         = var.price_class
  aliases             = var.custom_domain == null ? [] : [var.custom_domain.name]
  web_acl_id          = var.web_acl_arn
  http_version        = "http2and3"

  origin {
    origin_id                = local.origin_id
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.site.id
  }

  default_cache_behavior {
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.caching_optimized
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id

    function_association {
      event_type   = "viewer-response"
      function_arn = aws_cloudfront_function.security_headers.arn
    }
  }

  # No error page serves index.html: CloudFront runs no viewer-response function on an origin's
  # error, so the app would load without its Content-Security-Policy. The app routes by #hash:
  # every page is /, and an unknown path gets S3's 403.

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = local.certificate_arn == null
    acm_certificate_arn            = local.certificate_arn
    ssl_support_method             = local.certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = local.certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }

  tags = var.tags
}

# The app's config.json, from the other modules' outputs. The release writes it into the bucket
# with the app it belongs to (`invoke sync-frontend --config-file`, from the `app_config`
# output), just before index.html, so an app and its config go live together.
locals {
  app_config_json = jsonencode({
    region = data.aws_region.current.name
    cognito = {
      userPoolId = var.app_config.cognito.userPoolId
      clientId   = var.app_config.cognito.clientId
      endpoint   = null
      authFlow   = "USER_SRP_AUTH"
    }
    httpApiUrl     = var.app_config.httpApiUrl
    wsUrl          = var.app_config.wsUrl
    passwordPolicy = var.app_config.passwordPolicy
    mfa            = var.app_config.mfa
    oauth          = var.app_config.oauth
  })
}

# Terraform wrote config.json before the release did: the object stays in the bucket (the live
# app reads it) until the next sync replaces it.
removed {
  from = aws_s3_object.config

  lifecycle {
    destroy = false
  }
}
