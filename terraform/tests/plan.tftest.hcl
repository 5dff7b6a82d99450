# `terraform test` plans (and mock-applies) the whole configuration against a mocked AWS provider: no credentials,
# no network, no resources. It proves that every expression, for_each key, validation and
# precondition evaluates with realistic inputs, and checks the facts that keep production safe.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-central-1"
    }
  }

  mock_data "aws_availability_zones" {
    defaults = {
      names = ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
    }
  }

  mock_data "aws_secretsmanager_random_password" {
    defaults = {
      random_password = "MockedGeneratedValue0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"
    }
  }

  mock_data "aws_elb_service_account" {
    defaults = {
      arn = "arn:aws:iam::054676820928:root"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:eu-central-1:111122223333:secret:relata/production/mock-AbCdEf"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-central-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::relata-production-mock"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-central-1:111122223333:log-group:/relata/production/mock"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/mock"
    }
  }

  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:eu-central-1:111122223333:loadbalancer/app/relata-production-alb/0123456789abcdef"
      arn_suffix = "app/relata-production-alb/0123456789abcdef"
    }
  }

  mock_resource "aws_lb_target_group" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:eu-central-1:111122223333:targetgroup/relata-production-web/0123456789abcdef"
      arn_suffix = "targetgroup/relata-production-web/0123456789abcdef"
    }
  }

  mock_resource "aws_lb_listener" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:eu-central-1:111122223333:listener/app/relata-production-alb/0123456789abcdef/0123456789abcdef"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-central-1:111122223333:relata-production-alarms"
    }
  }

  mock_resource "aws_acm_certificate" {
    defaults = {
      arn = "arn:aws:acm:eu-central-1:111122223333:certificate/00000000-0000-0000-0000-000000000000"
      domain_validation_options = [
        {
          domain_name           = "relata.example.com"
          resource_record_name  = "_0123.relata.example.com."
          resource_record_type  = "CNAME"
          resource_record_value = "_4567.acm-validations.aws."
        },
        {
          domain_name           = "*.relata.example.com"
          resource_record_name  = "_0123.relata.example.com."
          resource_record_type  = "CNAME"
          resource_record_value = "_4567.acm-validations.aws."
        },
      ]
    }
  }

  mock_resource "aws_acm_certificate_validation" {
    defaults = {
      certificate_arn = "arn:aws:acm:eu-central-1:111122223333:certificate/00000000-0000-0000-0000-000000000000"
    }
  }

  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn = "arn:aws:ecs:eu-central-1:111122223333:task-definition/relata-production-mock:1"
    }
  }
}

variables {
  region         = "eu-central-1"
  domain         = "relata.example.com"
  hosted_zone_id = "Z0123456789ABCDEFGHIJ"
  image          = "111122223333.dkr.ecr.eu-central-1.amazonaws.com/relata-production:2025.01.0"
  alarm_email    = "ops@example.com"
  email_host     = "smtp.example.com"
}

# A mocked apply: computed values (ARNs, names) get the mocked values above, so the rendered
# container definitions can be inspected.
run "production" {
  command = apply

  assert {
    condition     = aws_db_instance.main.multi_az && aws_db_instance.main.storage_encrypted && aws_db_instance.main.deletion_protection
    error_message = "RDS must be multi-AZ, encrypted and deletion-protected."
  }

  assert {
    condition     = aws_db_instance.main.backup_retention_period >= 7 && aws_db_instance.main.iam_database_authentication_enabled
    error_message = "RDS must keep >= 7 days of backups and allow IAM authentication."
  }

  assert {
    condition     = aws_elasticache_replication_group.main.transit_encryption_enabled && aws_elasticache_replication_group.main.at_rest_encryption_enabled && aws_elasticache_replication_group.main.automatic_failover_enabled && aws_elasticache_replication_group.main.multi_az_enabled
    error_message = "Redis must be encrypted in transit and at rest, with multi-AZ automatic failover."
  }

  assert {
    condition     = aws_ecs_service.beat.desired_count == 1 && aws_ecs_service.beat.deployment_maximum_percent == 100
    error_message = "beat must run exactly one task and never two during a deployment."
  }

  assert {
    condition     = length(aws_subnet.public) == 2 && length(aws_nat_gateway.main) == 2
    error_message = "Two AZs by default, each with its own NAT gateway."
  }

  assert {
    condition     = aws_lb.main.drop_invalid_header_fields && aws_lb.main.enable_deletion_protection
    error_message = "The ALB must drop invalid headers and be deletion-protected."
  }

  assert {
    condition     = length(aws_wafv2_web_acl_association.alb) == 0 && length(aws_secretsmanager_secret.smtp) == 1
    error_message = "No WAF association without an ACL; the SMTP secret exists when email_host is set."
  }

  assert {
    condition = alltrue([
      for name, definition in aws_ecs_task_definition.app :
      alltrue([for container in jsondecode(definition.container_definitions) : container.readonlyRootFilesystem && container.user != "0" && !container.privileged])
    ])
    error_message = "Every container runs as non-root, unprivileged, on a read-only root filesystem."
  }

  assert {
    condition = alltrue([
      for name, definition in aws_ecs_task_definition.app :
      alltrue([
        for container in jsondecode(definition.container_definitions) :
        length(setintersection([for e in container.environment : e.name], ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST_PASSWORD"])) == 0 &&
        length(setsubtract(["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST_PASSWORD"], [for s in container.secrets : s.name])) == 0
      ])
    ])
    error_message = "Credentials reach the containers only through `secrets`, never `environment`."
  }

  assert {
    condition     = startswith(jsondecode(nonsensitive(aws_secretsmanager_secret_version.database.secret_string)).url, "postgres://relata:MockedGeneratedValue")
    error_message = "DATABASE_URL must be a postgres:// URL with the generated password."
  }

  assert {
    condition = (
      startswith(jsondecode(nonsensitive(aws_secretsmanager_secret_version.redis.secret_string)).url, "rediss://:MockedGeneratedValue")
      && endswith(jsondecode(nonsensitive(aws_secretsmanager_secret_version.redis.secret_string)).url, ":6379/0?ssl_cert_reqs=required")
    )
    error_message = "REDIS_URL must be a rediss:// URL with the AUTH token and ssl_cert_reqs."
  }

  assert {
    condition     = nonsensitive(aws_elasticache_replication_group.main.auth_token) == jsondecode(nonsensitive(aws_secretsmanager_secret_version.redis.secret_string)).auth_token
    error_message = "Redis must use the AUTH token that the secret holds."
  }

  assert {
    condition     = aws_route53_record.wildcard.name == "*.relata.example.com" && aws_route53_record.apex.name == "relata.example.com"
    error_message = "Apex and wildcard records must point at the ALB."
  }
}

run "single_nat_and_waf" {
  command = plan

  variables {
    az_count           = 3
    availability_zones = ["eu-central-1c", "eu-central-1b", "eu-central-1a"]
    single_nat_gateway = true
    waf_web_acl_arn    = "arn:aws:wafv2:eu-central-1:111122223333:regional/webacl/relata/00000000-0000-0000-0000-000000000000"
    email_host         = ""
  }

  assert {
    condition     = length(aws_subnet.private) == 3 && length(aws_nat_gateway.main) == 1
    error_message = "single_nat_gateway must give one NAT gateway for all AZs."
  }

  assert {
    condition     = aws_subnet.data[0].availability_zone == "eu-central-1c" && aws_subnet.public[2].availability_zone == "eu-central-1a"
    error_message = "Pinned availability_zones must be used in the given order."
  }

  assert {
    condition     = length(aws_wafv2_web_acl_association.alb) == 1 && length(aws_secretsmanager_secret.smtp) == 0
    error_message = "The WAF ACL must be associated when given; no SMTP secret without email_host."
  }
}

run "rejects_short_backup_retention" {
  command = plan

  variables {
    db_backup_retention_days = 3
  }

  expect_failures = [var.db_backup_retention_days]
}

run "rejects_root_container_user" {
  command = plan

  variables {
    container_user = "0:0"
  }

  expect_failures = [var.container_user]
}

run "rejects_zones_that_do_not_match_az_count" {
  command = plan

  variables {
    availability_zones = ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
  }

  expect_failures = [aws_vpc.main]
}
