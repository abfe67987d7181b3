# The AWS provider for `terraform test` (every tests/*.tftest.hcl): nothing is called, computed
# attributes take these values, so ARNs look like ARNs to the provider's validation. Data
# sources answer as account 111111111111 in eu-west-1; policy documents render as an empty
# policy (the documents Parley's tests read are jsonencode()d, not data sources).

mock_data "aws_caller_identity" {
  defaults = { account_id = "111111111111", arn = "arn:aws:iam::111111111111:user/test", id = "111111111111" }
}

mock_data "aws_region" {
  defaults = { name = "eu-west-1", id = "eu-west-1" }
}

mock_data "aws_partition" {
  defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
}

mock_data "aws_iam_policy_document" {
  defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}

mock_data "aws_iam_openid_connect_provider" {
  defaults = { arn = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com" }
}

mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::111111111111:role/mock" }
}

mock_resource "aws_iam_openid_connect_provider" {
  defaults = { arn = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com" }
}

mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000" }
}

mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::mock-bucket", bucket_regional_domain_name = "mock-bucket.s3.eu-west-1.amazonaws.com" }
}

mock_resource "aws_sqs_queue" {
  defaults = { arn = "arn:aws:sqs:eu-west-1:111111111111:mock", url = "https://sqs.eu-west-1.amazonaws.com/111111111111/mock" }
}

mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:eu-west-1:111111111111:mock" }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:mock" }
}

mock_resource "aws_lambda_layer_version" {
  defaults = { arn = "arn:aws:lambda:eu-west-1:111111111111:layer:mock:1", layer_arn = "arn:aws:lambda:eu-west-1:111111111111:layer:mock" }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn           = "arn:aws:lambda:eu-west-1:111111111111:function:mock"
    qualified_arn = "arn:aws:lambda:eu-west-1:111111111111:function:mock:1"
    invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111111111111:function:mock/invocations"
    version       = "1"
  }
}

mock_resource "aws_lambda_alias" {
  defaults = {
    arn        = "arn:aws:lambda:eu-west-1:111111111111:function:mock:live"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111111111111:function:mock:live/invocations"
  }
}

mock_resource "aws_dynamodb_table" {
  defaults = { arn = "arn:aws:dynamodb:eu-west-1:111111111111:table/mock", stream_arn = "arn:aws:dynamodb:eu-west-1:111111111111:table/mock/stream/2026-01-01T00:00:00.000" }
}

mock_resource "aws_cognito_user_pool" {
  defaults = { arn = "arn:aws:cognito-idp:eu-west-1:111111111111:userpool/eu-west-1_mock", id = "eu-west-1_mock", endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_mock" }
}

mock_resource "aws_apigatewayv2_api" {
  defaults = { execution_arn = "arn:aws:execute-api:eu-west-1:111111111111:mockapi", api_endpoint = "https://mockapi.execute-api.eu-west-1.amazonaws.com" }
}

mock_resource "aws_cloudfront_distribution" {
  defaults = { arn = "arn:aws:cloudfront::111111111111:distribution/MOCK", domain_name = "mock.cloudfront.net", hosted_zone_id = "Z2FDTNDATAQYW2" }
}

mock_resource "aws_cloudfront_key_value_store" {
  defaults = { arn = "arn:aws:cloudfront::111111111111:key-value-store/mock" }
}

mock_resource "aws_cloudfront_function" {
  defaults = { arn = "arn:aws:cloudfront::111111111111:function/mock" }
}

mock_resource "aws_acm_certificate" {
  defaults = { arn = "arn:aws:acm:us-east-1:111111111111:certificate/mock" }
}
