# The production account: its own state bucket; it deploys from the dev account's artifacts
# bucket (promotion pins the same bytes). Apply with:
#   terraform workspace select -or-create prod && terraform apply -var-file=prod.tfvars
region              = "eu-west-1"
allowed_account_ids = ["222222222222"]
state_bucket        = "parley-terraform-state-222222222222"

# v* tags (and runs of main) in the prod GitHub environment deploy with parley-deploy-prod,
# which promotes what dev runs: it reads the dev account's bucket and writes releases/prod*.
# With prod's custom_domain in a Route 53 zone, the role may change records in that zone only:
# prod = { ..., dns_zone_ids = ["Z0123456789ABCDEFGHIJ"] } (docs/deploy.md, "Custom domains").
github_repository                 = "parley-app/parley"
deploy_environments               = { prod = { branch = "main", tags = ["v*"], promote_from = "dev" } }
deploy_from_artifacts_bucket      = "parley-artifacts-111111111111"
deploy_from_artifacts_kms_key_arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
