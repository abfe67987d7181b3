# Created before the functions so retention and encryption apply from the first invocation.
resource "aws_cloudwatch_log_group" "this" {
  for_each = local.functions

  name              = "/aws/lambda/${local.function_names[each.key]}"
  retention_in_days = each.value.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}
