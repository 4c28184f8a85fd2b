# Roles of the tasks. The code location and every run assume the platform's orchestration role
# (an input): they run the platform's code. The webserver and the daemon get a role each, with
# only what Dagster itself does there; one execution role lets ECS pull the images, write the
# logs and inject the database password into every task, runs included.

locals {
  cluster_arn    = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:cluster/${var.name}"
  cluster_tasks  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${var.name}/*"
  run_families   = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${var.run_task_family_prefix}_*"
  compute_logs   = "dagster/compute-logs"
  passable_roles = [var.orchestration_role_arn, aws_iam_role.execution.arn]
}

# Who may assume each role of the module: a service of this account only.
data "aws_iam_policy_document" "assume" {
  for_each = toset(["ecs-tasks", "vpc-flow-logs", "monitoring.rds"])

  statement {
    sid     = "AssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["${each.key}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- execution role: every task of the module, and the runs ---------------------------------------

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "Lets ECS start ${var.name}'s tasks: pull their image, write their logs, inject the database password"
  assume_role_policy = data.aws_iam_policy_document.assume["ecs-tasks"].json

  tags = var.tags
}

data "aws_iam_policy_document" "execution" {
  # GetAuthorizationToken is account-wide: ECR does not support resource-level scoping for it.
  statement {
    sid       = "EcrLogin"
    effect    = "Allow"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "EcrPull"
    effect    = "Allow"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [for repository in aws_ecr_repository.this : repository.arn]
  }

  statement {
    sid       = "WriteTaskLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this["tasks"].arn}:*"]
  }

  statement {
    sid       = "ReadTheDatabasePassword"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.db_secret_arn]
  }

  statement {
    sid       = "DecryptTheDatabasePassword"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-log-and-read-the-password"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# --- the daemon: EcsRunLauncher, run monitoring ---------------------------------------------------

resource "aws_iam_role" "daemon" {
  name               = "${var.name}-daemon"
  description        = "Dagster daemon of ${var.name}: launches, watches and stops the run tasks"
  assume_role_policy = data.aws_iam_policy_document.assume["ecs-tasks"].json

  tags = var.tags
}

# Describing and stopping the cluster's tasks: what run monitoring (the daemon) and terminating a
# run (both) do; the daemon also describes its own task, whose network the runs get.
data "aws_iam_policy_document" "describe_and_stop_tasks" {
  statement {
    sid       = "DescribeAndStopTasksInTheCluster"
    effect    = "Allow"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = [local.cluster_tasks]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }
}

data "aws_iam_policy_document" "daemon" {
  source_policy_documents = [data.aws_iam_policy_document.describe_and_stop_tasks.json]

  # Registering and describing task definitions supports no resource-level scoping.
  statement {
    sid       = "RegisterAndDescribeRunTaskDefinitions"
    effect    = "Allow"
    actions   = ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"]
    resources = ["*"]
  }

  statement {
    sid       = "RunRunTasksInTheCluster"
    effect    = "Allow"
    actions   = ["ecs:RunTask"]
    resources = [local.run_families]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid       = "TagRunTasksAtLaunch"
    effect    = "Allow"
    actions   = ["ecs:TagResource"]
    resources = [local.cluster_tasks]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  # The launcher reads its own network interface's security groups; EC2 Describe* supports no
  # resource-level scoping.
  statement {
    sid       = "ReadOwnNetworkInterface"
    effect    = "Allow"
    actions   = ["ec2:DescribeNetworkInterfaces"]
    resources = ["*"]
  }

  statement {
    sid       = "PassTheRunRolesToEcsTasksOnly"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = local.passable_roles

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  # A failed run's message carries the last lines of its task's log.
  statement {
    sid       = "ReadRunLogs"
    effect    = "Allow"
    actions   = ["logs:GetLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this["tasks"].arn}:log-stream:${var.run_task_family_prefix}_*"]
  }
}

resource "aws_iam_role_policy" "daemon" {
  name   = "run-launcher"
  role   = aws_iam_role.daemon.id
  policy = data.aws_iam_policy_document.daemon.json
}

# --- the webserver: terminate runs, show step logs, ECS Exec for port forwarding ------------------

resource "aws_iam_role" "webserver" {
  name               = "${var.name}-webserver"
  description        = "Dagster webserver of ${var.name}: stops runs, reads step logs, serves SSM port forwarding"
  assume_role_policy = data.aws_iam_policy_document.assume["ecs-tasks"].json

  tags = var.tags
}

data "aws_iam_policy_document" "webserver" {
  source_policy_documents = [data.aws_iam_policy_document.describe_and_stop_tasks.json]

  statement {
    sid       = "ReadStepLogs"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${var.artifacts_bucket_arn}/${local.compute_logs}/*"]
  }

  statement {
    sid       = "ListStepLogs"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [var.artifacts_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.compute_logs}/*"]
    }
  }

  statement {
    sid       = "DecryptStepLogs"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [var.artifacts_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  # ECS Exec (the SSM agent in the task); ssmmessages supports no resource-level scoping.
  statement {
    sid    = "EcsExecChannels"
    effect = "Allow"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "EcsExecSessionEncryption"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }

  statement {
    sid       = "EcsExecSessionLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.this["ecs-exec-sessions"].arn}:*"]
  }

  # The agent checks that the session log group exists; DescribeLogGroups is not resource-scoped.
  statement {
    sid       = "EcsExecFindSessionLogGroup"
    effect    = "Allow"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "webserver" {
  name   = "terminate-runs-step-logs-exec"
  role   = aws_iam_role.webserver.id
  policy = data.aws_iam_policy_document.webserver.json
}
