terraform {
  # use_lockfile (S3-native state locking) needs Terraform 1.10.
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.90"
    }
  }

  # The state bucket comes from terraform/envs/bootstrap; another account's bucket is given with
  # `terraform init -backend-config="bucket=<name>"`.
  backend "s3" {
    bucket       = "parley-terraform-state-222222222222"
    key          = "parley/prod/terraform.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }
}

locals {
  default_tags = {
    Project     = "parley"
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.default_tags
  }
}

# CloudFront takes certificates from us-east-1 only: the app's, when custom_domain issues one.
provider "aws" {
  alias               = "us_east_1"
  region              = "us-east-1"
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.default_tags
  }
}
