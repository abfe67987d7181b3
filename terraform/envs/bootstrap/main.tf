# Once per account, before any environment: the bucket builds are published to and the bucket
# every environment keeps its Terraform state in. Both versioned, encrypted, private, TLS only.

module "artifacts" {
  source = "../../modules/artifacts"
  count  = var.artifacts_bucket == null ? 0 : 1

  bucket_name      = var.artifacts_bucket
  promote_accounts = var.artifacts_promote_accounts
}

module "state" {
  source                  = "../../modules/artifacts"
  bucket_name             = var.state_bucket
  noncurrent_version_days = 365
}

# GitHub Actions' way in: the OIDC provider, a read-only plan role for pull requests and a deploy
# role per environment of this account (docs/release.md, "Deploy identity").
module "deploy" {
  source = "../../modules/deploy_identity"
  count  = var.github_repository == null ? 0 : 1

  github_repository     = var.github_repository
  environments          = var.deploy_environments
  state_bucket          = module.state.bucket_name
  state_kms_key_arn     = module.state.kms_key_arn
  artifacts_bucket      = coalesce(var.artifacts_bucket, var.deploy_from_artifacts_bucket)
  artifacts_kms_key_arn = var.artifacts_bucket == null ? var.deploy_from_artifacts_kms_key_arn : module.artifacts[0].kms_key_arn
}
