# Production. No secrets here: API keys live in SSM (models.yaml names the parameters).
environment         = "prod"
region              = "eu-west-1"
allowed_account_ids = ["222222222222"]
artifacts_bucket    = "parley-artifacts-111111111111" # shared: promote pins the same bytes

daily_token_quota = 100000

deletion_protection             = true
force_destroy                   = false
manage_api_gateway_account_role = true
alarm_emails                    = ["oncall@example.com"]

# Over the manifest's reservations (chat_api 20, bot_worker 10): prod's steady load, leaving the
# account at least 100 unreserved (docs/deploy.md, "Limits").
reserved_concurrency = {
  chat_api   = 100
  bot_worker = 50
}

# Sign-in: SRP only; threat protection blocks or challenges risky sign-ins (Plus plan, see
# docs/deploy.md for its cost).
allow_user_password_auth = false
advanced_security_mode   = "ENFORCED"

# Two-step verification (docs/deploy.md): TOTP that each person may turn on in the account menu
# (OPTIONAL), that everyone must set up at their next sign-in (ON), or none (OFF); no remembered
# devices.
mfa             = "OPTIONAL"
remember_device = false

# Who may sign up (docs/deploy.md): anyone (the default), or addresses at some domains and/or
# addresses a room owner invited, e.g. { allowed_domains = ["example.com"], invites = true }.
signup = {}

# Sign-up codes and invitations through SES (the identity is verified in this account and out of
# the SES sandbox; docs/deploy.md, "E-mail").
email_sender = {
  source_arn = "arn:aws:ses:eu-west-1:222222222222:identity/parley.example.com"
  from       = "Parley <no-reply@parley.example.com>"
}

# The first chat request and WebSocket $connect skip the cold start (billed per hour).
provisioned_concurrency = {
  chat_api      = 2
  ws_authorizer = 1
}

# Attachments (parley.attachments): what one file may weigh, how many a message carries.
attachments = {
  max_document_bytes = 10485760 # 10 MB
  max_image_bytes    = 5242880  # 5 MB
  max_per_message    = 10
  pending_days       = 1
}

# Own names for the app and both APIs (docs/deploy.md, "Custom domains"); unset, the app is at its
# CloudFront name and the APIs at their execute-api names. With a Route 53 zone holding the names:
# custom_domain = {
#   app     = "chat.example.com"
#   api     = "api.chat.example.com"
#   ws      = "ws.chat.example.com"
#   zone_id = "Z0123456789ABCDEFGHIJ"
# }
# With the domain's DNS elsewhere: certificates issued beforehand (api and ws in this region, app in
# us-east-1), and the records of `terraform output dns_records` created at the DNS provider:
# custom_domain = {
#   app                        = "chat.example.com"
#   api                        = "api.chat.example.com"
#   ws                         = "ws.chat.example.com"
#   certificate_arn            = "arn:aws:acm:eu-west-1:222222222222:certificate/<id>"
#   cloudfront_certificate_arn = "arn:aws:acm:us-east-1:222222222222:certificate/<id>"
# }
