terraform {
  # Pure: no provider; a helper of the environments' terraform tests.
  required_version = ">= 1.7.0, < 2.0.0"
}
