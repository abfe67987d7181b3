variable "github_repository" {
  description = "owner/name of the repository whose workflow deploys (the only one the roles trust)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "The github_repository must be owner/name."
  }
}

variable "environments" {
  description = "Environments deployed into this account => {branch (protected branch allowed to deploy), tags (tag patterns also allowed, e.g. [\"v*\"]), promote_from (the environment it promotes from; null = it publishes builds), dns_zone_ids (the Route 53 zones its custom_domain makes records in)}."
  type = map(object({
    branch       = string
    tags         = optional(list(string), [])
    promote_from = optional(string)
    dns_zone_ids = optional(list(string), [])
  }))

  validation {
    condition     = alltrue([for env in keys(var.environments) : can(regex("^[a-z][a-z0-9]{1,15}$", env))])
    error_message = "Environment names are 2-16 lower-case letters or digits (as modules/parley's)."
  }
}

variable "plan_role" {
  description = "Create the read-only role pull requests plan with."
  type        = bool
  default     = true
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (false when the account already has one: it is found by URL)."
  type        = bool
  default     = true
}

variable "state_bucket" {
  description = "This account's Terraform state bucket name."
  type        = string
}

variable "state_kms_key_arn" {
  description = "The key encrypting the state bucket."
  type        = string
}

variable "artifacts_bucket" {
  description = "The artifacts bucket the environments deploy from (this account's or another's)."
  type        = string
}

variable "artifacts_kms_key_arn" {
  description = "The key encrypting the artifacts bucket."
  type        = string
}

variable "max_session_hours" {
  description = "Longest session of a deploy role (a canary release waits while it watches alarms)."
  type        = number
  default     = 2

  validation {
    condition     = var.max_session_hours >= 1 && var.max_session_hours <= 12
    error_message = "Between 1 and 12 hours."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
