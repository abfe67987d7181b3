# Alarms against a mocked AWS: the topic's key lets CloudWatch publish (an AWS-managed SNS key
# cannot), and every function has the alarms a release watches.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix       = "parley-test"
  function_names    = { chat_api = "parley-test-chat_api", bot_worker = "parley-test-bot_worker" }
  function_timeouts = { chat_api = 30, bot_worker = 300 }
  http_api_id       = "abc123"
  websocket_api_id  = "def456"
  dlq_name          = "parley-test-async-dlq"
}

run "cloudwatch_can_publish_alarms" {
  command = apply

  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.alarms[0].arn
    error_message = "The alarm topic is encrypted with its own customer-managed key, not alias/aws/sns."
  }
  assert {
    condition = length([
      for s in jsondecode(aws_kms_key.alarms[0].policy).Statement : s
      if s.Effect == "Allow" && try(s.Principal.Service, "") == "cloudwatch.amazonaws.com" && contains(flatten([s.Action]), "kms:Decrypt") && contains(flatten([s.Action]), "kms:GenerateDataKey*") && try(s.Condition.StringEquals["aws:SourceAccount"], "") == "111111111111"
    ]) == 1
    error_message = "The key policy lets cloudwatch.amazonaws.com (this account's alarms only) use the key."
  }
  assert {
    condition     = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.errors), values(aws_cloudwatch_metric_alarm.throttles), values(aws_cloudwatch_metric_alarm.duration)) : contains(a.alarm_actions, aws_sns_topic.alarms.arn)])
    error_message = "Every function alarm notifies the topic."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.duration["chat_api"].threshold == 24000 && aws_cloudwatch_metric_alarm.duration["chat_api"].alarm_name == "parley-test-chat_api-duration-p99"
    error_message = "The p99 duration alarm fires above 80% of the timeout, named <function>-duration-p99 (invoke shift watches it)."
  }
}
