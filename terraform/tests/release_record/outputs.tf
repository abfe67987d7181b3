output "body" {
  description = "The record's JSON."
  value = jsonencode({
    version      = 1
    release_id   = "20260101T000000Z-000000000000"
    git_commit   = "0000000000000000000000000000000000000000"
    created_at   = "2026-01-01T00:00:00.000Z"
    runtime      = "python3.12"
    architecture = "arm64"
    artifacts    = local.artifact
  })
}
