# Once per account, before any environment: the bucket builds are published to and the bucket
# every environment keeps its Terraform state in. Both versioned, encrypted, private, TLS only.

module "artifacts" {
  source = "../../modules/artifacts"
  count  = var.artifacts_bucket == null ? 0 : 1

  bucket_name        = var.artifacts_bucket
  reader_account_ids = var.artifacts_reader_account_ids
}

module "state" {
  source                  = "../../modules/artifacts"
  bucket_name             = var.state_bucket
  noncurrent_version_days = 365
}
