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

output "schedules" {
  description = "Functions invoked on a schedule => expression, timezone, input, retries and event age."
  value       = { for name, f in local.functions : name => f.schedule if f.schedule != null }
}

output "workflow_functions" {
  description = "State machine name (functions/workflows/<name>.asl.json) => the functions its tasks invoke."
  value = {
    for workflow in distinct(flatten([for f in local.functions : f.workflows])) : workflow => sort([
      for name, f in local.functions : name if contains(f.workflows, workflow)
    ])
  }
}

output "stream_functions" {
  description = "Functions fed by a table's DynamoDB stream => table, batching, retries, record age, bisect, start, key filter and failure destination."
  value       = { for name, f in local.functions : name => f.stream if f.stream != null }
}

output "s3_functions" {
  description = "Functions S3 notifies => bucket (a key the deployment resolves, e.g. uploads), key prefix and events."
  value       = { for name, f in local.functions : name => f.s3 if f.s3 != null }
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
  description = "The DynamoDB tables from functions/tables.yaml: keys, attributes, GSIs, TTL and stream view type."
  value       = local.normalized_tables
}
