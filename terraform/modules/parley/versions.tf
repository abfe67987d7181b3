terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.90, < 7.0"
      # us-east-1, for the app's certificate (CloudFront takes certificates from there only).
      configuration_aliases = [aws.us_east_1]
    }
  }
}
