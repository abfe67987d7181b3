# Files people attach to messages (parley.attachments): uploaded by the browser with a presigned
# POST whose policy fixes the key, type, size and the `parley-state=pending` tag; checked by
# upload_processor on ObjectCreated (the notification is in modules/functions, beside the
# function); downloaded through presigned GETs. Private, encrypted, TLS only, CORS for the app's
# origin only. A file never sent expires after uploads_pending_days; a sent one is re-tagged
# `kept` and deleted with its conversation (the change feed's AttachmentCleanup).

resource "aws_s3_bucket" "uploads" {
  #checkov:skip=CKV_AWS_144:Uploads are short-lived (lifecycle expiry); replication would outlive their purpose
  #checkov:skip=CKV_AWS_18:Every upload and download is granted by an authenticated API request (POST /conversations/{id}/uploads, GET …/download) recorded in the HTTP API's access log
  #checkov:skip=CKV2_AWS_62:The ObjectCreated notification to upload_processor is declared in modules/functions (aws_s3_bucket_notification.uploads), where the function is
  #checkov:skip=CKV_AWS_21:Each attachment has its own immutable key; versioning would only keep deleted and rejected files longer
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
    allowed_methods = ["POST", "GET", "HEAD"] # presigned POST uploads, presigned GET downloads
    allowed_headers = ["content-type"]
    expose_headers  = ["etag"]
    max_age_seconds = 600
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  rule {
    id     = "expire-unsent-uploads"
    status = "Enabled"

    filter {
      tag {
        key   = "parley-state"
        value = "pending"
      }
    }

    expiration {
      days = var.uploads_pending_days
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

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
