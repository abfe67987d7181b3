variable "manifest_path" {
  description = "Path of functions/manifest.yaml, the one description of every Lambda function."
  type        = string

  validation {
    condition     = can(regex("\\.ya?ml$", var.manifest_path))
    error_message = "The manifest_path must name a YAML file."
  }
}

variable "tables_path" {
  description = "Path of functions/tables.yaml, the DynamoDB table descriptions shared with the code."
  type        = string

  validation {
    condition     = can(regex("\\.ya?ml$", var.tables_path))
    error_message = "The tables_path must name a YAML file."
  }
}
