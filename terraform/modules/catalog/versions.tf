# Provider-free, like modules/manifest: it only reads the catalog file.
terraform {
  required_version = ">= 1.0.0"
}
