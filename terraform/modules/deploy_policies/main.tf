# Every policy of the release path, as documents: the GitHub OIDC trust of each deploy role, what
# each role may do, and the artifacts bucket's and key's own policies. modules/deploy_identity
# and modules/artifacts attach them; tests/infra/test_deploy_policies.py evaluates them.
#
# The workflow's OIDC subject is customised to carry the ref (docs/release.md): an environment
# job's token says `repo:<owner>/<name>:environment:<env>:ref:<ref>`, a pull request's
# `repo:<owner>/<name>:pull_request:ref:refs/pull/<n>/merge`.

locals {
  oidc     = "token.actions.githubusercontent.com"
  repo     = "repo:${var.github_repository}"
  arn      = "arn:${var.partition}"
  bucket   = "${local.arn}:s3:::${var.artifacts_bucket}"
  state    = "${local.arn}:s3:::${var.state_bucket}"
  iam_root = "${local.arn}:iam::${var.account_id}"

  role_names = merge(
    { for env in keys(var.environments) : env => "${var.name_prefix}-deploy-${env}" },
    var.plan_role ? { plan = "${var.name_prefix}-deploy-plan" } : {},
  )

  subjects = merge(
    {
      for env, e in var.environments : env => concat(
        ["${local.repo}:environment:${env}:ref:refs/heads/${e.branch}"],
        [for tag in e.tags : "${local.repo}:environment:${env}:ref:refs/tags/${tag}"],
      )
    },
    var.plan_role ? { plan = ["${local.repo}:pull_request:ref:refs/pull/*/merge"] } : {},
  )

  trust = {
    for role, subjects in local.subjects : role => {
      Version = "2012-10-17"
      Statement = [{
        Sid       = "GitHubActionsOidc"
        Effect    = "Allow"
        Principal = { Federated = var.oidc_provider_arn }
        Action    = "sts:AssumeRoleWithWebIdentity"
        Condition = {
          StringEquals = { "${local.oidc}:aud" = "sts.amazonaws.com" }
          StringLike   = { "${local.oidc}:sub" = subjects }
        }
      }]
    }
  }

  # Release records an environment reads: its own and, when it promotes, its source's.
  record_keys = {
    for env, e in var.environments : env => concat(
      ["${local.bucket}/releases/${env}.json", "${local.bucket}/releases/${env}/history/*"],
      e.promote_from == null ? [] : ["${local.bucket}/releases/${e.promote_from}.json", "${local.bucket}/releases/${e.promote_from}/history/*"],
    )
  }

  # What an environment's deploy role does with the artifacts bucket and its key: read artifacts
  # and records (GetObjectTagging: the provider's aws_s3_object data source asks for tags),
  # write its own record and history, prune its history, publish artifacts only if it builds.
  artifact_statements = {
    for env, e in var.environments : env => concat(
      [
        {
          Sid       = "ListReleasePrefixes"
          Effect    = "Allow"
          Action    = ["s3:ListBucket"]
          Resource  = [local.bucket]
          Condition = { StringLike = { "s3:prefix" = ["sha256/*", "releases/*", "releases/"] } }
        },
        {
          Sid      = "ReadArtifactsAndRecords"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
          Resource = concat(["${local.bucket}/sha256/*"], local.record_keys[env])
        },
        {
          Sid      = "PinOwnRelease"
          Effect   = "Allow"
          Action   = ["s3:PutObject"]
          Resource = ["${local.bucket}/releases/${env}.json", "${local.bucket}/releases/${env}/history/*"]
        },
        {
          Sid      = "PruneOwnHistory"
          Effect   = "Allow"
          Action   = ["s3:DeleteObject"]
          Resource = ["${local.bucket}/releases/${env}/history/*"]
        },
        {
          Sid      = "ArtifactsKey"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource = [var.artifacts_kms_key_arn]
        },
      ],
      e.promote_from != null ? [] : [{
        Sid      = "PublishArtifacts"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = ["${local.bucket}/sha256/*"]
      }],
    )
  }

  state_statements = {
    for env in keys(var.environments) : env => [
      {
        Sid       = "ListOwnState"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [local.state]
        Condition = { StringLike = { "s3:prefix" = ["parley/${env}/*"] } }
      },
      {
        Sid      = "ReadWriteOwnState"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = ["${local.state}/parley/${env}/terraform.tfstate", "${local.state}/parley/${env}/terraform.tfstate.tflock"]
      },
      {
        Sid      = "ReleaseOwnLock"
        Effect   = "Allow"
        Action   = ["s3:DeleteObject"]
        Resource = ["${local.state}/parley/${env}/terraform.tfstate.tflock"]
      },
      {
        Sid      = "StateKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.state_kms_key_arn]
      },
    ]
  }

  # The resources an environment owns. Named services are scoped by name (<prefix>-<env>-*);
  # services whose ARNs carry generated ids (API Gateway, Cognito, CloudFront, KMS, ACM) by the
  # Environment tag the provider's default_tags put on everything, on create and afterwards.
  own      = { for env in keys(var.environments) : env => "${var.name_prefix}-${env}" }
  regional = "${var.region}:${var.account_id}"
  resource_statements = {
    for env, p in local.own : env => [
      {
        Sid    = "ByName"
        Effect = "Allow"
        Action = ["lambda:*", "dynamodb:*", "sqs:*", "sns:*", "logs:*", "cloudwatch:*", "s3:*", "cloudfront:*", "cloudfront-keyvaluestore:*", "ssm:GetParameter", "secretsmanager:GetSecretValue"]
        Resource = [
          "${local.arn}:lambda:${local.regional}:function:${p}-*",
          "${local.arn}:lambda:${local.regional}:layer:${p}-*",
          "${local.arn}:dynamodb:${local.regional}:table/${p}-*",
          "${local.arn}:sqs:${local.regional}:${p}-*",
          "${local.arn}:sns:${local.regional}:${p}-*",
          "${local.arn}:logs:${local.regional}:log-group:/aws/lambda/${p}-*",
          "${local.arn}:logs:${local.regional}:log-group:/aws/apigateway/${p}-*",
          "${local.arn}:cloudwatch::${var.account_id}:dashboard/${p}-*",
          "${local.arn}:cloudwatch:${local.regional}:alarm:${p}-*",
          "${local.arn}:s3:::${p}-*",
          "${local.arn}:ssm:${local.regional}:parameter/${var.name_prefix}/${env}/*",
          # Identity providers' client secrets (identity_providers), read at plan and apply.
          "${local.arn}:secretsmanager:${local.regional}:secret:${var.name_prefix}/${env}/*",
        ]
      },
      {
        Sid    = "OwnRoles"
        Effect = "Allow"
        Action = [
          "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
          "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
        ]
        Resource = ["${local.iam_root}:role/${p}-*"]
      },
      {
        # The only managed policy Parley attaches: API Gateway's push-to-CloudWatch-Logs.
        Sid       = "AttachLoggingPolicyOnly"
        Effect    = "Allow"
        Action    = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
        Resource  = ["${local.iam_root}:role/${p}-*"]
        Condition = { ArnEquals = { "iam:PolicyARN" = "${local.arn}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs" } }
      },
      {
        Sid       = "PassOwnRoles"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = ["${local.iam_root}:role/${p}-*"]
        Condition = { StringEquals = { "iam:PassedToService" = ["lambda.amazonaws.com", "apigateway.amazonaws.com"] } }
      },
      {
        Sid       = "TaggedResources"
        Effect    = "Allow"
        Action    = ["apigateway:*", "cognito-idp:*", "cloudfront:*", "kms:*", "wafv2:*", "lambda:*", "acm:*"]
        Resource  = ["*"]
        Condition = { StringEquals = { "aws:ResourceTag/Environment" = env } }
      },
      {
        Sid       = "CreateTagged"
        Effect    = "Allow"
        Action    = ["apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "cognito-idp:CreateUserPool", "cloudfront:CreateDistribution", "cloudfront:CreateOriginAccessControl", "cloudfront:CreateFunction", "cloudfront:CreateKeyValueStore", "cloudfront:CreateResponseHeadersPolicy", "kms:CreateKey", "lambda:CreateEventSourceMapping", "cloudfront:TagResource", "kms:TagResource", "cognito-idp:TagResource", "apigateway:TagResource", "acm:RequestCertificate", "acm:AddTagsToCertificate"]
        Resource  = ["*"]
        Condition = { StringEquals = { "aws:RequestTag/Environment" = env } }
      },
      {
        # Reads and account settings AWS cannot scope to a resource.
        Sid    = "Unscoped"
        Effect = "Allow"
        Action = [
          "sts:GetCallerIdentity", "lambda:GetAccountSettings", "lambda:ListFunctions", "lambda:ListEventSourceMappings", "lambda:ListTags",
          "iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "apigateway:GET", "cloudwatch:DescribeAlarms", "cognito-idp:DescribeUserPool*",
          "cloudfront:List*", "cloudfront:Get*", "kms:DescribeKey", "kms:ListAliases", "logs:DescribeLogGroups", "sns:ListTopics", "sqs:ListQueues", "dynamodb:ListTables",
        ]
        Resource = ["*"]
      },
    ]
  }

  # custom_domain with a Route 53 zone: DNS records (certificate validation, aliases) only in the
  # zones the environment lists.
  zone_statements = {
    for env, e in var.environments : env => length(e.dns_zone_ids) == 0 ? [] : [
      {
        Sid      = "OwnZones"
        Effect   = "Allow"
        Action   = ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:GetHostedZone"]
        Resource = [for zone in e.dns_zone_ids : "${local.arn}:route53:::hostedzone/${zone}"]
      },
      {
        # A record change's status, which the provider waits on (change ids are not known before).
        Sid      = "ZoneChanges"
        Effect   = "Allow"
        Action   = ["route53:GetChange"]
        Resource = ["${local.arn}:route53:::change/*"]
      },
    ]
  }

  # Pull requests plan with the state read-only (`plan -lock=false`) and nothing they can change.
  plan_statements = [
    {
      Sid      = "ReadState"
      Effect   = "Allow"
      Action   = ["s3:ListBucket", "s3:GetObject"]
      Resource = [local.state, "${local.state}/parley/*"]
    },
    {
      Sid       = "ListReleasePrefixes"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = [local.bucket]
      Condition = { StringLike = { "s3:prefix" = ["releases/*", "releases/"] } }
    },
    {
      Sid      = "ReadRecords"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:GetObjectTagging"]
      Resource = ["${local.bucket}/releases/*"]
    },
    {
      Sid      = "DecryptStateAndRecords"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = [var.state_kms_key_arn, var.artifacts_kms_key_arn]
    },
    {
      # The model catalog's item (modules/parley) is refreshed to plan: the chat tables' CONFIG
      # items only, never anyone's conversations or profile.
      Sid       = "ReadModelCatalogItem"
      Effect    = "Allow"
      Action    = ["dynamodb:GetItem"]
      Resource  = ["${local.arn}:dynamodb:${local.regional}:table/${var.name_prefix}-*-chat"]
      Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["CONFIG"] } }
    },
    {
      Sid    = "DescribeEverythingParleyUses"
      Effect = "Allow"
      Action = [
        "sts:GetCallerIdentity", "lambda:Get*", "lambda:List*", "dynamodb:Describe*", "dynamodb:List*", "sqs:GetQueueAttributes", "sqs:ListQueueTags",
        "sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:GetSubscriptionAttributes", "logs:Describe*", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
        "cloudwatch:Describe*", "cloudwatch:GetDashboard", "cloudwatch:ListTagsForResource", "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetOpenIDConnectProvider", "apigateway:GET", "cognito-idp:Describe*", "cognito-idp:GetUserPoolMfaConfig",
        "cognito-idp:ListTagsForResource", "cloudfront:Get*", "cloudfront:List*", "cloudfront-keyvaluestore:Describe*", "cloudfront-keyvaluestore:Get*", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
        "kms:ListResourceTags", "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration",
        "wafv2:Get*", "wafv2:List*", "acm:DescribeCertificate", "acm:ListTagsForCertificate", "route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:GetChange",
      ]
      Resource = ["*"]
    },
  ]

  role_policies = merge(
    {
      for env in keys(var.environments) : env => {
        Version   = "2012-10-17"
        Statement = concat(local.state_statements[env], local.artifact_statements[env], local.resource_statements[env], local.zone_statements[env])
      }
    },
    var.plan_role ? { plan = { Version = "2012-10-17", Statement = local.plan_statements } } : {},
  )

  # The artifacts bucket's own policy: what deploy roles of other accounts may do (their IAM
  # policy must allow it too). Principals are those accounts, narrowed to the one role.
  cross_account = {
    for env, account in var.promote_accounts : env => {
      account = account
      role    = "${local.arn}:iam::${account}:role/${var.name_prefix}-deploy-${env}"
    }
  }
  bucket_statements = flatten([
    for env, x in local.cross_account : [
      {
        Sid       = "${title(env)}ListReleasePrefixes"
        Effect    = "Allow"
        Principal = { AWS = "${local.arn}:iam::${x.account}:root" }
        Action    = ["s3:ListBucket"]
        Resource  = [local.bucket]
        Condition = {
          ArnEquals  = { "aws:PrincipalArn" = x.role }
          StringLike = { "s3:prefix" = ["sha256/*", "releases/*", "releases/"] }
        }
      },
      {
        Sid       = "${title(env)}ReadArtifactsAndRecords"
        Effect    = "Allow"
        Principal = { AWS = "${local.arn}:iam::${x.account}:root" }
        Action    = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
        Resource  = ["${local.bucket}/sha256/*", "${local.bucket}/releases/*"]
        Condition = { ArnEquals = { "aws:PrincipalArn" = x.role } }
      },
      {
        Sid       = "${title(env)}PinOwnRelease"
        Effect    = "Allow"
        Principal = { AWS = "${local.arn}:iam::${x.account}:root" }
        Action    = ["s3:PutObject"]
        Resource  = ["${local.bucket}/releases/${env}.json", "${local.bucket}/releases/${env}/history/*"]
        Condition = { ArnEquals = { "aws:PrincipalArn" = x.role } }
      },
      {
        Sid       = "${title(env)}PruneOwnHistory"
        Effect    = "Allow"
        Principal = { AWS = "${local.arn}:iam::${x.account}:root" }
        Action    = ["s3:DeleteObject"]
        Resource  = ["${local.bucket}/releases/${env}/history/*"]
        Condition = { ArnEquals = { "aws:PrincipalArn" = x.role } }
      },
    ]
  ])

  key_statements = [
    for env, x in local.cross_account : {
      Sid       = "${title(env)}UseThroughS3"
      Effect    = "Allow"
      Principal = { AWS = "${local.arn}:iam::${x.account}:root" }
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = "*"
      Condition = {
        ArnEquals    = { "aws:PrincipalArn" = x.role }
        StringEquals = { "kms:ViaService" = "s3.${var.region}.amazonaws.com" }
      }
    }
  ]

  # The artifacts bucket's and key's complete policies (modules/artifacts applies them).
  artifacts_bucket_policy = {
    Version = "2012-10-17"
    Statement = concat(local.bucket_statements, [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.bucket, "${local.bucket}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }])
  }
  artifacts_key_policy = {
    Version = "2012-10-17"
    Statement = concat([{
      # In a key policy "*" is this key; the account administers it (AWS's default key policy).
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = "${local.iam_root}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }], local.key_statements)
  }
}
