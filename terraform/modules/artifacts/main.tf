# The bucket builds are published to (sha256/<hex>.zip) and release records are kept in
# (releases/<env>.json). Bootstrapped once per account, before any environment.

resource "aws_kms_key" "this" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "Encrypts ${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The account administers the key; use is granted by IAM policies (deployers, readers).
data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:In a key policy "*" means this key only; the account root administers it, as AWS's default key policy does
  #checkov:skip=CKV_AWS_111:In a key policy "*" means this key only; the account root administers it, as AWS's default key policy does
  #checkov:skip=CKV_AWS_356:In a key policy "*" means this key only; the account root administers it, as AWS's default key policy does
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(var.reader_account_ids) > 0 ? [1] : []
    content {
      sid       = "ReaderAccountsDecrypt"
      actions   = ["kms:Decrypt"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = [for id in var.reader_account_ids : "arn:${data.aws_partition.current.partition}:iam::${id}:root"]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }
}

data "aws_region" "current" {}

locals {
  kms_key_arn = var.kms_key_arn == null ? aws_kms_key.this[0].arn : var.kms_key_arn
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Artifacts are content-addressed and rebuilt from git; a replica adds cost, not recovery
  #checkov:skip=CKV_AWS_18:Access logging needs a separate log bucket per account; CloudTrail data events cover audits
  #checkov:skip=CKV2_AWS_62:No consumer listens for bucket events; releases are pulled by Terraform
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  # Environments in other accounts read the artifacts and their release record, nothing else.
  dynamic "statement" {
    for_each = length(var.reader_account_ids) > 0 ? [1] : []
    content {
      sid     = "ReaderAccountsRead"
      actions = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = [
        "${aws_s3_bucket.this.arn}/sha256/*",
        "${aws_s3_bucket.this.arn}/releases/*",
      ]

      principals {
        type        = "AWS"
        identifiers = [for id in var.reader_account_ids : "arn:${data.aws_partition.current.partition}:iam::${id}:root"]
      }
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]

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

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
