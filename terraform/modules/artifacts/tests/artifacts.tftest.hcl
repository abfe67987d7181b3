# The artifacts bucket against a mocked AWS: private, versioned, encrypted with its key, and
# the policies of modules/deploy_policies (evaluated request by request in
# tests/infra/test_deploy_policies.py) applied to the bucket and the key.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  bucket_name      = "parley-artifacts-111111111111"
  promote_accounts = { prod = "222222222222" }
}

run "bucket_and_key_carry_the_release_policies" {
  command = apply

  assert {
    condition     = aws_s3_bucket_policy.this.policy == module.policies.artifacts_bucket_policy && aws_kms_key.this[0].policy == module.policies.artifacts_key_policy
    error_message = "The bucket and key carry the documents modules/deploy_policies renders."
  }
  assert {
    condition     = length([for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s if s.Sid == "ProdReadArtifactsAndRecords" && contains(flatten([s.Action]), "s3:GetObjectTagging")]) == 1
    error_message = "Prod's role may read object tags (the provider's aws_s3_object data source asks for them)."
  }
  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled" && one([for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : one(r.apply_server_side_encryption_by_default).kms_master_key_id]) == aws_kms_key.this[0].arn
    error_message = "Versioned and encrypted with the bucket's key."
  }
}
