variable "name_prefix" {
  description = "Prefix of every resource name, e.g. parley-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "The name_prefix must be 2-31 lower-case letters, digits or dashes."
  }
}

variable "manifest_path" {
  description = "Path of functions/manifest.yaml (the routes and the authorizer)."
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

variable "stage_name" {
  description = "The stage name; part of the wss:// URL and of the management endpoint."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.stage_name))
    error_message = "The stage_name must be letters, digits, dashes or underscores."
  }
}

variable "throttling_burst_limit" {
  description = "Stage-wide burst limit (messages)."
  type        = number
  default     = 200
}

variable "throttling_rate_limit" {
  description = "Stage-wide steady rate limit (messages per second)."
  type        = number
  default     = 100
}

variable "route_throttles" {
  description = "Route key ($connect, sendMessage, …) => its own steady rate (messages or connections per second) and burst, below the stage default. Limits are for all clients together."
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

variable "manage_account_logging_role" {
  description = "Create the account-wide role API Gateway needs to write WebSocket logs (once per account and region; off where another stack owns it)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
