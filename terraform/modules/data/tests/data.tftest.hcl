# The tables of functions/tables.yaml against a mocked AWS.

mock_provider "aws" {
  source = "../../tests/mocks"
}

run "tables" {
  module {
    source = "../manifest"
  }

  variables {
    manifest_path = "../../../functions/manifest.yaml"
    tables_path   = "../../../functions/tables.yaml"
  }
}

run "one_table_per_entry_protected_and_recoverable" {
  command = plan

  variables {
    name_prefix         = "parley-test"
    tables              = run.tables.tables
    deletion_protection = true
  }

  assert {
    condition     = keys(aws_dynamodb_table.this) == keys(run.tables.tables)
    error_message = "One table per tables.yaml entry."
  }
  assert {
    condition     = alltrue([for t in aws_dynamodb_table.this : t.deletion_protection_enabled && t.point_in_time_recovery[0].enabled && t.billing_mode == "PAY_PER_REQUEST"])
    error_message = "Tables are deletion-protected, recoverable to a point in time and on demand."
  }
}
