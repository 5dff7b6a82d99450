# ECS on Fargate: one image, four task definitions (web, worker, beat, migrate), three services.
#   web      infra/bin/web (gunicorn) on :8000 behind the ALB; autoscaled on CPU and on
#            ALB requests per target
#   worker   infra/bin/worker (Celery worker); autoscaled on CPU
#   beat     infra/bin/beat (Celery beat); exactly one task, never autoscaled, never two at once
#   migrate  infra/bin/release (check --deploy, then migrate_companies); a one-off task per
#            release (outputs.tf prints the run-task command), no service
# Configuration reaches the containers as environment (plain values) and `secrets` (Secrets
# Manager, secrets.tf); credentials are never in `environment`.

locals {
  app_port = 8000

  # Non-secret settings. The app's own values win over var.extra_environment.
  app_environment = merge(
    var.extra_environment,
    {
      RELATA_ENV         = "production"
      BASE_DOMAIN        = var.domain
      CONN_MAX_AGE       = tostring(var.conn_max_age)
      SCHEMA_POOL_SIZE   = tostring(var.schema_pool_size)
      S3_BUCKET          = aws_s3_bucket.files.id
      AWS_REGION         = local.region
      PGSSLMODE          = "require"
      SENTRY_ENVIRONMENT = var.environment
      # Read by infra/bin/web (gunicorn.conf.py) and infra/bin/worker.
      WEB_CONCURRENCY    = tostring(var.web_gunicorn_workers)
      WORKER_CONCURRENCY = tostring(var.worker_concurrency)
      # Behind the ALB, the client's address is the last X-Forwarded-For hop: per-client
      # login rate limits need it.
      ALLAUTH_TRUSTED_PROXY_COUNT = "1"
    },
    var.sentry_dsn == "" ? {} : { SENTRY_DSN = var.sentry_dsn },
    local.smtp_enabled ? {
      EMAIL_HOST      = var.email_host
      EMAIL_PORT      = tostring(var.email_port)
      EMAIL_HOST_USER = var.email_host_user
    } : {},
  )

  # Secrets Manager references: whole secret, or "<arn>:<json key>::".
  app_secrets = concat(
    [
      { name = "SECRET_KEY", valueFrom = aws_secretsmanager_secret.secret_key.arn },
      { name = "DATABASE_URL", valueFrom = "${aws_secretsmanager_secret.database.arn}:url::" },
      { name = "REDIS_URL", valueFrom = "${aws_secretsmanager_secret.redis.arn}:url::" },
    ],
    local.smtp_enabled ? [
      { name = "EMAIL_HOST_PASSWORD", valueFrom = "${aws_secretsmanager_secret.smtp[0].arn}:password::" },
    ] : [],
  )

  secret_arns = concat(
    [
      aws_secretsmanager_secret.secret_key.arn,
      aws_secretsmanager_secret.database.arn,
      aws_secretsmanager_secret.redis.arn,
    ],
    aws_secretsmanager_secret.smtp[*].arn,
  )

  # ALB health checks send the task's IP as Host (an ALB cannot send another Host header), and
  # Django answers a host outside ALLOWED_HOSTS with 400/404. This launcher adds the task's own
  # private IP (from the ECS task metadata endpoint) to ALLOWED_HOSTS_EXTRA and
  # PUBLIC_HOSTS_EXTRA, so that GET /healthz from the ALB reaches the public site's real health
  # check (database and broker), then execs gunicorn. Only the ALB's security group can reach
  # :8000, and the ALB forwards only Host = domain or *.domain (alb.tf).
  web_launcher = <<-PYTHON
    import json, os, sys, urllib.request
    uri = os.environ.get("ECS_CONTAINER_METADATA_URI_V4")
    if uri:
        with urllib.request.urlopen(uri, timeout=5) as response:
            ip = json.load(response)["Networks"][0]["IPv4Addresses"][0]
        for name in ("ALLOWED_HOSTS_EXTRA", "PUBLIC_HOSTS_EXTRA"):
            os.environ[name] = ",".join(filter(None, [os.environ.get(name, ""), ip]))
    os.execvp(sys.argv[1], sys.argv[1:])
  PYTHON

  # The image's own process scripts (infra/bin/*), so ECS runs exactly what compose and the
  # docs run: gunicorn with infra/gunicorn.conf.py (multiprocess metrics), tuned Celery flags.
  processes = {
    web = {
      command      = ["python", "-c", local.web_launcher, "/app/infra/bin/web"]
      image        = var.image
      port         = true
      stop_timeout = 30
    }
    worker = {
      command      = ["/app/infra/bin/worker"]
      image        = var.image
      port         = false
      stop_timeout = 120 # Fargate's maximum: lets running tasks finish (acks_late re-queues the rest)
    }
    beat = {
      # infra/bin/beat keeps its schedule file in the writable /tmp (read-only root filesystem).
      command      = ["/app/infra/bin/beat"]
      image        = var.image
      port         = false
      stop_timeout = 30
    }
    migrate = {
      command      = ["/app/infra/bin/release"]
      image        = coalesce(var.migrate_image, var.image)
      port         = false
      stop_timeout = 120
    }
  }
}

# --- Image repository -------------------------------------------------------------------------

resource "aws_ecr_repository" "app" {
  name                 = local.name
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.data.arn
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Drop untagged layers after 14 days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 14
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the 100 most recent images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = 100
        }
        action = { type = "expire" }
      },
    ]
  })
}

# --- Cluster and logs -------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "app" {
  for_each = local.processes

  name              = "/${var.project}/${var.environment}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_cloudwatch_log_group" "exec" {
  name              = "/${var.project}/${var.environment}/ecs-exec"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  configuration {
    execute_command_configuration {
      kms_key_id = aws_kms_key.logs.arn
      logging    = "OVERRIDE"

      log_configuration {
        cloud_watch_encryption_enabled = true
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.exec.name
      }
    }
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

# --- IAM: execution role (pull the image, read the secrets, write logs) -----------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${local.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    sid       = "ReadTheAppSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.secret_arns
  }

  statement {
    sid       = "DecryptTheAppSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.data.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-app-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

# --- IAM: task role (what the app itself may do: the files bucket, nothing else) --------------

resource "aws_iam_role" "task" {
  name               = "${local.name}-ecs-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task_files" {
  statement {
    sid       = "ListTheFilesBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.files.arn]
  }

  statement {
    sid = "ReadWriteCompanyFiles"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.files.arn}/*"]
  }

  statement {
    sid       = "UseTheDataKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.data.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "task_files" {
  name   = "files-bucket"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task_files.json
}

data "aws_iam_policy_document" "task_exec" {
  #checkov:skip=CKV_AWS_111:ssmmessages:* channel actions have no resource-level permissions; AWS documents Resource "*" for ECS Exec.
  #checkov:skip=CKV_AWS_356:ssmmessages:* channel actions have no resource-level permissions; AWS documents Resource "*" for ECS Exec.
  statement {
    sid = "EcsExecChannels"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "EcsExecSessionLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.exec.arn}:*"]
  }

  statement {
    sid       = "EcsExecSessionEncryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.logs.arn]
  }
}

resource "aws_iam_role_policy" "task_exec" {
  count = var.enable_execute_command ? 1 : 0

  name   = "ecs-exec"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task_exec.json
}

# --- Task definitions -------------------------------------------------------------------------

resource "aws_ecs_task_definition" "app" {
  for_each = local.processes

  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_sizes[each.key].cpu
  memory                   = var.task_sizes[each.key].memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # Task-local scratch space at /tmp (beat's schedule, upload spooling, temp files). Fargate
  # creates it root-owned 0755 unless the image declares VOLUME ["/tmp"] (then the image's
  # /tmp, mode 1777, is copied with its permissions): the image must declare it, because the
  # containers run as a non-root user on a read-only root filesystem.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name      = each.key
      image     = each.value.image
      essential = true
      command   = each.value.command
      user      = var.container_user

      # The SSM agent behind ECS Exec needs a writable root filesystem, so it is read-only
      # unless var.enable_execute_command is on.
      readonlyRootFilesystem = !var.enable_execute_command
      privileged             = false
      linuxParameters = {
        initProcessEnabled = true
        capabilities       = { add = [], drop = ["ALL"] }
      }

      portMappings = each.value.port ? [
        { name = "http", containerPort = local.app_port, hostPort = local.app_port, protocol = "tcp" },
      ] : []

      # RELEASE (Sentry's release) is the tag or digest of the image this process runs.
      environment = [
        for k, v in merge(local.app_environment, { RELEASE = try(regex("[:@]([^:@/]+)$", each.value.image)[0], "") }) :
        { name = k, value = v }
      ]
      secrets = local.app_secrets

      mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      stopTimeout = each.value.stop_timeout

      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.app[each.key].name
          awslogs-region        = local.region
          awslogs-stream-prefix = each.key
          mode                  = "non-blocking"
          max-buffer-size       = "25m"
        }
      }
    },
  ])
}

# --- Services ---------------------------------------------------------------------------------

resource "aws_ecs_service" "web" {
  name                    = "web"
  cluster                 = aws_ecs_cluster.main.id
  task_definition         = aws_ecs_task_definition.app["web"].arn
  desired_count           = var.web_count.min
  launch_type             = "FARGATE"
  platform_version        = "LATEST"
  propagate_tags          = "SERVICE"
  enable_ecs_managed_tags = true
  enable_execute_command  = var.enable_execute_command

  health_check_grace_period_seconds  = 60
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.web.arn
    container_name   = "web"
    container_port   = local.app_port
  }

  lifecycle {
    # Autoscaling owns the count after the first apply.
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener_rule.web, aws_iam_role_policy.execution_secrets]
}

resource "aws_ecs_service" "worker" {
  name                    = "worker"
  cluster                 = aws_ecs_cluster.main.id
  task_definition         = aws_ecs_task_definition.app["worker"].arn
  desired_count           = var.worker_count.min
  launch_type             = "FARGATE"
  platform_version        = "LATEST"
  propagate_tags          = "SERVICE"
  enable_ecs_managed_tags = true
  enable_execute_command  = var.enable_execute_command

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = false
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_iam_role_policy.execution_secrets]
}

# Exactly one scheduler: desired count fixed at 1, no autoscaling target, and a deployment stops
# the old task before starting the new one (maximum 100 %), so two beats never run at once.
resource "aws_ecs_service" "beat" {
  name                    = "beat"
  cluster                 = aws_ecs_cluster.main.id
  task_definition         = aws_ecs_task_definition.app["beat"].arn
  desired_count           = 1
  launch_type             = "FARGATE"
  platform_version        = "LATEST"
  propagate_tags          = "SERVICE"
  enable_ecs_managed_tags = true
  enable_execute_command  = var.enable_execute_command

  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = false
  }

  depends_on = [aws_iam_role_policy.execution_secrets]
}

# --- Autoscaling (web and worker only) --------------------------------------------------------

resource "aws_appautoscaling_target" "web" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.web.name}"
  min_capacity       = var.web_count.min
  max_capacity       = var.web_count.max
}

resource "aws_appautoscaling_policy" "web_cpu" {
  name               = "${local.name}-web-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension
  resource_id        = aws_appautoscaling_target.web.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.web_cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "web_requests" {
  name               = "${local.name}-web-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension
  resource_id        = aws_appautoscaling_target.web.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.web_requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.main.arn_suffix}/${aws_lb_target_group.web.arn_suffix}"
    }
  }
}

resource "aws_appautoscaling_target" "worker" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.worker.name}"
  min_capacity       = var.worker_count.min
  max_capacity       = var.worker_count.max
}

resource "aws_appautoscaling_policy" "worker_cpu" {
  name               = "${local.name}-worker-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker.service_namespace
  scalable_dimension = aws_appautoscaling_target.worker.scalable_dimension
  resource_id        = aws_appautoscaling_target.worker.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.worker_cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
