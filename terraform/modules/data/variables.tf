variable "name_prefix" {
  description = "Prefix of every resource name, e.g. parley-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "The name_prefix must be 2-31 lower-case letters, digits or dashes."
  }
}

variable "tables" {
  description = "The tables from the manifest module's tables output (functions/tables.yaml)."
  type = map(object({
    name          = string
    hash_key      = string
    range_key     = string
    ttl_attribute = string
    stream        = string
    attributes    = list(object({ name = string, type = string }))
    global_secondary_indexes = list(object({
      name       = string
      hash_key   = string
      range_key  = string
      projection = string
    }))
  }))
}

variable "deletion_protection" {
  description = "Refuse to delete the tables (on in prod)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for server-side encryption; null uses the AWS-managed DynamoDB key."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
