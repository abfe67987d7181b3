# The development account, which also holds the artifacts bucket both environments deploy from.
# Apply with: terraform workspace select -or-create dev && terraform apply -var-file=dev.tfvars
region                     = "eu-west-1"
allowed_account_ids        = ["111111111111"]
artifacts_bucket           = "parley-artifacts-111111111111"
artifacts_promote_accounts = { prod = "222222222222" }
state_bucket               = "parley-terraform-state-111111111111"

# Pull requests plan with parley-deploy-plan; main deploys dev with parley-deploy-dev.
github_repository   = "parley-app/parley"
deploy_environments = { dev = { branch = "main" } }
