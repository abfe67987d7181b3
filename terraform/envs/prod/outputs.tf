output "app_url" {
  description = "Open this in a browser."
  value       = module.parley.app_url
}

output "http_api_url" {
  description = "The HTTP API base URL."
  value       = module.parley.http_api_url
}

output "ws_url" {
  description = "The WebSocket URL."
  value       = module.parley.ws_url
}

output "dns_records" {
  description = "custom_domain without a zone_id: the DNS records to create at the domain's DNS provider ([{name, type, target}]); [] when made in Route 53; null without custom_domain."
  value       = module.parley.dns_records
}

output "app_config" {
  description = "The app's config.json (`invoke sync-frontend --config-file` deploys it with the release's app)."
  value       = module.parley.app_config
}

output "web_security" {
  description = "The app's Content-Security-Policy and the origins the HTTP API's CORS allows."
  value       = module.parley.web_security
}

output "user_pool_id" {
  description = "The Cognito user pool id (create users here)."
  value       = module.parley.user_pool_id
}

output "user_pool_client_id" {
  description = "The web app's Cognito client id."
  value       = module.parley.user_pool_client_id
}

output "mfa" {
  description = "Two-step verification as the user pool has it: configuration (OFF, OPTIONAL or ON) and remember_device."
  value       = module.parley.mfa
}

output "site_bucket" {
  description = "Where the release task uploads the built app."
  value       = module.parley.site_bucket
}

output "distribution_id" {
  description = "The CloudFront distribution to invalidate after an upload."
  value       = module.parley.distribution_id
}

output "uploads_bucket" {
  description = "The uploads bucket."
  value       = module.parley.uploads_bucket
}

output "release_id" {
  description = "The release this apply deployed."
  value       = module.parley.release_id
}

output "alarm_topic_arn" {
  description = "The alarm SNS topic (subscribe on-call here)."
  value       = module.parley.alarm_topic_arn
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.parley.dashboard_name
}

output "dlq_name" {
  description = "The queue holding failed async invocations, if any."
  value       = module.parley.dlq_name
}

output "stream_dlq_url" {
  description = "The change feed's dead-letter queue (`invoke redrive --env <env>` replays it)."
  value       = module.parley.stream_dlq_url
}

output "stream_processor_function_name" {
  description = "The function the change feed invokes."
  value       = module.parley.stream_processor_function_name
}

output "federation" {
  description = "What to register at each identity provider: idp_response_url (an OIDC client's redirect URI, a SAML app's ACS URL), saml_audience, the app's callback and sign-out URLs; null without identity_providers (docs/deploy.md, \"Federated sign-in\")."
  value       = module.parley.federation
}
