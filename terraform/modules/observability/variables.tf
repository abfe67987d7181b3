variable "name_prefix" {
  description = "Prefix of every resource name, e.g. parley-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "The name_prefix must be 2-31 lower-case letters, digits or dashes."
  }
}

variable "function_names" {
  description = "Manifest name => deployed function name (the functions module's function_names output)."
  type        = map(string)
}

variable "http_api_id" {
  description = "The HTTP API id (5xx alarm, dashboard)."
  type        = string
}

variable "websocket_api_id" {
  description = "The WebSocket API id (dashboard)."
  type        = string
}

variable "dlq_name" {
  description = "The async failure queue name, or null when no function is async."
  type        = string
  default     = null
}

variable "state_machine_arns" {
  description = "Workflow name => state machine ARN (modules/workflows): failed executions are alarmed and charted."
  type        = map(string)
  default     = {}
}

variable "schedule_dlq_name" {
  description = "The schedules' dead-letter queue name (modules/workflows), or null when nothing is scheduled."
  type        = string
  default     = null
}

variable "metrics_namespace" {
  description = "Namespace of the functions' EMF metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "Parley"
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm)."
  type        = list(string)
  default     = []
}

variable "error_threshold" {
  description = "Function errors per 5 minutes that raise the alarm."
  type        = number
  default     = 1
}

variable "http_5xx_threshold" {
  description = "HTTP API 5xx responses per 5 minutes that raise the alarm."
  type        = number
  default     = 5
}

variable "function_timeouts" {
  description = "Manifest name => timeout in seconds; a p99 duration above 80% of it raises the function's duration alarm (a release rollback trigger)."
  type        = map(number)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the topic; its policy must let cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*). null creates a dedicated key that does."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "stream_function_names" {
  description = "Manifest name => deployed name of each function fed by a DynamoDB stream (modules/functions): its iterator age is alarmed and charted."
  type        = map(string)
  default     = {}
}

variable "stream_dlq_name" {
  description = "The change feed's dead-letter queue name (modules/functions), or null when no function reads a stream."
  type        = string
  default     = null
}

variable "iterator_age_threshold_seconds" {
  description = "Alarm when a stream function's oldest unprocessed change is older than this (Lambda IteratorAge, maximum over 5 minutes)."
  type        = number
  default     = 300

  validation {
    condition     = var.iterator_age_threshold_seconds >= 10
    error_message = "The iterator_age_threshold_seconds must be at least 10 (the batching window alone takes 1 s)."
  }
}
