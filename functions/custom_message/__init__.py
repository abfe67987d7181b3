"""`custom_message`: the Cognito trigger that writes the e-mails Cognito sends."""
