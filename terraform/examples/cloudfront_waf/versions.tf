terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.90"
    }
  }
}

# A web ACL for CloudFront is global: AWS keeps it in us-east-1 whatever the app's region.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = {
      Project   = "parley"
      ManagedBy = "terraform"
    }
  }
}
