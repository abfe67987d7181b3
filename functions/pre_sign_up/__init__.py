"""`pre_sign_up`: the Cognito trigger that decides who may create an account."""
