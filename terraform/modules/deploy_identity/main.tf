# The pipeline's identities: GitHub's OIDC provider and one role per use — pull requests plan
# read-only, each environment's deploy applies only from its protected branch (and release tags)
# in its GitHub environment. No access keys exist anywhere. Documents: modules/deploy_policies.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  oidc_url = "https://token.actions.githubusercontent.com"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = local.oidc_url
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1
  url   = local.oidc_url
}

module "policies" {
  source = "../deploy_policies"

  partition             = data.aws_partition.current.partition
  account_id            = data.aws_caller_identity.current.account_id
  region                = data.aws_region.current.name
  github_repository     = var.github_repository
  oidc_provider_arn     = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
  environments          = var.environments
  plan_role             = var.plan_role
  state_bucket          = var.state_bucket
  state_kms_key_arn     = var.state_kms_key_arn
  artifacts_bucket      = var.artifacts_bucket
  artifacts_kms_key_arn = var.artifacts_kms_key_arn
}

resource "aws_iam_role" "deploy" {
  for_each = module.policies.role_names

  name                 = each.value
  description          = each.key == "plan" ? "Pull requests: terraform plan, read-only" : "Deploys ${each.key} from GitHub Actions (environment ${each.key})"
  assume_role_policy   = module.policies.trust_policies[each.key]
  max_session_duration = var.max_session_hours * 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "deploy" {
  for_each = module.policies.role_names

  name   = "deploy"
  role   = aws_iam_role.deploy[each.key].id
  policy = module.policies.role_policies[each.key]
}
