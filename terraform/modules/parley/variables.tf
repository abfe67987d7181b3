variable "environment" {
  description = "Environment name: part of every resource name and the release record key (releases/<environment>.json)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,15}$", var.environment))
    error_message = "The environment must be 2-16 lower-case letters or digits."
  }
}

variable "artifacts_bucket" {
  description = "The artifacts bucket (terraform/envs/bootstrap) holding sha256/<hex>.zip and releases/<environment>.json."
  type        = string
}

variable "models_path" {
  description = "The environment's model catalog: the models people may choose, their prices and who may use them; IAM grants the functions exactly its Bedrock models (docs/deploy.md, \"Models\"). null = models.yaml in the environment's root (terraform/envs/<env>/models.yaml)."
  type        = string
  default     = null
}

variable "daily_token_quota" {
  description = "Tokens each user may spend per UTC day; 0 = unlimited."
  type        = number
  default     = 200000

  validation {
    condition     = var.daily_token_quota >= 0 && floor(var.daily_token_quota) == var.daily_token_quota
    error_message = "The daily_token_quota must be a whole number ≥ 0."
  }
}

variable "retention_days" {
  description = "Delete conversations untouched for this many days (the nightly maintenance); 0 keeps them for ever."
  type        = number
  default     = 0

  validation {
    condition     = var.retention_days >= 0 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number ≥ 0 (0: off)."
  }
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
  description = "Own names for the app and both APIs, or null for the CloudFront and execute-api names: {app, api, ws (host names), zone_id (a Route 53 zone: certificates issued and validated there, alias records made there), certificate_arn (otherwise: ACM in this region covering api and ws), cloudfront_certificate_arn (otherwise: ACM in us-east-1 covering app)}. modules/domains validates it; docs/deploy.md, \"Custom domains\"."
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

variable "release_record" {
  description = "A release record's JSON to plan with instead of releases/<environment>.json (a candidate release before it is pinned; terraform test). null = read the pinned record from the artifacts bucket."
  type        = string
  default     = null
}

variable "email_sender" {
  description = "Cognito's e-mail through SES: {source_arn (a verified SES identity), from, reply_to (optional)}. Required in prod (Cognito's built-in sender allows a few dozen e-mails a day); null elsewhere uses the built-in sender."
  type = object({
    source_arn = string
    from       = string
    reply_to   = optional(string)
  })
  default = null

  validation {
    condition     = var.environment != "prod" || var.email_sender != null
    error_message = "Production sends sign-up codes and invitations at volume: set email_sender to a verified SES identity (docs/deploy.md, \"E-mail\")."
  }
}

variable "model_api_key_kms_key_arn" {
  description = "Customer-managed KMS key of the model API key's SecureString (null = alias/aws/ssm); the functions that read the key may decrypt with it through SSM only."
  type        = string
  default     = null
}

variable "provisioned_concurrency" {
  description = "Initialised execution environments on the live alias by manifest function name (chat_api, ws_authorizer: the first request and $connect); billed per hour. Empty = none."
  type        = map(number)
  default     = {}
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

  validation {
    condition     = var.web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/", var.web_acl_arn))
    error_message = "The web_acl_arn must be a CLOUDFRONT-scope WAFv2 web ACL ARN (arn:aws:wafv2:us-east-1:<account>:global/webacl/…) or null."
  }
}

variable "attachments" {
  description = "Files attached to messages: the largest document and image (bytes), attachments per message, and days an upload never sent is kept. Whether the assistant sees an image is its model's (the catalog's vision)."
  type = object({
    max_document_bytes = optional(number, 10485760)
    max_image_bytes    = optional(number, 5242880)
    max_per_message    = optional(number, 10)
    pending_days       = optional(number, 1)
  })
  default = {}

  validation {
    condition     = var.attachments.max_document_bytes >= 1 && var.attachments.max_document_bytes <= 104857600 && var.attachments.max_image_bytes >= 1 && var.attachments.max_image_bytes <= 20971520
    error_message = "Attachment limits: a document at most 100 MB, an image at most 20 MB (what a model request can carry)."
  }

  validation {
    condition     = var.attachments.max_per_message >= 1 && var.attachments.max_per_message <= 10 && var.attachments.pending_days >= 1
    error_message = "1 to 10 attachments per message; unsent uploads are kept at least a day."
  }
}

variable "identity_providers" {
  description = "Federated sign-in (OIDC and SAML identity providers): name => {type, label, issuer, client_id, client_secret_parameter or client_secret_arn, metadata_url, scopes, attributes}; modules/auth validates it; docs/deploy.md, \"Federated sign-in\". The secrets stay in SSM or Secrets Manager."
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
