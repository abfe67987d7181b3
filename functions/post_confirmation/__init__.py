"""`post_confirmation`: the Cognito trigger that creates the user's profile."""
