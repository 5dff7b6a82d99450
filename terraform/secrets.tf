# Secrets Manager, encrypted with the data key. ECS injects them into the containers through the
# task definitions' `secrets` (ecs.tf); none of them is ever a plain environment value.
#
#   secret       key used by ECS    environment variable
#   secret-key   (whole string)     SECRET_KEY
#   database     url                DATABASE_URL  (postgres://relata:...@host:5432/relata)
#   redis        url                REDIS_URL     (rediss://:token@primary:6379/0?ssl_cert_reqs=required)
#   smtp         password           EMAIL_HOST_PASSWORD  (only when email_host is set)
#
# Generated values: Secrets Manager's GetRandomPassword makes a fresh value on every plan; the
# terraform_data resources below keep the first one (ignore_changes) until the matching number in
# var.credential_generation is bumped, which replaces it with a new one. The values live in the
# Terraform state, like any RDS or ElastiCache password managed by Terraform: keep the state in
# the encrypted, access-controlled S3 backend (backend.tf.example).

data "aws_secretsmanager_random_password" "secret_key" {
  password_length     = 64
  exclude_punctuation = true
}

data "aws_secretsmanager_random_password" "db_password" {
  password_length     = 40
  exclude_punctuation = true
}

data "aws_secretsmanager_random_password" "redis_auth_token" {
  password_length     = 64
  exclude_punctuation = true
}

resource "terraform_data" "secret_key" {
  input            = sensitive(data.aws_secretsmanager_random_password.secret_key.random_password)
  triggers_replace = [var.credential_generation.secret_key]

  lifecycle {
    ignore_changes = [input]
  }
}

resource "terraform_data" "db_password" {
  input            = sensitive(data.aws_secretsmanager_random_password.db_password.random_password)
  triggers_replace = [var.credential_generation.database]

  lifecycle {
    ignore_changes = [input]
  }
}

resource "terraform_data" "redis_auth_token" {
  input            = sensitive(data.aws_secretsmanager_random_password.redis_auth_token.random_password)
  triggers_replace = [var.credential_generation.redis]

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  secret_names = {
    secret_key = "${var.project}/${var.environment}/secret-key"
    database   = "${var.project}/${var.environment}/database"
    redis      = "${var.project}/${var.environment}/redis"
    smtp       = "${var.project}/${var.environment}/smtp"
  }
  smtp_enabled = var.email_host != ""
}

# --- Django SECRET_KEY ------------------------------------------------------------------------

resource "aws_secretsmanager_secret" "secret_key" {
  #checkov:skip=CKV2_AWS_57:SECRET_KEY signs sessions and tokens; rotating it logs everyone out, so it is rotated deliberately via var.credential_generation, not on a schedule.
  name                    = local.secret_names.secret_key
  description             = "Django SECRET_KEY of ${local.name}"
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_days
}

resource "aws_secretsmanager_secret_version" "secret_key" {
  secret_id     = aws_secretsmanager_secret.secret_key.id
  secret_string = terraform_data.secret_key.output
}

# --- Database ---------------------------------------------------------------------------------

resource "aws_secretsmanager_secret" "database" {
  #checkov:skip=CKV2_AWS_57:The app reads DATABASE_URL once at start; a rotation Lambda would change the password under running tasks. Rotate via var.credential_generation and redeploy.
  name                    = local.secret_names.database
  description             = "PostgreSQL master credentials and DATABASE_URL of ${local.name}"
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_days
}

resource "aws_secretsmanager_secret_version" "database" {
  secret_id = aws_secretsmanager_secret.database.id
  secret_string = jsonencode({
    engine   = "postgres"
    host     = aws_db_instance.main.address
    port     = aws_db_instance.main.port
    dbname   = aws_db_instance.main.db_name
    username = aws_db_instance.main.username
    password = terraform_data.db_password.output
    url = format(
      "postgres://%s:%s@%s:%d/%s?sslmode=require",
      aws_db_instance.main.username,
      terraform_data.db_password.output,
      aws_db_instance.main.address,
      aws_db_instance.main.port,
      aws_db_instance.main.db_name,
    )
  })
}

# --- Redis ------------------------------------------------------------------------------------

resource "aws_secretsmanager_secret" "redis" {
  #checkov:skip=CKV2_AWS_57:The app reads REDIS_URL once at start; the AUTH token is rotated via var.credential_generation (ElastiCache ROTATE keeps the old token valid until the redeploy).
  name                    = local.secret_names.redis
  description             = "ElastiCache AUTH token and REDIS_URL of ${local.name}"
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_days
}

resource "aws_secretsmanager_secret_version" "redis" {
  secret_id = aws_secretsmanager_secret.redis.id
  secret_string = jsonencode({
    host       = aws_elasticache_replication_group.main.primary_endpoint_address
    port       = local.redis_port
    auth_token = terraform_data.redis_auth_token.output
    # ssl_cert_reqs=required: Celery insists on it for rediss://, and redis-py verifies the
    # ElastiCache certificate against the system CAs.
    url = format(
      "rediss://:%s@%s:%d/0?ssl_cert_reqs=required",
      terraform_data.redis_auth_token.output,
      aws_elasticache_replication_group.main.primary_endpoint_address,
      local.redis_port,
    )
  })
}

# --- SMTP (optional) --------------------------------------------------------------------------

resource "aws_secretsmanager_secret" "smtp" {
  #checkov:skip=CKV2_AWS_57:The SMTP password belongs to the mail provider; it is rotated there and passed in again as TF_VAR_email_host_password.
  count = local.smtp_enabled ? 1 : 0

  name                    = local.secret_names.smtp
  description             = "SMTP password (EMAIL_HOST_PASSWORD) of ${local.name}"
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_days
}

resource "aws_secretsmanager_secret_version" "smtp" {
  count = local.smtp_enabled ? 1 : 0

  secret_id     = aws_secretsmanager_secret.smtp[0].id
  secret_string = jsonencode({ password = var.email_host_password })
}
