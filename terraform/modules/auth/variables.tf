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
  description = "Cognito trigger (PostConfirmation, PreSignUp, PreTokenGeneration, CustomMessage) => Lambda function ARN."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.lambda_triggers), ["PostConfirmation", "PreSignUp", "PreTokenGeneration", "CustomMessage"])) == 0
    error_message = "Only PostConfirmation, PreSignUp, PreTokenGeneration and CustomMessage triggers are wired."
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

variable "identity_providers" {
  description = "Federated sign-in: provider name (shown nowhere but in Cognito; letters, digits, dashes) => {type (OIDC or SAML), label (the app's \"Sign in with <label>\"; default the name), issuer (OIDC), client_id (OIDC), client_secret_parameter (an SSM SecureString name) or client_secret_arn (a Secrets Manager secret ARN) — OIDC, never the secret itself; metadata_url (SAML), scopes (OIDC; default openid email profile), attributes ({email, name}: the provider's claim or SAML attribute for each)}. Empty: no hosted sign-in at all."
  type = map(object({
    type                    = string
    label                   = optional(string)
    issuer                  = optional(string)
    client_id               = optional(string)
    client_secret_parameter = optional(string)
    client_secret_arn       = optional(string)
    metadata_url            = optional(string)
    scopes                  = optional(list(string), ["openid", "email", "profile"])
    attributes = optional(object({
      email = optional(string)
      name  = optional(string)
    }), {})
  }))
  default = {}

  validation {
    condition     = alltrue([for name in keys(var.identity_providers) : can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]$", name)) && upper(name) != "COGNITO"])
    error_message = "identity_providers: each name must be 2-32 letters, digits or dashes (not starting or ending with a dash) and not COGNITO."
  }
  validation {
    condition     = alltrue([for idp in values(var.identity_providers) : contains(["OIDC", "SAML"], idp.type)])
    error_message = "identity_providers: type must be OIDC or SAML."
  }
  validation {
    condition     = alltrue([for idp in values(var.identity_providers) : idp.type != "OIDC" || (idp.issuer != null && can(regex("^https://[^/?#]+", coalesce(idp.issuer, "-"))) && idp.client_id != null && idp.metadata_url == null)])
    error_message = "identity_providers: an OIDC provider needs issuer (an https:// URL) and client_id, and no metadata_url."
  }
  validation {
    condition     = alltrue([for idp in values(var.identity_providers) : idp.type != "OIDC" || ((idp.client_secret_parameter == null) != (idp.client_secret_arn == null))])
    error_message = "identity_providers: an OIDC provider needs exactly one of client_secret_parameter (an SSM SecureString name) or client_secret_arn (a Secrets Manager ARN); the secret itself never goes in tfvars."
  }
  validation {
    condition     = alltrue([for idp in values(var.identity_providers) : idp.client_secret_parameter == null || can(regex("^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", coalesce(idp.client_secret_parameter, "-")))])
    error_message = "identity_providers: client_secret_parameter must be an SSM parameter name such as /parley/dev/idp/corp-client-secret (not an ARN, not the secret)."
  }
  validation {
    condition     = alltrue([for idp in values(var.identity_providers) : idp.client_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", coalesce(idp.client_secret_arn, "-")))])
    error_message = "identity_providers: client_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }
  validation {
    condition     = alltrue([for idp in values(var.identity_providers) : idp.type != "SAML" || (idp.metadata_url != null && can(regex("^https://[^/?#]+", coalesce(idp.metadata_url, "-"))) && idp.issuer == null && idp.client_id == null && idp.client_secret_parameter == null && idp.client_secret_arn == null)])
    error_message = "identity_providers: a SAML provider needs metadata_url (an https:// URL) and no issuer, client_id or client secret."
  }
  validation {
    condition     = alltrue([for idp in values(var.identity_providers) : idp.type != "OIDC" || contains(idp.scopes, "openid")])
    error_message = "identity_providers: an OIDC provider's scopes must include openid."
  }
  validation {
    condition     = length(var.identity_providers) == 0 || var.app_url != null
    error_message = "identity_providers need app_url: the callback and sign-out URL is the app's root."
  }
}

variable "app_url" {
  description = "The app's origin (https://chat.example.com): the OAuth callback and sign-out URL is its root. Needed with identity_providers."
  type        = string
  default     = null

  validation {
    condition     = var.app_url == null || can(regex("^https://[^/?#]+/?$", var.app_url))
    error_message = "The app_url must be an https:// origin without a path."
  }
}

variable "domain_prefix" {
  description = "The hosted sign-in domain's prefix (<prefix>.auth.<region>.amazoncognito.com), unique in the region; null: <name_prefix>-<account id>."
  type        = string
  default     = null

  validation {
    condition     = var.domain_prefix == null || (can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) && !can(regex("aws|amazon|cognito", coalesce(var.domain_prefix, "-"))))
    error_message = "The domain_prefix must be 1-63 lower-case letters, digits or dashes, not starting or ending with a dash, without aws, amazon or cognito."
  }
}
