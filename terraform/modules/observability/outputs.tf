output "alarm_topic_arn" {
  description = "The SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "The CloudWatch dashboard name."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
