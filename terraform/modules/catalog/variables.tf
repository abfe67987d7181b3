variable "catalog_path" {
  description = "Path of the environment's model catalog (terraform/envs/<env>/models.yaml; format in docs/contracts.md, validated in full by parley/catalog.py at build and lint)."
  type        = string

  validation {
    condition     = can(regex("\\.ya?ml$", var.catalog_path))
    error_message = "The catalog_path must name a YAML file."
  }

  validation {
    condition     = length(try(yamldecode(file(var.catalog_path)).models, [])) > 0
    error_message = "The model catalog lists no models."
  }

  validation {
    condition = alltrue([
      for m in try(yamldecode(file(var.catalog_path)).models, []) : contains(["openai", "bedrock", "bedrock-agent"], try(m.provider, ""))
    ])
    error_message = "Every model's provider must be openai, bedrock or bedrock-agent (local runs only on the local stack)."
  }

  validation {
    condition     = length(distinct([for m in try(yamldecode(file(var.catalog_path)).models, []) : try(m.id, "")])) == length(try(yamldecode(file(var.catalog_path)).models, []))
    error_message = "The model ids must be unique."
  }

  validation {
    condition     = contains([for m in try(yamldecode(file(var.catalog_path)).models, []) : try(m.id, "")], try(yamldecode(file(var.catalog_path))["default"], ""))
    error_message = "The default must be the id of a model in the list."
  }
}
