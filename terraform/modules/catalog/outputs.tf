output "default" {
  description = "The id of the environment's default model."
  value       = local.catalog["default"]
}

output "model_ids" {
  description = "Every model's id, in catalog order."
  value       = [for m in local.models : m.id]
}

output "bedrock_models" {
  description = "The Bedrock model and inference profile ids of the catalog's bedrock models, sorted."
  value       = local.bedrock_models
}

output "bedrock_agents" {
  description = "The Bedrock agent aliases of the catalog's bedrock-agent models: {agent_id, alias_id}."
  value       = local.bedrock_agents
}

output "api_key_parameters" {
  description = "The SSM SecureString names the catalog's models read their API key from, sorted."
  value       = local.api_key_parameters
}

output "document" {
  description = "The catalog as JSON: the value of the chat table's CONFIG / MODELS item (attribute catalog)."
  value       = local.document
}
