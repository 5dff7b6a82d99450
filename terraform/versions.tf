# Terraform and provider requirements. Only the AWS provider is used: generated credentials come
# from Secrets Manager's GetRandomPassword (see secrets.tf), so no other provider is downloaded.

terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80.0, < 6.0.0"
    }
  }
}

provider "aws" {
  region = var.region

  # Refuse to run against any other account than the ones named (empty list: no restriction).
  allowed_account_ids = length(var.allowed_account_ids) > 0 ? var.allowed_account_ids : null

  default_tags {
    tags = local.tags
  }
}
