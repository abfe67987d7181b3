data "aws_region" "current" {}

resource "aws_cognito_user_pool" "this" {
  name                     = "${var.name_prefix}-users"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration        = var.mfa
  # Threat protection (compromised-credential and risky sign-in detection) needs the Plus plan,
  # billed per monthly active user: docs/deploy.md, "Sign-in protection".
  user_pool_tier = var.advanced_security_mode == "OFF" ? "ESSENTIALS" : "PLUS"

  user_pool_add_ons {
    advanced_security_mode = var.advanced_security_mode
  }

  # Two-step verification is TOTP only (no SMS). Cognito refuses a factor configured with MFA OFF.
  software_token_mfa_configuration {
    enabled = var.mfa != "OFF"
  }

  dynamic "device_configuration" {
    for_each = var.remember_device ? [true] : []
    content {
      challenge_required_on_new_device      = true
      device_only_remembered_on_user_prompt = true
    }
  }

  password_policy {
    minimum_length                   = var.password_minimum_length
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  username_configuration {
    case_sensitive = false
  }

  user_attribute_update_settings {
    attributes_require_verification_before_update = ["email"]
  }

  # Production mail goes through SES (var.email_sender): Cognito's own sender allows only a few
  # dozen e-mails a day per account.
  dynamic "email_configuration" {
    for_each = var.email_sender == null ? [] : [var.email_sender]
    content {
      email_sending_account  = "DEVELOPER"
      source_arn             = email_configuration.value.source_arn
      from_email_address     = email_configuration.value.from
      reply_to_email_address = email_configuration.value.reply_to
    }
  }

  lambda_config {
    post_confirmation    = lookup(var.lambda_triggers, "PostConfirmation", null)
    pre_sign_up          = lookup(var.lambda_triggers, "PreSignUp", null)
    pre_token_generation = lookup(var.lambda_triggers, "PreTokenGeneration", null)
    custom_message       = lookup(var.lambda_triggers, "CustomMessage", null)
  }

  tags = var.tags
}

# The web app is a public client: no secret, SRP and refresh tokens, which can be revoked.
# USER_PASSWORD_AUTH (the password itself sent to Cognito) only where a test harness needs it.
resource "aws_cognito_user_pool_client" "web" {
  name            = "${var.name_prefix}-web"
  user_pool_id    = aws_cognito_user_pool.this.id
  generate_secret = false
  explicit_auth_flows = concat(
    ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    var.allow_user_password_auth ? ["ALLOW_USER_PASSWORD_AUTH"] : [],
  )
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  # Federated sign-in (federation.tf): the authorization code flow with PKCE (a public client: no
  # secret), no implicit flow, back to the app's root; Cognito's own sign-in stays beside the
  # configured providers.
  allowed_oauth_flows_user_pool_client = local.federated
  allowed_oauth_flows                  = local.federated ? ["code"] : null
  allowed_oauth_scopes                 = local.federated ? ["openid", "email", "profile"] : null
  callback_urls                        = local.federated ? local.app_urls : null
  logout_urls                          = local.federated ? local.app_urls : null
  supported_identity_providers         = local.federated ? concat(["COGNITO"], [for idp in aws_cognito_identity_provider.this : idp.provider_name]) : null
  access_token_validity                = 60
  id_token_validity                    = 60
  refresh_token_validity               = 5
  auth_session_validity                = 3

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  read_attributes  = ["email", "email_verified", "name"]
  write_attributes = ["email", "name"]
}
