# ElastiCache Redis replication group: Celery broker and result backend, and Django's cache.
# One primary and replicas across AZs with automatic failover; TLS required in transit, KMS at
# rest, AUTH token generated in Secrets Manager (secrets.tf). The app's REDIS_URL is the "url"
# key of the Redis secret (rediss://).

locals {
  redis_id        = "${local.name}-redis"
  redis_port      = 6379
  redis_log_types = ["slow-log", "engine-log"]
}

resource "aws_elasticache_subnet_group" "main" {
  name        = "${local.name}-redis"
  description = "Data subnets of ${local.name}"
  subnet_ids  = aws_subnet.data[*].id
}

resource "aws_elasticache_parameter_group" "redis" {
  name        = "${local.name}-redis7"
  family      = "redis7"
  description = "Relata Redis: evict only keys with a TTL (cache), never Celery's queues"

  parameter {
    name  = "maxmemory-policy"
    value = "volatile-lru"
  }
}

resource "aws_cloudwatch_log_group" "redis" {
  for_each = toset(local.redis_log_types)

  name              = "/${var.project}/${var.environment}/redis/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_elasticache_replication_group" "main" {
  replication_group_id = local.redis_id
  description          = "Relata ${var.environment}: Celery broker and cache"

  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  num_cache_clusters   = var.redis_num_cache_clusters
  port                 = local.redis_port
  parameter_group_name = aws_elasticache_parameter_group.redis.name

  subnet_group_name  = aws_elasticache_subnet_group.main.name
  security_group_ids = [aws_security_group.redis.id]

  automatic_failover_enabled = true
  multi_az_enabled           = true

  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.data.arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = terraform_data.redis_auth_token.output
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = var.redis_snapshot_retention_days
  snapshot_window            = "01:00-02:00"
  maintenance_window         = "sun:04:30-sun:05:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  dynamic "log_delivery_configuration" {
    for_each = aws_cloudwatch_log_group.redis

    content {
      destination_type = "cloudwatch-logs"
      destination      = log_delivery_configuration.value.name
      log_format       = "json"
      log_type         = log_delivery_configuration.key
    }
  }

  tags = { Name = local.redis_id }
}
