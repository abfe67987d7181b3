# Turns functions/manifest.yaml and functions/tables.yaml into the maps the other modules consume.
# Missing fields take the same defaults as tasks/core/manifest.py; tests/infra compares this
# module's outputs with the Python reading, so the two cannot drift.

locals {
  manifest = yamldecode(file(var.manifest_path))
  tables   = yamldecode(file(var.tables_path)).tables

  builtin_defaults = {
    runtime            = "python3.12"
    architecture       = "arm64"
    memory             = 256
    timeout            = 10
    log_retention_days = 30
    tracing            = true
    environment        = {}
  }
  defaults = merge(local.builtin_defaults, try(local.manifest.defaults, {}))

  layer = {
    name        = try(local.manifest.layer.name, "deps")
    description = try(local.manifest.layer.description, "")
  }

  functions = {
    for name, f in local.manifest.functions : name => {
      name                 = name
      description          = f.description
      handler              = f.handler
      runtime              = local.defaults.runtime
      architecture         = coalesce(try(f.architecture, null), local.defaults.architecture)
      memory               = coalesce(try(f.memory, null), local.defaults.memory)
      timeout              = coalesce(try(f.timeout, null), local.defaults.timeout)
      log_retention_days   = local.defaults.log_retention_days
      tracing              = local.defaults.tracing
      reserved_concurrency = coalesce(try(f.reserved_concurrency, null), -1)

      # NAME: "literal" is set as is; NAME: {ref: x} is resolved by the deployment. The defaults'
      # environment comes first: a function's own value for a name wins.
      environment = { for key, value in merge(local.defaults.environment, try(f.environment, {})) : key => tostring(value) if !can(value.ref) }
      env_refs    = { for key, value in merge(local.defaults.environment, try(f.environment, {})) : key => value.ref if can(value.ref) }

      http_routes = [
        for route in try(f.triggers.http, []) : {
          route = route.route
          auth  = coalesce(try(route.auth, null), "jwt")
        }
      ]
      websocket_routes = try(f.triggers.websocket, [])
      authorizer       = try(f.triggers.authorizer, null)
      cognito          = try(f.triggers.cognito, [])
      stream = try(f.triggers.stream, null) == null ? null : {
        table                   = f.triggers.stream.table
        batch_size              = coalesce(try(f.triggers.stream.batch_size, null), 100)
        batching_window_seconds = coalesce(try(f.triggers.stream.batching_window_seconds, null), 0)
        max_retries             = coalesce(try(f.triggers.stream.max_retries, null), 5)
        max_record_age_seconds  = coalesce(try(f.triggers.stream.max_record_age_seconds, null), 3600)
        bisect_on_error         = coalesce(try(f.triggers.stream.bisect_on_error, null), true)
        starting_position       = coalesce(try(f.triggers.stream.starting_position, null), "TRIM_HORIZON")
        key_prefix              = try(f.triggers.stream.key_prefix, null)
        on_failure              = try(f.triggers.stream.on_failure, "dlq")
      }
      schedule = try(f.triggers.schedule, null) == null ? null : {
        expression            = f.triggers.schedule.expression
        timezone              = coalesce(try(f.triggers.schedule.timezone, null), "UTC")
        input                 = try(f.triggers.schedule.input, {})
        max_retries           = coalesce(try(f.triggers.schedule.max_retries, null), 3)
        max_event_age_seconds = coalesce(try(f.triggers.schedule.max_event_age_seconds, null), 3600)
      }
      workflows = try(f.triggers.workflow, [])
      s3 = try(f.triggers.s3, null) == null ? null : {
        bucket = f.triggers.s3.bucket
        prefix = f.triggers.s3.prefix
        events = f.triggers.s3.events
      }
      async = try(f.triggers.async, null) == null ? null : {
        max_retries           = coalesce(try(f.triggers.async.max_retries, null), 2)
        max_event_age_seconds = coalesce(try(f.triggers.async.max_event_age_seconds, null), 3600)
        on_failure            = try(f.triggers.async.on_failure, "dlq")
      }

      permissions = [
        for p in try(f.permissions, []) : {
          resource     = p.resource
          actions      = p.actions
          leading_keys = try(p.leading_keys, null)
        }
      ]
    }
  }

  http_routes = {
    for pair in flatten([
      for name, f in local.functions : [
        for route in f.http_routes : {
          route_key = route.route
          function  = name
          auth      = route.auth
        }
      ]
    ]) : pair.route_key => { function = pair.function, auth = pair.auth }
  }

  websocket_routes = {
    for pair in flatten([
      for name, f in local.functions : [for key in f.websocket_routes : { route_key = key, function = name }]
    ]) : pair.route_key => pair.function
  }

  cognito_triggers = {
    for pair in flatten([
      for name, f in local.functions : [for trigger in f.cognito : { trigger = trigger, function = name }]
    ]) : pair.trigger => pair.function
  }

  permissions = flatten([
    for name, f in local.functions : [
      for p in f.permissions : {
        function = name
        resource = p.resource
        kind     = p.resource == "*" ? "*" : split(":", p.resource)[0]
        target   = p.resource == "*" ? "*" : join(":", slice(split(":", p.resource), 1, length(split(":", p.resource))))
        actions  = p.actions
      }
    ]
  ])

  normalized_tables = {
    for name, t in local.tables : name => {
      name          = name
      hash_key      = t.hash_key
      range_key     = try(t.range_key, null)
      attributes    = [for attr in sort(keys(t.attributes)) : { name = attr, type = t.attributes[attr] }]
      ttl_attribute = try(t.ttl_attribute, null)
      stream        = try(t.stream, null)
      global_secondary_indexes = [
        for index in sort(keys(try(t.global_secondary_indexes, {}))) : {
          name       = index
          hash_key   = t.global_secondary_indexes[index].hash_key
          range_key  = try(t.global_secondary_indexes[index].range_key, null)
          projection = coalesce(try(t.global_secondary_indexes[index].projection, null), "ALL")
        }
      ]
    }
  }
}
