# One environment: the composition in modules/parley with this environment's terraform.tfvars.
# envs/dev and envs/prod have the same main.tf, variables.tf and outputs.tf (tests/infra checks it);
# the providers, the backend key and the allowed account are in versions.tf and terraform.tfvars.
# The composition gets both providers: us-east-1 issues what CloudFront takes from there only, the
# app's certificate (custom_domain).

module "parley" {
  source = "../../modules/parley"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  environment                     = var.environment
  artifacts_bucket                = var.artifacts_bucket
  models_path                     = var.models_path
  daily_token_quota               = var.daily_token_quota
  retention_days                  = var.retention_days
  attachments                     = var.attachments
  deletion_protection             = var.deletion_protection
  force_destroy                   = var.force_destroy
  custom_domain                   = var.custom_domain
  alarm_emails                    = var.alarm_emails
  manage_api_gateway_account_role = var.manage_api_gateway_account_role
  kms_key_arn                     = var.kms_key_arn
  reserved_concurrency            = var.reserved_concurrency
  http_route_throttles            = var.http_route_throttles
  websocket_route_throttles       = var.websocket_route_throttles
  advanced_security_mode          = var.advanced_security_mode
  allow_user_password_auth        = var.allow_user_password_auth
  mfa                             = var.mfa
  remember_device                 = var.remember_device
  signup                          = var.signup
  identity_providers              = var.identity_providers
  auth_domain_prefix              = var.auth_domain_prefix
  web_acl_arn                     = var.web_acl_arn
  email_sender                    = var.email_sender
  model_api_key_kms_key_arn       = var.model_api_key_kms_key_arn
  provisioned_concurrency         = var.provisioned_concurrency
  release_record                  = var.release_record
}

# The modules were called from this root until they moved into modules/parley: these blocks let an
# existing state follow them instead of destroying and recreating every resource.
moved {
  from = module.manifest
  to   = module.parley.module.manifest
}

moved {
  from = module.data
  to   = module.parley.module.data
}

moved {
  from = module.auth
  to   = module.parley.module.auth
}

moved {
  from = module.functions
  to   = module.parley.module.functions
}

moved {
  from = module.http_api
  to   = module.parley.module.http_api
}

moved {
  from = module.websocket_api
  to   = module.parley.module.websocket_api
}

moved {
  from = module.frontend
  to   = module.parley.module.frontend
}

moved {
  from = module.observability
  to   = module.parley.module.observability
}
