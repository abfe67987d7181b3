# Once per account, before any environment: the bucket builds are published to and the bucket
# every environment keeps its Terraform state in. Both versioned, encrypted, private, TLS only.

module "artifacts" {
  source      = "../../modules/artifacts"
  bucket_name = var.artifacts_bucket
}

module "state" {
  source                  = "../../modules/artifacts"
  bucket_name             = var.state_bucket
  noncurrent_version_days = 365
}
