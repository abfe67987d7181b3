variable "name_prefix" {
  description = "Prefix of every resource name, e.g. parley-dev; function names are <prefix>-<manifest name>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "The name_prefix must be 2-31 lower-case letters, digits or dashes."
  }
}

variable "manifest_path" {
  description = "Path of functions/manifest.yaml."
  type        = string
}

variable "tables_path" {
  description = "Path of functions/tables.yaml."
  type        = string
}

variable "artifacts_bucket" {
  description = "The artifacts bucket that holds the content-addressed zips (sha256/<hex>.zip)."
  type        = string
}

variable "release" {
  description = "The environment's release record (releases/<env>.json): dist/manifest.json plus release_id, git_commit, created_at. Only the fields used here are typed."
  type = object({
    release_id   = string
    runtime      = string
    architecture = string
    artifacts = map(object({
      kind          = string
      s3_key        = string
      sha256_base64 = string
    }))
  })

  validation {
    condition     = alltrue([for key, a in var.release.artifacts : can(regex("^sha256/[0-9a-f]{64}\\.zip$", a.s3_key))])
    error_message = "Every artifact's s3_key must be content-addressed: sha256/<64 hex>.zip."
  }
}

variable "refs" {
  description = "Values for the manifest's environment refs (docs/contracts.md). bot_worker_function_name is derived here; secrets never appear, only the SSM parameter name."
  type = object({
    chat_table_name          = string
    connections_table_name   = string
    user_pool_id             = string
    user_pool_client_id      = string
    jwks_url                 = string
    daily_token_quota        = string
    ws_management_endpoint   = string
    retention_days           = string
    exports_bucket_name      = string
    export_state_machine_arn = string
    # Attachments (parley.attachments): optional so a deployment without uploads keeps its refs.
    uploads_bucket_name       = optional(string, "")
    upload_max_document_bytes = optional(string, "10485760")
    upload_max_image_bytes    = optional(string, "5242880")
    upload_max_attachments    = optional(string, "10")
    # Cognito's triggers (pre_sign_up, custom_message): optional, open sign-up by default.
    signup_allowed_domains = optional(string, "")
    signup_invites         = optional(string, "false")
    app_url                = optional(string, "")
  })

  validation {
    condition     = can(regex("^[0-9]+$", var.refs.daily_token_quota))
    error_message = "The daily_token_quota must be a whole number (0 = unlimited)."
  }
}

variable "models" {
  description = "What the environment's model catalog (modules/catalog) lets the functions call: Bedrock model and inference profile ids, agent aliases, and the SSM parameters holding API keys. IAM grants exactly these."
  type = object({
    bedrock_models     = list(string)
    bedrock_agents     = list(object({ agent_id = string, alias_id = string }))
    api_key_parameters = list(string)
  })

  validation {
    condition     = alltrue([for p in var.models.api_key_parameters : can(regex("^/[A-Za-z0-9_./-]+$", p))])
    error_message = "Each API key parameter must be an SSM parameter name starting with '/'."
  }
}

variable "table_arns" {
  description = "Table key in tables.yaml => table ARN, for table:<t> and index:<t>/<index> permissions."
  type        = map(string)
}

variable "websocket_execution_arn" {
  description = "Execution ARN of the WebSocket API, for websocket:manage (execute-api:ManageConnections)."
  type        = string
}

variable "websocket_stage" {
  description = "The WebSocket API stage name."
  type        = string
}

variable "user_pool_arn" {
  description = "The user pool allowed to invoke the Cognito trigger functions."
  type        = string
}

variable "reserved_concurrency" {
  description = "This environment's reserved concurrency by manifest function name, over the manifest's reserved_concurrency: a whole number ≥ 1, or -1 for none (the account's shared pool)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for n in values(var.reserved_concurrency) : n == -1 || (n >= 1 && floor(n) == n)])
    error_message = "Each reserved_concurrency must be a whole number ≥ 1, or -1 for none (0 would refuse every invocation)."
  }

  validation {
    condition     = length(setsubtract(keys(var.reserved_concurrency), module.manifest.function_names)) == 0
    error_message = "The reserved_concurrency keys must be function names of functions/manifest.yaml."
  }
}

variable "alias_name" {
  description = "The alias every trigger invokes; the release pipeline points it at published versions."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.alias_name)) && var.alias_name != "latest"
    error_message = "The alias_name must be 1-32 lower-case letters, digits or dashes (not a version number, not $LATEST)."
  }
}

variable "provisioned_concurrency" {
  description = "Execution environments kept initialised on the live alias, by manifest function name (e.g. { chat_api = 2, ws_authorizer = 1 }); billed per hour whether used or not. Empty = none."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for n in values(var.provisioned_concurrency) : n >= 1 && floor(n) == n])
    error_message = "Each provisioned_concurrency must be a whole number ≥ 1 (leave a function out for none)."
  }

  validation {
    condition     = length(setsubtract(keys(var.provisioned_concurrency), module.manifest.function_names)) == 0
    error_message = "The provisioned_concurrency keys must be function names of functions/manifest.yaml."
  }
}

variable "model_api_key_kms_key_arn" {
  description = "Customer-managed KMS key the model API key's SecureString is encrypted with; functions that read the parameter get kms:Decrypt on it through SSM only. null = the parameter uses alias/aws/ssm (no grant needed)."
  type        = string
  default     = null
}

variable "exports_bucket_arn" {
  description = "The exports bucket (modules/workflows) for manifest permissions on bucket:exports; null when there is none."
  type        = string
  default     = null
}

variable "export_state_machine_arn" {
  description = "The export state machine (modules/workflows) for manifest permissions on statemachine:export; null when there is none."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for log groups, environment variables and the DLQ; null uses AWS-managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "table_stream_arns" {
  description = "Table key in tables.yaml => its DynamoDB stream ARN (modules/data), for the functions the manifest feeds from a stream."
  type        = map(string)
  default     = {}
}

variable "uploads_bucket" {
  description = "The attachments bucket (modules/frontend): its name and ARN, for bucket:uploads permissions and the S3 notifications of manifest s3 triggers; null when there is none."
  type = object({
    name = string
    arn  = string
  })
  default = null
}
