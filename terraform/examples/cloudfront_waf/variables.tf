variable "allowed_account_ids" {
  description = "The only AWS account(s) this web ACL may be created in (the environment's)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_account_ids) > 0 && alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "List the 12-digit account id(s)."
  }
}

variable "name_prefix" {
  description = "Prefix of the web ACL, its metrics and its log group, e.g. parley-prod."
  type        = string
  default     = "parley"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "The name_prefix must be 2-31 lower-case letters, digits or dashes."
  }
}

variable "requests_per_ip" {
  description = "Requests one IP address may send to the app in 5 minutes before WAF blocks it (a page load is about 15; offices behind one NAT share an address)."
  type        = number
  default     = 2000

  validation {
    condition     = var.requests_per_ip >= 10 && var.requests_per_ip <= 2000000000
    error_message = "WAF rate limits range from 10 to 2,000,000,000 requests per window."
  }
}

variable "log_retention_days" {
  description = "Days the web ACL's request log (blocked and sampled requests) is kept."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key (us-east-1) for the request log; null uses the CloudWatch default."
  type        = string
  default     = null
}
