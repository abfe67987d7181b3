# The bootstrap of the dev account against a mocked AWS (dev.tfvars' values): both buckets, the
# artifacts bucket shared with production, the OIDC provider and the plan and dev deploy roles.
# The production account's roles are modules/deploy_identity's test.

mock_provider "aws" {
  source = "../../tests/mocks"
}

run "dev_account" {
  command = apply

  variables {
    region                     = "eu-west-1"
    allowed_account_ids        = ["111111111111"]
    artifacts_bucket           = "parley-artifacts-111111111111"
    artifacts_promote_accounts = { prod = "222222222222" }
    state_bucket               = "parley-terraform-state-111111111111"
    github_repository          = "parley-app/parley"
    deploy_environments        = { dev = { branch = "main" } }
  }

  assert {
    condition     = length(output.deploy_role_arns) == 2 && contains(keys(output.deploy_role_arns), "dev") && contains(keys(output.deploy_role_arns), "plan")
    error_message = "The dev account has the pull-request plan role and dev's deploy role."
  }
}
