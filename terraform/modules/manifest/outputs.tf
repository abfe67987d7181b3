output "defaults" {
  description = "The manifest's defaults merged over the built-in ones."
  value       = local.defaults
}

output "layer" {
  description = "The shared dependency layer: name and description."
  value       = local.layer
}

output "functions" {
  description = "Every function by name, with defaults applied: sizing, literal environment, env refs, triggers and permissions."
  value       = local.functions
}

output "function_names" {
  description = "The manifest's function names, sorted."
  value       = sort(keys(local.functions))
}

output "architectures" {
  description = "Every architecture a function runs on (the layer must support each)."
  value       = sort(distinct([for f in local.functions : f.architecture]))
}

output "http_routes" {
  description = "HTTP route key (\"GET /path\") => function and auth (jwt or none)."
  value       = local.http_routes
}

output "websocket_routes" {
  description = "WebSocket route key ($connect, subscribe, …) => function."
  value       = local.websocket_routes
}

output "authorizer_function" {
  description = "The function that authorizes WebSocket $connect, or null."
  value       = one([for name, f in local.functions : name if f.authorizer == "websocket"])
}

output "async_functions" {
  description = "Functions invoked asynchronously => retries, event age and failure destination."
  value       = { for name, f in local.functions : name => f.async if f.async != null }
}

output "cognito_triggers" {
  description = "Cognito trigger (PostConfirmation, …) => function."
  value       = local.cognito_triggers
}

output "permissions" {
  description = "Every permission as {function, resource, kind, target, actions}, in manifest order."
  value       = local.permissions
}

output "env_refs" {
  description = "Every deployment value the manifest refers to, sorted."
  value       = sort(distinct(flatten([for f in local.functions : values(f.env_refs)])))
}

output "tables" {
  description = "The DynamoDB tables from functions/tables.yaml: keys, attributes, GSIs and TTL."
  value       = local.normalized_tables
}
