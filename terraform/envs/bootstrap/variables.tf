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

variable "artifacts_reader_account_ids" {
  description = "Accounts whose environments deploy from this account's artifacts bucket (e.g. production)."
  type        = list(string)
  default     = []
}

variable "state_bucket" {
  description = "Name of the Terraform state bucket (the envs' backend \"s3\" bucket)."
  type        = string
}
