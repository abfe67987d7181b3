# The event-driven half that is neither a request nor a change: the schedules of the manifest's
# `schedule` triggers (EventBridge Scheduler, with a retry policy and a dead-letter queue), the
# state machines of functions/workflows (Step Functions, one ASL file each, filled in with
# templatefile exactly as the local stack fills it), and the private exports bucket the export
# workflow writes to. Every role may invoke exactly the functions it needs.

module "manifest" {
  source        = "../manifest"
  manifest_path = var.manifest_path
  tables_path   = var.tables_path
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition

  schedules          = module.manifest.schedules
  workflow_functions = module.manifest.workflow_functions

  # A function ARN and its qualified forms (:alias, :version): what lambda:InvokeFunction names.
  invoke_arns = { for name, arn in var.function_arns : name => [arn, "${arn}:*"] }
}

# The services that assume this module's roles, each only for this account's resources.
data "aws_iam_policy_document" "assume" {
  for_each = { states = "states.amazonaws.com", scheduler = "scheduler.amazonaws.com" }

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = [each.value]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

# ── the exports bucket ───────────────────────────────────────────────────────────────────────

resource "aws_s3_bucket" "exports" {
  #checkov:skip=CKV_AWS_144:Exports are copies of data kept in DynamoDB and expire within days; a replica would outlive them
  #checkov:skip=CKV_AWS_18:Every file is read through a presigned link the functions sign for its owner only; Step Functions and the function logs record each export
  #checkov:skip=CKV2_AWS_62:Nothing reacts to an export's file: the workflow tells the user itself
  #checkov:skip=CKV_AWS_21:Each export is written once under its own id and expires; versioning would keep deleted exports longer
  bucket_prefix = "${var.name_prefix}-exports-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "exports" {
  bucket = aws_s3_bucket.exports.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "exports" {
  bucket                  = aws_s3_bucket.exports.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "exports" {
  bucket = aws_s3_bucket.exports.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "exports" {
  bucket = aws_s3_bucket.exports.id

  rule {
    id     = "expire-exports"
    status = "Enabled"

    filter {
      prefix = "exports/"
    }

    expiration {
      days = var.export_retention_days
    }
  }

  # Bucket-wide, so a multipart upload abandoned under any key stops costing after a day.
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "exports" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.exports.arn, "${aws_s3_bucket.exports.arn}/*"]

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

resource "aws_s3_bucket_policy" "exports" {
  bucket = aws_s3_bucket.exports.id
  policy = data.aws_iam_policy_document.exports.json

  depends_on = [aws_s3_bucket_public_access_block.exports]
}
