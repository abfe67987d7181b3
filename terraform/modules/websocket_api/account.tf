# WebSocket (unlike HTTP) APIs log through an account-wide role set in API Gateway's account
# settings. Exactly one stack per account and region should own it.

data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigateway_logs" {
  count = var.manage_account_logging_role ? 1 : 0

  name               = "${var.name_prefix}-apigateway-logs"
  description        = "Lets API Gateway write WebSocket execution and access logs"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
  tags               = var.tags
}

data "aws_partition" "current" {}

resource "aws_iam_role_policy_attachment" "apigateway_logs" {
  count = var.manage_account_logging_role ? 1 : 0

  role       = aws_iam_role.apigateway_logs[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_account_logging_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigateway_logs[0].arn
  # On destroy, clear the account setting instead of leaving it naming a deleted role.
  reset_on_delete = true

  # API Gateway checks the role can write logs when the setting is made: the policy must be
  # attached first, not only the role created.
  depends_on = [aws_iam_role_policy_attachment.apigateway_logs]
}
