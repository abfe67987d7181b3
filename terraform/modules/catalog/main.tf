# The environment's model catalog (terraform/envs/<env>/models.yaml) as the other modules need it:
# the Bedrock models, agent aliases and API key parameters the functions may use (IAM grants
# exactly these), and the compact JSON the functions read from the chat table (CONFIG / MODELS).
# parley/catalog.py validates the same file with precise messages (invoke build, invoke lint);
# tests/infra compares this module's outputs with the Python reading.

locals {
  catalog = yamldecode(file(var.catalog_path))
  models  = local.catalog.models

  bedrock_models = sort(distinct([for m in local.models : m.model if m.provider == "bedrock"]))
  bedrock_agents = [
    for m in local.models : { agent_id = m.agent_id, alias_id = m.agent_alias_id } if m.provider == "bedrock-agent"
  ]
  api_key_parameters = sort(distinct(compact([for m in local.models : try(m.api_key_parameter, null)])))

  # What the functions read: the file as written, in JSON (parley/catalog.py parses it again).
  document = jsonencode(local.catalog)
}
