# Federated sign-in against a mocked AWS: the identity providers, the pool's domain, the web
# client's OAuth settings (code flow with PKCE only, back to the app's root), the secrets read
# from SSM or Secrets Manager, what config.json learns, and the variables' guards.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix = "parley-test"
  app_url     = "https://chat.example.com"
  identity_providers = {
    corp = {
      type                    = "OIDC"
      label                   = "Example Corp"
      issuer                  = "https://login.example.com"
      client_id               = "parley-web"
      client_secret_parameter = "/parley/test/idp/corp"
      attributes              = { name = "display_name" }
    }
    partner = {
      type              = "OIDC"
      issuer            = "https://id.partner.example"
      client_id         = "abc"
      client_secret_arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:parley/partner-AbCdEf"
      scopes            = ["openid", "email"]
    }
    adfs = {
      type         = "SAML"
      label        = "Active Directory"
      metadata_url = "https://adfs.example.com/FederationMetadata/2007-06/FederationMetadata.xml"
    }
  }
}

run "no_providers_no_hosted_sign_in" {
  command = plan

  variables {
    identity_providers = {}
    app_url            = null
  }

  assert {
    condition     = length(aws_cognito_identity_provider.this) == 0 && length(aws_cognito_user_pool_domain.this) == 0 && output.oauth == null
    error_message = "Without identity providers there is no domain, no provider and no oauth in config.json."
  }
  assert {
    condition     = !aws_cognito_user_pool_client.web.allowed_oauth_flows_user_pool_client
    error_message = "Without identity providers the web client keeps OAuth off."
  }
}

run "providers_are_created_with_their_details" {
  command = plan

  assert {
    condition     = aws_cognito_identity_provider.this["corp"].provider_type == "OIDC" && aws_cognito_identity_provider.this["corp"].provider_details["oidc_issuer"] == "https://login.example.com" && aws_cognito_identity_provider.this["corp"].provider_details["client_id"] == "parley-web" && aws_cognito_identity_provider.this["corp"].provider_details["authorize_scopes"] == "openid email profile"
    error_message = "An OIDC provider gets its issuer, client id and default scopes."
  }
  assert {
    condition     = aws_cognito_identity_provider.this["corp"].provider_details["client_secret"] == data.aws_ssm_parameter.idp_client_secret["corp"].value && data.aws_ssm_parameter.idp_client_secret["corp"].name == "/parley/test/idp/corp" && data.aws_ssm_parameter.idp_client_secret["corp"].with_decryption
    error_message = "The client secret is read (decrypted) from the SSM parameter named, not given."
  }
  assert {
    condition     = aws_cognito_identity_provider.this["partner"].provider_details["client_secret"] == data.aws_secretsmanager_secret_version.idp_client_secret["partner"].secret_string && data.aws_secretsmanager_secret_version.idp_client_secret["partner"].secret_id == var.identity_providers.partner.client_secret_arn && aws_cognito_identity_provider.this["partner"].provider_details["authorize_scopes"] == "openid email"
    error_message = "A Secrets Manager ARN is read through its secret version; the scopes given are asked for."
  }
  assert {
    condition     = length(data.aws_ssm_parameter.idp_client_secret) == 1 && length(data.aws_secretsmanager_secret_version.idp_client_secret) == 1
    error_message = "Each secret is read once, from where it was named (SAML has none)."
  }
  assert {
    condition     = aws_cognito_identity_provider.this["corp"].attribute_mapping["email"] == "email" && aws_cognito_identity_provider.this["corp"].attribute_mapping["name"] == "display_name"
    error_message = "An OIDC provider maps its claims to e-mail and name (defaults email and name)."
  }
  assert {
    condition     = aws_cognito_identity_provider.this["adfs"].provider_type == "SAML" && aws_cognito_identity_provider.this["adfs"].provider_details["MetadataURL"] == var.identity_providers.adfs.metadata_url && aws_cognito_identity_provider.this["adfs"].attribute_mapping["email"] == "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    error_message = "A SAML provider reads its metadata URL and maps the standard claims."
  }
  assert {
    condition     = !contains(keys(aws_cognito_identity_provider.this["adfs"].provider_details), "client_secret")
    error_message = "A SAML provider has no client secret."
  }
}

run "a_prefix_domain_hosts_the_endpoints" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool_domain.this[0].domain == "parley-test-111111111111" && aws_cognito_user_pool_domain.this[0].certificate_arn == null
    error_message = "By default the hosted endpoints are on a prefix domain named after the environment and account."
  }
  assert {
    condition     = output.oauth.domain == "https://parley-test-111111111111.auth.eu-west-1.amazoncognito.com"
    error_message = "config.json's oauth.domain is the prefix domain's host."
  }
  assert {
    condition     = output.oauth.providers == [{ name = "adfs", label = "Active Directory" }, { name = "corp", label = "Example Corp" }, { name = "partner", label = "partner" }]
    error_message = "config.json lists every provider with its label (the name when none is given)."
  }
}

run "own_domain_prefix" {
  command = plan

  variables {
    domain_prefix = "chat-example"
  }

  assert {
    condition     = aws_cognito_user_pool_domain.this[0].domain == "chat-example" && output.oauth.domain == "https://chat-example.auth.eu-west-1.amazoncognito.com"
    error_message = "domain_prefix names the hosted domain."
  }
}

run "the_client_uses_the_code_flow_with_pkce_only" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool_client.web.allowed_oauth_flows_user_pool_client && toset(aws_cognito_user_pool_client.web.allowed_oauth_flows) == toset(["code"])
    error_message = "Only the authorization code flow: no implicit flow, no client credentials."
  }
  assert {
    condition     = !aws_cognito_user_pool_client.web.generate_secret
    error_message = "A public client (PKCE): no client secret."
  }
  assert {
    condition     = toset(aws_cognito_user_pool_client.web.allowed_oauth_scopes) == toset(["openid", "email", "profile"])
    error_message = "The client asks for openid, email and profile only."
  }
  assert {
    condition     = aws_cognito_user_pool_client.web.callback_urls == toset(["https://chat.example.com/"]) && aws_cognito_user_pool_client.web.logout_urls == toset(["https://chat.example.com/"])
    error_message = "Callback and sign-out go back to the app's root, and nowhere else."
  }
  assert {
    condition     = toset(aws_cognito_user_pool_client.web.supported_identity_providers) == toset(["COGNITO", "corp", "partner", "adfs"])
    error_message = "The client offers Cognito's own sign-in and each configured provider."
  }
}

# Each refused provider on its own, so every rule is seen to refuse.
run "guard_cognito" {
  command = plan

  variables {
    identity_providers = {
      "COGNITO" = { type = "OIDC", issuer = "https://a.example", client_id = "x", client_secret_parameter = "/p" }
    }
  }

  expect_failures = [var.identity_providers]
}

run "guard_dash_bad" {
  command = plan

  variables {
    identity_providers = {
      "-bad" = { type = "LDAP" }
    }
  }

  expect_failures = [var.identity_providers]
}

run "guard_plain" {
  command = plan

  variables {
    identity_providers = {
      plain = { type = "OIDC", issuer = "http://insecure.example", client_id = "x", client_secret_parameter = "/p" }
    }
  }

  expect_failures = [var.identity_providers]
}

run "guard_both" {
  command = plan

  variables {
    identity_providers = {
      both = { type = "OIDC", issuer = "https://a.example", client_id = "x", client_secret_parameter = "/p", client_secret_arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:x" }
    }
  }

  expect_failures = [var.identity_providers]
}

run "guard_none" {
  command = plan

  variables {
    identity_providers = {
      none = { type = "OIDC", issuer = "https://a.example", client_id = "x" }
    }
  }

  expect_failures = [var.identity_providers]
}

run "guard_arnparam" {
  command = plan

  variables {
    identity_providers = {
      arnparam = { type = "OIDC", issuer = "https://a.example", client_id = "x", client_secret_parameter = "arn:aws:ssm:eu-west-1:111111111111:parameter/p" }
    }
  }

  expect_failures = [var.identity_providers]
}

run "guard_badarn" {
  command = plan

  variables {
    identity_providers = {
      badarn = { type = "OIDC", issuer = "https://a.example", client_id = "x", client_secret_arn = "arn:aws:ssm:eu-west-1:111111111111:parameter/p" }
    }
  }

  expect_failures = [var.identity_providers]
}

run "guard_saml" {
  command = plan

  variables {
    identity_providers = {
      saml = { type = "SAML", metadata_url = "https://m.example/md.xml", client_id = "x" }
    }
  }

  expect_failures = [var.identity_providers]
}

run "guard_noopenid" {
  command = plan

  variables {
    identity_providers = {
      noopenid = { type = "OIDC", issuer = "https://a.example", client_id = "x", client_secret_parameter = "/p", scopes = ["email"] }
    }
  }

  expect_failures = [var.identity_providers]
}

run "app_url_and_domain_guards" {
  command = plan

  variables {
    app_url       = "http://chat.example.com/path"
    domain_prefix = "my-cognito-app"
  }

  expect_failures = [var.app_url, var.domain_prefix]
}

run "providers_need_the_app_url" {
  command = plan

  variables {
    app_url = null
  }

  expect_failures = [var.identity_providers]
}
