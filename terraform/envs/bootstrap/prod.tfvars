# The production account: its own state bucket; it deploys from the dev account's artifacts
# bucket (promotion pins the same bytes). Apply with:
#   terraform workspace select -or-create prod && terraform apply -var-file=prod.tfvars
region              = "eu-west-1"
allowed_account_ids = ["222222222222"]
state_bucket        = "parley-terraform-state-222222222222"
