# The user pool against a mocked AWS: SES for production mail, triggers on the alias, the MFA
# setting (TOTP only) and remembered devices, and the variables' guards.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix     = "parley-test"
  lambda_triggers = { PostConfirmation = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-post_confirmation:live" }
}

run "ses_sends_production_mail" {
  command = plan

  variables {
    email_sender = {
      source_arn = "arn:aws:ses:eu-west-1:111111111111:identity/parley.example.com"
      from       = "Parley <no-reply@parley.example.com>"
    }
  }

  assert {
    condition     = aws_cognito_user_pool.this.email_configuration[0].email_sending_account == "DEVELOPER" && aws_cognito_user_pool.this.email_configuration[0].source_arn == var.email_sender.source_arn && aws_cognito_user_pool.this.email_configuration[0].from_email_address == var.email_sender.from
    error_message = "With email_sender the pool sends through that SES identity."
  }
}

run "each_person_may_turn_on_totp_by_default" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "OPTIONAL" && aws_cognito_user_pool.this.software_token_mfa_configuration[0].enabled && output.mfa.configuration == "OPTIONAL"
    error_message = "By default the pool offers TOTP to whoever turns it on (mfa OPTIONAL)."
  }
  assert {
    condition     = length(aws_cognito_user_pool.this.sms_configuration) == 0 && length(aws_cognito_user_pool.this.device_configuration) == 0 && !output.mfa.remember_device
    error_message = "No SMS second factor, and no remembered devices unless asked for."
  }
}

run "everyone_sets_up_totp_when_required" {
  command = plan

  variables {
    mfa             = "ON"
    remember_device = true
  }

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "ON" && aws_cognito_user_pool.this.software_token_mfa_configuration[0].enabled && length(aws_cognito_user_pool.this.sms_configuration) == 0
    error_message = "mfa ON requires a software token (TOTP) of everyone, never SMS."
  }
  assert {
    condition     = aws_cognito_user_pool.this.device_configuration[0].challenge_required_on_new_device && aws_cognito_user_pool.this.device_configuration[0].device_only_remembered_on_user_prompt
    error_message = "remember_device: a new device is always challenged, and a device is remembered only when the person asks."
  }
  assert {
    condition     = output.mfa.configuration == "ON" && output.mfa.remember_device
    error_message = "The mfa output states the pool's setting (config.json and the environments read it)."
  }
}

run "no_second_factor_when_off" {
  command = plan

  variables {
    mfa = "OFF"
  }

  # Cognito refuses MFA OFF with a factor configured ("can't turn off MFA and configure an MFA together").
  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "OFF" && !aws_cognito_user_pool.this.software_token_mfa_configuration[0].enabled
    error_message = "mfa OFF turns the software token off with it."
  }
}

run "guards" {
  command = plan

  variables {
    email_sender            = { source_arn = "arn:aws:s3:::not-ses", from = "x@example.com" }
    mfa                     = "SMS"
    password_minimum_length = 8
  }

  expect_failures = [var.email_sender, var.mfa, var.password_minimum_length]
}

run "every_lifecycle_trigger_is_wired" {
  command = plan

  variables {
    lambda_triggers = {
      PostConfirmation   = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-post_confirmation:live"
      PreSignUp          = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-pre_sign_up:live"
      PreTokenGeneration = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-pre_token_generation:live"
      CustomMessage      = "arn:aws:lambda:eu-west-1:111111111111:function:parley-test-custom_message:live"
    }
  }

  assert {
    condition     = aws_cognito_user_pool.this.lambda_config[0].pre_sign_up == var.lambda_triggers.PreSignUp && aws_cognito_user_pool.this.lambda_config[0].pre_token_generation == var.lambda_triggers.PreTokenGeneration && aws_cognito_user_pool.this.lambda_config[0].custom_message == var.lambda_triggers.CustomMessage && aws_cognito_user_pool.this.lambda_config[0].post_confirmation == var.lambda_triggers.PostConfirmation
    error_message = "Each trigger's function (its live alias) is the pool's lambda_config entry."
  }
}

run "an_unknown_trigger_is_refused" {
  command = plan

  variables {
    lambda_triggers = { CustomEmailSender = "arn:aws:lambda:eu-west-1:111111111111:function:x:live" }
  }

  expect_failures = [var.lambda_triggers]
}
