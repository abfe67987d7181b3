# Federated sign-in: the environment's OIDC and SAML identity providers, the pool's domain (the
# hosted /oauth2/authorize, /oauth2/token and /logout endpoints) and the web client's OAuth
# settings (aws_cognito_user_pool_client.web). Nothing here exists without identity_providers:
# the client then keeps OAuth off and no hosted endpoint is reachable.
#
# A provider's client secret is read from SSM (a SecureString) or Secrets Manager at plan time and
# so is stored in the Terraform state (provider_details has no write-only form in the AWS provider):
# the state bucket is encrypted and readable by the deploy roles only (docs/deploy.md).

data "aws_caller_identity" "current" {}

locals {
  federated = length(var.identity_providers) > 0

  # The app completes the code flow at its own root: the app routes by #hash and CloudFront serves
  # only the files that exist, so a path such as /auth/callback would not reach it.
  app_urls = var.app_url == null ? [] : ["${trimsuffix(var.app_url, "/")}/"]

  domain_prefix = coalesce(var.domain_prefix, "${var.name_prefix}-${data.aws_caller_identity.current.account_id}")

  ssm_secrets = {
    for name, idp in var.identity_providers : name => idp.client_secret_parameter
    if idp.type == "OIDC" && idp.client_secret_parameter != null
  }
  secrets_manager_secrets = {
    for name, idp in var.identity_providers : name => idp.client_secret_arn
    if idp.type == "OIDC" && idp.client_secret_arn != null
  }

  # Cognito's attribute names on the left, the provider's claim or SAML attribute on the right.
  default_attributes = {
    OIDC = { email = "email", name = "name" }
    SAML = {
      email = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
      name  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
    }
  }
}

data "aws_ssm_parameter" "idp_client_secret" {
  for_each        = local.ssm_secrets
  name            = each.value
  with_decryption = true
}

data "aws_secretsmanager_secret_version" "idp_client_secret" {
  for_each  = local.secrets_manager_secrets
  secret_id = each.value
}

resource "aws_cognito_identity_provider" "this" {
  for_each = var.identity_providers

  user_pool_id  = aws_cognito_user_pool.this.id
  provider_name = each.key
  provider_type = each.value.type

  provider_details = each.value.type == "OIDC" ? {
    oidc_issuer               = each.value.issuer
    client_id                 = each.value.client_id
    client_secret             = contains(keys(local.ssm_secrets), each.key) ? data.aws_ssm_parameter.idp_client_secret[each.key].value : data.aws_secretsmanager_secret_version.idp_client_secret[each.key].secret_string
    authorize_scopes          = join(" ", each.value.scopes)
    attributes_request_method = "GET"
    } : {
    MetadataURL = each.value.metadata_url
    IDPSignout  = "false"
  }

  attribute_mapping = {
    email = coalesce(each.value.attributes.email, local.default_attributes[each.value.type].email)
    name  = coalesce(each.value.attributes.name, local.default_attributes[each.value.type].name)
  }

  # Cognito adds the endpoints it discovers (authorize_url, token_url, jwks_uri…) to the details.
  lifecycle {
    ignore_changes = [provider_details["authorize_url"], provider_details["token_url"], provider_details["attributes_url"], provider_details["jwks_uri"], provider_details["attributes_url_add_attributes"]]
  }
}

# The hosted endpoints on an amazoncognito.com prefix. A custom auth domain (auth.example.com,
# with an ACM certificate in us-east-1) is possible later: docs/deploy.md, "Federated sign-in".
resource "aws_cognito_user_pool_domain" "this" {
  count        = local.federated ? 1 : 0
  domain       = local.domain_prefix
  user_pool_id = aws_cognito_user_pool.this.id
}
