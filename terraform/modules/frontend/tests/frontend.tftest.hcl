# The web app against a mocked AWS — never applied anywhere else (moto has no CloudFront
# response-headers policies): private bucket read through OAC only, HTTPS, config.json.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix = "parley-test"
  app_config = {
    cognito    = { userPoolId = "eu-west-1_abc", clientId = "client" }
    httpApiUrl = "https://abc.execute-api.eu-west-1.amazonaws.com"
    wsUrl      = "wss://def.execute-api.eu-west-1.amazonaws.com/live"
  }
}

run "the_site_is_private_behind_cloudfront" {
  command = apply

  assert {
    condition     = aws_s3_bucket_public_access_block.site.block_public_policy && aws_s3_bucket_public_access_block.site.restrict_public_buckets
    error_message = "The site bucket is private."
  }
  assert {
    condition     = alltrue([for o in aws_cloudfront_distribution.this.origin : o.origin_access_control_id == aws_cloudfront_origin_access_control.site.id])
    error_message = "CloudFront reads the bucket through Origin Access Control."
  }
  assert {
    condition     = aws_cloudfront_distribution.this.default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https"
    error_message = "Browsers are sent to HTTPS."
  }
  assert {
    condition     = jsondecode(aws_s3_object.config.content).httpApiUrl == var.app_config.httpApiUrl && jsondecode(aws_s3_object.config.content).cognito.authFlow == "USER_SRP_AUTH" && aws_s3_object.config.cache_control == "no-cache"
    error_message = "config.json carries the APIs and the pool, never cached."
  }
}
