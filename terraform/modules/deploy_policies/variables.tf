variable "partition" {
  description = "AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "account_id" {
  description = "The account these roles live in."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be 12 digits."
  }
}

variable "region" {
  description = "Region of the environments."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the repository whose workflow may assume the roles (empty when only the bucket's policies are wanted)."
  type        = string
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "The github_repository must be owner/name."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the account's token.actions.githubusercontent.com OIDC provider."
  type        = string
  default     = ""
}

variable "environments" {
  description = "Environments deployed from this account => {branch (the protected branch, e.g. main), tags (ref patterns also allowed, e.g. [\"v*\"]), promote_from (the environment whose release this one promotes, null = it publishes builds), dns_zone_ids (the Route 53 zones its custom_domain makes records in)}."
  type = map(object({
    branch       = string
    tags         = optional(list(string), [])
    promote_from = optional(string)
    dns_zone_ids = optional(list(string), [])
  }))
  default = {}
}

variable "plan_role" {
  description = "Create the pull-request plan role (read-only) in this account."
  type        = bool
  default     = false
}

variable "state_bucket" {
  default     = ""
  description = "The Terraform state bucket of this account."
  type        = string
}

variable "state_kms_key_arn" {
  default     = ""
  description = "The key encrypting the state bucket."
  type        = string
}

variable "artifacts_bucket" {
  description = "The artifacts bucket the environments deploy from (possibly another account's)."
  type        = string
}

variable "artifacts_kms_key_arn" {
  default     = ""
  description = "The key encrypting the artifacts bucket."
  type        = string
}

variable "promote_accounts" {
  description = "For the artifacts bucket's own policy: environment => account id of environments in other accounts that promote from this bucket (e.g. { prod = \"222222222222\" })."
  type        = map(string)
  default     = {}
}

variable "name_prefix" {
  description = "Prefix of Parley's resources; an environment's are <name_prefix>-<env>-*."
  type        = string
  default     = "parley"
}
