# Two customer-managed keys, both rotated yearly:
# - data: the database, Redis, uploaded files, secrets, container images and Performance Insights;
# - logs: CloudWatch log groups (application, flow, database, Redis, ECS Exec) and the alarm topic.

resource "aws_kms_key" "data" {
  description             = "${local.name}: database, Redis, files, secrets, images"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms_data.json
}

resource "aws_kms_alias" "data" {
  name          = "alias/${local.name}-data"
  target_key_id = aws_kms_key.data.key_id
}

resource "aws_kms_key" "logs" {
  description             = "${local.name}: CloudWatch logs and alarm notifications"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms_logs.json
}

resource "aws_kms_alias" "logs" {
  name          = "alias/${local.name}-logs"
  target_key_id = aws_kms_key.logs.key_id
}

# In a key policy, Resource "*" means "this key". Services (RDS, ElastiCache, Secrets Manager,
# S3, ECR) use the data key on behalf of IAM principals that the account grants it to (the
# execution and task roles, see ecs.tf), through the account statement.
data "aws_iam_policy_document" "kms_data" {
  #checkov:skip=CKV_AWS_109:Key policy: Resource "*" is this key only; the account root statement delegates to IAM (AWS's default key policy).
  #checkov:skip=CKV_AWS_111:Key policy: Resource "*" is this key only; the account root statement delegates to IAM (AWS's default key policy).
  #checkov:skip=CKV_AWS_356:Key policy: Resource "*" is this key only, it cannot name other resources.
  statement {
    sid       = "AccountAdministersTheKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

data "aws_iam_policy_document" "kms_logs" {
  #checkov:skip=CKV_AWS_109:Key policy: Resource "*" is this key only; the account root statement delegates to IAM (AWS's default key policy).
  #checkov:skip=CKV_AWS_111:Key policy: Resource "*" is this key only; the account root statement delegates to IAM (AWS's default key policy).
  #checkov:skip=CKV_AWS_356:Key policy: Resource "*" is this key only, it cannot name other resources.
  statement {
    sid       = "AccountAdministersTheKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsEncryptsThisAccountsLogGroups"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.${local.dns_suffix}"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  # CloudWatch alarms publish to the KMS-encrypted SNS topic.
  statement {
    sid       = "CloudWatchAlarmsPublishToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  # RDS event notifications (failover, failure, low storage) go to the same topic.
  statement {
    sid       = "RdsEventsPublishToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["events.rds.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
