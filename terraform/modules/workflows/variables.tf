variable "name_prefix" {
  description = "Prefix of every resource name, e.g. parley-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "The name_prefix must be 2-31 lower-case letters, digits or dashes."
  }
}

variable "manifest_path" {
  description = "Path of functions/manifest.yaml (schedule and workflow triggers)."
  type        = string
}

variable "tables_path" {
  description = "Path of functions/tables.yaml (read by the manifest module)."
  type        = string
}

variable "workflows_dir" {
  description = "Directory of the state machine definitions (functions/workflows/<name>.asl.json), the same files the local stack runs."
  type        = string
}

variable "function_arns" {
  description = "Manifest name => the ARN a trigger invokes (the functions module's alias_arns, known before the functions exist)."
  type        = map(string)
}

variable "export_retention_days" {
  description = "Days an export's file is kept in the exports bucket before the lifecycle rule deletes it (parley/exports.py FILE_DAYS states the same)."
  type        = number
  default     = 1

  validation {
    condition     = var.export_retention_days >= 1 && floor(var.export_retention_days) == var.export_retention_days
    error_message = "The export_retention_days must be a whole number of days, at least 1."
  }
}

variable "log_retention_days" {
  description = "Retention of the state machines' execution logs."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let terraform destroy the exports bucket with files in it (dev)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the exports bucket, the schedule dead-letter queue and the execution logs; null uses AWS-managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
