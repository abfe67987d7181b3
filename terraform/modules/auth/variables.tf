variable "name_prefix" {
  description = "Prefix of every resource name, e.g. parley-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "The name_prefix must be 2-31 lower-case letters, digits or dashes."
  }
}

variable "password_minimum_length" {
  description = "Shortest password accepted at sign-up."
  type        = number
  default     = 12

  validation {
    condition     = var.password_minimum_length >= 12 && var.password_minimum_length <= 99
    error_message = "Passwords must be at least 12 characters (Cognito allows up to 99)."
  }
}

variable "mfa" {
  description = "Two-step verification (TOTP from an authenticator app; never SMS): OPTIONAL lets each person turn it on in the app, ON makes everyone set it up at their next sign-in, OFF offers none (e.g. where everyone signs in through an identity provider with its own MFA)."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa)
    error_message = "The mfa must be OFF, OPTIONAL or ON (TOTP only: there is no SMS option)."
  }
}

variable "remember_device" {
  description = "Cognito device tracking: a new device is always asked for the code, and a device the person asks to remember may then sign in without it (remembered only when the person asks). false: no device tracking."
  type        = bool
  default     = false
}

variable "advanced_security_mode" {
  description = "Cognito threat protection: AUDIT records risky sign-ins and compromised credentials, ENFORCED also blocks or challenges them, OFF turns it off. AUDIT and ENFORCED put the pool on the Plus feature plan (billed per monthly active user)."
  type        = string
  default     = "AUDIT"

  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.advanced_security_mode)
    error_message = "The advanced_security_mode must be OFF, AUDIT or ENFORCED."
  }
}

variable "allow_user_password_auth" {
  description = "Let the app client sign in with USER_PASSWORD_AUTH (the password sent to Cognito as is) besides SRP: only for a test harness that cannot do SRP. The local stack's moto pool is configured by tasks/local/bootstrap.py, not here."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the user pool (on in prod)."
  type        = bool
  default     = true
}

variable "lambda_triggers" {
  description = "Cognito trigger (PostConfirmation, PreSignUp, PreTokenGeneration) => Lambda function ARN."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.lambda_triggers), ["PostConfirmation", "PreSignUp", "PreTokenGeneration"])) == 0
    error_message = "Only PostConfirmation, PreSignUp and PreTokenGeneration triggers are wired."
  }
}

variable "email_sender" {
  description = "Send Cognito's e-mail (codes, invitations) through SES from a verified identity: {source_arn (the SES identity ARN), from (e.g. \"Parley <no-reply@example.com>\"), reply_to (optional)}. null = Cognito's built-in sender, limited to a few dozen e-mails a day: fine for dev, not for production."
  type = object({
    source_arn = string
    from       = string
    reply_to   = optional(string)
  })
  default = null

  validation {
    condition     = var.email_sender == null || can(regex("^arn:aws[a-z-]*:ses:[a-z0-9-]+:[0-9]{12}:identity/.+$", var.email_sender.source_arn))
    error_message = "The email_sender.source_arn must be an SES identity ARN (arn:aws:ses:<region>:<account>:identity/<domain or address>)."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
