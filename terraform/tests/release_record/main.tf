# For `terraform test` of an environment: a release record (docs/contracts.md, Release records)
# naming every function of the manifest, as `invoke publish` would write it.

locals {
  functions = keys(yamldecode(file(var.manifest_path)).functions)
  artifact = { for key in concat(["layer:deps", "layer:deps-x86_64", "frontend"], [for name in local.functions : "function:${name}"]) : key => {
    kind          = split(":", key)[0]
    path          = "dist/${replace(key, ":", "/")}.zip"
    size          = 1
    sha256        = sha256(key)
    sha256_base64 = base64sha256(key)
    s3_key        = "sha256/${sha256(key)}.zip"
  } }
}
