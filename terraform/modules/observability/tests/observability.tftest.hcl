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

# Every dead-letter queue has the same depth alarm: from its first visible message, to the topic
# and back to OK, named after its queue's role.
run "every_dead_letter_queue_has_a_depth_alarm" {
  command = apply

  variables {
    stream_dlq_name   = "parley-test-stream-dlq"
    schedule_dlq_name = "parley-test-schedule-dlq"
    tags              = { app = "parley" }
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.queue_depth) == ["dlq", "schedule_dlq", "stream_dlq"]
    error_message = "Each of the three dead-letter queues has one depth alarm."
  }
  assert {
    condition = {
      for key, alarm in aws_cloudwatch_metric_alarm.queue_depth : key => [alarm.alarm_name, alarm.dimensions["QueueName"], alarm.alarm_description]
      } == {
      dlq          = ["parley-test-dlq-depth", "parley-test-async-dlq", "Async invocations failed for good and wait in parley-test-async-dlq"]
      stream_dlq   = ["parley-test-stream-dlq-depth", "parley-test-stream-dlq", "The change feed gave up on a batch (retries or record age spent); replay it with `invoke redrive` once fixed. Queue: parley-test-stream-dlq"]
      schedule_dlq = ["parley-test-schedule-dlq-depth", "parley-test-schedule-dlq", "A scheduled invocation failed for good (retries spent) and waits in parley-test-schedule-dlq"]
    }
    error_message = "Each queue's alarm keeps its name (<prefix>-dlq-depth, -stream-dlq-depth, -schedule-dlq-depth), watches its own queue and says what waits there."
  }
  assert {
    condition = alltrue([
      for alarm in values(aws_cloudwatch_metric_alarm.queue_depth) :
      alarm.namespace == "AWS/SQS" && alarm.metric_name == "ApproximateNumberOfMessagesVisible" && alarm.statistic == "Maximum" && alarm.period == 300 && alarm.evaluation_periods == 1
    ])
    error_message = "Every queue alarm reads the most messages visible over 5 minutes, one period."
  }
  assert {
    condition = alltrue([
      for alarm in values(aws_cloudwatch_metric_alarm.queue_depth) :
      alarm.threshold == 1 && alarm.comparison_operator == "GreaterThanOrEqualToThreshold" && alarm.treat_missing_data == "notBreaching"
    ])
    error_message = "Every queue alarm goes off at the first message; no data is not a breach."
  }
  assert {
    condition = alltrue([
      for alarm in values(aws_cloudwatch_metric_alarm.queue_depth) :
      alarm.alarm_actions == toset([aws_sns_topic.alarms.arn]) && alarm.ok_actions == toset([aws_sns_topic.alarms.arn]) && alarm.tags == tomap({ app = "parley" })
    ])
    error_message = "Every queue alarm notifies the topic when it goes off and when it clears, and carries the tags."
  }
}

run "a_queue_not_deployed_has_no_alarm" {
  command = plan

  variables {
    dlq_name        = null
    stream_dlq_name = "parley-test-stream-dlq"
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.queue_depth) == ["stream_dlq"]
    error_message = "Only a queue that is passed in (not null) is alarmed."
  }
}

# The dashboard shows the ratings of replies per model (dimensions model and service, as
# parley/feedback.py emits them).
run "the_dashboard_shows_feedback_per_model" {
  command = plan

  assert {
    condition = length([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w
      if w.properties.title == "Feedback per model" && length([
        for line in w.properties.metrics : line
        if try(strcontains(line[0].expression, "{Parley,model,service}"), false)
      ]) == 3
    ]) == 1
    error_message = "One widget draws FeedbackUp, FeedbackDown and FeedbackRemoved per model."
  }
}
