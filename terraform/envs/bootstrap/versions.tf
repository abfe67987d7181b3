terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.90"
    }
  }

  # Local state on purpose (one workspace per account: dev, prod): this creates the bucket the
  # environments keep their state in.
  # After the first apply it can move there with `terraform init -migrate-state` and a backend
  # "s3" block (key parley/bootstrap/terraform.tfstate).
}

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = {
      Project   = "parley"
      ManagedBy = "terraform"
    }
  }
}
