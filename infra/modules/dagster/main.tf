# Dagster as teams run it, on ECS Fargate: a webserver and a daemon that hold no platform code, a
# code location serving the definitions over gRPC (found through Cloud Map), each run in its own
# task of the user-code image (EcsRunLauncher), run/event/schedule storage in RDS Postgres.
#
# infra/dagster/dagster.yaml and workspace.yaml read every value from the environment that the
# task definitions below set (local.instance_env); beer_platform/names.py names the root output
# each variable comes from, and beer_platform_tests/test_infra_names.py fails when they drift.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# Two zones out of a fixed allowlist, so that a zone AWS adds later never moves a subnet.
data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "zone-name"
    values = [for suffix in ["a", "b", "c"] : "${data.aws_region.current.id}${suffix}"]
  }
}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.id
  azs        = slice(data.aws_availability_zones.available.names, 0, 2)

  log_prefix       = "/${var.name}"
  db_identifier    = var.name
  namespace        = "${var.name}.internal"
  webserver_port   = 3000
  code_server_port = 4000

  # The `aws` instance's environment (see infra/dagster/dagster.yaml): every value comes from a
  # resource of this module or an input, and each is a root output too (DAGSTER_INSTANCE_ENV in
  # beer_platform/names.py). The password itself is a secret injected at task start.
  instance_env = {
    DAGSTER_PG_HOST                = aws_db_instance.this.address
    DAGSTER_PG_PORT                = tostring(aws_db_instance.this.port)
    DAGSTER_PG_DB                  = aws_db_instance.this.db_name
    DAGSTER_PG_USERNAME            = aws_db_instance.this.username
    DAGSTER_PG_PASSWORD_FROM       = local.db_password_value_from
    DAGSTER_COMPUTE_LOGS_BUCKET    = var.artifacts_bucket
    DAGSTER_RUN_TASK_ROLE_ARN      = var.orchestration_role_arn
    DAGSTER_RUN_EXECUTION_ROLE_ARN = aws_iam_role.execution.arn
    DAGSTER_RUN_LOG_GROUP          = aws_cloudwatch_log_group.this["tasks"].name
    DAGSTER_RUN_TASK_FAMILY_PREFIX = var.run_task_family_prefix
    DAGSTER_CODE_SERVER_HOST       = local.code_server_host
    DAGSTER_CODE_SERVER_PORT       = tostring(local.code_server_port)
    DAGSTER_CODE_LOCATION_NAME     = var.code_location_name
  }

  code_server_host       = "${aws_service_discovery_service.this["code"].name}.${aws_service_discovery_private_dns_namespace.this.name}"
  webserver_host         = "${aws_service_discovery_service.this["webserver"].name}.${aws_service_discovery_private_dns_namespace.this.name}"
  db_secret_arn          = aws_db_instance.this.master_user_secret[0].secret_arn
  db_password_value_from = "${local.db_secret_arn}:password::"
}

# --- one key for the module's data at rest: database, its secret, images, logs, sessions ---------

resource "aws_kms_key" "this" {
  description             = "Encryption of ${var.name}: database, its secret, images, logs and sessions"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch Logs encrypts this module's log groups, and only those.
        Sid       = "CloudWatchLogsForTheModuleLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = [
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_prefix}/*",
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/rds/instance/${local.db_identifier}/*",
            ]
          }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

# --- logs: the services and every run (streams webserver/..., daemon/..., code/..., <run
# family>/...), the ECS Exec sessions, the VPC's rejected traffic ---------------------------------

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(["tasks", "ecs-exec-sessions", "vpc-flow-logs"])

  name              = "${local.log_prefix}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = var.tags
}

# --- images ---------------------------------------------------------------------------------------

# Two repositories: the services image (Dagster only) and the user-code image (the platform).
resource "aws_ecr_repository" "this" {
  for_each = toset(["services", "code"])

  name                 = "${var.name}-${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete_repositories

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.this.arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each = aws_ecr_repository.this

  repository = each.value.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images after a day"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 1 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the ${var.keep_images} most recent images"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.keep_images }
        action       = { type = "expire" }
      },
    ]
  })
}
