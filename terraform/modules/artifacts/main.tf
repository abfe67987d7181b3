# The bucket builds are published to (sha256/<hex>.zip) and release records are kept in
# (releases/<env>.json). Bootstrapped once per account, before any environment.

resource "aws_kms_key" "this" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "Encrypts ${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = module.policies.artifacts_key_policy
  tags                    = var.tags
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The account administers the key; deploy roles of other accounts (var.promote_accounts) may
# use it through S3 only. Documents: modules/deploy_policies (tested there).
module "policies" {
  source = "../deploy_policies"

  partition        = data.aws_partition.current.partition
  account_id       = data.aws_caller_identity.current.account_id
  region           = data.aws_region.current.name
  artifacts_bucket = var.bucket_name
  promote_accounts = var.promote_accounts
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

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  # TLS only; other accounts' deploy roles: read artifacts and records, write their own record.
  policy = module.policies.artifacts_bucket_policy

  depends_on = [aws_s3_bucket_public_access_block.this]
}
