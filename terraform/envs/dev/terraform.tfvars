# Development. No secrets here: API keys live in SSM (models.yaml names the parameters).
environment         = "dev"
region              = "eu-west-1"
allowed_account_ids = ["111111111111"]
artifacts_bucket    = "parley-artifacts-111111111111"

daily_token_quota = 200000

deletion_protection             = false
force_destroy                   = true
manage_api_gateway_account_role = true
alarm_emails                    = []

# Sign-in: SRP only (the local stack has its own moto pool); threat protection records risky
# sign-ins without acting on them (the default, AUDIT).
allow_user_password_auth = false

# Two-step verification (docs/deploy.md): TOTP that each person may turn on in the account menu
# (OPTIONAL), that everyone must set up at their next sign-in (ON), or none (OFF); no remembered
# devices.
mfa             = "OPTIONAL"
remember_device = false

# Who may sign up (docs/deploy.md): anyone (the default), or addresses at some domains and/or
# addresses a room owner invited, e.g. { allowed_domains = ["example.com"], invites = true }.
signup = {}

# Attachments (parley.attachments): what one file may weigh, how many a message carries.
attachments = {
  max_document_bytes = 10485760 # 10 MB
  max_image_bytes    = 5242880  # 5 MB
  max_per_message    = 10
  pending_days       = 1
}

# Own names for the app and both APIs (docs/deploy.md, "Custom domains"); unset, the app is at its
# CloudFront name and the APIs at their execute-api names. With a Route 53 zone holding the names,
# Terraform issues and validates the certificates and makes the records:
# custom_domain = {
#   app     = "chat-dev.example.com"
#   api     = "api.chat-dev.example.com"
#   ws      = "ws.chat-dev.example.com"
#   zone_id = "Z0123456789ABCDEFGHIJ"
# }
