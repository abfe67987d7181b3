terraform {
  # Pure: no provider, no resources. tests/infra renders these documents with Terraform alone
  # and evaluates them (who may do what), so the policies are tested as AWS would read them.
  required_version = ">= 1.7.0, < 2.0.0"
}
