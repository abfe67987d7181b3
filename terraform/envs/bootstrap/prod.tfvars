# The production account. Apply with: terraform workspace select -or-create prod
region              = "eu-west-1"
allowed_account_ids = ["222222222222"]
artifacts_bucket    = "parley-artifacts-222222222222"
state_bucket        = "parley-terraform-state-222222222222"
