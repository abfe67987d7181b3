# Parley in one environment: the whole composition (release record, tables, pool, functions, both
# APIs, web app, alarms). Every environment root (envs/dev, envs/prod) calls this module once with
# its own terraform.tfvars; the roots add only the providers (the environment's region and
# us-east-1), the backend and the account guard.

locals {
  name_prefix   = "parley-${var.environment}"
  repo_root     = "${path.module}/../../.."
  manifest_path = "${local.repo_root}/functions/manifest.yaml"
  tables_path   = "${local.repo_root}/functions/tables.yaml"

  # releases/<env>.json = dist/manifest.json + {release_id, git_commit, created_at}, written by
  # `invoke publish` / `invoke promote`. Only code artifacts are deployed here; the release task
  # uploads the built app to the site bucket.
  release_record = jsondecode(var.release_record == null ? data.aws_s3_object.release[0].body : var.release_record)
  release = {
    release_id   = local.release_record.release_id
    runtime      = local.release_record.runtime
    architecture = local.release_record.architecture
    artifacts = {
      for key, artifact in local.release_record.artifacts : key => {
        kind          = artifact.kind
        s3_key        = artifact.s3_key
        sha256_base64 = artifact.sha256_base64
      } if contains(["function", "layer"], artifact.kind)
    }
  }

  # The URLs browsers use: the custom names when custom_domain is set (module.domains), the
  # generated ones otherwise. The functions' WebSocket management endpoint is always the
  # execute-api one (the @connections API is not served on a custom domain).
  #
  # module.domains is read by index, one output at a time: a splat (module.domains[*].x) would
  # depend on every output of the module, among them the app's DNS records, which wait for the
  # distribution, which waits for the certificate read here — a cycle.
  http_api_url = var.custom_domain == null ? module.http_api.url : module.domains[0].http_api_url
  ws_url       = var.custom_domain == null ? module.websocket_api.url : module.domains[0].ws_url

  # The app's origin, which the custom-message trigger's e-mails link to.
  app_origin = module.frontend.app_origin
}

data "aws_s3_object" "release" {
  count = var.release_record == null ? 1 : 0

  bucket = var.artifacts_bucket
  key    = "releases/${var.environment}.json"
}

module "manifest" {
  source        = "../manifest"
  manifest_path = local.manifest_path
  tables_path   = local.tables_path
}

# The environment's models: what the functions may call (IAM) and what they read (the item below).
module "catalog" {
  source       = "../catalog"
  catalog_path = var.models_path != null ? var.models_path : "${path.root}/models.yaml"
}

# The catalog where the functions read it (parley/catalog.py, at most every few minutes): one
# item of the chat table, so any number of models fits (an SSM standard parameter holds 4 KB and
# the advanced tier bills monthly) and the release's unchanged zips read each environment's own.
resource "aws_dynamodb_table_item" "model_catalog" {
  table_name = module.data.table_names["chat"]
  hash_key   = "pk"
  range_key  = "sk"
  item = jsonencode({
    pk      = { S = "CONFIG" }
    sk      = { S = "MODELS" }
    catalog = { S = module.catalog.document }
  })
}

module "data" {
  source              = "../data"
  name_prefix         = local.name_prefix
  tables              = module.manifest.tables
  deletion_protection = var.deletion_protection
  kms_key_arn         = var.kms_key_arn
}

module "auth" {
  source              = "../auth"
  name_prefix         = local.name_prefix
  deletion_protection = var.deletion_protection
  lambda_triggers     = module.functions.cognito_trigger_arns

  advanced_security_mode   = var.advanced_security_mode
  allow_user_password_auth = var.allow_user_password_auth
  email_sender             = var.email_sender
  mfa                      = var.mfa
  remember_device          = var.remember_device

  identity_providers = var.identity_providers
  app_url            = module.frontend.app_origin
  domain_prefix      = var.auth_domain_prefix
}

module "functions" {
  source            = "../functions"
  name_prefix       = local.name_prefix
  manifest_path     = local.manifest_path
  tables_path       = local.tables_path
  artifacts_bucket  = var.artifacts_bucket
  release           = local.release
  table_arns        = module.data.table_arns
  table_stream_arns = module.data.table_stream_arns
  user_pool_arn     = module.auth.user_pool_arn
  kms_key_arn       = var.kms_key_arn

  reserved_concurrency      = var.reserved_concurrency
  provisioned_concurrency   = var.provisioned_concurrency
  model_api_key_kms_key_arn = var.model_api_key_kms_key_arn
  models = {
    bedrock_models     = module.catalog.bedrock_models
    bedrock_agents     = module.catalog.bedrock_agents
    api_key_parameters = module.catalog.api_key_parameters
  }

  websocket_execution_arn = module.websocket_api.execution_arn
  websocket_stage         = module.websocket_api.stage_name

  refs = {
    chat_table_name          = module.data.table_names["chat"]
    connections_table_name   = module.data.table_names["connections"]
    user_pool_id             = module.auth.user_pool_id
    user_pool_client_id      = module.auth.user_pool_client_id
    jwks_url                 = module.auth.jwks_url
    daily_token_quota        = tostring(var.daily_token_quota)
    ws_management_endpoint   = module.websocket_api.management_endpoint
    retention_days           = tostring(var.retention_days)
    exports_bucket_name      = module.workflows.exports_bucket_name
    export_state_machine_arn = module.workflows.state_machine_arns["export"]

    uploads_bucket_name       = module.frontend.uploads_bucket
    upload_max_document_bytes = tostring(var.attachments.max_document_bytes)
    upload_max_image_bytes    = tostring(var.attachments.max_image_bytes)
    upload_max_attachments    = tostring(var.attachments.max_per_message)

    # Cognito's triggers: who may sign up, and the app the e-mails link to.
    signup_allowed_domains = join(",", var.signup.allowed_domains)
    signup_invites         = tostring(var.signup.invites)
    app_url                = local.app_origin
  }

  uploads_bucket = {
    name = module.frontend.uploads_bucket
    arn  = module.frontend.uploads_bucket_arn
  }

  exports_bucket_arn       = module.workflows.exports_bucket_arn
  export_state_machine_arn = module.workflows.state_machine_arns["export"]
}

module "workflows" {
  source        = "../workflows"
  name_prefix   = local.name_prefix
  manifest_path = local.manifest_path
  tables_path   = local.tables_path
  workflows_dir = "${local.repo_root}/functions/workflows"
  function_arns = module.functions.alias_arns
  force_destroy = var.force_destroy
  kms_key_arn   = var.kms_key_arn
}

module "http_api" {
  source              = "../http_api"
  name_prefix         = local.name_prefix
  manifest_path       = local.manifest_path
  tables_path         = local.tables_path
  functions           = module.functions.functions
  user_pool_id        = module.auth.user_pool_id
  user_pool_client_id = module.auth.user_pool_client_id
  cors_allow_origins  = [module.frontend.app_origin]
  route_throttles     = var.http_route_throttles
  kms_key_arn         = var.kms_key_arn
}

module "websocket_api" {
  source                      = "../websocket_api"
  name_prefix                 = local.name_prefix
  manifest_path               = local.manifest_path
  tables_path                 = local.tables_path
  functions                   = module.functions.functions
  manage_account_logging_role = var.manage_api_gateway_account_role
  route_throttles             = var.websocket_route_throttles
  kms_key_arn                 = var.kms_key_arn
}

module "frontend" {
  source        = "../frontend"
  name_prefix   = local.name_prefix
  web_acl_arn   = var.web_acl_arn
  force_destroy = var.force_destroy

  custom_domain = var.custom_domain == null ? null : {
    name            = var.custom_domain.app
    certificate_arn = module.domains[0].cloudfront_certificate_arn
  }

  uploads_pending_days = var.attachments.pending_days

  app_config = {
    cognito = {
      userPoolId = module.auth.user_pool_id
      clientId   = module.auth.user_pool_client_id
    }
    httpApiUrl     = local.http_api_url
    wsUrl          = local.ws_url
    passwordPolicy = module.auth.password_policy
    mfa            = module.auth.mfa.configuration
    oauth          = module.auth.oauth
  }
}

# Own names for the app and the APIs (custom_domain): certificates, API Gateway domain names
# mapped to each API's stage, and DNS records in a Route 53 zone (or a list of them to create).
# The HTTP API's CORS origin and the Content-Security-Policy follow through module.frontend.
module "domains" {
  source = "../domains"
  count  = var.custom_domain == null ? 0 : 1

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  custom_domain = var.custom_domain
  http_api      = { id = module.http_api.api_id, stage = module.http_api.stage_name }
  websocket_api = { id = module.websocket_api.api_id, stage = module.websocket_api.deployed_stage_name }
  cloudfront    = module.frontend.distribution
}

module "observability" {
  source                = "../observability"
  name_prefix           = local.name_prefix
  function_names        = module.functions.function_names
  http_api_id           = module.http_api.api_id
  websocket_api_id      = module.websocket_api.api_id
  dlq_name              = module.functions.dlq_name
  function_timeouts     = module.functions.timeouts
  state_machine_arns    = module.workflows.state_machine_arns
  schedule_dlq_name     = module.workflows.schedule_dlq_name
  stream_dlq_name       = module.functions.stream_dlq_name
  stream_function_names = module.functions.stream_function_names
  alarm_emails          = var.alarm_emails
  kms_key_arn           = var.kms_key_arn
}
