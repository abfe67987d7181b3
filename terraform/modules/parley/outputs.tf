output "app_url" {
  description = "Open this in a browser."
  value       = module.frontend.app_url
}

output "http_api_url" {
  description = "The HTTP API base URL (its custom name with custom_domain)."
  value       = local.http_api_url
}

output "ws_url" {
  description = "The WebSocket URL (its custom name with custom_domain)."
  value       = local.ws_url
}

output "dns_records" {
  description = "custom_domain's DNS records to create at the domain's DNS provider (no zone_id): [{name, type, target}]; [] when they were made in the Route 53 zone; null without custom_domain."
  value       = var.custom_domain == null ? null : module.domains[0].dns_records
}

output "app_config" {
  description = "The app's config.json (JSON: the APIs' URLs, the user pool), as written to the site bucket; `invoke sync-frontend --config-file` deploys it with a release's app."
  value       = module.frontend.app_config
}

output "web_security" {
  description = "What lets browsers reach the APIs at their names: the app's Content-Security-Policy (set by the edge function) and the origins the HTTP API's CORS allows."
  value = {
    content_security_policy = module.frontend.content_security_policy
    cors_allow_origins      = module.http_api.cors_allow_origins
  }
}

output "user_pool_id" {
  description = "The Cognito user pool id (create users here)."
  value       = module.auth.user_pool_id
}

output "user_pool_client_id" {
  description = "The web app's Cognito client id."
  value       = module.auth.user_pool_client_id
}

output "mfa" {
  description = "Two-step verification as the user pool has it: configuration (OFF, OPTIONAL or ON) and remember_device."
  value       = module.auth.mfa
}

output "site_bucket" {
  description = "Where the release task uploads the built app."
  value       = module.frontend.site_bucket
}

output "distribution_id" {
  description = "The CloudFront distribution to invalidate after an upload."
  value       = module.frontend.distribution_id
}

output "uploads_bucket" {
  description = "The uploads bucket."
  value       = module.frontend.uploads_bucket
}

output "release_id" {
  description = "The release this apply deployed."
  value       = module.functions.release_id
}

output "alarm_topic_arn" {
  description = "The alarm SNS topic (subscribe on-call here)."
  value       = module.observability.alarm_topic_arn
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.observability.dashboard_name
}

output "dlq_name" {
  description = "The queue holding failed async invocations, if any."
  value       = module.functions.dlq_name
}

output "stream_dlq_url" {
  description = "The change feed's dead-letter queue URL (`invoke redrive --env <env>` replays it), or null."
  value       = module.functions.stream_dlq_url
}

output "stream_processor_function_name" {
  description = "The function the change feed invokes (`invoke redrive` replays batches through it)."
  value       = module.functions.functions["stream_processor"].function_name
}

output "federation" {
  description = "What to register at each identity provider (identity_providers): the redirect URI of an OIDC client and the ACS URL of a SAML app (idp_response_url), a SAML app's audience (saml_audience), the app's callback and sign-out URLs, and the providers' buttons; null without identity_providers."
  value = module.auth.oauth == null ? null : {
    domain            = module.auth.oauth.domain
    idp_response_url  = "${module.auth.oauth.domain}/oauth2/idpresponse"
    saml_audience     = "urn:amazon:cognito:sp:${module.auth.user_pool_id}"
    app_redirect_urls = module.auth.oauth_redirect_urls
    providers         = module.auth.oauth.providers
  }
}
