# Every environment-specific value. Set them in a *.tfvars file (see terraform.tfvars.example);
# credentials are never variables with values in files: they are generated into Secrets Manager,
# and the one an operator brings (the SMTP password) is passed as TF_VAR_email_host_password.

# --- Where and what ---------------------------------------------------------------------------

variable "region" {
  description = "AWS region to deploy into, e.g. eu-central-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-central-1."
  }
}

variable "allowed_account_ids" {
  description = "AWS account ids Terraform may act on (guards against the wrong credentials). Empty: any."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_account_ids must be 12-digit AWS account ids."
  }
}

variable "project" {
  description = "Short project name, the first part of every resource name."
  type        = string
  default     = "relata"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.project))
    error_message = "project must be 2-15 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (production, staging, ...); also the second part of resource names."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "environment must be 2-12 lowercase letters or digits, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags put on every resource."
  type        = map(string)
  default     = {}
}

# --- DNS and TLS ------------------------------------------------------------------------------

variable "domain" {
  description = "Base domain (BASE_DOMAIN): the public site is https://<domain>/, companies https://<slug>.<domain>/."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase DNS name such as relata.example.com."
  }
}

variable "hosted_zone_id" {
  description = "Id of the Route 53 public hosted zone that serves domain (records and ACM validation go there)."
  type        = string

  validation {
    condition     = can(regex("^Z[A-Z0-9]{4,32}$", var.hosted_zone_id))
    error_message = "hosted_zone_id must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ."
  }
}

variable "allowed_ingress_cidrs" {
  description = "IPv4 ranges that may reach the load balancer on 80/443 (the whole internet by default)."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.allowed_ingress_cidrs) > 0 && alltrue([for c in var.allowed_ingress_cidrs : can(cidrnetmask(c))])
    error_message = "allowed_ingress_cidrs must be a non-empty list of IPv4 CIDR blocks."
  }
}

variable "waf_web_acl_arn" {
  description = "ARN of a regional WAFv2 web ACL to associate with the load balancer; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.waf_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/", var.waf_web_acl_arn))
    error_message = "waf_web_acl_arn must be the ARN of a REGIONAL WAFv2 web ACL, or null."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = can(regex("^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)", var.ssl_policy))
    error_message = "ssl_policy must be a TLS 1.2+ ELB policy such as ELBSecurityPolicy-TLS13-1-2-2021-06."
  }
}

# --- Network ----------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "IPv4 range of the VPC; split into public, private (app) and data subnets per AZ."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR block of /20 or larger."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread subnets, NAT gateways and tasks over."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4 (multi-AZ needs at least 2)."
  }
}

variable "availability_zones" {
  description = "Pin the zones by name, az_count of them (e.g. [\"eu-central-1a\", \"eu-central-1b\"]); empty: the first az_count zones of the region."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || (length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4 && length(distinct(var.availability_zones)) == length(var.availability_zones))
    error_message = "availability_zones must be empty or 2 to 4 distinct zone names."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (cheaper, but an AZ outage cuts egress). false: one per AZ."
  type        = bool
  default     = false
}

# --- Container image and processes ------------------------------------------------------------

variable "image" {
  description = "The one container image of web, worker, beat and migrate: registry/repo:tag or registry/repo@sha256:digest."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]{1,128}|@sha256:[a-f0-9]{64})$", var.image))
    error_message = "image must be a full image reference with a tag or digest, e.g. <account>.dkr.ecr.<region>.amazonaws.com/relata-production:1.4.0."
  }
}

variable "migrate_image" {
  description = "Image of the one-off migrate task when it differs from image (a release migrates first, then rolls the services); null: image."
  type        = string
  default     = null

  validation {
    condition     = var.migrate_image == null || can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]{1,128}|@sha256:[a-f0-9]{64})$", var.migrate_image))
    error_message = "migrate_image must be a full image reference with a tag or digest, or null."
  }
}

variable "container_user" {
  description = "uid:gid the containers run as (never root)."
  type        = string
  default     = "10001:10001" # the user infra/Dockerfile creates

  validation {
    condition     = can(regex("^[1-9][0-9]*(:[1-9][0-9]*)?$", var.container_user))
    error_message = "container_user must be a non-zero numeric uid or uid:gid (the containers never run as root)."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "task_sizes" {
  description = "Fargate CPU units and memory (MiB) of each process."
  type = map(object({
    cpu    = number
    memory = number
  }))
  default = {
    web     = { cpu = 1024, memory = 2048 }
    worker  = { cpu = 1024, memory = 2048 }
    beat    = { cpu = 256, memory = 512 }
    migrate = { cpu = 1024, memory = 2048 }
  }

  validation {
    condition = alltrue([for p in ["web", "worker", "beat", "migrate"] : contains(keys(var.task_sizes), p)]) && alltrue([
      for s in values(var.task_sizes) : contains([256, 512, 1024, 2048, 4096, 8192, 16384], s.cpu) && s.memory >= 512 && s.memory <= 122880
    ])
    error_message = "task_sizes needs web, worker, beat and migrate, each with a Fargate cpu (256..16384) and memory (512..122880 MiB)."
  }
}

variable "web_gunicorn_workers" {
  description = "gunicorn worker processes per web task."
  type        = number
  default     = 3

  validation {
    condition     = var.web_gunicorn_workers >= 1 && var.web_gunicorn_workers <= 32
    error_message = "web_gunicorn_workers must be between 1 and 32."
  }
}

variable "worker_concurrency" {
  description = "Celery worker processes per worker task."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_concurrency >= 1 && var.worker_concurrency <= 32
    error_message = "worker_concurrency must be between 1 and 32."
  }
}

variable "web_count" {
  description = "Autoscaling bounds of the web service (min is also the starting desired count)."
  type = object({
    min = number
    max = number
  })
  default = { min = 2, max = 10 }

  validation {
    condition     = var.web_count.min >= 1 && var.web_count.max >= var.web_count.min
    error_message = "web_count.min must be at least 1 and no greater than web_count.max."
  }
}

variable "worker_count" {
  description = "Autoscaling bounds of the Celery worker service (min is also the starting desired count)."
  type = object({
    min = number
    max = number
  })
  default = { min = 1, max = 6 }

  validation {
    condition     = var.worker_count.min >= 1 && var.worker_count.max >= var.worker_count.min
    error_message = "worker_count.min must be at least 1 and no greater than worker_count.max."
  }
}

variable "web_cpu_target_percent" {
  description = "Average CPU of the web service that autoscaling keeps."
  type        = number
  default     = 60

  validation {
    condition     = var.web_cpu_target_percent >= 10 && var.web_cpu_target_percent <= 90
    error_message = "web_cpu_target_percent must be between 10 and 90."
  }
}

variable "web_requests_per_target" {
  description = "ALB requests per web task per minute that autoscaling keeps."
  type        = number
  default     = 1000

  validation {
    condition     = var.web_requests_per_target >= 10
    error_message = "web_requests_per_target must be at least 10."
  }
}

variable "worker_cpu_target_percent" {
  description = "Average CPU of the worker service that autoscaling keeps."
  type        = number
  default     = 60

  validation {
    condition     = var.worker_cpu_target_percent >= 10 && var.worker_cpu_target_percent <= 90
    error_message = "worker_cpu_target_percent must be between 10 and 90."
  }
}

variable "enable_execute_command" {
  description = "Allow `aws ecs execute-command` into running tasks (sessions are logged, KMS-encrypted)."
  type        = bool
  default     = false
}

# --- Application settings (non-secret environment) --------------------------------------------

variable "conn_max_age" {
  description = "CONN_MAX_AGE: database connection lifetime in seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.conn_max_age >= 0
    error_message = "conn_max_age must be >= 0."
  }
}

variable "schema_pool_size" {
  description = "SCHEMA_POOL_SIZE: spare company schemas kept ready."
  type        = number
  default     = 5

  validation {
    condition     = var.schema_pool_size >= 0 && var.schema_pool_size <= 500
    error_message = "schema_pool_size must be between 0 and 500."
  }
}

variable "sentry_dsn" {
  description = "SENTRY_DSN for error reporting; empty to disable."
  type        = string
  default     = ""

  validation {
    condition     = var.sentry_dsn == "" || can(regex("^https://", var.sentry_dsn))
    error_message = "sentry_dsn must be empty or an https:// DSN."
  }
}

variable "extra_environment" {
  description = "Further non-secret environment variables for every process (e.g. ACCOUNT_EMAIL_VERIFICATION)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_environment) : can(regex("^[A-Z_][A-Z0-9_]*$", k))])
    error_message = "extra_environment keys must be environment variable names (A-Z, 0-9, _)."
  }

  validation {
    condition     = length(setintersection(keys(var.extra_environment), ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST_PASSWORD"])) == 0
    error_message = "extra_environment must not carry credentials: SECRET_KEY, DATABASE_URL, REDIS_URL and EMAIL_HOST_PASSWORD come from Secrets Manager."
  }
}

variable "email_host" {
  description = "EMAIL_HOST: SMTP server; empty leaves e-mail on the console backend."
  type        = string
  default     = ""
}

variable "email_port" {
  description = "EMAIL_PORT: SMTP port (STARTTLS)."
  type        = number
  default     = 587

  validation {
    condition     = contains([25, 465, 587, 2465, 2587], var.email_port)
    error_message = "email_port must be an SMTP port: 25, 465, 587, 2465 or 2587."
  }
}

variable "email_host_user" {
  description = "EMAIL_HOST_USER: SMTP user name."
  type        = string
  default     = ""
}

variable "email_host_password" {
  description = "EMAIL_HOST_PASSWORD, stored in Secrets Manager. Pass it as TF_VAR_email_host_password, never in a file."
  type        = string
  default     = ""
  sensitive   = true
}

# --- Database ---------------------------------------------------------------------------------

variable "db_engine_version" {
  description = "PostgreSQL version: a major (\"16\", minor upgrades automatic) or a 16.x minor."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^16(\\.[0-9]+)?$", var.db_engine_version))
    error_message = "db_engine_version must be PostgreSQL 16 (\"16\" or \"16.x\")."
  }
}

variable "db_instance_class" {
  description = "RDS instance class (Performance Insights needs db.t4g.medium or larger)."
  type        = string
  default     = "db.m7g.large"

  validation {
    condition     = can(regex("^db\\.", var.db_instance_class)) && !contains(["db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"], var.db_instance_class)
    error_message = "db_instance_class must be an RDS class that supports Performance Insights (not *.micro or *.small)."
  }
}

variable "db_allocated_storage" {
  description = "Initial gp3 storage in GiB."
  type        = number
  default     = 50

  validation {
    condition     = var.db_allocated_storage >= 20 && var.db_allocated_storage <= 65536
    error_message = "db_allocated_storage must be between 20 and 65536 GiB."
  }
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB (>= db_allocated_storage)."
  type        = number
  default     = 500

  validation {
    condition     = var.db_max_allocated_storage >= 20 && var.db_max_allocated_storage <= 65536
    error_message = "db_max_allocated_storage must be between 20 and 65536 GiB."
  }
}

variable "db_backup_retention_days" {
  description = "Automated backup retention (point-in-time recovery window) in days."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 7 and 35."
  }
}

variable "db_log_min_duration_ms" {
  description = "Statements slower than this are logged (log_min_duration_statement), in ms."
  type        = number
  default     = 500

  validation {
    condition     = var.db_log_min_duration_ms >= 0
    error_message = "db_log_min_duration_ms must be >= 0."
  }
}

variable "db_max_connections_alarm" {
  description = "Alarm when the database has more connections than this."
  type        = number
  default     = 400
}

variable "db_free_storage_alarm_gib" {
  description = "Alarm when the database's free storage drops below this many GiB."
  type        = number
  default     = 10
}

# --- Redis ------------------------------------------------------------------------------------

variable "redis_engine_version" {
  description = "ElastiCache Redis OSS engine version."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^7\\.[0-9]+$", var.redis_engine_version))
    error_message = "redis_engine_version must be a Redis 7 version such as 7.1."
  }
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.medium"

  validation {
    condition     = can(regex("^cache\\.", var.redis_node_type))
    error_message = "redis_node_type must be an ElastiCache node type (cache.*)."
  }
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes (one primary, the rest replicas in other AZs)."
  type        = number
  default     = 2

  validation {
    condition     = var.redis_num_cache_clusters >= 2 && var.redis_num_cache_clusters <= 6
    error_message = "redis_num_cache_clusters must be between 2 and 6 (automatic failover needs a replica)."
  }
}

variable "redis_snapshot_retention_days" {
  description = "Days of daily Redis snapshots kept."
  type        = number
  default     = 7

  validation {
    condition     = var.redis_snapshot_retention_days >= 1 && var.redis_snapshot_retention_days <= 35
    error_message = "redis_snapshot_retention_days must be between 1 and 35."
  }
}

# --- Credentials ------------------------------------------------------------------------------

variable "credential_generation" {
  description = "Bump a number to generate a new value of that credential on the next apply (then redeploy the services)."
  type = object({
    secret_key = number
    database   = number
    redis      = number
  })
  default = { secret_key = 1, database = 1, redis = 1 }
}

variable "secret_recovery_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_days >= 7 && var.secret_recovery_days <= 30
    error_message = "secret_recovery_days must be between 7 and 30."
  }
}

# --- Storage and logs -------------------------------------------------------------------------

variable "files_noncurrent_version_days" {
  description = "Days an overwritten or deleted upload stays restorable in the files bucket."
  type        = number
  default     = 90

  validation {
    condition     = var.files_noncurrent_version_days >= 1
    error_message = "files_noncurrent_version_days must be at least 1."
  }
}

variable "access_log_days" {
  description = "Days load balancer and S3 access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_days >= 1
    error_message = "access_log_days must be at least 1."
  }
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of application, flow, database and Redis logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (e.g. 30, 90, 365, 731)."
  }
}

# --- Alarms -----------------------------------------------------------------------------------

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (confirm the subscription mail); empty for none."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or empty."
  }
}

variable "alarm_5xx_threshold" {
  description = "5xx responses per 5 minutes (load balancer or targets) that raise an alarm."
  type        = number
  default     = 10
}

variable "alarm_response_time_seconds" {
  description = "p95 target response time in seconds that raises an alarm."
  type        = number
  default     = 1.5
}

variable "alarm_cpu_percent" {
  description = "CPU percent (ECS services, RDS) that raises an alarm."
  type        = number
  default     = 85
}

variable "alarm_memory_percent" {
  description = "Memory percent (ECS services, Redis) that raises an alarm."
  type        = number
  default     = 85
}
