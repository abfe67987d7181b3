# Files people attach to conversations: uploaded with presigned URLs from the app's origin,
# encrypted, expired after uploads_expiration_days.

resource "aws_s3_bucket" "uploads" {
  #checkov:skip=CKV_AWS_144:Uploads are short-lived (lifecycle expiry); replication would outlive their purpose
  #checkov:skip=CKV_AWS_18:Access goes through presigned URLs minted by chat_api, which logs every grant
  #checkov:skip=CKV2_AWS_62:Nothing reacts to uploads yet
  #checkov:skip=CKV_AWS_21:Uploads are immutable and expire; versioning would only keep deleted files longer
  #checkov:skip=CKV_AWS_145:SSE-S3 keeps presigned uploads simple for browsers; no customer key is required for this data class
  bucket_prefix = "${var.name_prefix}-uploads-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "uploads" {
  bucket                  = aws_s3_bucket.uploads.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_cors_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  cors_rule {
    allowed_origins = [local.app_origin]
    allowed_methods = ["GET", "PUT", "HEAD"]
    allowed_headers = ["content-type", "content-md5", "x-amz-*"]
    expose_headers  = ["etag"]
    max_age_seconds = 600
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  rule {
    id     = "expire-uploads"
    status = "Enabled"

    filter {}

    expiration {
      days = var.uploads_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "uploads" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.uploads.arn, "${aws_s3_bucket.uploads.arn}/*"]

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

resource "aws_s3_bucket_policy" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  policy = data.aws_iam_policy_document.uploads.json

  depends_on = [aws_s3_bucket_public_access_block.uploads]
}
