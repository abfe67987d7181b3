output "api_id" {
  description = "The WebSocket API id."
  value       = aws_apigatewayv2_api.this.id
}

output "url" {
  description = "The wss:// URL clients connect to (the app's wsUrl)."
  value       = "${aws_apigatewayv2_api.this.api_endpoint}/${var.stage_name}"
}

output "execution_arn" {
  description = "The WebSocket API execution ARN (scope of execute-api:ManageConnections)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_name" {
  description = "The stage name."
  value       = var.stage_name
}

output "deployed_stage_name" {
  description = "The stage's name once the stage exists, for a custom domain's mapping (stage_name is known before, so the functions can take it without a cycle)."
  value       = aws_apigatewayv2_stage.this.name
}

output "management_endpoint" {
  description = "https URL of the @connections management API (WS_MANAGEMENT_ENDPOINT); built from ids so the functions can depend on it without a cycle."
  value       = "https://${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.name}.amazonaws.com/${var.stage_name}"
}
