variable "manifest_path" {
  description = "functions/manifest.yaml."
  type        = string
}
