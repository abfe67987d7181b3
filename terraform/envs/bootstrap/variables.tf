variable "region" {
  description = "AWS region of the buckets."
  type        = string
}

variable "allowed_account_ids" {
  description = "The only AWS account(s) this bootstrap may be applied to."
  type        = list(string)

  validation {
    condition     = length(var.allowed_account_ids) > 0 && alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "List the 12-digit account id(s)."
  }
}

variable "artifacts_bucket" {
  description = "Name of the artifacts bucket (invoke publish uploads here); null in accounts that deploy from another account's bucket."
  type        = string
  default     = null
}

variable "artifacts_promote_accounts" {
  description = "Environments in other accounts that promote from this account's artifacts bucket => account id (e.g. { prod = \"222222222222\" })."
  type        = map(string)
  default     = {}
}

variable "state_bucket" {
  description = "Name of the Terraform state bucket (the envs' backend \"s3\" bucket)."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the repository whose workflow deploys; null = no deploy roles here."
  type        = string
  default     = null
}

variable "deploy_environments" {
  description = "Environments deployed into this account => {branch, tags, promote_from, dns_zone_ids} (modules/deploy_identity)."
  type = map(object({
    branch       = string
    tags         = optional(list(string), [])
    promote_from = optional(string)
    dns_zone_ids = optional(list(string), [])
  }))
  default = {}
}

variable "deploy_from_artifacts_bucket" {
  description = "The artifacts bucket of another account this account's environments deploy from (when artifacts_bucket is null)."
  type        = string
  default     = null
}

variable "deploy_from_artifacts_kms_key_arn" {
  description = "That bucket's KMS key (its bootstrap's artifacts_kms_key_arn output)."
  type        = string
  default     = null
}
