"""`pre_token_generation`: the Cognito trigger that puts the role claim in ID tokens."""
