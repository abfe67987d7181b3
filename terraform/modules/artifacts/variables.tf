variable "bucket_name" {
  description = "Globally unique bucket name, e.g. parley-artifacts-<account id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "The bucket_name must be a valid S3 bucket name."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for objects; null creates a dedicated key with rotation."
  type        = string
  default     = null
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object version is kept (release records, state)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "Keep noncurrent versions at least one day."
  }
}

variable "promote_accounts" {
  description = "Environments in other accounts that deploy from this bucket => their account id (e.g. { prod = \"222222222222\" }). Their deploy role (parley-deploy-<env>) may read sha256/* and releases/*, write releases/<env>.json and its history, and use the key through S3."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for id in values(var.promote_accounts) : can(regex("^[0-9]{12}$", id))])
    error_message = "Give 12-digit account ids."
  }
}

variable "force_destroy" {
  description = "Allow destroying the bucket with objects in it (never for the production bucket)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
