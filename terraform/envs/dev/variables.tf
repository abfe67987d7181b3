# Passed to modules/parley as they are (which validates them); region and allowed_account_ids
# configure the provider.

variable "environment" {
  description = "Environment name: part of every resource name and the release record key (releases/<environment>.json)."
  type        = string
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "allowed_account_ids" {
  description = "The only AWS account(s) this environment may be applied to."
  type        = list(string)

  validation {
    condition     = length(var.allowed_account_ids) > 0 && alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "List the 12-digit account id(s) of this environment."
  }
}

variable "artifacts_bucket" {
  description = "The artifacts bucket (terraform/envs/bootstrap) holding sha256/<hex>.zip and releases/<environment>.json."
  type        = string
}

variable "models_path" {
  description = "The model catalog: the models people may choose, their prices and who may use them (docs/deploy.md, \"Models\"); null = models.yaml beside this file."
  type        = string
  default     = null
}

variable "daily_token_quota" {
  description = "Tokens each user may spend per UTC day; 0 = unlimited."
  type        = number
  default     = 200000
}

variable "retention_days" {
  description = "Delete conversations untouched for this many days (nightly); 0 keeps them for ever."
  type        = number
  default     = 0
}

variable "deletion_protection" {
  description = "Protect the user pool and tables against deletion."
  type        = bool
}

variable "force_destroy" {
  description = "Let destroy empty the site and uploads buckets."
  type        = bool
  default     = false
}

variable "custom_domain" {
  description = "Own names for the app and both APIs ({app, api, ws, zone_id, certificate_arn, cloudfront_certificate_arn}; docs/deploy.md, \"Custom domains\"), or null for the generated names."
  type = object({
    app                        = string
    api                        = string
    ws                         = string
    zone_id                    = optional(string)
    certificate_arn            = optional(string)
    cloudfront_certificate_arn = optional(string)
  })
  default = null
}

variable "alarm_emails" {
  description = "E-mail addresses that receive alarms."
  type        = list(string)
  default     = []
}

variable "manage_api_gateway_account_role" {
  description = "Own the account-wide API Gateway logging role (exactly one environment per account and region)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for logs, environment variables and queues; null uses AWS-managed keys."
  type        = string
  default     = null
}

variable "reserved_concurrency" {
  description = "Reserved concurrency by manifest function name, over functions/manifest.yaml's reserved_concurrency (bot_worker, chat_api): a whole number ≥ 1, or -1 for none. Reservations together must leave the account 100 unreserved."
  type        = map(number)
  default     = {}
}

variable "http_route_throttles" {
  description = "HTTP API route throttles (requests per second and burst, all callers together) under the stage's 100/s, burst 200: POST /chat and GET /shared/{shareId}, which have no gateway authorizer, and the routes that call the model or write for others. docs/deploy.md explains the numbers."
  type = map(object({
    rate_limit  = number
    burst_limit = number
  }))
  default = {
    "POST /chat"                                  = { rate_limit = 5, burst_limit = 10 }
    "POST /conversations"                         = { rate_limit = 10, burst_limit = 20 }
    "POST /conversations/{id}/messages"           = { rate_limit = 10, burst_limit = 20 }
    "POST /conversations/{id}/members"            = { rate_limit = 5, burst_limit = 10 }
    "DELETE /conversations/{id}/members/{userId}" = { rate_limit = 5, burst_limit = 10 }
    "GET /shared/{shareId}"                       = { rate_limit = 5, burst_limit = 10 }
  }
}

variable "websocket_route_throttles" {
  description = "WebSocket API route throttles (connections or messages per second and burst, all clients together) under the stage's 100/s, burst 200: $connect and the actions that start a reply. docs/deploy.md explains the numbers."
  type = map(object({
    rate_limit  = number
    burst_limit = number
  }))
  default = {
    "$connect"  = { rate_limit = 20, burst_limit = 40 }
    sendMessage = { rate_limit = 10, burst_limit = 20 }
    retry       = { rate_limit = 5, burst_limit = 10 }
  }
}

variable "advanced_security_mode" {
  description = "Cognito threat protection: AUDIT (records risky sign-ins), ENFORCED (also blocks or challenges them) or OFF. AUDIT and ENFORCED bill the pool on the Plus plan (docs/deploy.md)."
  type        = string
  default     = "AUDIT"
}

variable "allow_user_password_auth" {
  description = "Let the web client sign in with USER_PASSWORD_AUTH besides SRP (only for a test harness that cannot do SRP; the app uses SRP)."
  type        = bool
  default     = false
}

variable "mfa" {
  description = "Two-step verification (TOTP from an authenticator app, never SMS): OPTIONAL (each person may turn it on in the account menu), ON (everyone sets it up at their next sign-in) or OFF (not offered). docs/deploy.md, \"Two-step verification\"."
  type        = string
  default     = "OPTIONAL"
}

variable "remember_device" {
  description = "Cognito device tracking: new devices are always asked for the code, and a device the person asks to remember may sign in without it. false: none (docs/deploy.md)."
  type        = bool
  default     = false
}

variable "web_acl_arn" {
  description = "WAFv2 web ACL (scope CLOUDFRONT, us-east-1) for the app's CloudFront distribution, or null; terraform/examples/cloudfront_waf makes one with a per-IP rate rule."
  type        = string
  default     = null
}

variable "email_sender" {
  description = "Cognito's e-mail through SES: {source_arn, from, reply_to}; required in prod."
  type = object({
    source_arn = string
    from       = string
    reply_to   = optional(string)
  })
  default = null

  validation {
    condition     = var.environment != "prod" || var.email_sender != null
    error_message = "Production needs email_sender (a verified SES identity): Cognito's built-in sender allows a few dozen e-mails a day."
  }
}

variable "model_api_key_kms_key_arn" {
  description = "Customer-managed KMS key of the model API key's SecureString; null = alias/aws/ssm."
  type        = string
  default     = null
}

variable "provisioned_concurrency" {
  description = "Initialised execution environments on the live alias by function name (chat_api, ws_authorizer)."
  type        = map(number)
  default     = {}
}

variable "release_record" {
  description = "A release record's JSON to plan with instead of the pinned releases/<environment>.json; null = the pinned one."
  type        = string
  default     = null
}

variable "attachments" {
  description = "Files attached to messages: document and image size limits (bytes), attachments per message, days an unsent upload is kept (defaults: 10 MB, 5 MB, 10, 1). Whether the assistant sees an image is its model's (models.yaml, vision)."
  type = object({
    max_document_bytes = optional(number, 10485760)
    max_image_bytes    = optional(number, 5242880)
    max_per_message    = optional(number, 10)
    pending_days       = optional(number, 1)
  })
  default = {}
}

variable "identity_providers" {
  description = "Federated sign-in (OIDC and SAML identity providers): name => {type (OIDC or SAML), label, issuer and client_id (OIDC), client_secret_parameter (SSM SecureString name) or client_secret_arn (Secrets Manager ARN) — never the secret itself; metadata_url (SAML), scopes, attributes ({email, name})}. docs/deploy.md, \"Federated sign-in\"."
  type = map(object({
    type                    = string
    label                   = optional(string)
    issuer                  = optional(string)
    client_id               = optional(string)
    client_secret_parameter = optional(string)
    client_secret_arn       = optional(string)
    metadata_url            = optional(string)
    scopes                  = optional(list(string), ["openid", "email", "profile"])
    attributes = optional(object({
      email = optional(string)
      name  = optional(string)
    }), {})
  }))
  default = {}
}

variable "auth_domain_prefix" {
  description = "The hosted sign-in domain's prefix (<prefix>.auth.<region>.amazoncognito.com) with identity_providers; null: parley-<environment>-<account id>."
  type        = string
  default     = null
}

variable "signup" {
  description = "Who may create an account (the pre-sign-up trigger, parley.signup): allowed_domains (addresses at exactly these e-mail domains) and invites (addresses a room owner invited); either one admits an address. Both unset (the default): anyone may sign up. Federated first sign-ins follow the same rule; users an operator creates are always accepted. docs/deploy.md, \"Who may sign up\"."
  type = object({
    allowed_domains = optional(list(string), [])
    invites         = optional(bool, false)
  })
  default = {}

  validation {
    condition     = alltrue([for d in var.signup.allowed_domains : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", d))])
    error_message = "signup.allowed_domains: each must be a lower-case domain such as example.com (no @, no wildcard)."
  }
}
