variable "name_prefix" {
  description = "Prefix of every resource name, e.g. parley-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "The name_prefix must be 2-31 lower-case letters, digits or dashes."
  }
}

variable "manifest_path" {
  description = "Path of functions/manifest.yaml (the routes)."
  type        = string
}

variable "tables_path" {
  description = "Path of functions/tables.yaml (read by the manifest module)."
  type        = string
}

variable "functions" {
  description = "The functions module's functions output: manifest name => {function_name, alias, arn, invoke_arn} (arn and invoke_arn of the alias)."
  type = map(object({
    function_name = string
    alias         = string
    arn           = string
    invoke_arn    = string
  }))

  validation {
    condition     = alltrue([for f in var.functions : f.alias != "" && f.alias != "$LATEST" && endswith(f.arn, ":${f.alias}")])
    error_message = "Every function must be called through its alias (arn ending in :<alias>), never the unqualified function or $LATEST."
  }
}

variable "user_pool_id" {
  description = "The Cognito user pool whose tokens the JWT authorizer accepts (issuer)."
  type        = string
}

variable "user_pool_client_id" {
  description = "The app client id the JWT authorizer accepts (audience / client_id claim)."
  type        = string
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser: the app's origin only."
  type        = list(string)

  validation {
    condition     = length(var.cors_allow_origins) > 0 && alltrue([for o in var.cors_allow_origins : can(regex("^https?://[^/*]+$", o))])
    error_message = "List explicit origins such as https://app.example.com (no wildcard, no path)."
  }
}

variable "throttling_burst_limit" {
  description = "Stage-wide burst limit (requests)."
  type        = number
  default     = 200
}

variable "throttling_rate_limit" {
  description = "Stage-wide steady rate limit (requests per second)."
  type        = number
  default     = 100
}

variable "route_throttles" {
  description = "Route key (\"POST /chat\") => its own steady rate (requests per second) and burst, below the stage default; every route without the JWT authorizer must have one. Limits are for all callers together."
  type = map(object({
    rate_limit  = number
    burst_limit = number
  }))
  default = {}

  validation {
    condition     = alltrue([for t in values(var.route_throttles) : t.rate_limit > 0 && t.burst_limit >= 1 && floor(t.burst_limit) == t.burst_limit])
    error_message = "Each route throttle needs rate_limit > 0 and a whole burst_limit ≥ 1."
  }
}

variable "log_retention_days" {
  description = "Retention of the access log group."
  type        = number
  default     = 30
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the access log group; null uses the CloudWatch default."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
