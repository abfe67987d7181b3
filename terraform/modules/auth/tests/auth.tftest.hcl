# The user pool against a mocked AWS: SES for production mail, triggers on the alias, and the
# variables' guards.

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

run "guards" {
  command = plan

  variables {
    email_sender            = { source_arn = "arn:aws:s3:::not-ses", from = "x@example.com" }
    mfa                     = "OFF"
    password_minimum_length = 8
  }

  expect_failures = [var.email_sender, var.mfa, var.password_minimum_length]
}
