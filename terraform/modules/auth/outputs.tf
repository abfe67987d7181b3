output "user_pool_id" {
  description = "The user pool id (COGNITO_USER_POOL_ID)."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "The user pool ARN (source of the Cognito trigger invoke permission)."
  value       = aws_cognito_user_pool.this.arn
}

output "password_policy" {
  description = "The pool's password policy as the web app's config.json states it (passwordPolicy)."
  value = {
    minLength        = aws_cognito_user_pool.this.password_policy[0].minimum_length
    requireLowercase = aws_cognito_user_pool.this.password_policy[0].require_lowercase
    requireUppercase = aws_cognito_user_pool.this.password_policy[0].require_uppercase
    requireNumbers   = aws_cognito_user_pool.this.password_policy[0].require_numbers
    requireSymbols   = aws_cognito_user_pool.this.password_policy[0].require_symbols
  }
}

output "mfa" {
  description = "Two-step verification as the pool has it: configuration (OFF, OPTIONAL or ON; config.json's mfa) and remember_device (device tracking on)."
  value = {
    configuration   = aws_cognito_user_pool.this.mfa_configuration
    remember_device = length(aws_cognito_user_pool.this.device_configuration) > 0
  }
}

output "user_pool_client_id" {
  description = "The public web client id (COGNITO_CLIENT_ID, the JWT audience)."
  value       = aws_cognito_user_pool_client.web.id
}

output "issuer" {
  description = "Token issuer, the same URL parley.auth derives from region and pool id."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

output "jwks_url" {
  description = "The pool's JWKS URL (COGNITO_JWKS_URL)."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}/.well-known/jwks.json"
}

output "oauth" {
  description = "Federated sign-in as config.json states it: {domain (the hosted endpoints' origin, https://<prefix>.auth.<region>.amazoncognito.com), providers ([{name, label}])}; null without identity_providers."
  value = local.federated ? {
    domain    = "https://${aws_cognito_user_pool_domain.this[0].domain}.auth.${data.aws_region.current.name}.amazoncognito.com"
    providers = [for name, idp in var.identity_providers : { name = aws_cognito_identity_provider.this[name].provider_name, label = coalesce(idp.label, name) }]
  } : null
}

output "oauth_redirect_urls" {
  description = "The web client's callback and sign-out URLs (the app's root); [] without identity_providers."
  value       = aws_cognito_user_pool_client.web.callback_urls
}
