# The development account. Apply with: terraform workspace select -or-create dev
region              = "eu-west-1"
allowed_account_ids = ["111111111111"]
artifacts_bucket    = "parley-artifacts-111111111111"
state_bucket        = "parley-terraform-state-111111111111"
