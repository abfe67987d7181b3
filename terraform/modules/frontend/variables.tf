variable "name_prefix" {
  description = "Prefix of every resource name, e.g. parley-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "The name_prefix must be 2-31 lower-case letters, digits or dashes."
  }
}

variable "custom_domain" {
  description = "The app's own name and its ACM certificate (us-east-1, as CloudFront requires; TLS 1.2+): {name, certificate_arn}, or null for the CloudFront domain. modules/domains makes both."
  type = object({
    name            = string
    certificate_arn = string
  })
  default = null

  validation {
    condition     = var.custom_domain == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/", var.custom_domain.certificate_arn))
    error_message = "custom_domain.certificate_arn must be an ACM certificate in us-east-1: CloudFront takes certificates from that region only."
  }
}

variable "app_config" {
  description = "The runtime config.json content, without the region (added here): see docs/contracts.md."
  type = object({
    cognito = object({
      userPoolId = string
      clientId   = string
    })
    httpApiUrl = string
    wsUrl      = string
    # The pool's policy, for the sign-up hint and what a refused password lacks (null: the app's default).
    passwordPolicy = optional(object({
      minLength        = number
      requireLowercase = bool
      requireUppercase = bool
      requireNumbers   = bool
      requireSymbols   = bool
    }))
    # The pool's MFA setting (OFF, OPTIONAL, ON): whether the app offers two-step verification
    # and whether it may be turned off.
    mfa = optional(string, "OPTIONAL")
    # Federated sign-in: the hosted endpoints' host and the providers' buttons; null: none.
    oauth = optional(object({
      domain = string
      providers = list(object({
        name  = string
        label = string
      }))
    }))
  })
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "The price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "web_acl_arn" {
  description = "WAFv2 web ACL (scope CLOUDFRONT) to attach, or null."
  type        = string
  default     = null
}

variable "uploads_pending_days" {
  description = "Days an uploaded file that was never sent in a message is kept (tag parley-state=pending); a sent file stays until its conversation is deleted."
  type        = number
  default     = 1

  validation {
    condition     = var.uploads_pending_days >= 1
    error_message = "Keep unsent uploads at least one day (a grant is valid for minutes)."
  }
}

variable "force_destroy" {
  description = "Allow destroying the buckets with objects in them (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
