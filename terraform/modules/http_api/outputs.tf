output "api_id" {
  description = "The HTTP API id."
  value       = aws_apigatewayv2_api.this.id
}

output "url" {
  description = "The HTTP API base URL (the app's httpApiUrl)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "stage_name" {
  description = "The stage's name, once the stage exists (a custom domain maps it)."
  value       = aws_apigatewayv2_stage.this.name
}

output "cors_allow_origins" {
  description = "The origins the API's CORS allows (the app's)."
  value       = aws_apigatewayv2_api.this.cors_configuration[0].allow_origins
}

output "execution_arn" {
  description = "The HTTP API execution ARN."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "issuer" {
  description = "The issuer the JWT authorizer accepts."
  value       = local.issuer
}

output "access_log_group" {
  description = "The stage's access log group name."
  value       = aws_apigatewayv2_stage.this.access_log_settings[0].destination_arn
}
