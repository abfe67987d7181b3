# The deploy roles against a mocked AWS: one per environment plus the pull-request plan role,
# each trusting the GitHub OIDC provider with the documents of modules/deploy_policies
# (evaluated in tests/infra/test_deploy_policies.py).

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  github_repository     = "parley-app/parley"
  environments          = { prod = { branch = "main", tags = ["v*"], promote_from = "dev" } }
  state_bucket          = "parley-terraform-state-222222222222"
  state_kms_key_arn     = "arn:aws:kms:eu-west-1:222222222222:key/state"
  artifacts_bucket      = "parley-artifacts-111111111111"
  artifacts_kms_key_arn = "arn:aws:kms:eu-west-1:111111111111:key/artifacts"
}

run "roles_trust_the_repository_environment_and_refs_only" {
  command = apply

  assert {
    condition     = length(aws_iam_role.deploy) == 2 && contains(keys(aws_iam_role.deploy), "plan") && aws_iam_role.deploy["prod"].name == "parley-deploy-prod"
    error_message = "A plan role and one deploy role per environment."
  }
  assert {
    condition     = jsondecode(aws_iam_role.deploy["prod"].assume_role_policy).Statement[0].Condition.StringLike["token.actions.githubusercontent.com:sub"] == ["repo:parley-app/parley:environment:prod:ref:refs/heads/main", "repo:parley-app/parley:environment:prod:ref:refs/tags/v*"]
    error_message = "Prod trusts its GitHub environment on main and v* tags of this repository only."
  }
  assert {
    condition     = jsondecode(aws_iam_role.deploy["plan"].assume_role_policy).Statement[0].Condition.StringLike["token.actions.githubusercontent.com:sub"] == ["repo:parley-app/parley:pull_request:ref:refs/pull/*/merge"]
    error_message = "The plan role is for this repository's pull requests."
  }
  assert {
    condition     = alltrue([for r in aws_iam_role.deploy : jsondecode(r.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"])
    error_message = "Tokens must be minted for STS."
  }
  assert {
    condition     = tolist(aws_iam_openid_connect_provider.github[0].client_id_list) == tolist(["sts.amazonaws.com"])
    error_message = "GitHub's OIDC provider issues tokens for STS."
  }
}
