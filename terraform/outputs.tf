# What an operator (or a release pipeline) needs after apply. No output carries a credential:
# secrets are referenced by ARN and read by ECS at task start.

output "public_url" {
  description = "The public site."
  value       = "https://${var.domain}/"
}

output "company_url_pattern" {
  description = "Where each company lives."
  value       = "https://<slug>.${var.domain}/"
}

output "alb_dns_name" {
  description = "DNS name of the load balancer (the Route 53 aliases point here)."
  value       = aws_lb.main.dns_name
}

output "ecr_repository_url" {
  description = "Push the one application image here (tags are immutable)."
  value       = aws_ecr_repository.app.repository_url
}

output "ecs_cluster_name" {
  description = "ECS cluster of web, worker, beat and the migrate task."
  value       = aws_ecs_cluster.main.name
}

output "ecs_service_names" {
  description = "ECS services by process."
  value = {
    web    = aws_ecs_service.web.name
    worker = aws_ecs_service.worker.name
    beat   = aws_ecs_service.beat.name
  }
}

output "task_definition_arns" {
  description = "Current task definition revision of each process."
  value       = { for name, definition in aws_ecs_task_definition.app : name => definition.arn }
}

output "migrate_task_family" {
  description = "Task definition family of the one-off release migration (python manage.py migrate_companies)."
  value       = aws_ecs_task_definition.app["migrate"].family
}

output "migrate_run_task_command" {
  description = "Runs the release migration once; then wait for it to stop and check its exit code (see docs/operations.md)."
  value = join(" ", [
    "aws ecs run-task",
    "--region ${local.region}",
    "--cluster ${aws_ecs_cluster.main.name}",
    "--task-definition ${aws_ecs_task_definition.app["migrate"].arn}",
    "--launch-type FARGATE",
    "--started-by release-migration",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", aws_subnet.private[*].id)}],securityGroups=[${aws_security_group.app.id}],assignPublicIp=DISABLED}'",
    "--query 'tasks[0].taskArn' --output text",
  ])
}

output "private_subnet_ids" {
  description = "Subnets of the ECS tasks (for one-off run-task calls)."
  value       = aws_subnet.private[*].id
}

output "app_security_group_id" {
  description = "Security group of the ECS tasks (for one-off run-task calls)."
  value       = aws_security_group.app.id
}

output "log_groups" {
  description = "CloudWatch log group of each process."
  value       = { for name, group in aws_cloudwatch_log_group.app : name => group.name }
}

output "files_bucket" {
  description = "S3_BUCKET: uploaded files, one <schema>/ prefix per company."
  value       = aws_s3_bucket.files.id
}

output "logs_bucket" {
  description = "Load balancer and S3 access logs."
  value       = aws_s3_bucket.logs.id
}

output "database_endpoint" {
  description = "PostgreSQL host:port (TLS only; credentials in the database secret)."
  value       = aws_db_instance.main.endpoint
}

output "redis_primary_endpoint" {
  description = "Redis primary endpoint (TLS and AUTH; credentials in the redis secret)."
  value       = aws_elasticache_replication_group.main.primary_endpoint_address
}

output "secret_arns" {
  description = "Secrets Manager ARNs the tasks read (values are never outputs)."
  value = {
    secret_key = aws_secretsmanager_secret.secret_key.arn
    database   = aws_secretsmanager_secret.database.arn
    redis      = aws_secretsmanager_secret.redis.arn
    smtp       = one(aws_secretsmanager_secret.smtp[*].arn)
  }
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm; subscribe on-call tooling here."
  value       = aws_sns_topic.alarms.arn
}
