terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100: the API Gateway domain names' ip_address_type (dual-stack, for the AAAA records).
      version               = ">= 5.100, < 7.0"
      configuration_aliases = [aws.us_east_1]
    }
  }
}
